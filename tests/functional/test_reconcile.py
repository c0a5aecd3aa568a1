"""The sweep against the fake ECR, through the real boto3 and requests adapters: what it writes, reports and calls."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from devkit.fake_ecr import FakeEcr
from devkit.images import ImageBlobs, make_image
from devkit.lambda_context import FakeLambdaContext
from ecr_multiarch import reconcile_handler
from ecr_multiarch.adapters.ecr import BOTOCORE_CONFIG, EcrRegistry
from ecr_multiarch.adapters.http_blobs import HttpBlobReader
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.tags import DEFAULT_SUFFIXES
from ecr_multiarch.ports import StoredManifest
from ecr_multiarch.reconcile import (
    STATUSES,
    Cursor,
    CursorError,
    Reconciler,
    ReconcileSettings,
    SweepProgress,
    SweepReport,
    group_versions,
)
from ecr_multiarch.settings import Settings, SettingsError

AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")
ARM64_REPUSHED = make_image("arm64", variant="v8", revision="2")
AMD64_LABELLED_ARM64 = make_image("amd64", revision="mislabelled")


def registry() -> EcrRegistry:
    return EcrRegistry(boto3.client("ecr", config=BOTOCORE_CONFIG))


def reconciler(settings: Settings | None = None, registry_: EcrRegistry | None = None, **kwargs: Any) -> Reconciler:
    chosen = registry_ or registry()
    return Reconciler(chosen, Assembler(chosen, HttpBlobReader(), settings or Settings()), **kwargs)


def push(ecr: FakeEcr, tag: str, image: ImageBlobs, repository: str = "golang") -> str:
    return ecr.push(repository, tag, image)


def statuses(report: SweepReport) -> dict[str | None, str]:
    return {entry.version: entry.status for entry in report.entries}


def index_children(ecr: FakeEcr, tag: str, repository: str = "golang") -> list[str] | None:
    stored = ecr.image_at(repository, tag)
    return None if stored is None else [entry["digest"] for entry in json.loads(stored.manifest)["manifests"]]


@pytest.fixture
def mixed(ecr: FakeEcr) -> Iterator[FakeEcr]:
    """golang with one version of each kind, plus tags the sweep must ignore:
    1.0 complete, no index -> created     1.1 amd64 only -> waiting        1.2 index current -> unchanged
    1.3 index stale (arm64 re-pushed) -> updated                            1.4 arm64 tag holds amd64 -> rejected
    """
    for version in ("1.0", "1.2", "1.3", "1.4"):
        push(ecr, f"{version}-amd64", AMD64)
    push(ecr, "1.1-amd64", AMD64)
    for version in ("1.0", "1.2", "1.3"):
        push(ecr, f"{version}-arm64", ARM64)
    push(ecr, "1.4-arm64", AMD64_LABELLED_ARM64)
    setup = Assembler(registry(), HttpBlobReader(), Settings())  # its own config cache: the sweep starts cold
    assert setup.assemble("golang", "1.2").kind.value == "created"
    assert setup.assemble("golang", "1.3").kind.value == "created"
    push(ecr, "1.3-arm64", ARM64_REPUSHED)
    push(ecr, "latest", AMD64)  # no arch suffix: not ours
    push(ecr, "1.5", AMD64)  # a version tag without arch tags: not a candidate
    ecr.calls.clear()
    yield ecr


def test_sweep_fixes_exactly_what_must_be_fixed_and_reports_each_version(mixed: FakeEcr) -> None:
    stale_1_2 = mixed.image_at("golang", "1.2")
    report = reconciler().sweep(["golang"])

    assert statuses(report) == {"1.0": "created", "1.1": "waiting", "1.2": "unchanged", "1.3": "updated",
                                "1.4": "rejected"}
    assert report.complete and report.cursor is None
    by_version = {entry.version: entry for entry in report.entries}
    assert by_version["1.1"].to_json()["missing"] == ["1.1-arm64"]
    assert "labelled arm64 (linux/arm64) but its config says linux/amd64" in (by_version["1.4"].to_json()["reason"])
    assert report.totals() == {"created": 1, "updated": 1, "unchanged": 1, "waiting": 1, "rejected": 1,
                               "planned": 0, "failed": 0}

    assert index_children(mixed, "1.0") == [AMD64.digest, ARM64.digest]
    assert index_children(mixed, "1.3") == [AMD64.digest, ARM64_REPUSHED.digest]
    assert mixed.image_at("golang", "1.2") == stale_1_2
    assert mixed.image_at("golang", "1.1") is None and mixed.image_at("golang", "1.4") is None
    assert by_version["1.0"].to_json()["digest"] == mixed.image_at("golang", "1.0").digest  # type: ignore[union-attr]

    operations = mixed.operations()
    # One listing, then one bulk read of the 12 tags of the complete versions: each one's arch tags and its version
    # tag, listed or not (an index pushed there since the listing must be seen, never overwritten).
    assert operations[:2] == ["list_images", "batch_get_image"]
    assert len(next(c for c in mixed.calls if c.operation == "batch_get_image").params["imageIds"]) == 12
    assert operations.count("batch_get_image") == 1
    # Config blobs once per digest: amd64, arm64, the re-pushed arm64, the mislabelled one.
    assert operations.count("get_download_url_for_layer") == 4
    assert [c.params["imageTag"] for c in mixed.calls if c.operation == "put_image"] == ["1.0", "1.3"]
    # The two writes verified by one fresh listing, not by a read per write.
    assert operations[-1] == "list_images" and operations.count("list_images") == 2


def test_a_second_sweep_writes_nothing(mixed: FakeEcr) -> None:
    service = reconciler()
    service.sweep(["golang"])
    mixed.calls.clear()
    second = service.sweep(["golang"])
    assert statuses(second) == {"1.0": "unchanged", "1.1": "waiting", "1.2": "unchanged", "1.3": "unchanged",
                                "1.4": "rejected"}
    assert second.writes == 0
    # Warm config cache: one listing, one bulk read, nothing else.
    assert mixed.operations() == ["list_images", "batch_get_image"]


def test_dry_run_plans_creates_and_updates_and_writes_nothing(mixed: FakeEcr) -> None:
    report = reconciler(Settings(dry_run=True)).sweep(["golang"])
    documents = {entry.version: entry.to_json() for entry in report.entries}
    assert documents["1.0"]["outcome"] == "planned" and documents["1.0"]["action"] == "create"
    assert documents["1.3"]["outcome"] == "planned" and documents["1.3"]["action"] == "update"
    assert report.totals()["planned"] == 2
    assert "put_image" not in mixed.operations()
    assert mixed.image_at("golang", "1.0") is None


def racing_registry(ecr: FakeEcr) -> EcrRegistry:
    """A registry where someone pushes a new arm64 for 2.0 right after the sweep's bulk read."""

    class RacingRegistry(EcrRegistry):
        raced = False

        def get_manifests(self, repository: str, tags: Any) -> dict[str, StoredManifest]:
            found = super().get_manifests(repository, tags)
            if not self.raced:
                self.raced = True
                push(ecr, "2.0-arm64", ARM64_REPUSHED)
            return found

    return RacingRegistry(boto3.client("ecr"))


