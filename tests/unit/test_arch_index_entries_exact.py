"""Reading an arch tag's index entry by entry: what each malformed descriptor is rejected with, exactly, and the
boundaries of what is accepted (a zero size, a missing platform)."""

import json
from typing import Any

import pytest

from ecr_multiarch.domain import media_types
from ecr_multiarch.domain.arch_index import index_entries, select_for_platform
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.manifest import InvalidManifestError
from ecr_multiarch.domain.platform import ExpectedPlatform, Platform

IMAGE_DIGEST = "sha256:" + "a" * 64
AMD64 = {"architecture": "amd64", "os": "linux"}


def entry(**fields: Any) -> dict[str, Any]:
    return {"mediaType": media_types.OCI_MANIFEST, "size": 10, "digest": IMAGE_DIGEST, "platform": AMD64} | fields


def index_of(*entries: Any) -> bytes:
    return json.dumps({"schemaVersion": 2, "mediaType": media_types.OCI_INDEX, "manifests": list(entries)}).encode()


def rejection(*entries: Any) -> str:
    with pytest.raises(InvalidManifestError) as raised:
        index_entries(index_of(*entries), media_types.OCI_INDEX)
    return str(raised.value)


@pytest.mark.parametrize(("raw", "reason"), [
    ("not an object", "index entry 1 is not a JSON object"),
    (entry(mediaType=""), "index entry 1 has no mediaType"),
    (entry(mediaType=42), "index entry 1 has no mediaType"),
    (entry(size="10"), "index entry 1 has no valid size"),
    (entry(size=True), "index entry 1 has no valid size"),
    (entry(size=-1), "index entry 1 has no valid size"),
    (entry(digest="sha256:short"), "index entry 1: not a sha256 digest: 'sha256:short'"),
    (entry(platform={"os": "linux"}), "index entry 1 platform: config has no os or architecture"),
    (entry(annotations={"k": 1}), "index entry 1 annotations are not a string map"),
    (entry(annotations=["k"]), "index entry 1 annotations are not a string map"),
])
def test_a_malformed_entry_is_rejected_with_its_position_and_what_is_wrong(raw: Any, reason: str) -> None:
    assert rejection(entry(), raw) == reason


def test_a_zero_size_and_a_missing_platform_are_read_as_stated() -> None:
    no_platform = {"mediaType": media_types.OCI_MANIFEST, "size": 0, "digest": IMAGE_DIGEST}
    (read,) = index_entries(index_of(no_platform), media_types.OCI_INDEX)
    assert (read.media_type, read.size, read.digest, read.platform, read.annotations) == (
        media_types.OCI_MANIFEST, 0, Digest(IMAGE_DIGEST), None, ())


def test_annotations_are_kept_sorted_by_key() -> None:
    (read,) = index_entries(index_of(entry(annotations={"b": "2", "a": "1"})), media_types.OCI_INDEX)
    assert read.annotations == (("a", "1"), ("b", "2"))
    assert read.platform == Platform("linux", "amd64")


def test_an_index_whose_only_entry_has_no_platform_names_it_in_the_reason() -> None:
    body = index_of({"mediaType": media_types.OCI_MANIFEST, "size": 0, "digest": IMAGE_DIGEST})
    with pytest.raises(InvalidManifestError) as raised:
        select_for_platform(body, media_types.OCI_INDEX, ExpectedPlatform("linux", "amd64"))
    assert str(raised.value) == "is an index with no image manifest for linux/amd64 (it lists: no platform)"


def test_an_empty_index_lists_nothing() -> None:
    with pytest.raises(InvalidManifestError) as raised:
        select_for_platform(index_of(), media_types.OCI_INDEX, ExpectedPlatform("linux", "amd64"))
    assert str(raised.value) == "is an index with no image manifest for linux/amd64 (it lists: nothing)"


def test_two_images_for_the_platform_are_ambiguous_and_both_are_named() -> None:
    other = "sha256:" + "b" * 64
    body = index_of(entry(), entry(digest=other, mediaType=media_types.DOCKER_MANIFEST))
    with pytest.raises(InvalidManifestError) as raised:
        select_for_platform(body, media_types.OCI_INDEX, ExpectedPlatform("linux", "amd64"))
    assert str(raised.value) == (f"is an index with 2 image manifests for linux/amd64 ({IMAGE_DIGEST}, {other}); "
                                 "which one is meant is ambiguous")


def test_only_image_manifests_and_only_real_attestations_count() -> None:
    attestation = {media_types.REFERENCE_TYPE_ANNOTATION: media_types.ATTESTATION_MANIFEST,
                   media_types.REFERENCE_DIGEST_ANNOTATION: IMAGE_DIGEST}
    body = index_of(
        entry(mediaType=media_types.OCI_INDEX, digest="sha256:" + "1" * 64),  # a nested index is not an image
        entry(),
        entry(digest="sha256:" + "2" * 64, platform={"os": "unknown", "architecture": "unknown"},
              annotations=attestation),
        entry(digest="sha256:" + "3" * 64, platform={"os": "unknown", "architecture": "unknown"},
              annotations=attestation | {media_types.REFERENCE_DIGEST_ANNOTATION: "not-a-digest"}),
        entry(digest="sha256:" + "4" * 64, platform={"os": "unknown", "architecture": "unknown"},
              annotations={media_types.REFERENCE_TYPE_ANNOTATION: "other", **{
                  media_types.REFERENCE_DIGEST_ANNOTATION: IMAGE_DIGEST}}),
    )
    selection = select_for_platform(body, media_types.OCI_INDEX, ExpectedPlatform("linux", "amd64"))
    assert selection.image.digest == Digest(IMAGE_DIGEST)
    assert [str(a.digest) for a in selection.attestations] == ["sha256:" + "2" * 64]
    entries = index_entries(body, media_types.OCI_INDEX)
    assert [e.attests for e in entries] == [None, None, Digest(IMAGE_DIGEST), None, None]


@pytest.mark.parametrize(("body", "media_type", "reason"), [
    (b"{}", media_types.OCI_MANIFEST, f"has media type {media_types.OCI_MANIFEST!r}, not an index"),
    (b'{"schemaVersion": 2}', media_types.DOCKER_MANIFEST_LIST, "index has no manifests list"),
    (b'{"schemaVersion": 2, "manifests": {}}', media_types.OCI_INDEX, "index has no manifests list"),
    (b'{"schemaVersion": 1, "manifests": []}', media_types.OCI_INDEX, "index schemaVersion is not 2"),
])
def test_what_is_not_an_index_is_refused(body: bytes, media_type: str, reason: str) -> None:
    with pytest.raises(InvalidManifestError) as raised:
        index_entries(body, media_type)
    assert str(raised.value) == reason
