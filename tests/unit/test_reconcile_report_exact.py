"""The sweep's plain values, exactly: the cursor and its refusals, the repository list and its patterns, how a
listing's tags group into versions, and the JSON a report and each of its entries hand to the CLI and the log."""

from __future__ import annotations

from typing import Any

import pytest

from devkit.memory_registry import MemoryRegistry
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.outcome import Outcome, OutcomeKind
from ecr_multiarch.reconcile import (
    FAILED_LISTED,
    Cursor,
    CursorError,
    Reconciler,
    ReconcileSettings,
    SweepEntry,
    SweepReport,
    VersionTags,
    group_versions,
    is_pattern,
    parse_repository_patterns,
)
from ecr_multiarch.settings import Settings, SettingsError

SUFFIXES = tuple(Settings().suffixes)  # every known suffix, windows-amd64 among them

# ------------------------------------------------------------------ the cursor


def test_a_cursor_round_trips_through_its_json() -> None:
    cursor = Cursor(("golang", "team/app"), "1.4")
    assert cursor.to_json() == {"repositories": ["golang", "team/app"], "afterVersion": "1.4"}
    assert Cursor.from_json(cursor.to_json()) == cursor
    assert Cursor.from_json({"repositories": ["team/*", "go?ang"], "afterVersion": None}) == Cursor(
        ("team/*", "go?ang"), None)
    assert Cursor.from_json({"repositories": ["golang"]}) == Cursor(("golang",), None)


@pytest.mark.parametrize(("document", "message"), [
    (["golang"], "a cursor is a JSON object with 'repositories' and 'afterVersion'"),
    ("golang", "a cursor is a JSON object with 'repositories' and 'afterVersion'"),
    ({"afterVersion": "1.0"}, "cursor 'repositories' must be a non-empty list of repository names"),
    ({"repositories": "golang"}, "cursor 'repositories' must be a non-empty list of repository names"),
    ({"repositories": []}, "cursor 'repositories' must be a non-empty list of repository names"),
    ({"repositories": ["golang", "Golang"]}, "cursor 'repositories' must be a non-empty list of repository names"),
    ({"repositories": ["golang", 7]}, "cursor 'repositories' must be a non-empty list of repository names"),
    ({"repositories": ["golang"], "afterVersion": 1.0}, "cursor 'afterVersion' must be a string or null"),
    ({"repositories": ["golang"], "afterVersion": ["1.0"]}, "cursor 'afterVersion' must be a string or null"),
])
def test_an_unusable_cursor_is_refused_with_what_is_wrong(document: Any, message: str) -> None:
    with pytest.raises(CursorError) as refused:
        Cursor.from_json(document)
    assert str(refused.value) == message


# ------------------------------------------------------------------ repositories and patterns


def test_repository_names_are_trimmed_and_each_kept_once_in_order() -> None:
    assert parse_repository_patterns(" golang , team/* ,,go?ang, golang ") == ("golang", "team/*", "go?ang")
    assert ReconcileSettings.from_environment({}) == ReconcileSettings(("*",))
    assert ReconcileSettings.from_environment({"RECONCILE_REPOSITORIES": "b,a"}) == ReconcileSettings(("b", "a"))


@pytest.mark.parametrize("raw", ["", " , ,"])
def test_no_repository_at_all_is_refused(raw: str) -> None:
    with pytest.raises(SettingsError) as refused:
        parse_repository_patterns(raw)
    assert str(refused.value) == (
        "RECONCILE_REPOSITORIES is empty; give repository names or patterns, e.g. golang,team/*")


def test_invalid_repository_names_are_refused_and_named() -> None:
    with pytest.raises(SettingsError) as refused:
        parse_repository_patterns("golang,Team/App,ok/*,has space")
    assert str(refused.value) == (
        "RECONCILE_REPOSITORIES has invalid names ['Team/App', 'has space']; use lowercase letters, digits, '.', "
        "'_', '-', '/' and the wildcards '*' and '?'")


@pytest.mark.parametrize(("name", "pattern"), [
    ("golang", False), ("team/app", False), ("team/*", True), ("go?ang", True), ("*", True), ("?*", True)])
