"""The cold-start bench's check that a full assembly announced its index (benchmarks/cold_start.py): what the real
handler publishes through EventBridge over HTTP, to the in-memory AWS the bench's workers reach, is what the check
accepts; a missing, duplicated or unexpected event fails it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from benchmarks.cold_start import EVENT_BUS, PublishedEvents, _check_published
from benchmarks.common import moto_server, seed_version
from devkit.fake_ecr import FakeEcr
from ecr_multiarch import handler, notify
from tests.functional.conftest import Invoke


@pytest.fixture
def publishing(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """EVENT_BUS_NAME as the template sets it, EventBridge on the moto server: its endpoint."""
    with moto_server() as endpoint:
        monkeypatch.setenv("EVENT_BUS_NAME", EVENT_BUS)
        monkeypatch.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", endpoint)
        notify.configure(None)
        yield endpoint
        notify.configure(None)
        handler.configure(None)


def test_the_bench_accepts_exactly_the_event_the_handler_put_on_the_bus(ecr: FakeEcr, invoke: Invoke,
                                                                          publishing: str) -> None:
    bus = PublishedEvents()
    pushed = seed_version(ecr, "golang", "1.0", ("amd64", "arm64"))["arm64"]

    assert invoke(pushed)["outcome"] == "created"
    published = bus.take()

    assert [(event["source"], event["detail"]["version"]) for event in published] == [("ecr-multiarch", "1.0")]
    _check_published("created", pushed, published, ecr, announces=True)
    assert bus.take() == []  # taken once
    with pytest.raises(RuntimeError, match="expected exactly"):
        _check_published("created", pushed, [], ecr, announces=True)
    with pytest.raises(RuntimeError, match="expected exactly"):
        _check_published("created", pushed, published * 2, ecr, announces=True)
    with pytest.raises(RuntimeError, match="expected no event"):
        _check_published("floor", pushed, published, ecr, announces=False)


def test_an_answer_that_writes_nothing_puts_nothing_on_the_bus(ecr: FakeEcr, invoke: Invoke, publishing: str) -> None:
    bus = PublishedEvents()
    pushed = seed_version(ecr, "golang", "1.0", ("amd64",))["amd64"]

    assert invoke(pushed)["outcome"] == "waiting"

    published = bus.take()
    assert published == []
    _check_published("waiting", pushed, published, ecr, announces=False)
