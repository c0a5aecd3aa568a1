import json

import pytest

from ecr_multiarch.domain import media_types
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.manifest import InvalidManifestError, config_reference

CONFIG_DIGEST = "sha256:" + "c" * 64


def manifest(**overrides: object) -> bytes:
    document: dict[str, object] = {
        "schemaVersion": 2,
        "mediaType": media_types.DOCKER_MANIFEST,
        "config": {"mediaType": media_types.DOCKER_CONFIG, "size": 1469, "digest": CONFIG_DIGEST},
        "layers": [],
    }
    document.update(overrides)
    return json.dumps(document).encode()


def test_reads_the_config_descriptor() -> None:
    reference = config_reference(manifest(), media_types.DOCKER_MANIFEST)
    assert (reference.digest, reference.size, reference.media_type) == (
        Digest(CONFIG_DIGEST), 1469, media_types.DOCKER_CONFIG
    )


def test_oci_manifest_may_omit_its_media_type() -> None:
    body = json.dumps({"schemaVersion": 2, "config": {"mediaType": media_types.OCI_CONFIG, "size": 5,
                                                      "digest": CONFIG_DIGEST}, "layers": []}).encode()
    assert config_reference(body, media_types.OCI_MANIFEST).size == 5


@pytest.mark.parametrize(
    ("body", "media_type", "message"),
    [
        (manifest(), media_types.OCI_INDEX, "is itself an image index"),
        (manifest(), media_types.DOCKER_MANIFEST_LIST, "is itself an image index"),
        (manifest(), "application/vnd.docker.distribution.manifest.v1+prettyjws", "unsupported media type"),
        (b"{not json", media_types.DOCKER_MANIFEST, "not valid JSON"),
        (b"[]", media_types.DOCKER_MANIFEST, "not a JSON object"),
        (manifest(schemaVersion=1), media_types.DOCKER_MANIFEST, "schemaVersion"),
        (manifest(mediaType=media_types.OCI_MANIFEST), media_types.DOCKER_MANIFEST, "declares mediaType"),
        (manifest(config=None), media_types.DOCKER_MANIFEST, "no config descriptor"),
        (manifest(config={"mediaType": media_types.DOCKER_CONFIG, "size": -1, "digest": CONFIG_DIGEST}),
         media_types.DOCKER_MANIFEST, "no valid size"),
        (manifest(config={"mediaType": media_types.DOCKER_CONFIG, "size": True, "digest": CONFIG_DIGEST}),
         media_types.DOCKER_MANIFEST, "no valid size"),
        (manifest(config={"mediaType": media_types.DOCKER_CONFIG, "size": 10**9, "digest": CONFIG_DIGEST}),
         media_types.DOCKER_MANIFEST, "cap"),
        (manifest(config={"mediaType": "application/octet-stream", "size": 1, "digest": CONFIG_DIGEST}),
         media_types.DOCKER_MANIFEST, "not an image config"),
        (manifest(config={"mediaType": media_types.DOCKER_CONFIG, "size": 1, "digest": "md5:abc"}),
         media_types.DOCKER_MANIFEST, "not a sha256 digest"),
    ],
)
def test_rejects_unusable_manifests(body: bytes, media_type: str, message: str) -> None:
    with pytest.raises(InvalidManifestError, match=message):
        config_reference(body, media_type)
