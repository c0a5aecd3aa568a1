"""What the notifier reports when EventBridge does not take every event: the count it returns and the one warning
per PutEvents call an operator reads (how many events, which ones and why, which bus), field by field."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from ecr_multiarch.adapters.eventbridge import EventBridgeNotifier, lazy_events_client
from ecr_multiarch.notify import DetailType, PipelineEvent
from tests.logs import records_named, records_of

LOGGER = "ecr_multiarch.adapters.eventbridge"
REJECTED = PipelineEvent(DetailType.REJECTED, {"repository": "golang", "version": "1.0", "reason": "x"})
PUBLISHED = PipelineEvent(DetailType.PUBLISHED, {"repository": "golang", "version": "1.1"})


class AnsweringClient:
    """put_events answers each call with the next scripted response, or raises the scripted error."""

    def __init__(self, *answers: dict[str, Any] | Exception) -> None:
        self._answers = list(answers)
        self.sizes: list[int] = []

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.sizes.append(len(Entries))
        answer = self._answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def warnings_of(caplog: pytest.LogCaptureFixture) -> list[tuple[str, str, dict[str, Any]]]:
    fields = ("events", "error_type", "failures", "bus")
    return [(record.levelname, record.getMessage(), {f: getattr(record, f) for f in fields if hasattr(record, f)})
            for record in records_named(LOGGER, caplog)]


def publish(caplog: pytest.LogCaptureFixture, client: AnsweringClient, events: list[PipelineEvent]) -> int:
    with records_of(LOGGER, caplog), caplog.at_level(logging.INFO, logger=LOGGER):
        return EventBridgeNotifier(lambda: client, "platform").publish(events)


def test_a_failing_call_is_one_warning_naming_its_events_error_and_bus(caplog: pytest.LogCaptureFixture) -> None:
    client = AnsweringClient(RuntimeError("denied"), RuntimeError("denied"))

    assert publish(caplog, client, [REJECTED] * 12) == 12

    assert client.sizes == [10, 2]
    assert warnings_of(caplog) == [
        ("WARNING", "events not published", {"events": 10, "error_type": "RuntimeError", "bus": "platform"}),
        ("WARNING", "events not published", {"events": 2, "error_type": "RuntimeError", "bus": "platform"}),
    ]


def test_entries_eventbridge_refused_are_counted_and_each_named_with_its_code(
        caplog: pytest.LogCaptureFixture) -> None:
    client = AnsweringClient({"FailedEntryCount": 2, "Entries": [
        {"ErrorCode": "InternalFailure", "ErrorMessage": "try again"}, {"EventId": "e-1"},
        {"ErrorCode": "ThrottlingException"}]})

    assert publish(caplog, client, [REJECTED, REJECTED, PUBLISHED]) == 2

    assert warnings_of(caplog) == [("WARNING", "events not published", {"events": 2, "failures": [
        {"detail_type": "Multi-Arch Index Rejected", "error": "InternalFailure"},
        {"detail_type": "Multi-Arch Index Published", "error": "ThrottlingException"}], "bus": "platform"})]


@pytest.mark.parametrize(("response", "failed", "failures"), [
    ({"FailedEntryCount": 1}, 1, []),  # a count without the entries: trusted, nothing to name
    ({"Entries": [{"EventId": "e-0"}, {"ErrorCode": "InternalFailure"}]}, 1,  # entries without the count
     [{"detail_type": "Multi-Arch Index Published", "error": "InternalFailure"}]),
    ({"FailedEntryCount": 2, "Entries": [{"ErrorCode": "InternalFailure"}, {}]}, 2,  # the larger of the two
     [{"detail_type": "Multi-Arch Index Rejected", "error": "InternalFailure"}]),
])
def test_a_partial_answer_counts_the_larger_of_what_it_says_and_what_it_lists(
        caplog: pytest.LogCaptureFixture, response: dict[str, Any], failed: int,
        failures: list[dict[str, str]]) -> None:
    assert publish(caplog, AnsweringClient(response), [REJECTED, PUBLISHED]) == failed

    assert warnings_of(caplog) == [
        ("WARNING", "events not published", {"events": failed, "failures": failures, "bus": "platform"})]


def test_an_answer_without_a_failed_count_and_no_error_is_all_published_and_silent(
        caplog: pytest.LogCaptureFixture) -> None:
    assert publish(caplog, AnsweringClient({"Entries": [{"EventId": "e-0"}, {"EventId": "e-1"}]}),
                   [REJECTED, PUBLISHED]) == 0

    assert warnings_of(caplog) == []


def test_the_sweeps_events_client_has_short_timeouts_and_three_standard_retries() -> None:
    config = lazy_events_client().meta.config

    assert (config.connect_timeout, config.read_timeout) == (2, 5)
    # botocore's own spelling of max_attempts=3 (retries after the first attempt): four attempts in all.
    assert config.retries == {"mode": "standard", "total_max_attempts": 4}
