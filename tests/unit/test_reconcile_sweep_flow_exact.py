"""How one sweep walks the registry, exactly: where a time budget stops it and the cursor it hands on, the progress it
reports, what it answers for a repository it cannot sweep or a version it cannot index, how it verifies its writes
(a relisting or a BatchGetImage, whichever is fewer calls) and which reads it makes, in which order."""

from __future__ import annotations

from devkit.images import make_image
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.errors import AccessDeniedError, ReferencedImagesMissingError, TransientError
from ecr_multiarch.outcome import Outcome, OutcomeKind
from ecr_multiarch.reconcile import Cursor, Reconciler, SweepEntry, SweepProgress, _BulkReads
from ecr_multiarch.settings import Settings
from tests.unit.sweep_doubles import HookedRegistry, fail

AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")
ARM64_REBUILT = make_image("arm64", variant="v8", revision="2")


def registry_with(repository: str, *versions: str, incomplete: tuple[str, ...] = ()) -> HookedRegistry:
    registry = HookedRegistry()
    return add(registry, repository, *versions, incomplete=incomplete)


def add(registry: HookedRegistry, repository: str, *versions: str, incomplete: tuple[str, ...] = ()
        ) -> HookedRegistry:
    registry.create_repository(repository)
    for version in versions:
        registry.push(repository, f"{version}-amd64", AMD64)
        registry.push(repository, f"{version}-arm64", ARM64)
    for version in incomplete:
        registry.push(repository, f"{version}-amd64", AMD64)
    return registry


def sweeper(registry: HookedRegistry, clock: ManualClock | None = None, *, tags: bool = False,
            **settings: object) -> Reconciler:
    assembler = Assembler(registry, registry, Settings(**settings),  # type: ignore[arg-type]
                          repository_tags=registry if tags else None)
    if clock is None:
        return Reconciler(registry, assembler)
    return Reconciler(registry, assembler, clock)


class ManualClock:
    """Time that moves only when a test moves it (here: by one second per version done)."""

    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def created(registry: HookedRegistry, repository: str, version: str, writes: int = 1) -> SweepEntry:
    held = registry.tags[repository][version]
    return SweepEntry(repository, version, Outcome(OutcomeKind.CREATED, repository, version, str(held.digest),
                                                   writes=writes))


def api_calls(registry: HookedRegistry) -> list[str]:
    return [call for call in registry.calls if call not in {"GetDownloadUrlForLayer", "GET blob"}]


# ------------------------------------------------------------------ time budget, cursor, progress


def test_a_sweep_stops_once_the_margin_is_reached_verifies_its_writes_and_hands_on_a_cursor() -> None:
    registry = registry_with("golang", "1.0", "1.1", "1.2", "1.3", "1.4")
    add(registry, "python", "3.12")
    clock = ManualClock()
    progress: list[SweepProgress] = []

    def one_second_per_version(step: SweepProgress) -> None:
        progress.append(step)
        clock.now += 1

    report = sweeper(registry, clock).sweep(["golang", "python"], time_budget=5, safety_margin=2,
                                            on_progress=one_second_per_version)
    # 3 seconds of work allowed: 1.0 at t+0, 1.1 at t+1, 1.2 at t+2; at t+3 none is left
    assert report.entries == [created(registry, "golang", version) for version in ("1.0", "1.1", "1.2")]
    assert report.cursor == Cursor(("golang", "python"), "1.2") and not report.complete
    assert progress == [SweepProgress("golang", 1, 5), SweepProgress("golang", 2, 5), SweepProgress("golang", 3, 5)]
    assert api_calls(registry) == ["ListImages", "BatchGetImage", "PutImage", "PutImage", "PutImage", "ListImages"]
    assert "1.3" not in registry.tags["golang"] and "3.12" not in registry.tags["python"]

    resumed = sweeper(registry).sweep(["ignored"], cursor=report.cursor)
    assert [(entry.repository, entry.version, entry.status) for entry in resumed.entries] == [
        ("golang", "1.3", "created"), ("golang", "1.4", "created"), ("python", "3.12", "created")]
    assert resumed.repositories == ("golang", "python") and resumed.complete


