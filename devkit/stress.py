"""The guarantees of issue "never wrong, never lost", exercised at volume: used by the tests (small sizes) and by
``make stress`` (large sizes), which prints the figures.

Four experiments, each returning counts:
- duplicates: events re-delivered many times -> writes (must be one per distinct index);
- races: concurrent arch events plus interleaved re-pushes, against a moto *server* (each thread its own client
  and cache, like separate Lambda containers) -> stale indexes at the end (must be 0); run again with the verify
  read switched off, where some trials must go stale (else the experiment no longer reaches the race);
- faults: every ECR call and the blob fetch failing in every way -> wrong writes (must be 0);
- fuzz: malformed events through the real handler -> crashes and writes (must be 0).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any
from unittest import mock

import boto3
from botocore.config import Config
from botocore.retries.standard import ExponentialBackoff

from ecr_multiarch.adapters.ecr import EcrRegistry
from ecr_multiarch.adapters.http_blobs import HttpBlobReader
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.domain import media_types
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.index import ImageIndex
from ecr_multiarch.errors import TransientError
from ecr_multiarch.handler import handle
from ecr_multiarch.handler import logger as service_logger
from ecr_multiarch.outcome import Outcome, OutcomeKind
from ecr_multiarch.ports import PutResult, StoredManifest
from ecr_multiarch.settings import Settings

from .fake_ecr import FakeEcr
from .images import ImageBlobs, make_image

REPOSITORY = "golang"
# Lambda retries a failed asynchronous invocation twice before the event goes to the dead-letter queue.
LAMBDA_ATTEMPTS = 3
# Fewer botocore attempts than production keeps exhausted-retry cases quick; the retry logic is the same.
TEST_CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=2, read_timeout=5)


@contextlib.contextmanager
def no_retry_sleep() -> Iterator[None]:
    """botocore backs off for up to 20 s on throttling; the decisions under test do not depend on the wait."""
    with mock.patch.object(ExponentialBackoff, "delay_amount", lambda self, context: 0.0):
        yield


def arch_event(tag: str, digest: str, media_type: str = media_types.DOCKER_MANIFEST) -> dict[str, Any]:
    return {
        "version": "0", "id": "stress", "detail-type": "ECR Image Action", "source": "aws.ecr",
        "account": "123456789012", "time": "2026-11-28T00:00:00Z", "region": "us-east-1", "resources": [],
        "detail": {"result": "SUCCESS", "repository-name": REPOSITORY, "image-digest": digest,
                   "action-type": "PUSH", "image-tag": tag, "manifest-media-type": media_type},
    }


class UnverifiedAssembler(Assembler):
    """Test-only seam: the assembler with its verify read switched off (``assemble(verify=False)`` returns right
    after the first write), so the race experiment can show the stale writes that only the verify read corrects."""

    def assemble(self, repository: str, version: str, prefetched: Mapping[str, StoredManifest] | None = None, *,
                 pushed_suffix: str | None = None, pushed_digest: Digest | None = None,
                 registry_account: str | None = None, verify: bool = True, force: bool = False) -> Outcome:
        return super().assemble(repository, version, prefetched, pushed_suffix=pushed_suffix,
                                pushed_digest=pushed_digest, registry_account=registry_account, verify=False,
                                force=force)


class StallingRegistry(EcrRegistry):
    """A container that stalls between its read and its first write (a slow network, a paused container, a PutImage
    retried after throttling): the window in which another container's newer index lands first."""

    def __init__(self, client: Any, stall: float) -> None:
        super().__init__(client)
        self._stall = stall

    def put_index(self, repository: str, tag: str, index: ImageIndex) -> PutResult:
        stall, self._stall = self._stall, 0.0
        time.sleep(stall)
        return super().put_index(repository, tag, index)


def new_assembler(settings: Settings | None = None, blob_timeout: tuple[float, float] = (2.0, 5.0), *,
                  verify: bool = True, stall: float = 0.0) -> Assembler:
    """A fresh 'Lambda container': its own boto3 client, HTTP session and config cache."""
    registry = StallingRegistry(boto3.client("ecr", config=TEST_CLIENT_CONFIG), stall)
    kind = Assembler if verify else UnverifiedAssembler
    return kind(registry, HttpBlobReader(timeout=blob_timeout), settings or Settings())


