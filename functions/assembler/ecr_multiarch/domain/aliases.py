"""Alias tags (opt-in): ``1.19``, ``1`` and ``latest`` follow the highest version, and only ever move forward.

A version tag is ``[v]MAJOR.MINOR.PATCH`` with an optional flavour after a dash (``1.19.2-alpine``), as image
tags are usually written. Aliases stay within a flavour: ``1.19.2-alpine`` moves ``1.19-alpine`` and ``1-alpine``
and ``latest-alpine``; ``1.19.2`` moves ``1.19``, ``1`` and ``latest``. Any other tag takes no part.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

ALIAS_KINDS = ("minor", "major", "latest")

_VERSION = re.compile(r"v?(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z][0-9A-Za-z._-]*))?")


@dataclass(frozen=True, slots=True)
class Version:
    tag: str
    major: int
    minor: int
    patch: int
    flavour: str | None

    @property
    def key(self) -> tuple[int, int, int]:
        return self.major, self.minor, self.patch


def parse_version(tag: str) -> Version | None:
    match = _VERSION.fullmatch(tag)
    if match is None:
        return None
    major, minor, patch, flavour = match.groups()
    return Version(tag, int(major), int(minor), int(patch), flavour)


def alias_of(version: Version, kind: str) -> str:
    flavour = f"-{version.flavour}" if version.flavour else ""
    if kind == "minor":
        return f"{version.major}.{version.minor}{flavour}"
    if kind == "major":
        return f"{version.major}{flavour}"
    if kind == "latest":
        return f"latest{flavour}"
    raise ValueError(f"unknown alias kind {kind!r}")


def aliases_to_move(version: Version, kinds: Iterable[str], version_tags: Iterable[str]) -> list[str]:
    """The aliases ``version`` should hold: those of its kinds for which no version tag in the repository (with an
    index, i.e. a complete version) is higher. Never lower: an alias only moves forward."""
    others = [parsed for tag in version_tags if (parsed := parse_version(tag)) is not None]
    moved = []
    for kind in kinds:
        alias = alias_of(version, kind)
        group = [other for other in others if alias_of(other, kind) == alias]
        if all(other.key <= version.key for other in group):
            moved.append(alias)
    return moved


def versions_among(aliases: Iterable[str], tags: Iterable[str], suffixes: Iterable[str]) -> set[str]:
    """The aliases that are versions in their own right: some ``<alias>-<suffix>`` arch tag exists (``latest-amd64``
    makes ``latest`` a version, assembled from its arch tags). Such a tag is never moved as an alias."""
    present = set(tags)
    known = tuple(suffixes)
    return {alias for alias in aliases if any(f"{alias}-{suffix}" in present for suffix in known)}
