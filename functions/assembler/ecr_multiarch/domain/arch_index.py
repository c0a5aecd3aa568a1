"""Arch tags that hold an index: what ``docker buildx build --push`` writes (provenance is on by default).

BuildKit pushes each build as an OCI index holding the image manifest and, per image, an attestation manifest:
an OCI image manifest with platform unknown/unknown and the descriptor annotations
``vnd.docker.reference.type: attestation-manifest`` and ``vnd.docker.reference.digest: <the image's digest>``.
``docker manifest create`` refuses such a child ("is a manifest list"); here the image manifest for the tag's
platform is taken out of it, with the attestations that point at it, so the link survives in our index.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import media_types
from .digest import Digest, InvalidDigestError
from .json_document import quoted
from .manifest import InvalidManifestError, parse_stored_document
from .platform import ExpectedPlatform, InvalidConfigError, Platform, platform_from_config

UNKNOWN_PLATFORM = Platform(os="unknown", architecture="unknown")


@dataclass(frozen=True, slots=True)
class IndexEntry:
    """One descriptor of an arch tag's index, as stated there."""

    media_type: str
    digest: Digest
    size: int
    platform: Platform | None
    annotations: tuple[tuple[str, str], ...] = ()

    @property
    def attests(self) -> Digest | None:
        """The image digest this entry is an attestation manifest of, or None when it is not an attestation."""
        notes = dict(self.annotations)
        if notes.get(media_types.REFERENCE_TYPE_ANNOTATION) != media_types.ATTESTATION_MANIFEST:
            return None
        try:
            return Digest(notes.get(media_types.REFERENCE_DIGEST_ANNOTATION, ""))
        except InvalidDigestError:
            return None


@dataclass(frozen=True, slots=True)
class ArchSelection:
    """The image manifest an arch tag's index holds for the tag's platform, and the attestations of that image."""

    image: IndexEntry
    attestations: tuple[IndexEntry, ...]


def _entry(raw: Any, position: int) -> IndexEntry:
    if not isinstance(raw, dict):
        raise InvalidManifestError(f"index entry {position} is not a JSON object")
    media_type = raw.get("mediaType")
    size = raw.get("size")
    if not isinstance(media_type, str) or not media_type:
        raise InvalidManifestError(f"index entry {position} has no mediaType")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise InvalidManifestError(f"index entry {position} has no valid size")
    try:
        digest = Digest(raw.get("digest"))  # type: ignore[arg-type]
    except InvalidDigestError as error:
        raise InvalidManifestError(f"index entry {position}: {error}") from None
    platform: Platform | None = None
    if raw.get("platform") is not None:
        try:
            platform = platform_from_config(raw["platform"])
        except InvalidConfigError as error:
            raise InvalidManifestError(f"index entry {position} platform: {error}") from None
    notes = raw.get("annotations") or {}
    if not isinstance(notes, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in notes.items()):
        raise InvalidManifestError(f"index entry {position} annotations are not a string map")
    return IndexEntry(media_type, digest, size, platform, tuple(sorted(notes.items())))


def index_entries(body: bytes, media_type: str) -> tuple[IndexEntry, ...]:
    """Every descriptor of an index stored as ``media_type``."""
    if media_type not in media_types.INDEXES:
        raise InvalidManifestError(f"has media type {quoted(media_type)}, not an index")
    document = parse_stored_document(body, media_type, "index")
    manifests = document.get("manifests")
    if not isinstance(manifests, list):
        raise InvalidManifestError("index has no manifests list")
    return tuple(_entry(raw, position) for position, raw in enumerate(manifests))


def select_for_platform(body: bytes, media_type: str, expected: ExpectedPlatform) -> ArchSelection:
    """The one image manifest for ``expected`` in the index, and its attestations in the order the index lists them.

    None or several image manifests for the platform is an error: a host pulling through our index would get
    nothing, or one of them by position, neither of which is the build the tag names.
    """
    entries = index_entries(body, media_type)
    images = [e for e in entries if e.attests is None and e.media_type in media_types.IMAGE_MANIFESTS]
    matching = [e for e in images if e.platform is not None and expected.admits(e.platform)]
    if not matching:
        listed = ", ".join(str(e.platform or "no platform") for e in entries[:10]) or "nothing"
        if len(entries) > 10:
            listed += f" and {len(entries) - 10} more"
        raise InvalidManifestError(f"is an index with no image manifest for {expected} (it lists: {listed})")
    if len(matching) > 1:
        raise InvalidManifestError(
            f"is an index with {len(matching)} image manifests for {expected} "
            f"({', '.join(str(e.digest) for e in matching)}); which one is meant is ambiguous"
        )
    image = matching[0]
    attestations = tuple(e for e in entries if e.attests == image.digest)
    return ArchSelection(image=image, attestations=attestations)