def invoke_like_lambda(event: dict[str, Any], assembler: Assembler) -> tuple[str, int]:
    """Run the handler's logic, retrying transient failures as Lambda's async invocation does."""
    for attempt in range(1, LAMBDA_ATTEMPTS + 1):
        try:
            return handle(event, assembler).kind.value, attempt
        except TransientError:
            if attempt == LAMBDA_ATTEMPTS:
                return "dead-lettered", attempt
            time.sleep(random.uniform(0.0, 0.05))
    raise AssertionError("unreachable")


def index_writes(ecr: FakeEcr) -> int:
    """PutImage calls that wrote an index (seeding pushes of arch images are PutImage calls too)."""
    return sum(1 for call in ecr.calls if call.operation == "put_image"
               and call.params.get("imageManifestMediaType") in media_types.INDEXES)


def holds_current_index(ecr: FakeEcr, version: str, arches: tuple[str, ...]) -> bool:
    """The invariant: the version tag lists exactly the digests its arch tags hold now, in configured order."""
    stored = ecr.image_at(REPOSITORY, version)
    if stored is None:
        return False
    children = [ecr.image_at(REPOSITORY, f"{version}-{arch}") for arch in arches]
    if any(child is None for child in children):
        return False
    listed = [entry["digest"] for entry in json.loads(stored.manifest)["manifests"]]
    return listed == [child.digest for child in children if child is not None]


# --------------------------------------------------------------------------------------------- duplicates


@dataclass
class DuplicateFigures:
    events: int = 0
    writes: int = 0
    distinct_indexes: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


def run_duplicates(ecr: FakeEcr, versions: int, copies: int, seed: int = 0) -> DuplicateFigures:
    """Every arch event of every version delivered ``copies`` times, shuffled."""
    rng = random.Random(seed)
    figures = DuplicateFigures()
    events = []
    for number in range(versions):
        version = f"dup{number}"
        for arch, image in (("amd64", make_image("amd64", revision=version)),
                            ("arm64", make_image("arm64", variant="v8", revision=version))):
            ecr.push(REPOSITORY, f"{version}-{arch}", image)
            events += [arch_event(f"{version}-{arch}", image.digest)] * copies
    rng.shuffle(events)
    writes_before = index_writes(ecr)
    assembler = new_assembler()
    for event in events:
        outcome, _ = invoke_like_lambda(event, assembler)
        figures.outcomes[outcome] = figures.outcomes.get(outcome, 0) + 1
    figures.events = len(events)
    figures.writes = index_writes(ecr) - writes_before
    figures.distinct_indexes = sum(holds_current_index(ecr, f"dup{n}", ("amd64", "arm64")) for n in range(versions))
    return figures


# --------------------------------------------------------------------------------------------- races


@dataclass
class RaceFigures:
    trials: int = 0
    invocations: int = 0
    stale: int = 0
    dead_lettered: int = 0
    writes: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


# How long a container may stall between its read and its write: long enough for a re-push and its own invocation
# (about 0.1 s against the local moto server) to land in between, which is what makes a write stale.
MAX_STALL = 0.25


def run_races(ecr: FakeEcr, trials: int, seed: int = 0, *, verify: bool = True) -> RaceFigures:
    """Per trial: amd64 and arm64 pushed by two threads at once, and a third thread re-pushing arm64 with new
    content; each push followed by its own invocation (a separate 'container'), plus a duplicate delivery.

    ECR keeps the arm64 image a re-push replaces (untagged), so an invocation that read it can still write an index
    of it after the re-push's own index: a stale write that only the writer's verify read corrects. ``verify=False``
    (the ``UnverifiedAssembler`` seam) shows how often that happens; with the verify read it must be never."""
    rng = random.Random(seed)
    figures = RaceFigures()
    lock = threading.Lock()
    writes_before = index_writes(ecr)

    def pusher(tag: str, image: ImageBlobs, delay: float, duplicate: bool, stall: float) -> Callable[[], None]:
        def run() -> None:
            time.sleep(delay)
            ecr.push(REPOSITORY, tag, image)
            assembler = new_assembler(verify=verify, stall=stall)
            deliveries = 2 if duplicate else 1
            for _ in range(deliveries):
                outcome, _attempts = invoke_like_lambda(arch_event(tag, image.digest), assembler)
                with lock:
                    figures.invocations += 1
                    figures.outcomes[outcome] = figures.outcomes.get(outcome, 0) + 1
                    figures.dead_lettered += outcome == "dead-lettered"
        return run

    for trial in range(trials):
        version = f"race{trial}" if verify else f"unverified-race{trial}"
        jobs = [
            pusher(f"{version}-amd64", make_image("amd64", revision=version), rng.uniform(0, 0.01), False,
                   rng.uniform(0, MAX_STALL)),
            pusher(f"{version}-arm64", make_image("arm64", variant="v8", revision=version), rng.uniform(0, 0.01),
                   rng.random() < 0.5, rng.uniform(0, MAX_STALL)),
            # The re-push lands while the first invocations read, stall or write; its own container does not stall.
            pusher(f"{version}-arm64", make_image("arm64", variant="v8", revision=version + "-repush"),
                   rng.uniform(0, MAX_STALL), False, 0.0),
        ]
        threads = [threading.Thread(target=job) for job in jobs]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        figures.trials += 1
        figures.stale += not holds_current_index(ecr, version, ("amd64", "arm64"))
    figures.writes = index_writes(ecr) - writes_before
    return figures


