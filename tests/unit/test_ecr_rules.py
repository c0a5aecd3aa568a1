"""ECR's rules as the in-memory ECR applies them (devkit/ecr_rules.py), table-driven and without moto."""

import json

import pytest

from devkit.ecr_rules import NoTranslation, as_accepted, required_blobs, tag_is_immutable
from devkit.images import make_attestation, make_buildkit_image, make_image
from ecr_multiarch.domain import media_types


@pytest.mark.parametrize(("mutability", "filters", "tag", "immutable"), [
    ("MUTABLE", [], "1.0", False),
    ("IMMUTABLE", [], "1.0", True),
    ("IMMUTABLE_WITH_EXCLUSION", ["latest"], "latest", False),
    ("IMMUTABLE_WITH_EXCLUSION", ["latest"], "latest-arm64", True),  # a filter matches the whole tag
    ("IMMUTABLE_WITH_EXCLUSION", ["*-dev", "pr-*"], "1.0-dev", False),
    ("IMMUTABLE_WITH_EXCLUSION", ["*-dev", "pr-*"], "pr-12", False),
    ("IMMUTABLE_WITH_EXCLUSION", ["*-dev", "pr-*"], "1.0", True),
    ("MUTABLE_WITH_EXCLUSION", ["v*"], "v1", True),
    ("MUTABLE_WITH_EXCLUSION", ["v*"], "release", False),  # not a regular expression: "v*" needs a "v"
    ("MUTABLE_WITH_EXCLUSION", ["1.0"], "1x0", False),  # "." is a dot
    ("MUTABLE_WITH_EXCLUSION", ["*"], "anything", True),
])
def test_which_tags_are_immutable(mutability: str, filters: list[str], tag: str, immutable: bool) -> None:
    rules = [{"filterType": "WILDCARD", "filter": pattern} for pattern in filters]
    assert tag_is_immutable(mutability, rules, tag) is immutable


def test_an_image_needs_its_config_and_layers_but_not_foreign_ones() -> None:
    image = make_image("amd64")
    manifest = json.loads(image.manifest)
    assert required_blobs(manifest, image.media_type) == [image.config_digest, manifest["layers"][0]["digest"]]
    manifest["layers"].append({"mediaType": "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip",
                               "digest": "sha256:" + "f" * 64, "size": 1, "urls": ["https://example.invalid/l"]})
    assert required_blobs(manifest, image.media_type) == [image.config_digest, manifest["layers"][0]["digest"]]
    index = make_buildkit_image("arm64")
    assert required_blobs(json.loads(index.manifest), index.media_type) == []


DOCKER, OCI = media_types.DOCKER_MANIFEST, media_types.OCI_MANIFEST


@pytest.mark.parametrize(("oci", "accepted", "by_tag", "returned"), [
    (False, None, True, DOCKER),
    (False, [OCI], False, DOCKER),
    (False, [OCI], True, OCI),
    (True, [DOCKER], True, DOCKER),
    (True, [DOCKER, OCI], True, OCI),
])
def test_what_batch_get_image_returns(oci: bool, accepted: list[str] | None, by_tag: bool, returned: str) -> None:
    image = make_image("amd64", oci=oci)
    body, media_type = as_accepted(image.manifest.decode(), image.media_type, accepted, by_tag=by_tag)
    assert media_type == returned == json.loads(body)["mediaType"]
    assert (body.encode() == image.manifest) is (returned == image.media_type)
    if returned != image.media_type:  # translated: same blobs, the other format's media types
        original, translated = json.loads(image.manifest), json.loads(body)
        assert translated["config"]["digest"] == original["config"]["digest"]
        assert translated["config"]["mediaType"] == (media_types.OCI_CONFIG if oci is False
                                                     else media_types.DOCKER_CONFIG)
        assert [layer["mediaType"] for layer in translated["layers"]] == [
            "application/vnd.oci.image.layer.v1.tar+gzip" if oci is False
            else "application/vnd.docker.image.rootfs.diff.tar.gzip"]


@pytest.mark.parametrize("stored", ["index", "attestation"])
def test_no_translation_available(stored: str) -> None:
    image = make_buildkit_image("arm64") if stored == "index" else make_attestation(make_image("arm64"))
    with pytest.raises(NoTranslation):
        as_accepted(image.manifest.decode(), image.media_type, [DOCKER], by_tag=True)