def test_a_pattern_is_a_name_with_a_wildcard(name: str, pattern: bool) -> None:
    assert is_pattern(name) is pattern


def registry_of(*repositories: str) -> MemoryRegistry:
    registry = MemoryRegistry()
    for repository in repositories:
        registry.create_repository(repository)
    return registry


def reconciler(registry: MemoryRegistry) -> Reconciler:
    return Reconciler(registry, Assembler(registry, registry, Settings()))  # type: ignore[arg-type]


def test_patterns_expand_sorted_in_place_and_each_repository_is_named_once() -> None:
    registry = registry_of("team/zeta", "python", "golang", "team/alpha", "gopher")
    resolved = reconciler(registry).resolve_repositories(["python", "team/*", "golang", "team/alpha", "go????"])
    assert resolved == ["python", "team/alpha", "team/zeta", "golang", "gopher"]
    assert registry.calls == ["DescribeRepositories"]  # listed once, for the first pattern


def test_plain_names_are_taken_as_given_without_listing_repositories() -> None:
    registry = registry_of("golang")
    assert reconciler(registry).resolve_repositories(["python", "golang", "python"]) == ["python", "golang"]
    assert registry.calls == []


def test_a_pattern_that_matches_nothing_adds_nothing() -> None:
    registry = registry_of("golang")
    assert reconciler(registry).resolve_repositories(["team/*", "golang"]) == ["golang"]


# ------------------------------------------------------------------ versions from a listing


def test_tags_group_into_versions_sorted_by_name_with_only_the_required_arch_tags() -> None:
    tags = ["1.9-arm64", "1.10-amd64", "latest", "1.9", "1.9-amd64", "1.9-windows-amd64", "2.0-riscv64",
            "1.10-riscv64", "1.9-ppc64le"]
    assert group_versions(tags, ("amd64", "arm64"), SUFFIXES) == [
        VersionTags("1.10", {"amd64": "1.10-amd64"}, False),
        VersionTags("1.9", {"amd64": "1.9-amd64", "arm64": "1.9-arm64"}, True),
    ]


def test_a_windows_arch_tag_belongs_to_its_version_never_to_a_windows_version() -> None:
    tags = ["1.0-windows-amd64", "1.0-amd64"]
    assert group_versions(tags, ("amd64", "windows-amd64"), SUFFIXES) == [
        VersionTags("1.0", {"amd64": "1.0-amd64", "windows-amd64": "1.0-windows-amd64"}, False)]
    assert group_versions(tags, ("amd64",), SUFFIXES) == [VersionTags("1.0", {"amd64": "1.0-amd64"}, False)]


def test_a_version_names_its_missing_arch_tags_in_the_required_order() -> None:
    version = VersionTags("1.1", {"amd64": "1.1-amd64"}, False)
    assert version.missing(("riscv64", "amd64", "arm64")) == ("1.1-riscv64", "1.1-arm64")
    assert version.missing(("amd64",)) == ()
    assert version.read_ids(("amd64",)) == ["1.1-amd64", "1.1"]


# ------------------------------------------------------------------ entries and reports


def test_a_failed_version_entry_names_its_repository_version_reason_and_error_type() -> None:
    entry = SweepEntry("golang", "1.0", None, failure="ThrottlingException: Rate exceeded",
                       error_type="TransientError")
    assert entry.status == "failed"
    assert entry.to_json() == {"outcome": "failed", "repository": "golang", "version": "1.0",
                               "reason": "ThrottlingException: Rate exceeded", "errorType": "TransientError"}


def test_a_failed_repository_entry_has_no_version_and_no_error_type_when_none_is_known() -> None:
    entry = SweepEntry("golang", None, None, failure="listing failed: ServerException")
    assert entry.to_json() == {"outcome": "failed", "repository": "golang",
                               "reason": "listing failed: ServerException"}


