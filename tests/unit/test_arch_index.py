"""Choosing the image (and its attestations) for a tag's platform out of an arch tag that is an index (BuildKit)."""

import json
from typing import Any

import pytest

from devkit.images import make_buildkit_image, make_image
from ecr_multiarch.domain import media_types
from ecr_multiarch.domain.arch_index import select_for_platform
from ecr_multiarch.domain.manifest import InvalidManifestError
from ecr_multiarch.domain.platform import ExpectedPlatform, Platform, same_host_platform

ARM64 = ExpectedPlatform("linux", "arm64")


def test_buildkit_index_gives_the_image_and_its_attestation() -> None:
    built = make_buildkit_image("arm64", variant="v8")
    image, attestation = built.children
    selection = select_for_platform(built.manifest, built.media_type, ARM64)
    assert str(selection.image.digest) == image.digest
    assert selection.image.size == len(image.manifest)
    assert [str(a.digest) for a in selection.attestations] == [attestation.digest]
    assert selection.attestations[0].attests == selection.image.digest
    assert selection.attestations[0].platform == Platform("unknown", "unknown")


def test_attestations_of_other_images_are_not_taken() -> None:
    other = make_buildkit_image("amd64")
    built = make_buildkit_image("arm64", variant="v8",
                                extra=((other.children[0], {"architecture": "amd64", "os": "linux"}),))
    document: dict[str, Any] = json.loads(built.manifest)
    document["manifests"].append(json.loads(other.manifest)["manifests"][1])  # amd64's attestation
    body = json.dumps(document).encode()
    selection = select_for_platform(body, media_types.OCI_INDEX, ARM64)
    assert len(selection.attestations) == 1
    amd64 = select_for_platform(body, media_types.OCI_INDEX, ExpectedPlatform("linux", "amd64"))
    assert [str(a.digest) for a in amd64.attestations] == [other.children[1].digest]


def test_no_image_for_the_platform() -> None:
    built = make_buildkit_image("amd64")
    with pytest.raises(InvalidManifestError, match=r"no image manifest for linux/arm64 \(it lists: linux/amd64, "
                                                   r"unknown/unknown\)"):
        select_for_platform(built.manifest, built.media_type, ARM64)


def test_two_images_for_the_platform_are_ambiguous() -> None:
    second = make_image("arm64", oci=True, revision="2")
    built = make_buildkit_image("arm64", extra=((second, {"architecture": "arm64", "os": "linux"}),))
    with pytest.raises(InvalidManifestError, match="2 image manifests for linux/arm64"):
        select_for_platform(built.manifest, built.media_type, ARM64)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"[]", "not a JSON object"),
        (b'{"schemaVersion":1,"manifests":[]}', "schemaVersion"),
        (b'{"schemaVersion":2}', "no manifests list"),
        (b'{"schemaVersion":2,"manifests":[{"mediaType":"x","size":-1,"digest":"sha256:' + b"a" * 64 + b'"}]}',
         "no valid size"),
        (b'{"schemaVersion":2,"manifests":[{"mediaType":"x","size":1,"digest":"md5:1"}]}', "not a sha256"),
        (b'{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",'
         b'"manifests":[]}', "declares mediaType"),
    ],
)
def test_malformed_indexes(body: bytes, message: str) -> None:
    with pytest.raises(InvalidManifestError, match=message):
        select_for_platform(body, media_types.OCI_INDEX, ARM64)


@pytest.mark.parametrize(
    ("first", "second", "same"),
    [
        (Platform("linux", "arm64"), Platform("linux", "arm64", "v8"), True),
        (Platform("linux", "arm", "v7"), Platform("linux", "arm", "v6"), False),
        (Platform("windows", "amd64", os_version="10.0.17763.1"), Platform("windows", "amd64",
                                                                           os_version="10.0.20348.1"), False),
        (Platform("linux", "amd64"), Platform("linux", "amd64"), True),
    ],
)
def test_same_host_platform(first: Platform, second: Platform, same: bool) -> None:
    assert same_host_platform(first, second) is same
