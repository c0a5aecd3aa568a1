import hashlib
import itertools
import json

import pytest

from ecr_multiarch.domain import media_types
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.index import ChildDescriptor, IndexFormat, build_index, choose_media_type
from ecr_multiarch.domain.platform import Platform

AMD64 = ChildDescriptor(media_types.DOCKER_MANIFEST, 528, Digest("sha256:" + "a" * 64), Platform("linux", "amd64"))
ARM64 = ChildDescriptor(media_types.DOCKER_MANIFEST, 529, Digest("sha256:" + "b" * 64),
                        Platform("linux", "arm64", "v8"))
OCI_ARM64 = ChildDescriptor(media_types.OCI_MANIFEST, 400, Digest("sha256:" + "c" * 64), Platform("linux", "arm64"))
WINDOWS = ChildDescriptor(media_types.DOCKER_MANIFEST, 700, Digest("sha256:" + "d" * 64),
                          Platform("windows", "amd64", os_version="10.0.20348.1906", os_features=("win32k",)))


def test_docker_list_exact_bytes_and_digest() -> None:
    index = build_index([AMD64, ARM64], IndexFormat.AUTO)
    expected = (
        '{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",'
        '"manifests":['
        '{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":528,'
        '"digest":"sha256:' + "a" * 64 + '","platform":{"architecture":"amd64","os":"linux"}},'
        '{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":529,'
        '"digest":"sha256:' + "b" * 64 + '","platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}'
    ).encode()
    assert index.body == expected
    assert str(index.digest) == "sha256:" + hashlib.sha256(expected).hexdigest()
    assert index.media_type == media_types.DOCKER_MANIFEST_LIST


def test_oci_index_when_any_child_is_oci() -> None:
    index = build_index([AMD64, OCI_ARM64], IndexFormat.AUTO)
    document = json.loads(index.body)
    assert document["mediaType"] == media_types.OCI_INDEX == index.media_type
    assert [m["mediaType"] for m in document["manifests"]] == [media_types.DOCKER_MANIFEST, media_types.OCI_MANIFEST]


ATTESTATION = ChildDescriptor(
    media_types.OCI_MANIFEST, 839, Digest("sha256:" + "e" * 64), Platform("unknown", "unknown"),
    ((media_types.REFERENCE_DIGEST_ANNOTATION, "sha256:" + "b" * 64),
     (media_types.REFERENCE_TYPE_ANNOTATION, media_types.ATTESTATION_MANIFEST)),
)
# A Docker v2 child whose descriptor carries an annotation (nothing but an OCI index can hold it).
ANNOTATED = ChildDescriptor(media_types.DOCKER_MANIFEST, 529, Digest("sha256:" + "f" * 64),
                            Platform("linux", "arm64", "v8"), (("org.example.note", "x"),))


# The format decision table (auto: Docker list only when every child is Docker v2 and nothing needs OCI fields).
@pytest.mark.parametrize(
    ("children", "requested", "annotations", "media_type", "reason"),
    [
        ([AMD64, ARM64], IndexFormat.AUTO, (), media_types.DOCKER_MANIFEST_LIST, "every child is a Docker v2"),
        ([AMD64, OCI_ARM64], IndexFormat.AUTO, (), media_types.OCI_INDEX, "is application/vnd.oci.image.manifest"),
        ([AMD64, ARM64, ATTESTATION], IndexFormat.AUTO, (), media_types.OCI_INDEX, "is application/vnd.oci"),
        ([AMD64, ANNOTATED], IndexFormat.AUTO, (), media_types.OCI_INDEX, "carries annotations"),
        ([AMD64, ARM64], IndexFormat.AUTO, (("org.opencontainers.image.vendor", "ACME"),), media_types.OCI_INDEX,
         "index annotations"),
        ([AMD64, ARM64], IndexFormat.OCI, (), media_types.OCI_INDEX, "INDEX_FORMAT=oci"),
        ([AMD64, ARM64, ATTESTATION], IndexFormat.DOCKER, (), media_types.DOCKER_MANIFEST_LIST,
         "INDEX_FORMAT=docker"),
        # issue 9 item 10: a Docker list never holds an OCI manifest; an OCI index instead, the reason says why.
        ([AMD64, OCI_ARM64, ATTESTATION], IndexFormat.DOCKER, (), media_types.OCI_INDEX,
         "INDEX_FORMAT=docker, but child sha256:cccc"),
    ],
)
def test_format_decision_table(children: list[ChildDescriptor], requested: IndexFormat,
                               annotations: tuple[tuple[str, str], ...], media_type: str, reason: str) -> None:
    chosen, why = choose_media_type(children, requested, annotations)
    assert (chosen, reason in why) == (media_type, True)


