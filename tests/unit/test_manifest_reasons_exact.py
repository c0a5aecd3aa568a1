"""Reading a child manifest's config descriptor: the exact reason each unusable manifest is rejected with (an
operator reads it in the `rejected` outcome), and the size cap at its boundary."""

import json

import pytest

from ecr_multiarch.domain import media_types
from ecr_multiarch.domain.manifest import MAX_CONFIG_BYTES, InvalidManifestError, config_reference

CONFIG_DIGEST = "sha256:" + "c" * 64
DOCKER = media_types.DOCKER_MANIFEST


def manifest(**overrides: object) -> bytes:
    document: dict[str, object] = {
        "schemaVersion": 2, "mediaType": DOCKER,
        "config": {"mediaType": media_types.DOCKER_CONFIG, "size": 1469, "digest": CONFIG_DIGEST}, "layers": [],
    }
    return json.dumps(document | overrides).encode()


def config(**overrides: object) -> dict[str, object]:
    return {"mediaType": media_types.DOCKER_CONFIG, "size": 1, "digest": CONFIG_DIGEST} | overrides


@pytest.mark.parametrize(("body", "media_type", "reason"), [
    (manifest(), media_types.OCI_INDEX, f"is itself an image index ({media_types.OCI_INDEX}), not an image manifest"),
    (manifest(), "text/plain", "has unsupported media type 'text/plain'"),
    (b"[]", DOCKER, "manifest is not a JSON object"),
    (manifest(schemaVersion=1), DOCKER, "manifest schemaVersion is not 2"),
    (manifest(mediaType=media_types.OCI_MANIFEST), DOCKER,
     f"manifest declares mediaType {media_types.OCI_MANIFEST!r} but is stored as {DOCKER!r}"),
    (manifest(config=None), DOCKER, "manifest has no config descriptor"),
    (manifest(config=config(size="1")), DOCKER, "config descriptor has no valid size"),
    (manifest(config=config(size=MAX_CONFIG_BYTES + 1)), DOCKER,
     f"config is {MAX_CONFIG_BYTES + 1} bytes, over the {MAX_CONFIG_BYTES}-byte cap"),
    (manifest(config=config(mediaType=None)), DOCKER, "config media type None is not an image config"),
    (manifest(config=config(digest=None)), DOCKER, "config descriptor: not a sha256 digest: 'None'"),
])
def test_an_unusable_manifest_is_rejected_with_its_exact_reason(body: bytes, media_type: str, reason: str) -> None:
    with pytest.raises(InvalidManifestError) as raised:
        config_reference(body, media_type)
    assert str(raised.value) == reason


def test_invalid_json_names_what_was_being_read() -> None:
    with pytest.raises(InvalidManifestError) as raised:
        config_reference(b"{", DOCKER)
    assert str(raised.value).startswith("manifest is not valid JSON: ")


@pytest.mark.parametrize("size", [0, MAX_CONFIG_BYTES])
def test_config_sizes_up_to_the_cap_are_accepted(size: int) -> None:
    assert config_reference(manifest(config=config(size=size)), DOCKER).size == size


def test_a_config_of_exactly_the_cap_is_accepted_and_one_byte_more_is_not() -> None:
    assert config_reference(manifest(config=config(size=MAX_CONFIG_BYTES)), DOCKER).size == MAX_CONFIG_BYTES
    with pytest.raises(InvalidManifestError):
        config_reference(manifest(config=config(size=MAX_CONFIG_BYTES + 1)), DOCKER)