def test_a_child_repushed_between_the_bulk_read_and_the_write_is_corrected_by_the_verify(ecr: FakeEcr) -> None:
    push(ecr, "2.0-amd64", AMD64)
    push(ecr, "2.0-arm64", ARM64)
    # ECR keeps a replaced image (untagged), so the stale write succeeds; moto deletes it unless another tag holds it.
    push(ecr, "pinned", ARM64)

    report = reconciler(registry_=racing_registry(ecr)).sweep(["golang"])

    (entry,) = report.entries
    assert entry.status == "created", entry.to_json()
    assert entry.outcome is not None and entry.outcome.writes == 2  # the stale write, then the correction
    assert index_children(ecr, "2.0") == [AMD64.digest, ARM64_REPUSHED.digest]
    assert entry.to_json()["digest"] == ecr.image_at("golang", "2.0").digest  # type: ignore[union-attr]


def test_a_child_gone_before_the_write_is_retried_from_a_fresh_read(ecr: FakeEcr) -> None:
    push(ecr, "2.0-amd64", AMD64)
    push(ecr, "2.0-arm64", ARM64)  # replaced and deleted after the bulk read: the stale write is refused

    report = reconciler(registry_=racing_registry(ecr)).sweep(["golang"])

    (entry,) = report.entries
    assert entry.status == "created", entry.to_json()
    assert index_children(ecr, "2.0") == [AMD64.digest, ARM64_REPUSHED.digest]