def test_a_cursor_version_skips_only_in_the_first_repository() -> None:
    registry = registry_with("golang", "1.0", "2.0")
    add(registry, "python", "1.0", "2.0")
    report = sweeper(registry).sweep([], cursor=Cursor(("golang", "python"), "1.0"))
    assert [(entry.repository, entry.version) for entry in report.entries] == [
        ("golang", "2.0"), ("python", "1.0"), ("python", "2.0")]


def test_without_a_margin_the_whole_budget_is_used() -> None:
    registry = registry_with("golang", "1.0", "1.1", "1.2")
    clock = ManualClock()

    def tick(_: SweepProgress) -> None:
        clock.now += 1

    report = sweeper(registry, clock).sweep(["golang"], time_budget=2, on_progress=tick)
    assert [entry.version for entry in report.entries] == ["1.0", "1.1"]
    assert report.cursor == Cursor(("golang",), "1.1")


def test_a_budget_spent_between_repositories_hands_on_the_next_from_its_start() -> None:
    registry = registry_with("golang", "1.0", "1.1")
    add(registry, "python", "3.12")
    add(registry, "alpine", "3.20")
    clock = ManualClock()

    def tick(_: SweepProgress) -> None:
        clock.now += 1

    report = sweeper(registry, clock).sweep(["golang", "python", "alpine"], time_budget=2, on_progress=tick)
    assert [entry.version for entry in report.entries] == ["1.0", "1.1"]
    assert report.cursor == Cursor(("python", "alpine"), None)
    assert registry.counts["ListImages"] == 2  # golang's listing and its verification; python never listed


def test_a_sweep_without_a_budget_runs_to_the_end_whatever_the_clock_says() -> None:
    registry = registry_with("golang", "1.0", "1.1")
    clock = ManualClock()

    def tick(_: SweepProgress) -> None:
        clock.now += 1000

    report = sweeper(registry, clock).sweep(["golang", "golang"], on_progress=tick)
    assert report.repositories == ("golang",)
    assert [entry.status for entry in report.entries] == ["created", "created"] and report.complete


# ------------------------------------------------------------------ repositories it cannot sweep


def test_a_repository_that_does_not_exist_is_rejected_and_the_next_is_swept() -> None:
    registry = registry_with("golang", "1.0")
    report = sweeper(registry).sweep(["gone", "golang"])
    assert report.entries == [
        SweepEntry("gone", None, Outcome(OutcomeKind.REJECTED, "gone", reason="repository 'gone' does not exist")),
        created(registry, "golang", "1.0"),
    ]
    assert report.entries[0].to_json() == {"outcome": "rejected", "repository": "gone",
                                           "reason": "repository 'gone' does not exist"}
    assert report.complete


def test_a_repository_with_an_unusable_policy_tag_is_rejected_and_the_next_is_swept() -> None:
    registry = registry_with("golang", "1.0")
    add(registry, "python", "3.12")
    registry.repository_tag_values["golang"] = {"ecr-multiarch:enabled": "maybe"}
    report = sweeper(registry, tags=True).sweep(["golang", "python"])
    reason = "repository golang: repository tag ecr-multiarch:enabled is 'maybe'; use true or false"
    assert report.entries == [SweepEntry("golang", None, Outcome(OutcomeKind.REJECTED, "golang", reason=reason)),
                              created(registry, "python", "3.12")]
    assert "1.0" not in registry.tags["golang"]


def test_an_opted_out_repository_is_skipped_without_a_read() -> None:
    registry = registry_with("golang", "1.0")
    add(registry, "python", "3.12")
    registry.repository_tag_values["golang"] = {"ecr-multiarch:enabled": "false"}
    report = sweeper(registry, tags=True).sweep(["golang", "python"])
    assert report.entries == [
        SweepEntry("golang", None, Outcome(OutcomeKind.SKIPPED, "golang",
                                           reason="repository opted out (ecr-multiarch:enabled=false)")),
        created(registry, "python", "3.12"),
    ]
    assert registry.requests == [["3.12-amd64", "3.12-arm64", "3.12"]]


def test_a_repositorys_own_architectures_decide_what_is_complete() -> None:
    registry = registry_with("golang", "1.0", incomplete=("1.1",))
    registry.repository_tag_values["golang"] = {"ecr-multiarch:architectures": "amd64"}
    report = sweeper(registry, tags=True).sweep(["golang"])
    assert [(entry.version, entry.status) for entry in report.entries] == [("1.0", "created"), ("1.1", "created")]
    assert registry.requests[0] == ["1.0-amd64", "1.0", "1.1-amd64", "1.1"]


