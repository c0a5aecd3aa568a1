"""The tag grammar: ``<version>-<suffix>`` names the image of one architecture of ``<version>``."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .platform import ExpectedPlatform

# Docker's tag grammar: one word character, then up to 127 word characters, dots and dashes.
_TAG = re.compile(r"[\w][\w.-]{0,127}")

DEFAULT_SUFFIXES: Mapping[str, ExpectedPlatform] = {
    "amd64": ExpectedPlatform("linux", "amd64"),
    "arm64": ExpectedPlatform("linux", "arm64"),
    "armv7": ExpectedPlatform("linux", "arm", "v7"),
    "armv6": ExpectedPlatform("linux", "arm", "v6"),
    "386": ExpectedPlatform("linux", "386"),
    "ppc64le": ExpectedPlatform("linux", "ppc64le"),
    "s390x": ExpectedPlatform("linux", "s390x"),
    "riscv64": ExpectedPlatform("linux", "riscv64"),
    "windows-amd64": ExpectedPlatform("windows", "amd64"),
}


def is_valid_tag(tag: str) -> bool:
    return bool(_TAG.fullmatch(tag))


@dataclass(frozen=True, slots=True)
class ArchTag:
    """A tag split into the version it belongs to and the architecture suffix it carries."""

    tag: str
    version: str
    suffix: str


def parse_arch_tag(tag: str, suffixes: Iterable[str]) -> ArchTag | None:
    """Split ``tag`` at the longest known suffix, or None when it carries none (or is not a valid tag).

    Longest first, so ``1.0-windows-amd64`` is version ``1.0`` of ``windows-amd64`` rather than version
    ``1.0-windows`` of ``amd64``, and ``-arm64`` is never read as ``-arm`` followed by junk.
    """
    if not is_valid_tag(tag):
        return None
    for suffix in sorted(set(suffixes), key=len, reverse=True):
        ending = "-" + suffix
        if tag.endswith(ending) and len(tag) > len(ending):
            return ArchTag(tag=tag, version=tag[: -len(ending)], suffix=suffix)
    return None


def arch_tag(version: str, suffix: str) -> str:
    return f"{version}-{suffix}"
