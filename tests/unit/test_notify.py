"""What is published for which outcome, and that publishing never raises nor builds a client it does not need."""

from __future__ import annotations

import json
from typing import Any

from ecr_multiarch.adapters.eventbridge import EventBridgeNotifier
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.index import ChildDescriptor, ImageIndex
from ecr_multiarch.domain.media_types import ATTESTATION_MANIFEST, OCI_INDEX, OCI_MANIFEST, REFERENCE_TYPE_ANNOTATION
from ecr_multiarch.domain.platform import Platform
from ecr_multiarch.notify import DetailType, PipelineEvent, outcome_event
from ecr_multiarch.outcome import Outcome, OutcomeKind

IMAGE = ChildDescriptor(OCI_MANIFEST, 500, Digest("sha256:" + "1" * 64), Platform("linux", "arm", "v7"))
ATTESTATION = ChildDescriptor(OCI_MANIFEST, 300, Digest("sha256:" + "2" * 64), Platform("unknown", "unknown"),
                              ((REFERENCE_TYPE_ANNOTATION, ATTESTATION_MANIFEST),))
INDEX = ImageIndex(OCI_INDEX, (IMAGE, ATTESTATION))


def test_a_written_index_lists_image_platforms_only() -> None:
    event = outcome_event(Outcome(OutcomeKind.UPDATED, "golang", "1.0", str(INDEX.digest), index=INDEX,
                                  aliases=("1",)))
    assert event is not None and event.detail_type is DetailType.PUBLISHED
    assert event.detail == {"repository": "golang", "version": "1.0", "outcome": "updated",
                            "digest": str(INDEX.digest), "mediaType": OCI_INDEX,
                            "platforms": [{"os": "linux", "architecture": "arm", "variant": "v7"}], "aliases": ["1"]}


def test_nothing_for_outcomes_nobody_deploys() -> None:
    for kind in (OutcomeKind.WAITING, OutcomeKind.UNCHANGED, OutcomeKind.SKIPPED, OutcomeKind.PLANNED):
        assert outcome_event(Outcome(kind, "golang", "1.0", str(INDEX.digest), index=INDEX)) is None
    assert outcome_event(Outcome(OutcomeKind.REJECTED, "golang", reason="opted out")) is None  # no version


class FailingClient:
    def __init__(self, failures: int = 0, error: Exception | None = None) -> None:
        self.calls: list[list[dict[str, Any]]] = []
        self._failures, self._error = failures, error

    def put_events(self, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        self.calls.append(Entries)
        if self._error is not None:
            raise self._error
        return {"FailedEntryCount": self._failures,
                "Entries": [{"ErrorCode": "InternalFailure"} if i < self._failures else {"EventId": str(i)}
                            for i in range(len(Entries))]}


def events(count: int) -> list[PipelineEvent]:
    return [PipelineEvent(DetailType.REJECTED, {"repository": "golang", "version": f"1.{n}", "reason": "x"})
            for n in range(count)]


def test_entries_go_in_calls_of_ten_to_the_named_bus() -> None:
    client = FailingClient()
    assert EventBridgeNotifier(lambda: client, "platform").publish(events(23)) == 0
    assert [len(call) for call in client.calls] == [10, 10, 3]
    entry = client.calls[0][0]
    assert (entry["Source"], entry["DetailType"], entry["EventBusName"]) == (
        "ecr-multiarch", "Multi-Arch Index Rejected", "platform")
    assert json.loads(entry["Detail"]) == {"repository": "golang", "version": "1.0", "reason": "x"}


def test_failures_are_counted_never_raised_and_the_client_is_built_only_when_needed() -> None:
    built: list[FailingClient] = []

    def factory(client: FailingClient) -> Any:
        return lambda: built.append(client) or client

    assert EventBridgeNotifier(factory(FailingClient()), "default").publish([]) == 0
    assert built == []  # nothing published, no client
    assert EventBridgeNotifier(factory(FailingClient(failures=2)), "default").publish(events(3)) == 2
    assert EventBridgeNotifier(factory(FailingClient(error=RuntimeError("denied"))), "d").publish(events(12)) == 12
