"""Reading the parts of a child image manifest that an index needs: its config descriptor."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from . import media_types
from .digest import Digest, InvalidDigestError
from .json_document import JsonDocumentError, parse_json_document, quoted

# A config is a few KiB; anything far larger is not a config and is not worth downloading.
MAX_CONFIG_BYTES = 4 * 1024 * 1024
# An index lists one image per platform (plus its attestations): buildx's largest are a few dozen entries. An arch
# tag's index of thousands is not a build, and every entry costs a descriptor check and a line of our reason.
MAX_INDEX_ENTRIES = 256


class InvalidManifestError(ValueError):
    """Manifest bytes that are not a usable Docker v2 / OCI image manifest."""


@dataclass(frozen=True, slots=True)
class ConfigReference:
    media_type: str
    digest: Digest
    size: int


def parse_json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        document = parse_json_document(body, what)  # bounded: size, UTF-8, depth (never RecursionError)
    except JsonDocumentError as error:
        raise InvalidManifestError(str(error)) from None
    if not isinstance(document, dict):
        raise InvalidManifestError(f"{what} is not a JSON object")
    return document


def parse_stored_document(body: bytes, media_type: str, what: str) -> dict[str, Any]:
    """A schema-2 manifest or index as a JSON object, whose declared mediaType (optional) is the stored one."""
    document = parse_json_object(body, what)
    if document.get("schemaVersion") != 2:
        raise InvalidManifestError(f"{what} schemaVersion is not 2")
    declared = document.get("mediaType")
    if declared is not None and declared != media_type:
        raise InvalidManifestError(
            f"{what} declares mediaType {quoted(declared)} but is stored as {quoted(media_type)}")
    entries = document.get("manifests")
    if media_type in media_types.INDEXES and isinstance(entries, list) and len(entries) > MAX_INDEX_ENTRIES:
        raise InvalidManifestError(f"{what} lists {len(entries)} manifests, over the limit of {MAX_INDEX_ENTRIES}")
    return document


def config_reference(body: bytes, media_type: str) -> ConfigReference:
    """The config descriptor of an image manifest whose stored media type is ``media_type``."""
    if media_type in media_types.INDEXES:
        raise InvalidManifestError(f"is itself an image index ({media_type}), not an image manifest")
    if media_type not in media_types.IMAGE_MANIFESTS:
        raise InvalidManifestError(f"has unsupported media type {quoted(media_type)}")
    document = parse_stored_document(body, media_type, "manifest")
    config = document.get("config")
    if not isinstance(config, dict):
        raise InvalidManifestError("manifest has no config descriptor")
    size = config.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        raise InvalidManifestError("config descriptor has no valid size")
    if size > MAX_CONFIG_BYTES:
        raise InvalidManifestError(f"config is {size} bytes, over the {MAX_CONFIG_BYTES}-byte cap")
    config_media_type = config.get("mediaType")
    if config_media_type not in media_types.CONFIGS:
        raise InvalidManifestError(f"config media type {quoted(config_media_type)} is not an image config")
    try:
        digest = Digest(config.get("digest"))  # type: ignore[arg-type]
    except InvalidDigestError as error:
        raise InvalidManifestError(f"config descriptor: {error}") from None
    return ConfigReference(media_type=config_media_type, digest=digest, size=size)
