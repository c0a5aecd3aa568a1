"""ECR's own rules, as pure functions, for the in-memory ECR (devkit/fake_ecr.py): which tags are immutable, which
blobs an image manifest needs, and what BatchGetImage returns for a media type the caller does not accept.

Every rule names its source; the fake's module docstring lists them all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any

import botocore.session

from ecr_multiarch.domain import media_types

MUTABLE = "MUTABLE"
IMMUTABLE = "IMMUTABLE"
IMMUTABLE_WITH_EXCLUSION = "IMMUTABLE_WITH_EXCLUSION"
MUTABLE_WITH_EXCLUSION = "MUTABLE_WITH_EXCLUSION"

DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar.gzip"
DOCKER_FOREIGN_LAYER = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
OCI_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_NONDISTRIBUTABLE_LAYER = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
# Blobs a registry never holds: they are fetched from their own `urls` (Windows base layers).
_FOREIGN_LAYERS = frozenset({DOCKER_FOREIGN_LAYER, OCI_NONDISTRIBUTABLE_LAYER,
                             "application/vnd.oci.image.layer.nondistributable.v1.tar",
                             "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"})

# Docker v2 schema 2 <-> OCI, the two conversions ECR documents for a pull by tag (image-manifest-formats.html).
_DOCKER_TO_OCI = {media_types.DOCKER_MANIFEST: media_types.OCI_MANIFEST,
                  media_types.DOCKER_CONFIG: media_types.OCI_CONFIG,
                  DOCKER_LAYER: OCI_LAYER, DOCKER_FOREIGN_LAYER: OCI_NONDISTRIBUTABLE_LAYER}
_OCI_TO_DOCKER = {oci: docker for docker, oci in _DOCKER_TO_OCI.items()}


@cache
def ecr_enum(shape: str) -> tuple[str, ...]:
    """An enum of ECR's API model as botocore ships it (ImageFailureCode, ...): read there, not recalled."""
    model = botocore.session.get_session().get_service_model("ecr")
    return tuple(getattr(model.shape_for(shape), "enum", ()))


@cache
def operation_errors(operation: str) -> tuple[str, ...]:
    model = botocore.session.get_session().get_service_model("ecr")
    return tuple(error.name for error in model.operation_model(operation).error_shapes)


def _wildcard(pattern: str) -> re.Pattern[str]:
    """An ECR WILDCARD filter: `*` matches any run of characters, everything else itself (the filter's pattern,
    ^[0-9a-zA-Z._*-]{1,128}$, has no other special character)."""
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def tag_is_immutable(mutability: str, exclusion_filters: Iterable[dict[str, str]] | None, tag: str) -> bool:
    """IMMUTABLE: every tag. IMMUTABLE_WITH_EXCLUSION: every tag but those the filters match. MUTABLE_WITH_EXCLUSION:
    only the tags the filters match. MUTABLE: none (API_ImageTagMutabilityExclusionFilter, aws_cdk TagMutability)."""
    matched = any(_wildcard(rule["filter"]).fullmatch(tag) for rule in exclusion_filters or ())
    if mutability == IMMUTABLE:
        return True
    if mutability == IMMUTABLE_WITH_EXCLUSION:
        return not matched
    if mutability == MUTABLE_WITH_EXCLUSION:
        return matched
    return False


def required_blobs(manifest: dict[str, Any], media_type: str) -> list[str]:
    """The blobs PutImage of an image manifest needs in the repository: its config and every layer a registry
    stores (foreign / non-distributable layers live at their own URLs). An index needs none (its children are
    manifests, checked separately)."""
    if media_type in media_types.INDEXES or "manifests" in manifest:
        return []
    needed = []
    config = manifest.get("config")
    if isinstance(config, dict) and isinstance(config.get("digest"), str):
        needed.append(config["digest"])
    for layer in manifest.get("layers") or []:
        if isinstance(layer, dict) and isinstance(layer.get("digest"), str) \
                and layer.get("mediaType") not in _FOREIGN_LAYERS and not layer.get("urls"):
            needed.append(layer["digest"])
    return needed


def referenced_manifests(manifest: dict[str, Any], media_type: str) -> list[str]:
    """The manifests an index lists (they must be in the same repository: ReferencedImagesNotFoundException)."""
    if manifest.get("mediaType", media_type) not in media_types.INDEXES:
        return []
    return [entry["digest"] for entry in manifest.get("manifests") or [] if isinstance(entry, dict)]


class NoTranslation(Exception):
    """ECR has no conversion from the stored format to any accepted one."""


def as_accepted(body: str, stored_type: str, accepted: Sequence[str] | None, *, by_tag: bool) -> tuple[str, str]:
    """What BatchGetImage returns for a stored manifest: (manifest, media type).

    - acceptedMediaTypes left out: the bytes as stored (the documented retag flow reads an OCI manifest back
      unchanged this way, aws/containers-roadmap#1873).
    - asked by digest: the bytes as stored, whatever is accepted ("If you pull an image by digest, there is no
      translation available", ECR user guide, image-manifest-formats.html; aws/containers-roadmap#1075).
    - asked by tag, stored type accepted: as stored.
    - asked by tag, not accepted: Docker v2 schema 2 -> OCI and OCI -> Docker v2 schema 2 are translated (the
      guide's conversion table); anything else (indexes, schema 1, OCI artifacts) has "no translation available":
      NoTranslation.
    A translation is new bytes, so their sha256 is no longer the image's digest.
    """
    if not accepted or not by_tag or stored_type in accepted:
        return body, stored_type
    if stored_type == media_types.DOCKER_MANIFEST and media_types.OCI_MANIFEST in accepted:
        return _translate(body, _DOCKER_TO_OCI, media_types.OCI_MANIFEST), media_types.OCI_MANIFEST
    if stored_type == media_types.OCI_MANIFEST and media_types.DOCKER_MANIFEST in accepted:
        return _translate(body, _OCI_TO_DOCKER, media_types.DOCKER_MANIFEST), media_types.DOCKER_MANIFEST
    raise NoTranslation(f"{stored_type} has no translation to any of {', '.join(accepted)}")


def counterpart(media_type: str) -> str:
    """The other format's image manifest type (Docker v2 schema 2 <-> OCI); anything else maps to itself."""
    return _DOCKER_TO_OCI.get(media_type) or _OCI_TO_DOCKER.get(media_type) or media_type


def _translate(body: str, mapping: dict[str, str], target: str) -> str:
    document = json.loads(body)
    if document.get("config", {}).get("mediaType") not in mapping:
        raise NoTranslation(f"config type {document.get('config', {}).get('mediaType')!r} is not an image config")
    document["mediaType"] = target
    document["config"]["mediaType"] = mapping[document["config"]["mediaType"]]
    for layer in document.get("layers", []):
        if layer.get("mediaType") not in mapping:
            raise NoTranslation(f"layer type {layer.get('mediaType')!r} has no counterpart")
        layer["mediaType"] = mapping[layer["mediaType"]]
    return json.dumps(document, indent=3)
