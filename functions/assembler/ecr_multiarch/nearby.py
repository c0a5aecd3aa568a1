"""The versions a repository holds that look most like one it does not: what the CLI names when a version has no
tag at all (most often a typo, which must fail a CI job rather than wait forever). Pure: tags in, names out.
"""

from __future__ import annotations

from collections.abc import Iterable
from difflib import SequenceMatcher

from .domain.tags import parse_arch_tag

NEARBY_LIMIT = 5


def versions_of(tags: Iterable[str], suffixes: Iterable[str]) -> set[str]:
    """Every version the tags stand for: an arch tag for its version, any other tag for itself."""
    suffixes = tuple(suffixes)
    versions = set()
    for tag in tags:
        parsed = parse_arch_tag(tag, suffixes)
        versions.add(parsed.version if parsed is not None else tag)
    return versions


def nearest_versions(version: str, tags: Iterable[str], suffixes: Iterable[str],
                     limit: int = NEARBY_LIMIT) -> list[str]:
    """Up to ``limit`` versions, nearest first: the longest common prefix first (1.19.3 is next to 1.19.2, not to
    1.9.3), then overall likeness (difflib's ratio: 9.9.9-alpine finds 1.9.9-alpine), then by name."""
    def distance(candidate: str) -> tuple[int, float, str]:
        return (-_shared_prefix(version, candidate),
                -SequenceMatcher(None, version, candidate).ratio(), candidate)

    return sorted(versions_of(tags, suffixes) - {version}, key=distance)[:limit]


def _shared_prefix(first: str, second: str) -> int:
    """How many leading characters the two have in common."""
    length = 0
    for left, right in zip(first, second, strict=False):
        if left != right:
            break
        length += 1
    return length
