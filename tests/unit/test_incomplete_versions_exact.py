"""The stuck-version rule's result, whole: each reported version exactly, none that has nothing missing, ties in
the order of repository then version."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ecr_multiarch.domain.incomplete import IncompleteVersion, WaitingVersion, incomplete_versions

NOW = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)
LONG_AGO = NOW - timedelta(days=3)


def test_each_stuck_version_is_reported_whole_and_ties_sort_by_repository_then_version() -> None:
    waiting = [
        WaitingVersion("golang", "1.1", ("1.1-amd64",), ("1.1-arm64", "1.1-riscv64")),
        WaitingVersion("golang", "1.0", ("1.0-arm64",), ("1.0-amd64",)),
        WaitingVersion("alpine", "3.20", ("3.20-amd64",), ("3.20-arm64",)),
    ]
    pushed = {("golang", "1.1-amd64"): LONG_AGO, ("golang", "1.0-arm64"): LONG_AGO,
              ("alpine", "3.20-amd64"): LONG_AGO}
    assert incomplete_versions(waiting, pushed, now=NOW, threshold=DAY) == [
        IncompleteVersion("alpine", "3.20", ("arm64",), ("3.20-amd64",), LONG_AGO, timedelta(days=3)),
        IncompleteVersion("golang", "1.0", ("amd64",), ("1.0-arm64",), LONG_AGO, timedelta(days=3)),
        IncompleteVersion("golang", "1.1", ("arm64", "riscv64"), ("1.1-amd64",), LONG_AGO, timedelta(days=3)),
    ]


def test_a_version_with_nothing_missing_is_never_reported_however_old() -> None:
    complete = WaitingVersion("golang", "1.0", ("1.0-amd64", "1.0-arm64"), ())
    stuck = WaitingVersion("golang", "0.9", ("0.9-amd64",), ("0.9-arm64",))
    pushed = {("golang", "1.0-amd64"): LONG_AGO, ("golang", "1.0-arm64"): LONG_AGO,
              ("golang", "0.9-amd64"): LONG_AGO}
    assert [v.version for v in incomplete_versions([complete, stuck], pushed, now=NOW, threshold=DAY)] == ["0.9"]
