"""Realistic single-architecture images: a config blob, a layer blob and the manifest that names them."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
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
