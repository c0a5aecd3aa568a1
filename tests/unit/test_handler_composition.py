"""The handler's composition root builds only what the event needs: nothing for a skipped event, the blob reader
on the first config download and only once, whatever the number of download threads."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from devkit.lambda_context import FakeLambdaContext
from ecr_multiarch import handler
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.handler import BlobReaderOnFirstUse

EVENTS = Path(__file__).resolve().parents[2] / "events"
CONFIG = b'{"architecture": "arm64", "os": "linux"}'
CONFIG_DIGEST = Digest.of(CONFIG)


class CountingReader:
    """A blob reader that records each read (url, digest, size) and answers CONFIG."""

    def __init__(self) -> None:
        self.reads: list[tuple[str, Digest, int]] = []
        self._lock = threading.Lock()

    def read(self, url: str, digest: Digest, size: int) -> bytes:
        with self._lock:
            self.reads.append((url, digest, size))
        return CONFIG


@pytest.fixture
def environment_root(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The lazily built default composition root, settings from a Lambda-like environment."""
    monkeypatch.setenv("REQUIRED_ARCHITECTURES", "amd64,arm64")
    monkeypatch.setenv("POWERTOOLS_METRICS_DISABLED", "true")
    monkeypatch.setenv("POWERTOOLS_TRACE_DISABLED", "true")
    handler.configure(None)
    yield
    handler.configure(None)


def test_the_reader_is_built_on_the_first_read_not_before() -> None:
    built: list[CountingReader] = []

    def build() -> CountingReader:
        built.append(CountingReader())
        return built[-1]

    reader = BlobReaderOnFirstUse(build)
    assert not reader.built and built == []
    assert reader.read("http://127.0.0.1/blob", CONFIG_DIGEST, len(CONFIG)) == CONFIG
    assert reader.built and len(built) == 1
    assert built[0].reads == [("http://127.0.0.1/blob", CONFIG_DIGEST, len(CONFIG))]


def test_concurrent_first_reads_build_one_reader_and_all_reach_it() -> None:
    built: list[CountingReader] = []
    start = threading.Barrier(8)

    def build() -> CountingReader:
        built.append(CountingReader())
        return built[-1]

    def slow_build() -> CountingReader:
        time.sleep(0.05)  # long enough for every thread to find no reader yet and queue for the lock
        return build()

    reader = BlobReaderOnFirstUse(slow_build)

    def read(position: int) -> bytes:
        start.wait()
        return reader.read(f"http://127.0.0.1/{position}", CONFIG_DIGEST, len(CONFIG))

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(read, range(8)))
    assert answers == [CONFIG] * 8
    assert len(built) == 1
    assert sorted(url for url, _, _ in built[0].reads) == sorted(f"http://127.0.0.1/{n}" for n in range(8))


def test_the_default_reader_is_the_http_one() -> None:
    from ecr_multiarch.adapters.http_blobs import HttpBlobReader

    reader = BlobReaderOnFirstUse()
    with pytest.raises(Exception) as raised:  # nothing listens on port 9: the real reader tried, and said so
        reader.read("http://127.0.0.1:9/blob", CONFIG_DIGEST, len(CONFIG))
    assert reader.built
    assert isinstance(reader._reader, HttpBlobReader)
    assert "127.0.0.1" not in str(raised.value), "the URL must never reach an exception message"


@pytest.mark.usefixtures("environment_root")
def test_a_skipped_event_is_answered_without_building_the_services() -> None:
    event: dict[str, Any] = json.loads((EVENTS / "push-untagged.json").read_text(encoding="utf-8"))
    result = handler.lambda_handler(event, FakeLambdaContext())  # type: ignore[arg-type]
    assert result["outcome"] == "skipped"
    assert handler._assembler is None, "a skipped event must not build the ECR client or the assembler"
    assert handler._session is None


@pytest.mark.usefixtures("environment_root")
def test_settings_come_from_the_environment_once_and_configure_none_reads_them_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = handler.current_settings()
    monkeypatch.setenv("REQUIRED_ARCHITECTURES", "amd64,arm64,ppc64le")
    assert handler.current_settings() is first  # read once per container
    handler.configure(None)
    assert handler.current_settings().required_architectures == ("amd64", "arm64", "ppc64le")
