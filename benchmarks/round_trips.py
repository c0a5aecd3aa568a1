"""Round trips on the critical path: what one event waits for when every call to ECR and every blob GET costs a
fixed latency, as they do in AWS (tens of milliseconds each), whatever the CPU.

The real handler runs in this process against the in-memory ECR, on a container composed as the handler's own
composition root composes it, with two additions that add ``latency`` to each remote call and record when it ran:
a botocore event hook on the ECR client (``before-call`` notes the start and sleeps, ``after-call`` notes the end)
and a wrapper around the blob reader (sleeps, then reads). The latency comes first, so calls issued together
overlap even when the in-memory ECR's own CPU time, serialised by the GIL, is longer than the latency.
The figure is the critical path: the longest chain of
calls each of which started after the previous one ended. Calls that overlap (config URLs and GETs issued in
parallel) count once. Wall time over the latency is printed beside it as a cross-check.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from benchmarks.common import ARCH_SETS, judge, seed_version

if TYPE_CHECKING:
    from devkit.fake_ecr import FakeEcr
    from ecr_multiarch.assembler import Assembler
    from ecr_multiarch.domain.digest import Digest
    from ecr_multiarch.ports import BlobReader

LATENCY_SECONDS = 0.025
# Two calls are sequential when the second started after the first ended; 1 ms absorbs the clock's grain.
_SLACK_SECONDS = 0.001


@dataclass
class Timeline:
    """Every remote call of one event: (what, started, ended) on the monotonic clock."""

    calls: list[tuple[str, float, float]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, what: str, started: float) -> None:
        with self._lock:
            self.calls.append((what, started, time.perf_counter()))

    def critical_path(self) -> list[str]:
        """The longest chain of calls each starting after the previous one ended (calls in parallel count once)."""
        ordered = sorted(self.calls, key=lambda call: call[2])
        chains: list[list[str]] = []
        for position, (what, started, _) in enumerate(ordered):
            before = [chains[index] for index in range(position) if ordered[index][2] <= started + _SLACK_SECONDS]
            chains.append([*max(before, key=len, default=[]), what])
        return max(chains, key=len, default=[])


def add_latency(client: Any, timeline: Timeline, latency: float) -> None:
    """Every call of ``client`` takes ``latency`` longer and is recorded, failed calls included."""

    def started(context: dict[str, Any], **_: Any) -> None:
        context["bench_started"] = time.perf_counter()
        time.sleep(latency)

    def ended(model: Any, context: dict[str, Any], **_: Any) -> None:
        timeline.record(model.name, context["bench_started"])

    client.meta.events.register_first("before-call.ecr", started)
    client.meta.events.register_last("after-call.ecr", ended)


class SlowBlobs:
    """A blob reader whose every GET takes ``latency`` longer and is recorded."""

    def __init__(self, inner: BlobReader, timeline: Timeline, latency: float) -> None:
        self._inner = inner
        self._timeline = timeline
        self._latency = latency

    def read(self, url: str, digest: Digest, size: int) -> bytes:
        started = time.perf_counter()
        time.sleep(self._latency)
        try:
            return self._inner.read(url, digest, size)
        finally:
            self._timeline.record("GET", started)


@dataclass(frozen=True)
class Measured:
    outcome: str
    path: list[str]
    wall: float


def _container_factory(ecr: FakeEcr, architectures: tuple[str, ...], timeline: Timeline, latency: float, *,
                       policy_read: bool) -> Callable[[], Assembler]:
    import boto3

    from ecr_multiarch.adapters.ecr import BOTOCORE_CONFIG, EcrRegistry
    from ecr_multiarch.adapters.http_blobs import HttpBlobReader
    from ecr_multiarch.assembler import Assembler
    from ecr_multiarch.settings import Settings

    settings = Settings(required_architectures=architectures)

    def container() -> Assembler:
        """A fresh Lambda container (empty caches) wired as handler.services() wires it: the registry is also the
        repository-tags source (unless ``policy_read`` is off)."""
        client = boto3.client("ecr", config=BOTOCORE_CONFIG)
        add_latency(client, timeline, latency)
        registry = EcrRegistry(client, account_id="123456789012")
        return Assembler(registry, SlowBlobs(HttpBlobReader(), timeline, latency), settings,
                         repository_tags=registry if policy_read else None)

    return container


def measure(ecr: FakeEcr, architectures: int, latency: float, *, policy_read: bool) -> dict[str, Measured]:
    from devkit.lambda_context import FakeLambdaContext
    from ecr_multiarch import handler

    suffixes = ARCH_SETS[architectures]
    repository = f"round-trips-{architectures}-{'tags' if policy_read else 'plain'}"
    ecr.create_repository(repository)
    timeline = Timeline()
    container = _container_factory(ecr, suffixes, timeline, latency, policy_read=policy_read)
    results: dict[str, Measured] = {}

    def invoke(scenario: str, assembler: Assembler, event: dict[str, Any]) -> None:
        handler.configure(assembler)
        timeline.calls.clear()
        started = time.perf_counter()
        try:
            outcome = handler.lambda_handler(event, FakeLambdaContext())["outcome"]
        finally:
            handler.configure(None)
        results[scenario] = Measured(str(outcome), timeline.critical_path(), time.perf_counter() - started)

    waiting = seed_version(ecr, repository, "1.0", suffixes[:1])
    invoke("waiting", container(), waiting[suffixes[0]])
    last = seed_version(ecr, repository, "1.0", suffixes[1:])[suffixes[-1]]
    warm = container()
    invoke("new, cold", warm, last)
    invoke("unchanged", container(), last)
    invoke("new, configs cached", warm, seed_version(ecr, repository, "1.1", suffixes)[suffixes[-1]])
    return results


# scenario -> (label, goal in round trips, expected outcome)
SCENARIOS: dict[str, tuple[str, int, str]] = {
    "waiting": ("waiting (an arch tag missing), new container", 1, "waiting"),
    "unchanged": ("unchanged (duplicate event), new container", 1, "unchanged"),
    "new, cold": ("new index, cold container", 5, "created"),
    "new, configs cached": ("new index, configs cached (warm container)", 3, "created"),
}


def report_round_trips(ecr: FakeEcr, latency: float = LATENCY_SECONDS) -> None:
    print(f"\n== 6. Round trips on the critical path ({latency * 1000:.0f} ms added to every ECR call and every "
          "blob GET; real handler, in-memory ECR)")
    print("  critical path = longest chain of calls each starting after the previous one ended; 'no policy read' "
          "= the same\n  container without the repository-tags source (what the figure is once that read runs "
          "beside the first read)")
    for architectures in ARCH_SETS:
        with_policy = measure(ecr, architectures, latency, policy_read=True)
        without = measure(ecr, architectures, latency, policy_read=False)
        print(f"\n  {architectures} architectures{'':<37} {'trips':>5} {'wall/latency':>12} {'no policy read':>14}"
              "  goal")
        for scenario, (label, goal, expected) in SCENARIOS.items():
            measured, plain = with_policy[scenario], without[scenario]
            for run in (measured, plain):
                if run.outcome != expected:
                    raise RuntimeError(f"round trips, {label}: outcome {run.outcome}, expected {expected}")
            trips = len(measured.path)
            verdict = judge(f"round trips, {label}, {architectures} archs", f"{trips} ({'+'.join(measured.path)})",
                            trips <= goal)
            print(f"  {label:<52} {trips:>5} {measured.wall / latency:>12.1f} {len(plain.path):>14}  <= {goal} "
                  f"{verdict}   {' > '.join(measured.path)}")
