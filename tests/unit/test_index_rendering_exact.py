"""The index format decision and the rendered bytes, pinned exactly: every reason an operator reads in the log,
every rejection, and the rendering of fields a plain Linux image never has (non-ASCII, OCI annotations)."""

import json

import pytest

from ecr_multiarch.domain import media_types
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.index import ChildDescriptor, IndexFormat, build_index, choose_media_type, listed_platforms
from ecr_multiarch.domain.platform import Platform

DOCKER_AMD64 = ChildDescriptor(media_types.DOCKER_MANIFEST, 528, Digest("sha256:" + "a" * 64),
                               Platform("linux", "amd64"))
OCI_ARM64 = ChildDescriptor(media_types.OCI_MANIFEST, 400, Digest("sha256:" + "c" * 64), Platform("linux", "arm64"))
ATTESTATION = ChildDescriptor(
    media_types.OCI_MANIFEST, 839, Digest("sha256:" + "e" * 64), Platform("unknown", "unknown"),
    ((media_types.REFERENCE_DIGEST_ANNOTATION, "sha256:" + "a" * 64),
     (media_types.REFERENCE_TYPE_ANNOTATION, media_types.ATTESTATION_MANIFEST)),
)
NOTED = ChildDescriptor(media_types.DOCKER_MANIFEST, 529, Digest("sha256:" + "f" * 64), Platform("linux", "arm64"),
                        (("org.example.note", "x"),))


@pytest.mark.parametrize(("children", "requested", "annotations", "decision"), [
    ([DOCKER_AMD64], IndexFormat.DOCKER, (), (media_types.DOCKER_MANIFEST_LIST, "INDEX_FORMAT=docker")),
    ([DOCKER_AMD64], IndexFormat.OCI, (), (media_types.OCI_INDEX, "INDEX_FORMAT=oci")),
    ([DOCKER_AMD64, OCI_ARM64, ATTESTATION], IndexFormat.AUTO, (),
     (media_types.OCI_INDEX, f"child sha256:{'c' * 64} is {media_types.OCI_MANIFEST}")),
    ([DOCKER_AMD64, NOTED], IndexFormat.AUTO, (),
     (media_types.OCI_INDEX, "a child descriptor carries annotations (only an OCI index can hold them)")),
    ([DOCKER_AMD64], IndexFormat.AUTO, (("k", "v"),),
     (media_types.OCI_INDEX, "index annotations are configured (only an OCI index can hold them)")),
    ([DOCKER_AMD64], IndexFormat.AUTO, (),
     (media_types.DOCKER_MANIFEST_LIST, "every child is a Docker v2 manifest and nothing needs OCI fields")),
])
def test_the_format_decision_and_its_logged_reason(
    children: list[ChildDescriptor], requested: IndexFormat, annotations: tuple[tuple[str, str], ...],
    decision: tuple[str, str],
) -> None:
    assert choose_media_type(children, requested, annotations) == decision
    assert build_index(children, requested, annotations).format_reason == decision[1]


def test_a_forced_docker_list_says_how_many_attestations_it_left_out() -> None:
    index = build_index([DOCKER_AMD64, ATTESTATION, ATTESTATION], IndexFormat.DOCKER)
    assert index.format_reason == "INDEX_FORMAT=docker; 2 attestation(s) left out (a Docker list cannot link them)"
    assert index.manifests == (DOCKER_AMD64,)


def test_a_forced_docker_list_without_attestations_keeps_the_plain_reason() -> None:
    assert build_index([DOCKER_AMD64], IndexFormat.DOCKER).format_reason == "INDEX_FORMAT=docker"


@pytest.mark.parametrize(("children", "message"), [
    ([], "an index needs at least one child"),
    ([ATTESTATION], "an index needs at least one child that is not an attestation"),
])
def test_an_index_that_would_be_empty_is_refused(children: list[ChildDescriptor], message: str) -> None:
    with pytest.raises(ValueError) as raised:
        build_index(children, IndexFormat.DOCKER)
    assert str(raised.value) == message


def test_an_oci_index_renders_descriptor_and_index_annotations_exactly() -> None:
    index = build_index([NOTED], IndexFormat.OCI, (("z", "1"), ("a", "2")))
    assert index.body == (
        '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":['
        '{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":529,"digest":"sha256:'
        + "f" * 64 + '","platform":{"architecture":"arm64","os":"linux"},"annotations":{"org.example.note":"x"}}],'
        '"annotations":{"a":"2","z":"1"}}'
    ).encode()
    assert index.digest == Digest.of(index.body)
    assert index.annotations == (("a", "2"), ("z", "1"))


def test_non_ascii_fields_are_escaped_so_the_bytes_stay_ascii() -> None:
    child = ChildDescriptor(media_types.OCI_MANIFEST, 1, Digest("sha256:" + "a" * 64), Platform("linux", "amd64"),
                            (("note", "café"),))
    index = build_index([child], IndexFormat.OCI)
    assert b'"annotations":{"note":"caf\\u00e9"}' in index.body
    assert index.body.decode("ascii")


def test_listed_platforms_reads_each_entry_in_order() -> None:
    body = build_index([DOCKER_AMD64, OCI_ARM64], IndexFormat.AUTO).body
    assert listed_platforms(body) == (Platform("linux", "amd64"), Platform("linux", "arm64"))


@pytest.mark.parametrize("body", [
    b"not json", b"[]", b'{"manifests": 3}', b'{"manifests": [{"size": 1}]}', b'{"other": []}',
    b'{"manifests": [{"platform": {"os": "linux"}}]}',
])
def test_listed_platforms_is_none_for_what_is_not_a_readable_index(body: bytes) -> None:
    assert listed_platforms(body) is None


def test_an_index_equals_another_with_the_same_content_whatever_its_reason() -> None:
    first = build_index([DOCKER_AMD64], IndexFormat.AUTO)
    second = build_index([DOCKER_AMD64], IndexFormat.DOCKER)
    assert first == second and first.format_reason != second.format_reason
    assert json.loads(first.body)["manifests"][0]["platform"] == {"architecture": "amd64", "os": "linux"}


def test_a_descriptor_renders_in_the_oci_form_unless_told_it_is_for_a_docker_list() -> None:
    oci_form = {"mediaType": media_types.DOCKER_MANIFEST, "size": 529, "digest": "sha256:" + "f" * 64,
                "platform": {"architecture": "arm64", "os": "linux"}, "annotations": {"org.example.note": "x"}}
    assert NOTED.to_json() == oci_form
    assert NOTED.to_json(oci=False) == {key: value for key, value in oci_form.items() if key != "annotations"}
