"""Round trips on the critical path (issue 13): every call to the registry and the blob store takes a fixed
latency; calls that overlap in time are one round trip. Counted from the recorded intervals, never timed."""

import threading
import time
from collections.abc import Sequence
from typing import Any

from devkit.images import make_image
from devkit.memory_registry import MemoryRegistry
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.outcome import OutcomeKind
from ecr_multiarch.settings import Settings

LATENCY = 0.25  # far above thread start-up skew on a loaded machine, so overlaps are unambiguous


class SlowRegistry:
    """MemoryRegistry behind a fixed latency per call, recording (method, start, end)."""

    def __init__(self, inner: MemoryRegistry) -> None:
        self.inner = inner
        self.intervals: list[tuple[str, float, float]] = []
        self._lock = threading.Lock()

    def __getattr__(self, name: str) -> Any:
        method = getattr(self.inner, name)

        def slow(*args: Any) -> Any:
            start = time.monotonic()
            time.sleep(LATENCY)
            try:
                return method(*args)
            finally:
                with self._lock:
                    self.intervals.append((name, start, time.monotonic()))

        return slow


def rounds(intervals: Sequence[tuple[str, float, float]]) -> list[list[str]]:
    """Calls grouped into sequential round trips: a call's round is one more than the deepest round among the calls
    that had ended when it started (the longest chain of calls waiting on each other). Unlike grouping by the first
    call's end, a sibling delayed by the scheduler cannot push a dependent call into its round."""
    ordered = sorted(intervals, key=lambda interval: interval[1])
    level: list[int] = []
    for name, start, _ in ordered:
        before = [level[i] for i, (_, _, other_end) in enumerate(ordered[:len(level)]) if other_end <= start]
        level.append(1 + max(before, default=0))
    grouped: list[list[str]] = [[] for _ in range(max(level, default=0))]
    for (name, _, _), depth in zip(ordered, level, strict=True):
        grouped[depth - 1].append(name)
    return [sorted(group) for group in grouped]


def repository(**tags: str) -> MemoryRegistry:
    registry = MemoryRegistry()
    registry.create_repository("golang")
    registry.push("golang", "1.0-amd64", make_image("amd64"))
    registry.push("golang", "1.0-arm64", make_image("arm64", variant="v8"))
    registry.repository_tag_values["golang"] = tags
    return registry


def test_a_cold_new_index_takes_five_round_trips_with_the_policy_read_beside_the_first_read() -> None:
    slow = SlowRegistry(repository(**{"ecr-multiarch:index-format": "oci"}))
    outcome = Assembler(slow, slow, Settings(), repository_tags=slow).assemble(  # type: ignore[arg-type]
        "golang", "1.0", pushed_suffix="arm64")
    assert outcome.kind is OutcomeKind.CREATED
    assert rounds(slow.intervals) == [["get_manifests", "repository_tags"],  # BatchGetImage, ListTagsForResource
                                      ["config_download_url", "config_download_url"],  # GetDownloadUrlForLayer
                                      ["read", "read"],  # the config blob GETs
                                      ["put_index"], ["get_manifests"]]  # PutImage, the verify read


def test_a_repository_with_its_own_architectures_reads_again() -> None:
    slow = SlowRegistry(repository(**{"ecr-multiarch:architectures": "amd64"}))
    outcome = Assembler(slow, slow, Settings(), repository_tags=slow).assemble(  # type: ignore[arg-type]
        "golang", "1.0", pushed_suffix="amd64")
    assert outcome.kind is OutcomeKind.CREATED and outcome.index is not None and len(outcome.index.manifests) == 1
    assert rounds(slow.intervals)[:2] == [["get_manifests", "repository_tags"], ["get_manifests"]]


def test_warm_round_trips_with_configs_cached_and_for_a_known_answer() -> None:
    registry = repository()
    slow = SlowRegistry(registry)
    service = Assembler(slow, slow, Settings(), repository_tags=slow)  # type: ignore[arg-type]
    assert service.assemble("golang", "1.0", pushed_suffix="arm64").kind is OutcomeKind.CREATED  # warms the caches
    registry.push("golang", "1.1-amd64", make_image("amd64"))
    registry.push("golang", "1.1-arm64", make_image("arm64", variant="v8"))
    cases = [("1.1", OutcomeKind.CREATED, [["get_manifests"], ["put_index"], ["get_manifests"]]),
             ("1.1", OutcomeKind.UNCHANGED, [["get_manifests"]]),
             ("1.2", OutcomeKind.WAITING, [["get_manifests"]])]
    registry.push("golang", "1.2-arm64", make_image("arm64", variant="v8"))
    for version, kind, expected in cases:
        slow.intervals.clear()
        assert service.assemble("golang", version, pushed_suffix="arm64").kind is kind
        assert rounds(slow.intervals) == expected
