"""Stuck versions: which waiting versions have been incomplete for too long. Pure: the push times are given.

A version waits while some of its required arch tags are missing. It has been incomplete since the first of its
present arch tags was pushed; once that is longer ago than the threshold (``IncompleteAfterHours``), the version is
reported: most likely an architecture's build failed, and its multi-arch tag will not appear on its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True, slots=True)
class WaitingVersion:
    """A version some of whose required arch tags exist (``present``) and some do not (``missing``)."""

    repository: str
    version: str
    present: tuple[str, ...]  # tags
    missing: tuple[str, ...]  # tags

    @property
    def missing_suffixes(self) -> tuple[str, ...]:
        return tuple(tag[len(self.version) + 1 :] for tag in self.missing)


@dataclass(frozen=True, slots=True)
class IncompleteVersion:
    repository: str
    version: str
    missing_suffixes: tuple[str, ...]
    present: tuple[str, ...]
    first_pushed_at: datetime
    age: timedelta

    @property
    def age_hours(self) -> float:
        return round(self.age.total_seconds() / 3600, 1)

    def to_json(self) -> dict[str, Any]:
        return {
            "repository": self.repository,
            "version": self.version,
            "missing": list(self.missing_suffixes),
            "present": list(self.present),
            "firstPushedAt": self.first_pushed_at.isoformat(),
            "ageHours": self.age_hours,
        }


def incomplete_versions(
    waiting: Iterable[WaitingVersion],
    pushed_at: Mapping[tuple[str, str], datetime],
    *,
    now: datetime,
    threshold: timedelta,
) -> list[IncompleteVersion]:
    """The waiting versions incomplete for longer than ``threshold``, oldest first.

    ``pushed_at``: (repository, tag) -> when the image at that tag was pushed. A version none of whose present
    tags has a push time (deleted since the listing) cannot be dated and is left out.
    """
    found: list[IncompleteVersion] = []
    for version in waiting:
        times = [pushed_at[(version.repository, tag)] for tag in version.present if (version.repository, tag)
                 in pushed_at]
        if not times or not version.missing:
            continue
        first = min(times)
        age = now - first
        if age > threshold:
            found.append(IncompleteVersion(version.repository, version.version, version.missing_suffixes,
                                           version.present, first, age))
    return sorted(found, key=lambda item: (item.first_pushed_at, item.repository, item.version))
