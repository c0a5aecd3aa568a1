"""Image indexes (Docker manifest lists and OCI image indexes) as values, and their one canonical rendering.

The same children in the same configured order always render to the same bytes, so a re-delivered event, a
retry or a second invocation computes the same digest and finds nothing to write.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from . import media_types
from .digest import Digest
from .platform import InvalidConfigError, Platform, platform_from_config


class IndexFormat(enum.Enum):
    AUTO = "auto"
    DOCKER = "docker"
    OCI = "oci"


@dataclass(frozen=True, slots=True)
class ChildDescriptor:
    """One entry of an index: a child manifest exactly as stored, and the platform its config states."""

    media_type: str
    size: int
    digest: Digest
    platform: Platform

    def to_json(self) -> dict[str, Any]:
        return {
            "mediaType": self.media_type,
            "size": self.size,
            "digest": str(self.digest),
            "platform": self.platform.to_json(),
        }


@dataclass(frozen=True)
class ImageIndex:
    media_type: str
    manifests: tuple[ChildDescriptor, ...]
    format_reason: str = field(default="", compare=False)

    def to_json(self) -> dict[str, Any]:
        return {
            "schemaVersion": 2,
            "mediaType": self.media_type,
            "manifests": [child.to_json() for child in self.manifests],
        }

    @cached_property
    def body(self) -> bytes:
        """The canonical bytes: compact JSON, keys in a fixed order, ASCII only. Written and digested as is."""
        return json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=True).encode("ascii")

    @cached_property
    def digest(self) -> Digest:
        return Digest.of(self.body)


def choose_media_type(children: Sequence[ChildDescriptor], requested: IndexFormat) -> tuple[str, str]:
    """The index media type for these children, and why (logged, so an operator can see the decision)."""
    if requested is IndexFormat.DOCKER:
        return media_types.DOCKER_MANIFEST_LIST, "INDEX_FORMAT=docker"
    if requested is IndexFormat.OCI:
        return media_types.OCI_INDEX, "INDEX_FORMAT=oci"
    if all(child.media_type == media_types.DOCKER_MANIFEST for child in children):
        return media_types.DOCKER_MANIFEST_LIST, "every child is a Docker v2 manifest"
    return media_types.OCI_INDEX, "at least one child is an OCI manifest"


def build_index(children: Sequence[ChildDescriptor], requested: IndexFormat) -> ImageIndex:
    """An index over ``children`` in the order given (hosts take the first matching entry, so order matters)."""
    if not children:
        raise ValueError("an index needs at least one child")
    media_type, reason = choose_media_type(children, requested)
    return ImageIndex(media_type=media_type, manifests=tuple(children), format_reason=reason)


def listed_platforms(index_body: bytes) -> tuple[Platform, ...] | None:
    """The platform of each entry of an existing index, or None when the bytes are not a readable index.

    An index entry's ``platform`` object uses the config's own field names, so one reader serves both.
    """
    try:
        entries = json.loads(index_body)["manifests"]
        return tuple(platform_from_config(entry["platform"]) for entry in entries)
    except (ValueError, KeyError, TypeError, InvalidConfigError):
        return None
