"""The assembler's decisions against a plain in-memory registry: fast enough for property tests."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from devkit.images import make_image
from devkit.memory_registry import MemoryRegistry
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.domain import media_types
from ecr_multiarch.domain.index import IndexFormat
from ecr_multiarch.outcome import OutcomeKind
from ecr_multiarch.settings import Settings

ARCHES = ("amd64", "arm64", "armv7", "ppc64le")
IMAGES = {
    "amd64": make_image("amd64"),
    "arm64": make_image("arm64", variant="v8"),
    "armv7": make_image("arm", variant="v7"),
    "ppc64le": make_image("ppc64le"),
}


def assembler(registry: MemoryRegistry, **settings: object) -> Assembler:
    return Assembler(registry, registry, Settings(**settings))  # type: ignore[arg-type]


def test_waiting_names_the_missing_tags() -> None:
    registry = MemoryRegistry()
    registry.create_repository("golang")
    registry.push("golang", "1.0-amd64", IMAGES["amd64"])
    outcome = assembler(registry, required_architectures=ARCHES).assemble("golang", "1.0")
    assert outcome.kind is OutcomeKind.WAITING
    assert outcome.missing == ("1.0-arm64", "1.0-armv7", "1.0-ppc64le")
    assert registry.calls == ["BatchGetImage"]


def test_dry_run_plans_and_writes_nothing() -> None:
    registry = MemoryRegistry()
    registry.create_repository("golang")
    for arch in ("amd64", "arm64"):
        registry.push("golang", f"1.0-{arch}", IMAGES[arch])
    outcome = assembler(registry, dry_run=True).assemble("golang", "1.0")
    assert outcome.kind is OutcomeKind.PLANNED
    assert outcome.index is not None and outcome.digest == str(outcome.index.digest)
    assert "1.0" not in registry.tags["golang"]
    assert "PutImage" not in registry.calls


def test_missing_repository_is_rejected_not_raised() -> None:
    outcome = assembler(MemoryRegistry()).assemble("nope", "1.0")
    assert outcome.kind is OutcomeKind.REJECTED
    assert "does not exist" in (outcome.reason or "")


def test_index_format_setting_overrides_auto() -> None:
    registry = MemoryRegistry()
    registry.create_repository("golang")
    for arch in ("amd64", "arm64"):
        registry.push("golang", f"1.0-{arch}", IMAGES[arch])
    outcome = assembler(registry, index_format=IndexFormat.OCI).assemble("golang", "1.0")
    assert outcome.kind is OutcomeKind.CREATED
    assert json.loads(registry.tags["golang"]["1.0"].body)["mediaType"] == media_types.OCI_INDEX


def test_configs_are_read_once_per_digest_across_invocations() -> None:
    registry = MemoryRegistry()
    registry.create_repository("golang")
    for arch in ("amd64", "arm64"):
        registry.push("golang", f"1.0-{arch}", IMAGES[arch])
        registry.push("golang", f"1.1-{arch}", IMAGES[arch])  # same images, another version
    service = assembler(registry)
    service.assemble("golang", "1.0")
    service.assemble("golang", "1.1")
    assert registry.calls.count("GET blob") == 2
    assert registry.calls.count("GetDownloadUrlForLayer") == 2


@pytest.mark.parametrize("arch", ["arm64", "amd64"])
def test_mislabelled_architecture_is_rejected(arch: str) -> None:
    registry = MemoryRegistry()
    registry.create_repository("golang")
    registry.push("golang", "1.0-amd64", IMAGES["amd64"])
    registry.push("golang", "1.0-arm64", IMAGES["amd64"] if arch == "arm64" else IMAGES["arm64"])
    if arch == "amd64":
        registry.push("golang", "1.0-amd64", IMAGES["arm64"])
    outcome = assembler(registry).assemble("golang", "1.0")
    assert outcome.kind is OutcomeKind.REJECTED
    assert f"1.0-{arch} is labelled {arch}" in (outcome.reason or "")
    assert "1.0" not in registry.tags["golang"]


events = st.lists(st.sampled_from(ARCHES), min_size=1, max_size=20)


@settings(max_examples=150, deadline=None)
@given(order=st.permutations(ARCHES), extra=events)
def test_any_order_and_duplication_of_events_writes_one_index_with_identical_bytes(
    order: list[str], extra: list[str]
) -> None:
    """Each arch is pushed once, just before its first event; events come in any order and any number of times."""
    registry = MemoryRegistry()
    registry.create_repository("golang")
    service = assembler(registry, required_architectures=ARCHES)
    pushed: set[str] = set()
    outcomes = []
    for arch in [*order, *extra]:
        if arch not in pushed:
            registry.push("golang", f"1.0-{arch}", IMAGES[arch])
            pushed.add(arch)
        outcomes.append(service.assemble("golang", "1.0").kind)
    assert registry.calls.count("PutImage") == 1
    assert outcomes.count(OutcomeKind.CREATED) == 1
    assert set(outcomes) <= {OutcomeKind.WAITING, OutcomeKind.CREATED, OutcomeKind.UNCHANGED}
    body = registry.tags["golang"]["1.0"].body
    # The bytes are a function of the children alone: a fresh assembly from scratch renders the very same.
    reference = MemoryRegistry()
    reference.create_repository("golang")
    for arch in ARCHES:
        reference.push("golang", f"1.0-{arch}", IMAGES[arch])
    assembler(reference, required_architectures=ARCHES).assemble("golang", "1.0")
    assert reference.tags["golang"]["1.0"].body == body
    platforms = [entry["platform"] for entry in json.loads(body)["manifests"]]
    assert platforms == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux", "variant": "v8"},
        {"architecture": "arm", "os": "linux", "variant": "v7"},
        {"architecture": "ppc64le", "os": "linux"},
    ]


def test_configs_of_many_architectures_download_in_parallel() -> None:
    import threading
    import time

    registry = MemoryRegistry()
    registry.create_repository("golang")
    for arch in ARCHES:
        registry.push("golang", f"1.0-{arch}", IMAGES[arch])
    in_flight, peak, lock = 0, 0, threading.Lock()

    class SlowBlobs:
        def read(self, url: str, digest: object, size: int) -> bytes:
            nonlocal in_flight, peak
            with lock:
                in_flight += 1
                peak = max(peak, in_flight)
            time.sleep(0.05)
            with lock:
                in_flight -= 1
            return registry.read(url, digest, size)  # type: ignore[arg-type]

    outcome = Assembler(registry, SlowBlobs(), Settings(required_architectures=ARCHES)).assemble("golang", "1.0")
    assert outcome.kind is OutcomeKind.CREATED
    assert peak == len(ARCHES)
    assert registry.calls.count("GET blob") == len(ARCHES)


def test_two_children_for_one_platform_are_rejected() -> None:
    from types import MappingProxyType

    from ecr_multiarch.domain.platform import ExpectedPlatform
    from ecr_multiarch.domain.tags import DEFAULT_SUFFIXES

    suffixes = MappingProxyType({**DEFAULT_SUFFIXES, "arm": ExpectedPlatform("linux", "arm")})
    registry = MemoryRegistry()
    registry.create_repository("app")
    registry.push("app", "1.0-arm", make_image("arm", variant="v7", revision="a"))
    registry.push("app", "1.0-armv7", make_image("arm", variant="v7", revision="b"))
    outcome = assembler(registry, required_architectures=("arm", "armv7"), suffixes=suffixes).assemble("app", "1.0")
    assert outcome.kind is OutcomeKind.REJECTED
    assert "1.0-arm and app:1.0-armv7" not in (outcome.reason or "")
    assert "app:1.0: 1.0-arm and 1.0-armv7 are both linux/arm/v7" in (outcome.reason or "")
    assert "PutImage" not in registry.calls


def test_a_stale_write_is_corrected_by_the_writers_own_verify_read() -> None:
    """Real ECR keeps a replaced child untagged, so a stale index can be written; its verify read must fix it."""
    registry = MemoryRegistry()
    registry.create_repository("golang")
    registry.push("golang", "1.0-amd64", IMAGES["amd64"])
    registry.push("golang", "1.0-arm64", IMAGES["arm64"])
    arm64_v2 = make_image("arm64", variant="v8", revision="2")
    reads = 0
    real_get = registry.get_manifests

    def get_then_repush(repository: str, tags: object) -> object:
        nonlocal reads
        reads += 1
        manifests = real_get(repository, tags)  # type: ignore[arg-type]
        if reads == 1:
            registry.push("golang", "1.0-arm64", arm64_v2)  # lands after our read, before our write
        return manifests

    registry.get_manifests = get_then_repush  # type: ignore[method-assign]
    outcome = assembler(registry).assemble("golang", "1.0")
    assert outcome.kind is OutcomeKind.CREATED
    assert outcome.writes == 2  # the stale index, then the corrected one
    listed = [entry["digest"] for entry in json.loads(registry.tags["golang"]["1.0"].body)["manifests"]]
    assert listed == [IMAGES["amd64"].digest, arm64_v2.digest]
    assert outcome.digest == str(registry.tags["golang"]["1.0"].digest)
    assert reads == 3  # first read, verify (finds it stale), verify (finds it current)