@pytest.mark.parametrize(("replaces", "action"), [(True, "update"), (False, "create")])
def test_a_planned_entry_says_whether_it_would_create_or_update(replaces: bool, action: str) -> None:
    outcome = Outcome(OutcomeKind.PLANNED, "golang", "1.0", "sha256:" + "a" * 64)
    assert SweepEntry("golang", "1.0", outcome, replaces=replaces).to_json() == {
        "outcome": "planned", "repository": "golang", "version": "1.0", "digest": "sha256:" + "a" * 64,
        "action": action}


def test_an_entry_with_an_outcome_is_that_outcome_without_an_action_unless_planned() -> None:
    outcome = Outcome(OutcomeKind.UPDATED, "golang", "1.0", "sha256:" + "b" * 64, writes=1)
    entry = SweepEntry("golang", "1.0", outcome, replaces=True)
    assert entry.status == "updated"
    assert entry.to_json() == {"outcome": "updated", "repository": "golang", "version": "1.0",
                               "digest": "sha256:" + "b" * 64}


def entries_of_each_status() -> list[SweepEntry]:
    return [
        SweepEntry("golang", "1.0", Outcome(OutcomeKind.CREATED, "golang", "1.0", writes=1)),
        SweepEntry("golang", "1.1", Outcome(OutcomeKind.CREATED, "golang", "1.1", writes=2)),
        SweepEntry("golang", "1.2", Outcome(OutcomeKind.WAITING, "golang", "1.2", missing=("1.2-arm64",))),
        SweepEntry("python", "3.12", Outcome(OutcomeKind.UPDATED, "python", "3.12", writes=1)),
        SweepEntry("python", "3.13", None, failure="boom", error_type="KeyError"),
        SweepEntry("alpine", None, Outcome(OutcomeKind.REJECTED, "alpine", reason="archived")),
    ]


def test_totals_count_every_status_overall_and_per_repository() -> None:
    report = SweepReport(("golang", "python", "alpine"), entries_of_each_status())
    assert report.totals() == {"created": 2, "updated": 1, "unchanged": 0, "waiting": 1, "rejected": 1,
                               "planned": 0, "failed": 1}
    assert report.totals("golang") == {"created": 2, "updated": 0, "unchanged": 0, "waiting": 1, "rejected": 0,
                                       "planned": 0, "failed": 0}
    assert report.totals("python") == {"created": 0, "updated": 1, "unchanged": 0, "waiting": 0, "rejected": 0,
                                       "planned": 0, "failed": 1}
    assert report.totals("gone") == dict.fromkeys(("created", "updated", "unchanged", "waiting", "rejected",
                                                   "planned", "failed"), 0)


def test_a_report_lists_every_entry_by_default_and_its_cursor() -> None:
    report = SweepReport(("golang", "python", "alpine"), entries_of_each_status(), Cursor(("python",), "3.12"))
    document = report.to_json()
    assert document == {
        "complete": False,
        "repositories": ["golang", "python", "alpine"],
        "totals": report.totals(),
        "writes": 4,
        "cursor": {"repositories": ["python"], "afterVersion": "3.12"},
        "versions": [entry.to_json() for entry in report.entries],
    }
    assert [version["outcome"] for version in document["versions"]] == [
        "created", "created", "waiting", "updated", "failed", "rejected"]


def test_a_summary_names_only_the_first_failures_and_counts_them_all() -> None:
    failures = [SweepEntry("golang", f"{number:03d}", None, failure="boom") for number in range(FAILED_LISTED + 2)]
    report = SweepReport(("golang",), [SweepEntry("golang", "0.9", Outcome(OutcomeKind.UNCHANGED)), *failures])
    document = report.to_json(with_entries=False)
    assert document == {
        "complete": True,
        "repositories": ["golang"],
        "totals": {"created": 0, "updated": 0, "unchanged": 1, "waiting": 0, "rejected": 0, "planned": 0,
                   "failed": FAILED_LISTED + 2},
        "writes": 0,
        "cursor": None,
        "failed": [{"outcome": "failed", "repository": "golang", "version": f"{number:03d}", "reason": "boom"}
                   for number in range(FAILED_LISTED)],
    }
    assert FAILED_LISTED == 50