# ------------------------------------------------------------------ versions it cannot index


def test_an_incomplete_version_waits_from_the_listing_alone() -> None:
    registry = registry_with("golang", "1.0", incomplete=("1.1",))
    report = sweeper(registry).sweep(["golang"])
    assert report.entries == [
        created(registry, "golang", "1.0"),
        SweepEntry("golang", "1.1", Outcome(OutcomeKind.WAITING, "golang", "1.1", missing=("1.1-arm64",))),
    ]
    assert registry.requests == [["1.0-amd64", "1.0-arm64", "1.0"]]  # nothing of 1.1 is read


def test_a_version_the_tag_grammar_gives_to_another_is_rejected_without_a_read() -> None:
    registry = registry_with("golang")
    registry.push("golang", "1.0-windows-arm64", ARM64)
    registry.push("golang", "1.0-windows-amd64", AMD64)
    report = sweeper(registry).sweep(["golang"])
    reason = ("golang: version 1.0-windows cannot be indexed: its amd64 tag 1.0-windows-amd64 is the windows-amd64 "
              "tag of version 1.0 under the tag grammar (tag this version's images under another version name)")
    assert report.entries == [
        SweepEntry("golang", "1.0-windows", Outcome(OutcomeKind.REJECTED, "golang", "1.0-windows", reason=reason))]
    assert registry.requests == []


def test_a_version_whose_read_is_refused_is_rejected_and_the_next_version_goes_on() -> None:
    registry = registry_with("golang", "1.0", "1.1")
    refusal = "AccessDeniedException: not authorized to perform ecr:BatchGetImage"
    denied = fail(AccessDeniedError(refusal))
    registry.hooks[("BatchGetImage", 1)] = denied  # the bulk read of both versions
    registry.hooks[("BatchGetImage", 2)] = denied  # 1.0's own read
    report = sweeper(registry).sweep(["golang"])
    assert report.entries == [
        SweepEntry("golang", "1.0", Outcome(OutcomeKind.REJECTED, "golang", "1.0", reason=refusal)),
        created(registry, "golang", "1.1"),
    ]
    assert registry.requests == [["1.0-amd64", "1.0-arm64", "1.0", "1.1-amd64", "1.1-arm64", "1.1"],
                                 ["1.0-amd64", "1.0-arm64", "1.0"], ["1.1-amd64", "1.1-arm64", "1.1"]]


# ------------------------------------------------------------------ reads, writes and their verification


def test_a_first_sweep_reads_once_writes_each_version_and_verifies_with_one_relisting() -> None:
    registry = registry_with("golang", "1.0", "1.1")
    report = sweeper(registry).sweep(["golang"])
    assert report.entries == [created(registry, "golang", "1.0"), created(registry, "golang", "1.1")]
    assert api_calls(registry) == ["ListImages", "BatchGetImage", "PutImage", "PutImage", "ListImages"]
    registry.calls.clear()
    again = sweeper(registry).sweep(["golang"])
    assert [entry.status for entry in again.entries] == ["unchanged", "unchanged"]
    assert again.entries[0].to_json()["digest"] == str(registry.tags["golang"]["1.0"].digest)
    assert api_calls(registry) == ["ListImages", "BatchGetImage"]


def test_an_update_is_verified_and_reported_as_an_update_that_replaced_the_old_index() -> None:
    registry = registry_with("golang", "1.0")
    sweeper(registry).sweep(["golang"])
    old = registry.tags["golang"]["1.0"].digest
    registry.push("golang", "1.0-arm64", ARM64_REBUILT)
    registry.calls.clear()
    report = sweeper(registry, dry_run=True).sweep(["golang"])
    assert report.entries[0].to_json()["action"] == "update" and registry.tags["golang"]["1.0"].digest == old
    report = sweeper(registry).sweep(["golang"])
    held = registry.tags["golang"]["1.0"]
    assert report.entries == [SweepEntry("golang", "1.0", Outcome(OutcomeKind.UPDATED, "golang", "1.0",
                                                                  str(held.digest), writes=1),
                                         replaces=True)]
    assert held.digest != old


