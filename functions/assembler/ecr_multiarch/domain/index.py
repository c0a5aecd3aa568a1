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
from .json_document import parse_json_document
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
    # OCI descriptor annotations, sorted by key (BuildKit's attestation link); never rendered in a Docker list.
    annotations: tuple[tuple[str, str], ...] = ()

    @property
    def is_attestation(self) -> bool:
        return dict(self.annotations).get(media_types.REFERENCE_TYPE_ANNOTATION) == media_types.ATTESTATION_MANIFEST

    def to_json(self, *, oci: bool = True) -> dict[str, Any]:
        """The descriptor; a Docker list entry never carries ``annotations`` nor ``platform.features`` (ECR
        rejects features in a Docker list, and Platform never holds them: they are not read from configs)."""
        document: dict[str, Any] = {
            "mediaType": self.media_type,
            "size": self.size,
            "digest": str(self.digest),
            "platform": self.platform.to_json(),
        }
        if oci and self.annotations:
            document["annotations"] = dict(self.annotations)
        return document


@dataclass(frozen=True)
class ImageIndex:
    media_type: str
    manifests: tuple[ChildDescriptor, ...]
    format_reason: str = field(default="", compare=False)
    # Static index annotations (OCI only), sorted by key; nothing time-dependent, so the bytes stay deterministic.
    annotations: tuple[tuple[str, str], ...] = ()

    @property
    def is_oci(self) -> bool:
        return self.media_type == media_types.OCI_INDEX

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "schemaVersion": 2,
            "mediaType": self.media_type,
            "manifests": [child.to_json(oci=self.is_oci) for child in self.manifests],
        }
        if self.is_oci and self.annotations:
            document["annotations"] = dict(self.annotations)
        return document

    @cached_property
    def body(self) -> bytes:
        """The canonical bytes: compact JSON, keys in a fixed order, ASCII only. Written and digested as is."""
        return json.dumps(self.to_json(), separators=(",", ":"), ensure_ascii=True).encode("ascii")

    @cached_property
    def digest(self) -> Digest:
        return Digest.of(self.body)


def choose_media_type(
    children: Sequence[ChildDescriptor],
    requested: IndexFormat,
    annotations: Sequence[tuple[str, str]] = (),
) -> tuple[str, str]:
    """The index media type for these children, and why (logged, so an operator can see the decision).

    docker: a Docker manifest list, unless an image child is OCI (then an OCI index, and the reason says why).
    auto: a Docker manifest list only when every child is a Docker v2 manifest and nothing needs an OCI-only
    field (descriptor annotations such as BuildKit's attestation link, index annotations); otherwise an OCI index.
    """
    if requested is IndexFormat.DOCKER:
        # A Docker list may only name Docker manifests (attestations are left out of it, see build_index): over an
        # OCI image manifest it would be a document no client should trust, so an OCI index it is, as buildx does.
        oci_images = [child for child in children
                      if not child.is_attestation and child.media_type != media_types.DOCKER_MANIFEST]
        if oci_images:
            return media_types.OCI_INDEX, (f"INDEX_FORMAT=docker, but child {oci_images[0].digest} is "
                                           f"{oci_images[0].media_type}; a Docker manifest list cannot hold OCI "
                                           "manifests, so an OCI index is written")
        return media_types.DOCKER_MANIFEST_LIST, "INDEX_FORMAT=docker"
    if requested is IndexFormat.OCI:
        return media_types.OCI_INDEX, "INDEX_FORMAT=oci"
    oci_children = [child for child in children if child.media_type != media_types.DOCKER_MANIFEST]
    if oci_children:
        return media_types.OCI_INDEX, f"child {oci_children[0].digest} is {oci_children[0].media_type}"
    if any(child.annotations for child in children):
        return media_types.OCI_INDEX, "a child descriptor carries annotations (only an OCI index can hold them)"
    if annotations:
        return media_types.OCI_INDEX, "index annotations are configured (only an OCI index can hold them)"
    return media_types.DOCKER_MANIFEST_LIST, "every child is a Docker v2 manifest and nothing needs OCI fields"


def build_index(
    children: Sequence[ChildDescriptor],
    requested: IndexFormat,
    annotations: Sequence[tuple[str, str]] = (),
) -> ImageIndex:
    """An index over ``children`` in the order given (hosts take the first matching entry, so order matters).

    A Docker list (forced by INDEX_FORMAT=docker) cannot carry annotations, so it cannot keep an attestation's
    link to its image: attestation children are left out of it, and the reason says so.
    """
    if not children:
        raise ValueError("an index needs at least one child")
    media_type, reason = choose_media_type(children, requested, annotations)
    kept = tuple(children)
    if media_type == media_types.DOCKER_MANIFEST_LIST:
        kept = tuple(child for child in children if not child.is_attestation)
        if len(kept) != len(children):
            reason += f"; {len(children) - len(kept)} attestation(s) left out (a Docker list cannot link them)"
        if not kept:
            raise ValueError("an index needs at least one child that is not an attestation")
    return ImageIndex(media_type=media_type, manifests=kept, format_reason=reason,
                      annotations=tuple(sorted(annotations)))


def listed_platforms(index_body: bytes) -> tuple[Platform, ...] | None:
    """The platform of each entry of an existing index, or None when the bytes are not a readable index.

    An index entry's ``platform`` object uses the config's own field names, so one reader serves both.
    """
    try:
        entries = parse_json_document(index_body, "index")["manifests"]  # bounded: never RecursionError
        return tuple(platform_from_config(entry["platform"]) for entry in entries)
    except (ValueError, KeyError, TypeError, InvalidConfigError):
        return None
