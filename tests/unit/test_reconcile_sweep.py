"""The sweep's bookkeeping against the plain in-memory registry: call counts at scale, chunking, cursor order."""

from devkit.images import make_image
from devkit.memory_registry import MemoryRegistry
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.outcome import OutcomeKind
from ecr_multiarch.reconcile import Cursor, Reconciler
from ecr_multiarch.settings import Settings

AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")


def registry_with(versions: int, *, incomplete: int = 0) -> MemoryRegistry:
    registry = MemoryRegistry()
    registry.create_repository("golang")
    for number in range(versions):
        registry.push("golang", f"{number:04d}-amd64", AMD64)
        registry.push("golang", f"{number:04d}-arm64", ARM64)
    for number in range(incomplete):
        registry.push("golang", f"wip{number:04d}-amd64", AMD64)
    return registry


def sweeper(registry: MemoryRegistry, **settings: object) -> Reconciler:
    return Reconciler(registry, Assembler(registry, registry, Settings(**settings)))  # type: ignore[arg-type]


def test_unverified_assemble_writes_once_and_reads_nothing_when_prefetched() -> None:
    registry = registry_with(1)
    assembler = Assembler(registry, registry, Settings())
    prefetched = registry.get_manifests("golang", assembler.version_tags("0000"))
    registry.calls.clear()
    outcome = assembler.assemble("golang", "0000", prefetched, verify=False)
    assert outcome.kind is OutcomeKind.CREATED and outcome.writes == 1
    assert [call for call in registry.calls if call not in {"GetDownloadUrlForLayer", "GET blob"}] == ["PutImage"]


def test_a_large_backfill_reads_in_chunks_of_100_and_verifies_with_one_listing() -> None:
    registry = registry_with(500, incomplete=120)  # 1,120 tags
    report = sweeper(registry).sweep(["golang"])
    assert report.totals()["created"] == 500 and report.totals()["waiting"] == 120
    calls = registry.calls
    assert calls.count("BatchGetImage") == 15  # 1,000 arch tags + 500 version tags of complete versions / 100
    assert calls.count("ListImages") == 2  # the listing, and the verifying relisting
    assert calls.count("GetDownloadUrlForLayer") == 2  # two distinct configs
    assert calls.count("PutImage") == 500


def test_a_steady_state_sweep_reads_and_writes_nothing_more() -> None:
    registry = registry_with(300)
    service = sweeper(registry)
    service.sweep(["golang"])
    registry.calls.clear()
    report = service.sweep(["golang"])
    assert report.totals()["unchanged"] == 300
    assert registry.calls == ["ListImages"] + ["BatchGetImage"] * 9  # 900 tags (two arch tags + the index each)


def test_resuming_skips_exactly_the_versions_up_to_the_cursor() -> None:
    registry = registry_with(5)
    report = sweeper(registry).sweep([], cursor=Cursor(("golang",), "0002"))
    assert [entry.version for entry in report.entries] == ["0003", "0004"]


def test_dry_run_reports_planned_creates_and_updates() -> None:
    registry = registry_with(2)
    sweeper(registry).sweep(["golang"])
    registry.push("golang", "0001-arm64", make_image("arm64", variant="v8", revision="2"))
    registry.push("golang", "0002-amd64", AMD64)
    registry.push("golang", "0002-arm64", ARM64)
    registry.calls.clear()
    report = sweeper(registry, dry_run=True).sweep(["golang"])
    assert [(e.version, e.status, e.to_json().get("action")) for e in report.entries] == [
        ("0000", "unchanged", None), ("0001", "planned", "update"), ("0002", "planned", "create")]
    assert "PutImage" not in registry.calls


def test_a_warm_sweep_of_more_configs_than_the_event_paths_cache_holds_downloads_nothing() -> None:
    from ecr_multiarch.assembler import PlatformCache
    from ecr_multiarch.reconcile import PLATFORM_CACHE_ENTRIES

    registry = MemoryRegistry()
    registry.create_repository("golang")
    for number in range(2100):  # 4,200 distinct configs: an LRU of 4,096 would miss on every one, every run
        registry.push("golang", f"{number:04d}-amd64", make_image("amd64", revision=str(number)))
        registry.push("golang", f"{number:04d}-arm64", make_image("arm64", variant="v8", revision=str(number)))
    service = Reconciler(registry, Assembler(registry, registry, Settings(),  # type: ignore[arg-type]
                                             PlatformCache(PLATFORM_CACHE_ENTRIES)))
    service.sweep(["golang"])
    assert registry.calls.count("GET blob") == 4200
    registry.calls.clear()
    assert service.sweep(["golang"]).totals()["unchanged"] == 2100
    assert "GET blob" not in registry.calls