def test_verification_reads_the_written_tags_when_that_is_fewer_calls_than_relisting() -> None:
    # 998 other tags and the two arch tags: 1,000 listed, 1,001 once the index is written, two pages to relist
    registry = registry_with("golang", "1.0")
    for number in range(998):
        registry.push("golang", f"build-{number:04d}", AMD64)
    report = sweeper(registry).sweep(["golang"])
    assert report.entries == [created(registry, "golang", "1.0")]
    assert api_calls(registry) == ["ListImages", "BatchGetImage", "PutImage", "BatchGetImage"]
    assert registry.requests[-1] == ["1.0-amd64", "1.0-arm64", "1.0"]


def test_verification_relists_when_one_page_holds_every_tag_after_the_writes() -> None:
    # 997 other tags and the two arch tags: 999 listed, 1,000 once the index is written, one page
    registry = registry_with("golang", "1.0")
    for number in range(997):
        registry.push("golang", f"build-{number:04d}", AMD64)
    sweeper(registry).sweep(["golang"])
    assert api_calls(registry) == ["ListImages", "BatchGetImage", "PutImage", "ListImages"]


def test_an_update_does_not_count_as_a_new_tag_when_choosing_how_to_verify() -> None:
    registry = registry_with("golang", "1.0")
    sweeper(registry).sweep(["golang"])
    for number in range(997):  # 1,000 tags with the index; the update adds none
        registry.push("golang", f"build-{number:04d}", AMD64)
    registry.push("golang", "1.0-arm64", ARM64_REBUILT)
    registry.calls.clear()
    assert sweeper(registry).sweep(["golang"]).entries[0].status == "updated"
    assert api_calls(registry) == ["ListImages", "BatchGetImage", "PutImage", "ListImages"]


def test_only_the_version_that_moved_after_its_write_is_assembled_again() -> None:
    registry = registry_with("golang", "1.0", "1.1", "1.2")
    registry.hooks[("ListImages", 2)] = lambda: registry.push("golang", "1.1-arm64", ARM64_REBUILT)
    report = sweeper(registry).sweep(["golang"])
    assert report.entries == [created(registry, "golang", "1.0"), created(registry, "golang", "1.1", writes=2),
                              created(registry, "golang", "1.2")]
    assert ARM64_REBUILT.digest.encode() in registry.tags["golang"]["1.1"].body
    # the re-assembly reads 1.1 fresh, writes, and verifies its own write
    assert api_calls(registry) == ["ListImages", "BatchGetImage", "PutImage", "PutImage", "PutImage", "ListImages",
                                   "BatchGetImage", "PutImage", "BatchGetImage"]


def test_the_last_version_moving_after_its_write_is_assembled_again_too() -> None:
    registry = registry_with("golang", "1.0", "1.1")
    registry.hooks[("ListImages", 2)] = lambda: registry.push("golang", "1.1-arm64", ARM64_REBUILT)
    report = sweeper(registry).sweep(["golang"])
    assert report.entries == [created(registry, "golang", "1.0"), created(registry, "golang", "1.1", writes=2)]


def test_an_image_pushed_at_the_version_tag_after_the_write_is_reported_as_the_re_assembly_found_it() -> None:
    registry = registry_with("golang", "1.0")
    registry.hooks[("ListImages", 2)] = lambda: registry.push("golang", "1.0", AMD64)  # someone re-tagged it
    report = sweeper(registry).sweep(["golang"])
    reason = (f"golang:1.0 holds a single-arch image (application/vnd.docker.distribution.manifest.v2+json, "
              f"{AMD64.digest}) that ecr-multiarch did not make; it is left untouched (move or delete it to let the "
              "index be written)")
    # the re-assembly's verdict, with the sweep's write counted
    assert report.entries == [SweepEntry("golang", "1.0", Outcome(OutcomeKind.REJECTED, "golang", "1.0",
                                                                  reason=reason, writes=1))]
    assert str(registry.tags["golang"]["1.0"].digest) == AMD64.digest


