"""Realistic single-architecture images: a config blob, a layer blob and the manifest that names them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from ecr_multiarch.domain import media_types


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class ImageBlobs:
    """An image ready to push: blobs by digest, and the manifest bytes as a registry would store them."""

    manifest: bytes
    media_type: str
    blobs: dict[str, bytes]
    config_digest: str
    # Manifests this one references that are pushed by digest first (BuildKit: the image, then its attestation).
    children: tuple[ImageBlobs, ...] = field(default=())

    @property
    def digest(self) -> str:
        return _digest(self.manifest)


def make_image(
    architecture: str,
    *,
    os: str = "linux",
    variant: str | None = None,
    os_version: str | None = None,
    os_features: list[str] | None = None,
    oci: bool = False,
    revision: str = "1",
) -> ImageBlobs:
    """An image whose config states the given platform; ``revision`` changes its content (a re-push)."""
    config: dict[str, Any] = {
        "architecture": architecture,
        "os": os,
        "config": {"Env": ["PATH=/usr/local/go/bin:/usr/local/bin:/usr/bin:/bin"], "Cmd": ["/bin/sh"]},
        "created": "2022-10-04T22:15:53.123456789Z",
        "rootfs": {"type": "layers", "diff_ids": []},
        "history": [{"created": "2022-10-04T22:15:53Z", "created_by": f"ADD rootfs-{architecture} / # {revision}"}],
    }
    if variant:
        config["variant"] = variant
    if os_version:
        config["os.version"] = os_version
    if os_features:
        config["os.features"] = os_features
    layer = f"layer of {os}/{architecture}/{variant or ''} revision {revision}".encode()
    config["rootfs"]["diff_ids"] = [_digest(layer)]
    config_bytes = json.dumps(config, indent=2).encode()
    layer_media_type = (
        "application/vnd.oci.image.layer.v1.tar+gzip" if oci else "application/vnd.docker.image.rootfs.diff.tar.gzip"
    )
    manifest_media_type = media_types.OCI_MANIFEST if oci else media_types.DOCKER_MANIFEST
    manifest = {
        "schemaVersion": 2,
        "mediaType": manifest_media_type,
        "config": {
            "mediaType": media_types.OCI_CONFIG if oci else media_types.DOCKER_CONFIG,
            "size": len(config_bytes),
            "digest": _digest(config_bytes),
        },
        "layers": [{"mediaType": layer_media_type, "size": len(layer), "digest": _digest(layer)}],
    }
    # Docker pretty-prints with three spaces; keep that, so the stored bytes look like a real push.
    manifest_bytes = json.dumps(manifest, indent=3).encode()
    return ImageBlobs(
        manifest=manifest_bytes,
        media_type=manifest_media_type,
        blobs={_digest(config_bytes): config_bytes, _digest(layer): layer},
        config_digest=_digest(config_bytes),
    )


def image_with_config(config: bytes, *, oci: bool = True) -> ImageBlobs:
    """An image manifest (no layers) whose config blob is exactly ``config``, valid or not: hostile-content tests."""
    manifest_type, config_type = ((media_types.OCI_MANIFEST, media_types.OCI_CONFIG) if oci
                                  else (media_types.DOCKER_MANIFEST, media_types.DOCKER_CONFIG))
    manifest = json.dumps({"schemaVersion": 2, "mediaType": manifest_type,
                           "config": {"mediaType": config_type, "size": len(config), "digest": _digest(config)},
                           "layers": []}).encode()
    return ImageBlobs(manifest=manifest, media_type=manifest_type, blobs={_digest(config): config},
                      config_digest=_digest(config))


def _platform(os: str, architecture: str, variant: str | None) -> dict[str, str]:
    platform = {"architecture": architecture, "os": os}
    if variant:
        platform["variant"] = variant
    return platform


def make_attestation(image: ImageBlobs, *, revision: str = "1") -> ImageBlobs:
    """BuildKit's attestation manifest for ``image``: an OCI image manifest whose config (an OCI image config
    stating unknown/unknown, "only included for compatibility") is ignored, and one in-toto layer per statement."""
    statement = json.dumps({
        "_type": "https://in-toto.io/Statement/v0.1",
        "predicateType": "https://slsa.dev/provenance/v0.2",
        "subject": [{"name": "pkg:docker/golang", "digest": {"sha256": image.digest.removeprefix("sha256:")}}],
        "predicate": {"builder": {"id": ""}, "buildType": "https://mobyproject.org/buildkit@v1",
                      "metadata": {"buildInvocationID": f"build-{revision}"}},
    }, indent=2).encode()
    config = json.dumps({"architecture": "unknown", "os": "unknown", "config": {},
                         "rootfs": {"type": "layers", "diff_ids": [_digest(statement)]}}).encode()
    manifest = {
        "schemaVersion": 2,
        "mediaType": media_types.OCI_MANIFEST,
        "config": {"mediaType": media_types.OCI_CONFIG, "digest": _digest(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.in-toto+json", "digest": _digest(statement),
                    "size": len(statement),
                    "annotations": {"in-toto.io/predicate-type": "https://slsa.dev/provenance/v0.2"}}],
    }
    manifest_bytes = json.dumps(manifest, indent=2).encode()
    return ImageBlobs(manifest=manifest_bytes, media_type=media_types.OCI_MANIFEST,
                      blobs={_digest(config): config, _digest(statement): statement}, config_digest=_digest(config))


def make_buildkit_image(
    architecture: str,
    *,
    os: str = "linux",
    variant: str | None = None,
    os_version: str | None = None,
    oci: bool = True,
    attestation: bool = True,
    revision: str = "1",
    extra: tuple[tuple[ImageBlobs, dict[str, str]], ...] = (),
) -> ImageBlobs:
    """What ``docker buildx build --platform <p> --push`` writes at the tag: an OCI index holding the image
    manifest and (provenance on, the default) its attestation manifest, both pushed by digest first.

    ``extra``: further (image, platform) entries to put in the index, to build broken or multi-platform tags.
    """
    image = make_image(architecture, os=os, variant=variant, os_version=os_version, oci=oci, revision=revision)
    platform = _platform(os, architecture, variant)
    if os_version:
        platform["os.version"] = os_version
    entries: list[dict[str, object]] = [
        {"mediaType": image.media_type, "digest": image.digest, "size": len(image.manifest), "platform": platform}
    ]
    children = [image]
    if attestation:
        attest = make_attestation(image, revision=revision)
        entries.append({
            "mediaType": attest.media_type, "digest": attest.digest, "size": len(attest.manifest),
            "annotations": {media_types.REFERENCE_DIGEST_ANNOTATION: image.digest,
                            media_types.REFERENCE_TYPE_ANNOTATION: media_types.ATTESTATION_MANIFEST},
            "platform": {"architecture": "unknown", "os": "unknown"},
        })
        children.append(attest)
    for other, other_platform in extra:
        entries.append({"mediaType": other.media_type, "digest": other.digest, "size": len(other.manifest),
                        "platform": other_platform})
        children.append(other)
    index = json.dumps({"schemaVersion": 2, "mediaType": media_types.OCI_INDEX, "manifests": entries},
                       indent=2).encode()
    blobs: dict[str, bytes] = {}
    for child in children:
        blobs.update(child.blobs)
    return ImageBlobs(manifest=index, media_type=media_types.OCI_INDEX, blobs=blobs,
                      config_digest=image.config_digest, children=tuple(children))
