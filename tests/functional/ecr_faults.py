"""Test helpers: ECR answers moto never gives (per-image failure codes, blob errors), and hostile images.

``FaultyEcrClient`` wraps the real boto3 client of the fake ECR and answers chosen images and blobs the way ECR
does when they are archived, KMS-locked, behind a failing pull-through cache...: BatchGetImage puts them in
``failures`` with the code, GetDownloadUrlForLayer raises the ClientError. Everything else is the real call.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import boto3
from botocore.exceptions import ClientError

from devkit.images import ImageBlobs, make_image
from ecr_multiarch.adapters.ecr import BOTOCORE_CONFIG, EcrRegistry
from ecr_multiarch.domain import media_types

# The HTTP status ECR answers each with (what an unknown code's classification falls back to).
_STATUS = {"ServerException": 500, "ThrottlingException": 400}


class FaultyEcrClient:
    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.image_failures: dict[str, str] = {}  # tag or digest -> failureCode
        self.layer_errors: dict[str, str] = {}  # config digest -> ClientError code

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def batch_get_image(self, **params: Any) -> dict[str, Any]:
        ids = params["imageIds"]
        failing = [i for i in ids if (i.get("imageTag") or i.get("imageDigest")) in self.image_failures]
        passing = [i for i in ids if i not in failing]
        answer = self._inner.batch_get_image(**{**params, "imageIds": passing}) if passing else {"images": []}
        failures = [{"imageId": i, "failureCode": self.image_failures[i.get("imageTag") or i["imageDigest"]],
                     "failureReason": "injected by the test"} for i in failing]
        return {**answer, "failures": [*answer.get("failures", []), *failures]}

    def get_download_url_for_layer(self, **params: Any) -> dict[str, Any]:
        code = self.layer_errors.get(params["layerDigest"])
        if code is not None:
            raise ClientError({"Error": {"Code": code, "Message": "injected by the test"},
                               "ResponseMetadata": {"HTTPStatusCode": _STATUS.get(code, 400)}},
                              "GetDownloadUrlForLayer")
        return self._inner.get_download_url_for_layer(**params)


def faulty_registry() -> tuple[EcrRegistry, FaultyEcrClient]:
    client = FaultyEcrClient(boto3.client("ecr", config=BOTOCORE_CONFIG))
    return EcrRegistry(client), client  # type: ignore[arg-type]


def _digest(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


def image_with_config(config: bytes, *, revision: str = "hostile") -> ImageBlobs:
    """An arm64 image (Docker v2) whose config blob is exactly ``config``: the manifest is honest about its digest
    and size, so only the content is hostile."""
    layer = f"layer {revision}".encode()
    manifest = json.dumps({
        "schemaVersion": 2,
        "mediaType": media_types.DOCKER_MANIFEST,
        "config": {"mediaType": media_types.DOCKER_CONFIG, "size": len(config), "digest": _digest(config)},
        "layers": [{"mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip", "size": len(layer),
                    "digest": _digest(layer)}],
    }, indent=3).encode()
    return ImageBlobs(manifest=manifest, media_type=media_types.DOCKER_MANIFEST,
                      blobs={_digest(config): config, _digest(layer): layer}, config_digest=_digest(config))


ARM64_CONFIG = {"architecture": "arm64", "os": "linux", "variant": "v8",
                "rootfs": {"type": "layers", "diff_ids": []}}


def deeply_nested_config(depth: int = 100_000) -> bytes:
    """A config that states arm64 and carries a label nested ``depth`` levels: json.loads raises RecursionError."""
    head = json.dumps(ARM64_CONFIG)[:-1]
    return (head + ', "config": {"Labels": {"x": ' + "[" * depth + "]" * depth + "}}}").encode()


def utf16_config() -> bytes:
    """A perfectly readable arm64 config, in UTF-16 (json.loads(bytes) guesses the encoding and accepts it)."""
    return json.dumps({**ARM64_CONFIG, "author": "Jörg"}).encode("utf-16")


def latin1_config() -> bytes:
    return json.dumps({**ARM64_CONFIG, "author": "Jörg"}, ensure_ascii=False).encode("latin-1")


def huge_index(entries: int = 10_000) -> tuple[bytes, ImageBlobs]:
    """An OCI index for an arm64 tag: the real arm64 image first, then ``entries - 1`` entries of other platforms
    (about 1.8 MB, within ECR's 4 MiB manifest limit). Returns the index bytes and the arm64 image."""
    image = make_image("arm64", variant="v8", oci=True, revision="in a huge index")
    rows = [{"mediaType": image.media_type, "digest": image.digest, "size": len(image.manifest),
             "platform": {"architecture": "arm64", "os": "linux", "variant": "v8"}}]
    rows += [{"mediaType": media_types.OCI_MANIFEST, "digest": "sha256:" + f"{n:064x}", "size": 500,
              "platform": {"architecture": "riscv64", "os": "linux", "os.version": str(n)}}
             for n in range(1, entries)]
    body = json.dumps({"schemaVersion": 2, "mediaType": media_types.OCI_INDEX, "manifests": rows}).encode()
    return body, image