def test_oci_index_keeps_attestation_annotations_in_key_order_and_nothing_else() -> None:
    document = json.loads(build_index([ARM64, ATTESTATION], IndexFormat.AUTO).body)
    assert set(document) == {"schemaVersion", "mediaType", "manifests"}  # no artifactType, subject
    assert document["manifests"][1]["annotations"] == {
        "vnd.docker.reference.digest": "sha256:" + "b" * 64, "vnd.docker.reference.type": "attestation-manifest"}


def test_a_forced_docker_list_leaves_attestations_and_annotations_out() -> None:
    index = build_index([ANNOTATED, ATTESTATION], IndexFormat.DOCKER, (("org.example", "y"),))
    document = json.loads(index.body)
    assert [m["digest"] for m in document["manifests"]] == ["sha256:" + "f" * 64]
    assert "annotations" not in document and "annotations" not in document["manifests"][0]
    assert "features" not in document["manifests"][0]["platform"]
    assert "1 attestation(s) left out" in index.format_reason


def test_a_forced_docker_list_over_an_oci_image_is_an_oci_index_keeping_its_attestation() -> None:
    index = build_index([AMD64, OCI_ARM64, ATTESTATION], IndexFormat.DOCKER)
    document = json.loads(index.body)
    assert document["mediaType"] == media_types.OCI_INDEX
    assert [m["digest"] for m in document["manifests"]] == [str(AMD64.digest), str(OCI_ARM64.digest),
                                                           str(ATTESTATION.digest)]
    assert "a Docker manifest list cannot hold OCI manifests" in index.format_reason


def test_index_annotations_are_sorted_and_only_on_oci() -> None:
    notes = (("org.opencontainers.image.vendor", "ACME"), ("org.opencontainers.image.authors", "platform"))
    oci = json.loads(build_index([AMD64], IndexFormat.AUTO, notes).body)
    assert list(oci["annotations"]) == ["org.opencontainers.image.authors", "org.opencontainers.image.vendor"]
    assert list(oci) == ["schemaVersion", "mediaType", "manifests", "annotations"]


@pytest.mark.parametrize(
    ("children", "requested", "media_type"),
    [
        ([AMD64, ARM64], IndexFormat.AUTO, media_types.DOCKER_MANIFEST_LIST),
        ([AMD64, OCI_ARM64], IndexFormat.AUTO, media_types.OCI_INDEX),
        ([OCI_ARM64], IndexFormat.AUTO, media_types.OCI_INDEX),
        ([AMD64, ARM64], IndexFormat.OCI, media_types.OCI_INDEX),
        ([AMD64, OCI_ARM64], IndexFormat.DOCKER, media_types.OCI_INDEX),
    ],
)
def test_format_decision(children: list[ChildDescriptor], requested: IndexFormat, media_type: str) -> None:
    chosen, reason = choose_media_type(children, requested)
    assert chosen == media_type
    assert reason


def test_windows_platform_fields_are_written() -> None:
    document = json.loads(build_index([WINDOWS], IndexFormat.AUTO).body)
    assert document["manifests"][0]["platform"] == {
        "architecture": "amd64", "os": "windows", "os.version": "10.0.20348.1906", "os.features": ["win32k"]
    }


def test_same_children_same_bytes_and_order_is_kept() -> None:
    children = [AMD64, ARM64, WINDOWS]
    renders = {build_index(list(children), IndexFormat.AUTO).body for _ in range(3)}
    assert len(renders) == 1
    # Order is the configured architecture order, given by the caller; a different order is a different index.
    digests = {build_index(list(order), IndexFormat.AUTO).digest for order in itertools.permutations(children)}
    assert len(digests) == 6


def test_an_index_needs_children() -> None:
    with pytest.raises(ValueError, match="at least one child"):
        build_index([], IndexFormat.AUTO)