def test_writes_that_cannot_be_verified_are_each_reported_failed_and_stay_written() -> None:
    registry = registry_with("golang", "1.0", "1.1", incomplete=("1.2",))
    registry.hooks[("ListImages", 2)] = fail(TransientError("ThrottlingException: Rate exceeded"))
    report = sweeper(registry).sweep(["golang"])
    assert report.entries == [
        SweepEntry("golang", "1.0", None, failure="written, but not verified: ThrottlingException: Rate exceeded",
                   error_type="TransientError"),
        SweepEntry("golang", "1.1", None, failure="written, but not verified: ThrottlingException: Rate exceeded",
                   error_type="TransientError"),
        SweepEntry("golang", "1.2", Outcome(OutcomeKind.WAITING, "golang", "1.2", missing=("1.2-arm64",))),
    ]
    assert "1.0" in registry.tags["golang"] and "1.1" in registry.tags["golang"]


# ------------------------------------------------------------------ bulk reads


def versions(count: int) -> list[str]:
    return [f"{number:03d}" for number in range(count)]


def test_bulk_reads_go_one_chunk_of_100_ahead_of_the_writes() -> None:
    registry = registry_with("golang", *versions(40))  # 120 ids: a chunk of 100, then one of 20
    sweeper(registry).sweep(["golang"])
    calls = api_calls(registry)
    # versions 000-032 and 033's amd64 tag are the first chunk; 033's other two tags open the second
    assert calls == ["ListImages", "BatchGetImage", *["PutImage"] * 33, "BatchGetImage", *["PutImage"] * 7,
                     "ListImages"]
    assert [len(tags) for tags in registry.requests] == [100, 20]


def test_a_failed_chunk_is_read_again_version_by_version() -> None:
    registry = registry_with("golang", *versions(40))
    registry.hooks[("BatchGetImage", 1)] = fail(TransientError("ThrottlingException: Rate exceeded"))
    report = sweeper(registry).sweep(["golang"])
    assert [entry.status for entry in report.entries] == ["created"] * 40
    own_reads = [[f"{version}-amd64", f"{version}-arm64", f"{version}"] for version in versions(33)]
    assert registry.requests[1:34] == own_reads
    # 033: its amd64 tag was in the failed chunk; its other two open the next chunk, read in bulk as planned, and
    # then the amd64 tag alone
    rest = [tag for version in versions(40)[34:] for tag in (f"{version}-amd64", f"{version}-arm64", version)]
    assert registry.requests[34] == ["033-arm64", "033", *rest]
    assert registry.requests[35] == ["033-amd64"]
    assert len(registry.requests) == 36


def bulk(registry: HookedRegistry, *planned: str) -> _BulkReads:
    return _BulkReads(registry, "golang", [[f"{v}-amd64", f"{v}-arm64", v] for v in planned])


def test_bulk_reads_hand_out_each_versions_manifests_and_forget_them() -> None:
    registry = registry_with("golang", "1.0", "1.1")
    reads = bulk(registry, "1.0", "1.1")
    first = reads.manifests_for(["1.0-amd64", "1.0-arm64", "1.0"])
    assert first == {"1.0-amd64": registry.tags["golang"]["1.0-amd64"],
                     "1.0-arm64": registry.tags["golang"]["1.0-arm64"]}  # 1.0 itself is absent: left out
    assert registry.requests == [["1.0-amd64", "1.0-arm64", "1.0", "1.1-amd64", "1.1-arm64", "1.1"]]
    assert reads.manifests_for(["1.1-amd64", "1.1-arm64", "1.1"]) == {
        "1.1-amd64": registry.tags["golang"]["1.1-amd64"], "1.1-arm64": registry.tags["golang"]["1.1-arm64"]}
    assert len(registry.requests) == 1
    # asked again, or for tags never planned: read exactly those, then
    assert reads.manifests_for(["1.0-amd64"]) == {"1.0-amd64": registry.tags["golang"]["1.0-amd64"]}
    assert reads.manifests_for(["1.1-arm64", "latest"]) == {"1.1-arm64": registry.tags["golang"]["1.1-arm64"]}
    assert registry.requests[1:] == [["1.0-amd64"], ["1.1-arm64", "latest"]]