# --------------------------------------------------------------------------------------------- faults

ECR_FAULTS = ("throttle", "server", "timeout")
BLOB_FAULTS = ("403", "500", "503", "truncate", "corrupt", "oversize", "slow:1.5")


@dataclass
class FaultFigures:
    cases: int = 0
    faults_injected: int = 0
    correct_writes: int = 0
    retryable_raised: int = 0
    wrong_writes: int = 0
    details: list[str] = field(default_factory=list)


def _fault_cases() -> list[tuple[str, str, int]]:
    cases = [(operation, fault, count) for operation in ("batch_get_image", "get_download_url_for_layer",
                                                         "put_image")
             for fault in ECR_FAULTS for count in (1, 2, 10)]
    cases += [("blob", fault, count) for fault in BLOB_FAULTS for count in (1, 2, 10)]
    return cases


def run_faults(ecr: FakeEcr, cases: list[tuple[str, str, int]] | None = None) -> FaultFigures:
    """Each case: a fresh version with both arches pushed, faults queued, one event handled (no Lambda retry):
    the outcome must be the correct index, or a TransientError with the version tag still empty."""
    figures = FaultFigures()
    for number, (operation, fault, count) in enumerate(cases if cases is not None else _fault_cases()):
        version = f"fault{number}"
        amd64 = make_image("amd64", revision=version)
        arm64 = make_image("arm64", variant="v8", revision=version)
        ecr.push(REPOSITORY, f"{version}-amd64", amd64)
        ecr.push(REPOSITORY, f"{version}-arm64", arm64)
        queue = ecr.blob_server.faults if operation == "blob" else ecr.faults[operation]
        queue.clear()
        queue.extend([fault] * count)
        assembler = new_assembler(blob_timeout=(1.0, 1.0))
        try:
            outcome = handle(arch_event(f"{version}-arm64", arm64.digest), assembler).kind
        except TransientError:
            outcome = None
        injected = count - len(queue)
        queue.clear()
        figures.cases += 1
        figures.faults_injected += injected
        stored = ecr.image_at(REPOSITORY, version)
        if outcome is OutcomeKind.CREATED and holds_current_index(ecr, version, ("amd64", "arm64")):
            figures.correct_writes += 1
        elif outcome is None and stored is None:
            figures.retryable_raised += 1
        else:
            figures.wrong_writes += 1
            figures.details.append(f"{operation}/{fault}x{count}: outcome={outcome} stored={stored}")
    return figures


# --------------------------------------------------------------------------------------------- fuzz


@dataclass
class FuzzFigures:
    events: int = 0
    crashes: int = 0
    writes: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)


def fuzzed_event(rng: random.Random) -> Any:
    """A realistic event with a few of its fields replaced by junk of any JSON type, or junk outright."""
    junk: list[Any] = [None, "", 0, -1, True, [], {}, ["PUSH"], {"a": 1}, "x" * 300, "sha256:" + "z" * 64,
                       "../../etc", "1.0-arm64", "1.0", "golang", "\u0000", 1e308]
    if rng.random() < 0.05:
        return rng.choice(junk)
    event = arch_event(rng.choice(["1.0-amd64", "1.0-arm64", "1.0", "", "-amd64", "1.0-arm64-x"]),
                       "sha256:" + "a" * 64)
    for _ in range(rng.randint(1, 4)):
        detail = event.get("detail")
        target = detail if isinstance(detail, dict) and rng.random() < 0.7 else event
        key = rng.choice([*target.keys(), "extra"])
        if rng.random() < 0.15:
            target.pop(key, None)
        else:
            target[key] = rng.choice(junk)
    return event


