"""The stuck-version rule: incomplete for longer than the threshold, dated by the first present arch tag's push."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ecr_multiarch.domain.incomplete import WaitingVersion, incomplete_versions
from ecr_multiarch.incomplete import parse_incomplete_after
from ecr_multiarch.settings import SettingsError

NOW = datetime(2024, 5, 15, 12, 0, tzinfo=UTC)
DAY = timedelta(hours=24)


def waiting(version: str, present: tuple[str, ...], missing: tuple[str, ...], repository: str = "golang"
            ) -> WaitingVersion:
    return WaitingVersion(repository, version, tuple(f"{version}-{s}" for s in present),
                          tuple(f"{version}-{s}" for s in missing))


def test_age_counts_from_the_first_present_arch_tag() -> None:
    version = waiting("1.0", ("amd64", "riscv64"), ("arm64",))
    pushed = {("golang", "1.0-amd64"): NOW - timedelta(hours=30), ("golang", "1.0-riscv64"): NOW - timedelta(hours=2)}
    (found,) = incomplete_versions([version], pushed, now=NOW, threshold=DAY)
    assert found.missing_suffixes == ("arm64",)
    assert found.first_pushed_at == NOW - timedelta(hours=30) and found.age_hours == 30.0
    assert found.to_json() == {"repository": "golang", "version": "1.0", "missing": ["arm64"],
                               "present": ["1.0-amd64", "1.0-riscv64"],
                               "firstPushedAt": "2024-05-14T06:00:00+00:00", "ageHours": 30.0}


@pytest.mark.parametrize(("hours", "reported"), [(23.99, False), (24, False), (24.01, True)])
def test_only_longer_than_the_threshold(hours: float, reported: bool) -> None:
    version = waiting("1.0", ("amd64",), ("arm64",))
    pushed = {("golang", "1.0-amd64"): NOW - timedelta(hours=hours)}
    assert bool(incomplete_versions([version], pushed, now=NOW, threshold=DAY)) is reported


def test_undated_versions_are_left_out_and_the_rest_sorted_oldest_first() -> None:
    versions = [waiting("1.0", ("amd64",), ("arm64",)), waiting("1.1", ("amd64",), ("arm64",)),
                waiting("2.0", ("amd64",), ("arm64",), repository="alpine")]
    pushed = {("golang", "1.1-amd64"): NOW - timedelta(days=3), ("alpine", "2.0-amd64"): NOW - timedelta(days=5)}
    found = incomplete_versions(versions, pushed, now=NOW, threshold=DAY)
    assert [(v.repository, v.version) for v in found] == [("alpine", "2.0"), ("golang", "1.1")]


@pytest.mark.parametrize(("raw", "hours"), [("24", 24), ("", 24), ("1", 1), ("8760", 8760), ("1.5", 1.5)])
def test_incomplete_after_hours(raw: str, hours: float) -> None:
    assert parse_incomplete_after({"INCOMPLETE_AFTER_HOURS": raw}) == timedelta(hours=hours)


@pytest.mark.parametrize("raw", ["0", "8761", "a day", "-1"])
def test_incomplete_after_hours_refused(raw: str) -> None:
    with pytest.raises(SettingsError, match="INCOMPLETE_AFTER_HOURS"):
        parse_incomplete_after({"INCOMPLETE_AFTER_HOURS": raw})
