"""Per-repository policy, read from the ECR repository's own resource tags.

- ``ecr-multiarch:architectures``: suffixes joined by ``+`` (``amd64+arm64+armv7``): this repository's
  REQUIRED_ARCHITECTURES;
- ``ecr-multiarch:index-format``: ``auto``, ``docker`` or ``oci``: this repository's INDEX_FORMAT;
- ``ecr-multiarch:enabled``: ``false`` opts the repository out: every event is ``skipped``;
- ``ecr-multiarch:replace``: ``always`` lets a new index replace one that serves platforms it would drop (the
  default, ``safe``, leaves such an index untouched and answers ``rejected``).

AWS tag values cannot hold commas; they allow letters, digits, spaces and ``_ . : / = + - @``. ``+`` is the
separator (spaces are accepted too, but the console trims and people misread them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from .index import IndexFormat
from .platform import ExpectedPlatform

TAG_PREFIX = "ecr-multiarch:"
ARCHITECTURES_TAG = TAG_PREFIX + "architectures"
INDEX_FORMAT_TAG = TAG_PREFIX + "index-format"
ENABLED_TAG = TAG_PREFIX + "enabled"
REPLACE_TAG = TAG_PREFIX + "replace"
KNOWN_TAGS = frozenset({ARCHITECTURES_TAG, INDEX_FORMAT_TAG, ENABLED_TAG, REPLACE_TAG})
REPLACE_VALUES = ("safe", "always")


class PolicyError(ValueError):
    """A repository tag of ours whose value cannot be used; the message names the tag and what it accepts."""


@dataclass(frozen=True, slots=True)
class RepositoryPolicy:
    """What a repository's tags override; None keeps the function-wide setting."""

    enabled: bool = True
    architectures: tuple[str, ...] | None = None
    index_format: IndexFormat | None = None
    replace_always: bool = False


def parse_policy(tags: Mapping[str, str], suffixes: Mapping[str, ExpectedPlatform]) -> RepositoryPolicy:
    """The policy the repository's tags state. Tags without our prefix are ignored; an unknown key with our
    prefix is an error (a typo would otherwise be silently ignored)."""
    unknown = sorted(key for key in tags if key.startswith(TAG_PREFIX) and key not in KNOWN_TAGS)
    if unknown:
        raise PolicyError(f"unknown repository tag(s) {unknown}; known: {', '.join(sorted(KNOWN_TAGS))}")
    enabled = True
    if ENABLED_TAG in tags:
        value = tags[ENABLED_TAG].strip().lower()
        if value not in {"true", "false"}:
            raise PolicyError(f"repository tag {ENABLED_TAG} is {tags[ENABLED_TAG]!r}; use true or false")
        enabled = value == "true"
    architectures: tuple[str, ...] | None = None
    if ARCHITECTURES_TAG in tags:
        architectures = tuple(part for part in re.split(r"[+\s]+", tags[ARCHITECTURES_TAG].strip()) if part)
        if not architectures:
            raise PolicyError(f"repository tag {ARCHITECTURES_TAG} is empty; give suffixes joined by '+'")
        unknown_suffixes = [suffix for suffix in architectures if suffix not in suffixes]
        if unknown_suffixes:
            raise PolicyError(f"repository tag {ARCHITECTURES_TAG} has unknown suffixes {unknown_suffixes}; "
                              f"known: {', '.join(suffixes)}")
        platforms = [suffixes[suffix] for suffix in architectures]
        if len(set(architectures)) != len(architectures) or len(set(platforms)) != len(platforms):
            raise PolicyError(f"repository tag {ARCHITECTURES_TAG} names a suffix or a platform twice")
    index_format: IndexFormat | None = None
    if INDEX_FORMAT_TAG in tags:
        try:
            index_format = IndexFormat(tags[INDEX_FORMAT_TAG].strip().lower())
        except ValueError:
            raise PolicyError(f"repository tag {INDEX_FORMAT_TAG} is {tags[INDEX_FORMAT_TAG]!r}; "
                              "use auto, docker or oci") from None
    replace_always = False
    if REPLACE_TAG in tags:
        value = tags[REPLACE_TAG].strip().lower()
        if value not in REPLACE_VALUES:
            raise PolicyError(f"repository tag {REPLACE_TAG} is {tags[REPLACE_TAG]!r}; use "
                              f"{' or '.join(REPLACE_VALUES)}")
        replace_always = value == "always"
    return RepositoryPolicy(enabled=enabled, architectures=architectures, index_format=index_format,
                            replace_always=replace_always)