def run_fuzz(ecr: FakeEcr, events: int, seed: int = 0) -> FuzzFigures:
    rng = random.Random(seed)
    figures = FuzzFigures()
    writes_before = index_writes(ecr)
    assembler = new_assembler()
    for _ in range(events):
        event = fuzzed_event(rng)
        try:
            outcome = handle(event, assembler).kind.value
        except TransientError:  # the designed retry (a pushed tag the read does not show): Lambda retries it
            outcome = "retried"
        except Exception:  # any exception escaping the handler is a crash: counted, never hidden
            outcome = "crash"
            figures.crashes += 1
        figures.events += 1
        figures.outcomes[outcome] = figures.outcomes.get(outcome, 0) + 1
    figures.writes = index_writes(ecr) - writes_before
    return figures


# --------------------------------------------------------------------------------------------- make stress


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Print the reliability figures (make stress).")
    parser.add_argument("--versions", type=int, default=50, help="versions in the duplicates experiment")
    parser.add_argument("--copies", type=int, default=5, help="deliveries of each event")
    parser.add_argument("--trials", type=int, default=300, help="race trials")
    parser.add_argument("--fuzz", type=int, default=2000, help="fuzzed events")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    # Thousands of invocations: keep the figures readable (the tests look at the logs themselves).
    service_logger.setLevel(logging.WARNING)
    logging.getLogger("ecr_multiarch").setLevel(logging.WARNING)
    failures = 0
    with no_retry_sleep():
        with FakeEcr() as ecr:
            ecr.create_repository(REPOSITORY)
            started = time.perf_counter()
            duplicates = run_duplicates(ecr, args.versions, args.copies)
            print(f"duplicates: {duplicates.events} events for {args.versions} versions "
                  f"({args.copies} deliveries each) -> {duplicates.writes} writes, "
                  f"{duplicates.distinct_indexes}/{args.versions} versions hold their index; "
                  f"outcomes {duplicates.outcomes} [{time.perf_counter() - started:.1f}s]")
            failures += duplicates.writes != args.versions or duplicates.distinct_indexes != args.versions
            started = time.perf_counter()
            faults = run_faults(ecr)
            print(f"faults: {faults.cases} cases, {faults.faults_injected} faults injected -> "
                  f"{faults.correct_writes} correct indexes, {faults.retryable_raised} retryable errors raised "
                  f"with nothing written, {faults.wrong_writes} wrong writes [{time.perf_counter() - started:.1f}s]")
            for detail in faults.details:
                print(f"  WRONG: {detail}")
            failures += faults.wrong_writes
            started = time.perf_counter()
            fuzz = run_fuzz(ecr, args.fuzz)
            print(f"fuzz: {fuzz.events} malformed events -> {fuzz.crashes} crashes, {fuzz.writes} writes; "
                  f"outcomes {fuzz.outcomes} [{time.perf_counter() - started:.1f}s]")
            failures += fuzz.crashes + fuzz.writes
        with FakeEcr(server=True) as ecr:
            ecr.create_repository(REPOSITORY)
            started = time.perf_counter()
            races = run_races(ecr, args.trials)
            print(f"races: {races.trials} trials, {races.invocations} concurrent invocations, {races.writes} writes "
                  f"-> {races.stale} stale indexes, {races.dead_lettered} dead-lettered; outcomes {races.outcomes} "
                  f"[{time.perf_counter() - started:.1f}s]")
            failures += races.stale
            started = time.perf_counter()
            unverified = run_races(ecr, args.trials, verify=False)
            print(f"races without the verify read (test-only seam): {unverified.trials} trials, "
                  f"{unverified.writes} writes -> {unverified.stale} stale indexes (with it: {races.stale}) "
                  f"[{time.perf_counter() - started:.1f}s]")
            if unverified.stale == 0:
                print("  VIOLATION: no trial went stale without the verify read: the experiment no longer "
                      "exercises the race it exists for")
                failures += 1
    print("RESULT:", "all guarantees held" if failures == 0 else f"{failures} violations")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
