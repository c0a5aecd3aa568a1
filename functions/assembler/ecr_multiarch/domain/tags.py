"""The tag grammar: ``<version>-<suffix>`` names the image of one architecture of ``<version>``.

One grammar for every path (the event, the sweep, the CLI): a tag is split at the longest suffix of the whole
suffix table (DEFAULT_SUFFIXES plus ARCH_SUFFIXES_EXTRA), whichever suffixes a repository requires. Splitting by
the required ones only would read ``1.0-windows-amd64`` as the amd64 tag of ``1.0-windows`` in one place and the
windows-amd64 tag of ``1.0`` in another.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from .platform import ExpectedPlatform

# The OCI distribution spec's tag grammar (what Docker and ECR accept for a pull): ASCII only. ECR's API model
# gives imageTag no pattern (1 to 300 characters), so this is the stricter bound; ``\w`` would let ``ünïcødé`` in.
_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}")

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


class AmbiguousVersionError(ValueError):
    """A version whose arch tag the grammar reads as belonging to another version."""


def version_arch_tags(version: str, required: Sequence[str], suffixes: Iterable[str]) -> dict[str, str]:
    """The arch tag of ``version`` for each required suffix (in order), each of which the grammar reads back as
    exactly this version and suffix; AmbiguousVersionError otherwise.

    ``1.0-windows`` with amd64 required is such a version: ``1.0-windows-amd64`` is the windows-amd64 tag of ``1.0``.
    An event for ``1.0-windows-arm64`` and a sweep that sees it must both refuse the version, not index a tag that
    belongs to another one.
    """
    known = tuple(suffixes)
    tags: dict[str, str] = {}
    for suffix in required:
        tag = arch_tag(version, suffix)
        parsed = parse_arch_tag(tag, known)
        if parsed is None or (parsed.version, parsed.suffix) != (version, suffix):
            read_as = "not an arch tag" if parsed is None else \
                f"the {parsed.suffix} tag of version {parsed.version}"
            raise AmbiguousVersionError(
                f"version {version} cannot be indexed: its {suffix} tag {tag} is {read_as} under the tag grammar "
                "(tag this version's images under another version name)")
        tags[suffix] = tag
    return tags