def test_verify_uses_batch_get_image_when_that_is_cheaper_than_relisting(ecr: FakeEcr) -> None:
    for index in range(1100):  # 1,100 other tags: a relisting would take two pages
        ecr.seed("golang", f"other-{index}", make_image("amd64", revision=str(index)).manifest,
                 AMD64.media_type)
    push(ecr, "3.0-amd64", AMD64)
    push(ecr, "3.0-arm64", ARM64)
    ecr.calls.clear()
    report = reconciler().sweep(["golang"])
    assert statuses(report) == {"3.0": "created"}
    assert ecr.operations().count("list_images") == 2  # the listing's two pages, no relisting
    verify = [c for c in ecr.calls if c.operation == "batch_get_image"][-1]
    assert [image_id["imageTag"] for image_id in verify.params["imageIds"]] == ["3.0-amd64", "3.0-arm64", "3.0"]


# --------------------------------------------------------------------------------------------- time budget


class SteppingClock:
    """Time moves only when the test says so: one second per version the sweep reports done."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def tick(self, _progress: SweepProgress) -> None:
        self.now += 1.0


def seed_versions(ecr: FakeEcr, repository: str, versions: list[str]) -> None:
    for version in versions:
        push(ecr, f"{version}-amd64", AMD64, repository)
        push(ecr, f"{version}-arm64", ARM64, repository)


def test_time_budget_stops_cleanly_and_the_cursor_resumes_without_repeats_or_gaps(ecr: FakeEcr) -> None:
    ecr.create_repository("python")
    golang = [f"1.{minor}" for minor in range(7)]
    seed_versions(ecr, "golang", golang)
    push(ecr, "1.9-amd64", AMD64)  # waiting versions count as work done too
    seed_versions(ecr, "python", ["3.11", "3.12"])
    ecr.calls.clear()

    clock = SteppingClock()
    first = reconciler(clock=clock).sweep(["golang", "python"], time_budget=4.5, on_progress=clock.tick)

    assert not first.complete
    assert [entry.version for entry in first.entries] == ["1.0", "1.1", "1.2", "1.3", "1.4"]
    assert first.cursor == Cursor(("golang", "python"), "1.4")
    # It stopped cleanly: everything it wrote is verified and written once.
    assert [c.params["imageTag"] for c in ecr.calls if c.operation == "put_image"] == golang[:5]
    assert ecr.operations()[-1] == "list_images"

    cursor = Cursor.from_json(json.loads(json.dumps(first.cursor.to_json())))  # as a payload carries it
    clock = SteppingClock()
    second = reconciler(clock=clock).sweep([], cursor=cursor, time_budget=2.5, on_progress=clock.tick)
    assert [(e.repository, e.version) for e in second.entries] == [("golang", "1.5"), ("golang", "1.6"),
                                                                   ("golang", "1.9")]
    assert second.cursor == Cursor(("python",), None)  # golang done; python not started

    third = reconciler().sweep([], cursor=second.cursor)
    assert third.complete
    assert [(e.repository, e.version) for e in third.entries] == [("python", "3.11"), ("python", "3.12")]

    done = [(e.repository, e.version) for report in (first, second, third) for e in report.entries]
    assert len(done) == len(set(done)) == 10
    puts = [c.params["repositoryName"] + ":" + c.params["imageTag"] for c in ecr.calls if c.operation == "put_image"]
    assert len(puts) == len(set(puts)) == 9  # every complete version written exactly once
    for version in golang:
        assert index_children(ecr, version) == [AMD64.digest, ARM64.digest]


def test_no_time_at_all_returns_the_cursor_it_was_given(ecr: FakeEcr) -> None:
    seed_versions(ecr, "golang", ["1.0"])
    ecr.calls.clear()
    report = reconciler(clock=lambda: 0.0).sweep(["golang"], time_budget=1.0, safety_margin=5.0)
    assert report.entries == [] and report.cursor == Cursor(("golang",), None)
    assert ecr.operations() == []


# --------------------------------------------------------------------------------------------- repositories


def test_a_missing_repository_is_rejected_and_the_sweep_goes_on(ecr: FakeEcr) -> None:
    seed_versions(ecr, "golang", ["1.0"])
    report = reconciler().sweep(["nope", "golang"])
    assert [(e.repository, e.version, e.status) for e in report.entries] == [("nope", None, "rejected"),
                                                                              ("golang", "1.0", "created")]
    assert "does not exist" in (report.entries[0].to_json()["reason"])
    assert report.totals("golang")["created"] == 1


def test_patterns_are_expanded_by_listing_names_are_not(ecr: FakeEcr) -> None:
    for name in ("team/b", "team/a", "other"):
        ecr.create_repository(name)
    service = reconciler()
    assert service.resolve_repositories(["golang", "team/*"]) == ["golang", "team/a", "team/b"]
    assert service.resolve_repositories(["t?am/a", "*"]) == ["team/a", "golang", "other", "team/b"]


def test_reconcile_settings_validate_the_repositories() -> None:
    assert ReconcileSettings.from_environment({}).repositories == ("*",)
    assert ReconcileSettings.from_environment({"RECONCILE_REPOSITORIES": "golang, team/*"}).repositories == (
        "golang", "team/*")
    with pytest.raises(SettingsError, match="RECONCILE_REPOSITORIES"):
        ReconcileSettings.from_environment({"RECONCILE_REPOSITORIES": "Golang"})
    with pytest.raises(SettingsError, match="empty"):
        ReconcileSettings.from_environment({"RECONCILE_REPOSITORIES": " , "})


@pytest.mark.parametrize("document", [None, [], {"repositories": []}, {"repositories": ["UPPER"]},
                                      {"repositories": ["golang"], "afterVersion": 3}])
def test_malformed_cursors_are_refused(document: Any) -> None:
    with pytest.raises(CursorError):
        Cursor.from_json(document)


def test_grouping_uses_the_event_grammar() -> None:
    tags = ["1.0-amd64", "1.0-arm64", "1.0", "1.1-arm64", "latest", "2.0", "1.0-windows-amd64"]
    versions = group_versions(tags, ("amd64", "arm64"), DEFAULT_SUFFIXES)
    # 1.0-windows-amd64 is the windows-amd64 tag of 1.0 (as in an event), not required here: no "1.0-windows".
    assert [(v.version, dict(v.arch_tags), v.has_version_tag) for v in versions] == [
        ("1.0", {"amd64": "1.0-amd64", "arm64": "1.0-arm64"}, True),
        ("1.1", {"arm64": "1.1-arm64"}, False),
    ]
    with_windows = group_versions(tags, ("amd64", "windows-amd64"), DEFAULT_SUFFIXES)
    assert [(v.version, dict(v.arch_tags)) for v in with_windows] == [
        ("1.0", {"amd64": "1.0-amd64", "windows-amd64": "1.0-windows-amd64"}),
    ]


def test_list_tag_digests_pages_at_1000_and_gives_real_digests(ecr: FakeEcr) -> None:
    for index in range(1001):
        ecr.seed("golang", f"t{index}", make_image("amd64", revision=str(index)).manifest, AMD64.media_type)
    ecr.calls.clear()
    digests = registry().list_tag_digests("golang")
    assert len(digests) == 1001
    assert digests["t7"] == Digest(make_image("amd64", revision="7").digest)
    assert [c.params["maxResults"] for c in ecr.calls if c.operation == "list_images"] == [1000, 1000]


# --------------------------------------------------------------------------------------------- the Lambda handler


class Invocations:
    def __init__(self) -> None:
        self.payloads: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, function_arn: str, payload: dict[str, Any]) -> None:
        self.payloads.append((function_arn, json.loads(json.dumps(payload))))  # must survive JSON, as in Lambda


class ShortContext(FakeLambdaContext):
    def __init__(self, remaining_ms: int) -> None:
        super().__init__(function_name="ecr-multiarch-ReconcileFunction",
                         invoked_function_arn="arn:aws:lambda:us-east-1:123456789012:function:reconcile")
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


SCHEDULED_EVENT = {"version": "0", "id": "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "detail-type": "Scheduled Event",
                   "source": "aws.events", "account": "123456789012", "time": "2024-05-14T03:00:00Z",
                   "region": "us-east-1", "resources": [], "detail": {}}


@pytest.fixture
def wired(ecr: FakeEcr) -> Iterator[tuple[Invocations, SteppingClock]]:
    invocations, clock = Invocations(), SteppingClock()

    class TickingRegistry(EcrRegistry):
        def put_index(self, *args: Any) -> Any:
            clock.now += 1.0  # each write takes a "second"
            return super().put_index(*args)

    chosen = TickingRegistry(boto3.client("ecr", config=BOTOCORE_CONFIG))
    service = Reconciler(chosen, Assembler(chosen, HttpBlobReader(), Settings()), clock=clock)
    reconcile_handler.metrics.clear_metrics()  # what a test run earlier with metrics disabled left unflushed
    reconcile_handler.configure(reconcile_handler.ReconcileServices(service, ReconcileSettings(("golang",)),
                                                                    invocations))
    yield invocations, clock
    reconcile_handler.configure(None)


def test_handler_sweeps_on_schedule_and_logs_a_summary(
    ecr: FakeEcr, wired: tuple[Invocations, SteppingClock], capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)  # `make demo` in an earlier test sets it
    seed_versions(ecr, "golang", ["1.0", "1.1"])
    push(ecr, "1.2-amd64", AMD64)
    result = reconcile_handler.lambda_handler(SCHEDULED_EVENT, ShortContext(900_000))  # type: ignore[arg-type]
    assert result["complete"] is True and result["cursor"] is None
    assert result["totals"] == {**dict.fromkeys(STATUSES, 0), "created": 2, "waiting": 1}
    assert result["writes"] == 2 and "continued" not in result
    assert wired[0].payloads == []
    emitted = capsys.readouterr().out
    metrics = [json.loads(line) for line in emitted.splitlines() if '"_aws"' in line]
    assert metrics and metrics[-1]["ReconcileCreated"] == [2.0] and metrics[-1]["ReconcileRejected"] == [0.0]


def test_handler_hands_the_cursor_on_and_the_continuation_finishes(
    ecr: FakeEcr, wired: tuple[Invocations, SteppingClock]
) -> None:
    invocations, _ = wired
    versions = [f"1.{minor}" for minor in range(6)]
    seed_versions(ecr, "golang", versions)
    # 10 s left: a 2 s safety margin (20 %), each write takes 1 s -> 8 versions' worth... of which 6 exist.
    # With 5 s left: margin 1 s, so the sweep stops after 4 writes and hands on.
    first = reconcile_handler.lambda_handler(SCHEDULED_EVENT, ShortContext(5_000))  # type: ignore[arg-type]
    assert first["complete"] is False and first["continued"] is True
    assert first["totals"]["created"] == 4
    ((arn, payload),) = invocations.payloads
    assert arn == "arn:aws:lambda:us-east-1:123456789012:function:reconcile"
    assert payload == {"reconcile": {"cursor": {"repositories": ["golang"], "afterVersion": "1.3"},
                                     "continuation": 1}}

    second = reconcile_handler.lambda_handler(payload, ShortContext(900_000))  # type: ignore[arg-type]
    assert second["complete"] is True and second["continuation"] == 1
    assert second["totals"]["created"] == 2 and second["totals"]["unchanged"] == 0
    assert len(invocations.payloads) == 1
    for version in versions:
        assert index_children(ecr, version) == [AMD64.digest, ARM64.digest]


def test_handler_stops_handing_on_after_the_last_allowed_continuation(
    ecr: FakeEcr, wired: tuple[Invocations, SteppingClock]
) -> None:
    seed_versions(ecr, "golang", ["1.0", "1.1", "1.2"])
    payload = {"reconcile": {"cursor": {"repositories": ["golang"], "afterVersion": None},
                             "continuation": reconcile_handler.MAX_CONTINUATIONS}}
    result = reconcile_handler.lambda_handler(payload, ShortContext(2_500))  # type: ignore[arg-type]
    assert result["complete"] is False and result["continued"] is False
    assert wired[0].payloads == []


def test_handler_never_hands_on_a_sweep_that_made_no_progress(
    ecr: FakeEcr, wired: tuple[Invocations, SteppingClock]
) -> None:
    seed_versions(ecr, "golang", ["1.0"])
    payload = {"reconcile": {"cursor": {"repositories": ["golang"], "afterVersion": None}, "continuation": 1}}
    result = reconcile_handler.lambda_handler(payload, ShortContext(0))  # type: ignore[arg-type]
    assert result["continued"] is False and result["totals"]["created"] == 0
    assert wired[0].payloads == []


@pytest.mark.parametrize("event", [{"reconcile": "golang"}, {"reconcile": {"cursor": {"repositories": []}}},
                                   {"reconcile": {"continuation": -1}}, {"reconcile": {"repositories": "golang"}}])
def test_handler_refuses_a_malformed_request_without_retries(
    ecr: FakeEcr, wired: tuple[Invocations, SteppingClock], event: dict[str, Any]
) -> None:
    result = reconcile_handler.lambda_handler(event, ShortContext(900_000))  # type: ignore[arg-type]
    assert "error" in result
    assert ecr.operations() == []


def test_handler_manual_run_names_its_repositories(ecr: FakeEcr, wired: tuple[Invocations, SteppingClock]) -> None:
    ecr.create_repository("python")
    seed_versions(ecr, "python", ["3.12"])
    event = {"reconcile": {"repositories": ["pyth*"]}}
    result = reconcile_handler.lambda_handler(event, ShortContext(900_000))  # type: ignore[arg-type]
    assert result["repositories"] == ["python"] and result["totals"]["created"] == 1


def test_default_composition_root_reads_the_environment(ecr: FakeEcr, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RECONCILE_REPOSITORIES", "golang")
    monkeypatch.setenv("INDEX_FORMAT", "oci")
    seed_versions(ecr, "golang", ["1.0"])
    reconcile_handler.configure(None)
    try:
        result = reconcile_handler.lambda_handler(SCHEDULED_EVENT, ShortContext(900_000))  # type: ignore[arg-type]
    finally:
        reconcile_handler.configure(None)
    assert result["totals"]["created"] == 1
    stored = ecr.image_at("golang", "1.0")
    assert stored is not None and stored.media_type == "application/vnd.oci.image.index.v1+json"


def test_buildkit_versions_the_sweep_writes_are_verified_without_a_second_assembly(ecr: FakeEcr) -> None:
    """A BuildKit arch tag holds an index, whose digest is not the image manifest's that our index lists: the
    verification compared the two, never matched, and assembled every written version once more (a BatchGetImage
    per version, for nothing). One bulk read, one read by digest per version, one PutImage per version."""
    from devkit.images import make_buildkit_image

    for version in ("1.0", "1.1", "1.2"):
        ecr.push("golang", f"{version}-amd64", make_buildkit_image("amd64", revision=version))
        ecr.push("golang", f"{version}-arm64", make_buildkit_image("arm64", variant="v8", revision=version))
    ecr.calls.clear()
    report = Reconciler(registry(), Assembler(registry(), HttpBlobReader(), Settings())).sweep(["golang"])
    assert report.totals()["created"] == 3 and report.writes == 3
    assert ecr.operations().count("batch_get_image") == 1 + 3
    assert ecr.operations().count("put_image") == 3