def test_bulk_reads_raise_only_when_a_versions_own_read_fails() -> None:
    registry = registry_with("golang", "1.0", "1.1")
    registry.hooks[("BatchGetImage", 1)] = fail(TransientError("ThrottlingException: Rate exceeded"))
    registry.hooks[("BatchGetImage", 2)] = fail(TransientError("ThrottlingException: again"))
    reads = bulk(registry, "1.0", "1.1")
    try:
        reads.manifests_for(["1.0-amd64", "1.0-arm64", "1.0"])
    except TransientError as error:
        assert str(error) == "ThrottlingException: again"
    else:
        raise AssertionError("the version's own read failed: its error must reach the caller")
    assert reads.manifests_for(["1.1-amd64", "1.1-arm64", "1.1"]) == {
        "1.1-amd64": registry.tags["golang"]["1.1-amd64"], "1.1-arm64": registry.tags["golang"]["1.1-arm64"]}
    assert registry.requests == [["1.0-amd64", "1.0-arm64", "1.0", "1.1-amd64", "1.1-arm64", "1.1"],
                                 ["1.0-amd64", "1.0-arm64", "1.0"], ["1.1-amd64", "1.1-arm64", "1.1"]]


def test_an_arch_tag_missing_from_the_bulk_read_but_back_for_the_assemblers_own_read_is_verified_again() -> None:
    """A repository with its own architecture set is read afresh by the assembler; an arch tag that the bulk read
    missed (deleted and pushed again in between) was not read by the sweep, so its write is checked once more."""
    registry = registry_with("golang", "1.0")
    registry.repository_tag_values["golang"] = {"ecr-multiarch:architectures": "amd64"}
    registry.hooks[("BatchGetImage", 1)] = lambda: registry.tags["golang"].pop("1.0-amd64") and None
    registry.hooks[("BatchGetImage", 2)] = lambda: registry.push("golang", "1.0-amd64", AMD64)
    report = sweeper(registry, tags=True).sweep(["golang"])
    assert report.entries == [created(registry, "golang", "1.0")]
    # the bulk read, the assembler's own read, and after the relisting the read of the second assembly (unchanged)
    assert registry.requests == [["1.0-amd64", "1.0"]] * 3
    assert api_calls(registry) == ["ListImages", "ListTagsForResource", "BatchGetImage", "BatchGetImage", "PutImage",
                                   "ListImages", "BatchGetImage"]


def test_a_child_gone_before_an_alias_write_has_its_version_assembled_again_from_a_fresh_read() -> None:
    """The index is written from the bulk read; its alias write then finds a child gone (re-pushed meanwhile): ECR
    refuses it, and the sweep assembles the version once more, from a fresh read, verified. (The report's ``writes``
    then counts only that second assembly's writes: left unpinned here.)"""
    registry = registry_with("golang", "1.2.3")

    def child_repushed_then_refused() -> None:
        registry.push("golang", "1.2.3-arm64", ARM64_REBUILT)
        raise ReferencedImagesMissingError("a child disappeared before the index was written")

    registry.hooks[("PutImage", 2)] = child_repushed_then_refused  # the first alias write
    report = sweeper(registry, alias_kinds=("latest",)).sweep(["golang"])
    held = registry.tags["golang"]["1.2.3"]
    assert ARM64_REBUILT.digest.encode() in held.body
    assert registry.tags["golang"]["latest"].digest == held.digest
    assert [entry.to_json() for entry in report.entries] == [
        {"outcome": "updated", "repository": "golang", "version": "1.2.3", "digest": str(held.digest),
         "mediaType": held.media_type, "aliases": ["latest"]}]
    assert registry.requests[:3] == [["1.2.3-amd64", "1.2.3-arm64", "1.2.3"], ["latest"],
                                     ["1.2.3-amd64", "1.2.3-arm64", "1.2.3"]]


def test_a_resumed_sweep_out_of_time_before_its_first_version_hands_on_the_same_cursor() -> None:
    registry = registry_with("golang", "1.0", "1.1")
    clock = ManualClock()

    def slow_listing() -> None:
        clock.now += 10

    registry.hooks[("ListImages", 1)] = slow_listing
    report = sweeper(registry, clock).sweep([], cursor=Cursor(("golang",), "1.0"), time_budget=5)
    assert report.entries == [] and report.cursor == Cursor(("golang",), "1.0")
    assert api_calls(registry) == ["ListImages"]
