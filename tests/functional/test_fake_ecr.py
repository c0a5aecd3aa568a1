"""The in-memory ECR behaves like ECR where the service depends on it: each correction of moto, and each thing moto
already gets right, proven through the boto3 calls the service makes (sources in devkit/fake_ecr.py's docstring)."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from devkit.fake_ecr import FakeEcr
from devkit.images import ImageBlobs, make_buildkit_image, make_image
from ecr_multiarch.domain import media_types

REPO = "golang"


def sha256(text: str) -> str:
    return "sha256:" + hashlib.sha256(text.encode()).hexdigest()


def error_code(call: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call()
    return str(raised.value.response["Error"]["Code"])


def list_ids(ecr: FakeEcr, **image_filter: str) -> list[dict[str, str]]:
    extra = {"filter": image_filter} if image_filter else {}
    return list(ecr.client.list_images(repositoryName=REPO, **extra)["imageIds"])


def get(ecr: FakeEcr, image_id: dict[str, str], accepted: list[str] | None = None) -> dict[str, Any]:
    extra = {"acceptedMediaTypes": accepted} if accepted else {}
    return dict(ecr.client.batch_get_image(repositoryName=REPO, imageIds=[image_id], **extra))


def index_of(*children: ImageBlobs) -> str:
    return json.dumps({"schemaVersion": 2, "mediaType": media_types.OCI_INDEX, "manifests": [
        {"mediaType": child.media_type, "digest": child.digest, "size": len(child.manifest),
         "platform": {"os": "linux", "architecture": json.loads(child.blobs[child.config_digest])["architecture"]}}
        for child in children]})


# --------------------------------------------------------------------------------------------- a tag that moves


def test_an_image_whose_tag_moves_stays_in_the_repository_untagged(ecr: FakeEcr) -> None:
    old, new = make_image("arm64", revision="old"), make_image("arm64", revision="new")
    ecr.push(REPO, "1.0-arm64", old)
    ecr.push(REPO, "1.0-arm64", new)

    assert {"imageDigest": old.digest} in list_ids(ecr)  # listed, without a tag
    assert list_ids(ecr, tagStatus="UNTAGGED") == [{"imageDigest": old.digest}]
    assert list_ids(ecr, tagStatus="TAGGED") == [{"imageDigest": new.digest, "imageTag": "1.0-arm64"}]
    details = ecr.client.describe_images(repositoryName=REPO, imageIds=[{"imageDigest": old.digest}])["imageDetails"]
    assert [detail.get("imageTags") for detail in details] == [None]
    by_digest = get(ecr, {"imageDigest": old.digest}, list(media_types.ALL_MANIFESTS))
    assert by_digest["images"][0]["imageManifest"].encode() == old.manifest
    assert by_digest["failures"] == []


def test_a_new_index_may_reference_an_image_that_lost_its_tag(ecr: FakeEcr) -> None:
    """On ECR a stale index write succeeds (the writer's verify read must correct it); moto refused it."""
    amd64, old, new = make_image("amd64"), make_image("arm64", revision="old"), make_image("arm64", revision="new")
    for tag, image in (("1.0-amd64", amd64), ("1.0-arm64", old), ("1.0-arm64", new)):
        ecr.push(REPO, tag, image)
    stale = index_of(amd64, old)

    ecr.client.put_image(repositoryName=REPO, imageTag="1.0", imageManifest=stale,
                         imageManifestMediaType=media_types.OCI_INDEX)

    stored = ecr.image_at(REPO, "1.0")
    assert stored is not None and stored.digest == sha256(stale)


def test_a_tag_moved_onto_an_image_already_present_leaves_the_old_one_untagged(ecr: FakeEcr) -> None:
    first, second = make_image("amd64", revision="1"), make_image("amd64", revision="2")
    ecr.push(REPO, "a", first)
    ecr.push(REPO, "b", second)

    ecr.client.put_image(repositoryName=REPO, imageTag="a", imageManifest=second.manifest.decode(),
                         imageManifestMediaType=second.media_type)

    assert sorted(map(str, list_ids(ecr))) == sorted(map(str, [
        {"imageDigest": first.digest}, {"imageDigest": second.digest, "imageTag": "b"},
        {"imageDigest": second.digest, "imageTag": "a"}]))


def test_deleting_the_last_tag_deletes_the_image_as_ecr_does(ecr: FakeEcr) -> None:
    """moto already does this right (BatchDeleteImage by tag): kept as it is."""
    image = make_image("amd64")
    ecr.push(REPO, "a", image)
    ecr.client.put_image(repositoryName=REPO, imageTag="b", imageManifest=image.manifest.decode(),
                         imageManifestMediaType=image.media_type)

    ecr.client.batch_delete_image(repositoryName=REPO, imageIds=[{"imageTag": "a"}])
    assert list_ids(ecr) == [{"imageDigest": image.digest, "imageTag": "b"}]
    ecr.client.batch_delete_image(repositoryName=REPO, imageIds=[{"imageTag": "b"}])
    assert list_ids(ecr) == []


def test_an_image_an_index_lists_cannot_be_deleted_by_digest_or_by_its_last_tag(ecr: FakeEcr) -> None:
    amd64, arm64 = make_image("amd64"), make_image("arm64")
    ecr.push(REPO, "1.0-amd64", amd64)
    ecr.push(REPO, "1.0-arm64", arm64)
    ecr.client.put_image(repositoryName=REPO, imageTag="1.0", imageManifest=index_of(amd64, arm64),
                         imageManifestMediaType=media_types.OCI_INDEX)
    ecr.client.put_image(repositoryName=REPO, imageTag="amd64-latest", imageManifest=amd64.manifest.decode(),
                         imageManifestMediaType=amd64.media_type)
    asked = [{"imageTag": "1.0-arm64"}, {"imageDigest": amd64.digest}, {"imageTag": "amd64-latest"}]

    response = ecr.client.batch_delete_image(repositoryName=REPO, imageIds=asked)

    assert [(f["imageId"], f["failureCode"]) for f in response["failures"]] == [
        (asked[0], "ImageReferencedByManifestList"), (asked[1], "ImageReferencedByManifestList")]
    assert response["imageIds"] == [{"imageDigest": amd64.digest, "imageTag": "amd64-latest"}]  # one of two tags
    assert ecr.image_at(REPO, "1.0-arm64") is not None and ecr.image_at(REPO, "1.0-amd64") is not None
    ecr.client.batch_delete_image(repositoryName=REPO, imageIds=[{"imageTag": "1.0"}])  # the index itself: fine
    ecr.client.batch_delete_image(repositoryName=REPO, imageIds=[{"imageTag": "1.0-arm64"}])
    assert ecr.image_at(REPO, "1.0-arm64") is None


# --------------------------------------------------------------------------------------------- tag mutability

MUTABILITY_CASES = [
    # mutability, exclusion filters, tag written twice, same image the second time?, error ECR raises (None: moved)
    ("MUTABLE", (), "1.0", False, None),
    ("MUTABLE", (), "1.0", True, "ImageAlreadyExistsException"),  # moto right already
    ("IMMUTABLE", (), "1.0", False, "ImageTagAlreadyExistsException"),
    ("IMMUTABLE", (), "1.0", True, "ImageTagAlreadyExistsException"),  # aws/containers-roadmap#2179
    ("IMMUTABLE_WITH_EXCLUSION", ("latest", "*-dev"), "1.0", False, "ImageTagAlreadyExistsException"),
    ("IMMUTABLE_WITH_EXCLUSION", ("latest", "*-dev"), "1.0-dev", False, None),
    ("IMMUTABLE_WITH_EXCLUSION", ("latest", "*-dev"), "latest", False, None),
    ("IMMUTABLE_WITH_EXCLUSION", ("latest",), "latest-1", False, "ImageTagAlreadyExistsException"),  # whole tag
    ("IMMUTABLE_WITH_EXCLUSION", ("1.*",), "1.0", True, "ImageAlreadyExistsException"),
    ("MUTABLE_WITH_EXCLUSION", ("v*",), "v1.0", False, "ImageTagAlreadyExistsException"),
    ("MUTABLE_WITH_EXCLUSION", ("v*",), "v1.0", True, "ImageTagAlreadyExistsException"),
    ("MUTABLE_WITH_EXCLUSION", ("v*",), "release", False, None),  # moto's regex "v*" matched every tag
    ("MUTABLE_WITH_EXCLUSION", ("1.0",), "1x0", False, None),  # "." is a dot, not any character
]


@pytest.mark.parametrize(("mutability", "exclusions", "tag", "same", "expected"), MUTABILITY_CASES)
def test_tag_mutability_decides_whether_a_held_tag_can_be_written(
    ecr: FakeEcr, mutability: str, exclusions: tuple[str, ...], tag: str, same: bool, expected: str | None
) -> None:
    ecr.create_repository("repo", mutability=mutability, exclusions=exclusions)
    first = make_image("amd64", revision="1")
    second = first if same else make_image("amd64", revision="2")
    ecr.push("repo", tag, first)

    def write() -> None:
        ecr.push_blobs("repo", second)
        ecr.client.put_image(repositoryName="repo", imageTag=tag, imageManifest=second.manifest.decode(),
                             imageManifestMediaType=second.media_type)

    if expected is None:
        write()
        stored = ecr.image_at("repo", tag)
        assert stored is not None and stored.digest == second.digest
    else:
        assert error_code(write) == expected
        stored = ecr.image_at("repo", tag)
        assert stored is not None and stored.digest == first.digest


def test_an_immutable_repository_still_takes_new_tags_for_an_image_it_holds(ecr: FakeEcr) -> None:
    ecr.create_repository("frozen", immutable=True)
    image = make_image("amd64")
    ecr.push("frozen", "1.0", image)
    ecr.client.put_image(repositoryName="frozen", imageTag="1.0.0", imageManifest=image.manifest.decode(),
                         imageManifestMediaType=image.media_type)
    assert ecr.image_at("frozen", "1.0.0") == ecr.image_at("frozen", "1.0")


def test_describe_repositories_shows_the_mode_and_its_filters(ecr: FakeEcr) -> None:
    """moto right already: CreateRepository / PutImageTagMutability keep the filters and DescribeRepositories
    returns them; the fake enforces what they say."""
    ecr.create_repository("repo", mutability="IMMUTABLE_WITH_EXCLUSION", exclusions=("latest",))
    described = ecr.client.describe_repositories(repositoryNames=["repo"])["repositories"][0]
    assert (described["imageTagMutability"], described["imageTagMutabilityExclusionFilters"]) == (
        "IMMUTABLE_WITH_EXCLUSION", [{"filterType": "WILDCARD", "filter": "latest"}])

    ecr.client.put_image_tag_mutability(repositoryName="repo", imageTagMutability="MUTABLE_WITH_EXCLUSION",
                                        imageTagMutabilityExclusionFilters=[{"filterType": "WILDCARD",
                                                                             "filter": "1.*"}])
    described = ecr.client.describe_repositories(repositoryNames=["repo"])["repositories"][0]
    assert (described["imageTagMutability"], described["imageTagMutabilityExclusionFilters"]) == (
        "MUTABLE_WITH_EXCLUSION", [{"filterType": "WILDCARD", "filter": "1.*"}])
    ecr.push("repo", "1.0", make_image("amd64", revision="1"))
    assert error_code(lambda: ecr.push("repo", "1.0", make_image("amd64", revision="2"))) == \
        "ImageTagAlreadyExistsException"
    ecr.push("repo", "latest", make_image("amd64", revision="1"))
    ecr.push("repo", "latest", make_image("amd64", revision="2"))  # "latest" is mutable now


def test_an_exclusion_mode_without_filters_is_refused(ecr: FakeEcr) -> None:
    """moto right already (InvalidParameterException)."""
    assert error_code(lambda: ecr.create_repository("repo", mutability="IMMUTABLE_WITH_EXCLUSION")) == \
        "InvalidParameterException"


# --------------------------------------------------------------------------------------------- acceptedMediaTypes

DOCKER, OCI = media_types.DOCKER_MANIFEST, media_types.OCI_MANIFEST
ACCEPT_CASES = [
    # stored as OCI?, asked by, accepted types, media type returned (None: failure ImageNotFound), bytes as stored?
    (False, "tag", None, DOCKER, True),  # nothing said: as stored (aws/containers-roadmap#1873)
    (False, "tag", list(media_types.ALL_MANIFESTS), DOCKER, True),
    (False, "tag", [OCI], OCI, False),  # translated to OCI (user guide conversion table)
    (True, "tag", [DOCKER], DOCKER, False),  # translated to V2, schema 2
    (True, "tag", [OCI, DOCKER], OCI, True),
    (False, "digest", [OCI], DOCKER, True),  # by digest: no translation (aws/containers-roadmap#1075)
    (True, "digest", [DOCKER], OCI, True),
    (False, "tag", ["application/vnd.docker.distribution.manifest.v1+json"], None, None),  # no translation
]


@pytest.mark.parametrize(("oci", "by", "accepted", "returned_type", "as_stored"), ACCEPT_CASES)
def test_batch_get_image_returns_what_ecr_returns_for_the_accepted_types(
    ecr: FakeEcr, oci: bool, by: str, accepted: list[str] | None, returned_type: str | None, as_stored: bool | None
) -> None:
    image = make_image("amd64", oci=oci)
    ecr.push(REPO, "1.0-amd64", image)
    asked = {"imageTag": "1.0-amd64"} if by == "tag" else {"imageDigest": image.digest}

    response = get(ecr, asked, accepted)

    if returned_type is None:
        assert response["images"] == []
        assert [(f["imageId"], f["failureCode"]) for f in response["failures"]] == [(asked, "ImageNotFound")]
        return
    [returned] = response["images"]
    body = returned["imageManifest"]
    assert returned["imageManifestMediaType"] == returned_type == json.loads(body)["mediaType"]
    assert returned["imageId"]["imageDigest"] == image.digest  # the image's own digest, translated or not
    assert (body.encode() == image.manifest) is as_stored
    assert (sha256(body) == image.digest) is as_stored
    if not as_stored:
        document, original = json.loads(body), json.loads(image.manifest)
        assert [layer["digest"] for layer in document["layers"]] == [layer["digest"] for layer in original["layers"]]
        assert document["config"]["digest"] == original["config"]["digest"]
        assert document["config"]["mediaType"] == (media_types.OCI_CONFIG if returned_type == OCI
                                                   else media_types.DOCKER_CONFIG)


def test_an_index_asked_for_by_tag_without_its_type_accepted_is_not_found(ecr: FakeEcr) -> None:
    buildkit = make_buildkit_image("arm64", variant="v8")
    ecr.push(REPO, "1.0-arm64", buildkit)
    response = get(ecr, {"imageTag": "1.0-arm64"}, [DOCKER, OCI])
    assert response["images"] == []
    assert response["failures"][0]["failureCode"] == "ImageNotFound"
    assert get(ecr, {"imageTag": "1.0-arm64"}, list(media_types.ALL_MANIFESTS))["images"][0]["imageManifest"] == \
        buildkit.manifest.decode()


def test_convert_image_serves_translated_bytes_under_the_stored_digest(ecr: FakeEcr) -> None:
    image = make_image("amd64")
    ecr.push(REPO, "1.0-amd64", image)
    ecr.convert_image(REPO, "1.0-amd64")
    [returned] = get(ecr, {"imageTag": "1.0-amd64"}, list(media_types.ALL_MANIFESTS))["images"]
    assert returned["imageManifestMediaType"] == OCI
    assert returned["imageId"]["imageDigest"] == image.digest != sha256(returned["imageManifest"])


# --------------------------------------------------------------------------------------------- BatchGetImage


def test_batch_get_image_reports_each_problem_against_the_id_asked_for(ecr: FakeEcr) -> None:
    image, other = make_image("amd64"), make_image("arm64")
    ecr.push(REPO, "1.0-amd64", image)
    ecr.push(REPO, "1.0-arm64", other)
    asked = [{"imageTag": "missing"}, {"imageDigest": "sha256:" + "0" * 64}, {"imageDigest": "sha256:nothex"},
             {"imageTag": "1.0-amd64", "imageDigest": other.digest},
             {"imageTag": "1.0-amd64", "imageDigest": image.digest}]
    response = ecr.client.batch_get_image(repositoryName=REPO, imageIds=asked,
                                          acceptedMediaTypes=list(media_types.ALL_MANIFESTS))
    assert [(f["imageId"], f["failureCode"]) for f in response["failures"]] == [
        (asked[0], "ImageNotFound"), (asked[1], "ImageNotFound"), (asked[2], "InvalidImageDigest"),
        (asked[3], "ImageTagDoesNotMatchDigest")]
    assert [i["imageId"] for i in response["images"]] == [{"imageTag": "1.0-amd64", "imageDigest": image.digest}]


def test_batch_get_image_names_the_tag_asked_for(ecr: FakeEcr) -> None:
    image = make_image("amd64")
    ecr.push(REPO, "1.0-amd64", image)
    ecr.client.put_image(repositoryName=REPO, imageTag="1-amd64", imageManifest=image.manifest.decode(),
                         imageManifestMediaType=image.media_type)
    [returned] = get(ecr, {"imageTag": "1.0-amd64"}, list(media_types.ALL_MANIFESTS))["images"]
    assert returned["imageId"] == {"imageTag": "1.0-amd64", "imageDigest": image.digest}


FAILURE_CODES = ["InvalidImageDigest", "InvalidImageTag", "ImageTagDoesNotMatchDigest", "ImageNotFound",
                 "MissingDigestAndTag", "ImageReferencedByManifestList", "KmsError", "UpstreamAccessDenied",
                 "UpstreamTooManyRequests", "UpstreamUnavailable", "ImageInaccessible"]


@pytest.mark.parametrize("code", FAILURE_CODES)
@pytest.mark.parametrize("by", ["tag", "digest"])
def test_an_injected_failure_code_comes_back_for_that_image_only(ecr: FakeEcr, code: str, by: str) -> None:
    failing, fine = make_image("amd64"), make_image("arm64")
    ecr.push(REPO, "1.0-amd64", failing)
    ecr.push(REPO, "1.0-arm64", fine)
    ecr.fail_image(REPO, "1.0-amd64" if by == "tag" else failing.digest, code, times=1)
    asked = [{"imageTag": "1.0-amd64"}, {"imageTag": "1.0-arm64"}]

    first = ecr.client.batch_get_image(repositoryName=REPO, imageIds=asked,
                                       acceptedMediaTypes=list(media_types.ALL_MANIFESTS))
    again = ecr.client.batch_get_image(repositoryName=REPO, imageIds=asked,
                                       acceptedMediaTypes=list(media_types.ALL_MANIFESTS))

    assert [(f["imageId"], f["failureCode"]) for f in first["failures"]] == [(asked[0], code)]
    assert [i["imageId"]["imageDigest"] for i in first["images"]] == [fine.digest]
    assert again["failures"] == [] and len(again["images"]) == 2  # times=1: one answer only


def test_the_failure_codes_are_ecrs_own(ecr: FakeEcr) -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model("ecr")
    assert list(model.shape_for("ImageFailureCode").enum) == FAILURE_CODES  # type: ignore[attr-defined]
    with pytest.raises(ValueError, match="not an ECR ImageFailureCode"):
        ecr.fail_image(REPO, "1.0", "Gone")


def test_an_archived_image_is_inaccessible_and_left_out_of_listings_until_restored(ecr: FakeEcr) -> None:
    image = make_image("amd64")
    ecr.push(REPO, "1.0-amd64", image)
    digest = ecr.archive(REPO, "1.0-amd64")

    assert get(ecr, {"imageTag": "1.0-amd64"}, list(media_types.ALL_MANIFESTS))["failures"][0]["failureCode"] == \
        "ImageInaccessible"
    assert list_ids(ecr) == []
    assert list_ids(ecr, imageStatus="ARCHIVED") == [{"imageDigest": digest, "imageTag": "1.0-amd64"}]
    assert list_ids(ecr, imageStatus="ANY") == [{"imageDigest": digest, "imageTag": "1.0-amd64"}]

    ecr.restore(REPO, digest)
    assert get(ecr, {"imageTag": "1.0-amd64"}, list(media_types.ALL_MANIFESTS))["failures"] == []
    assert list_ids(ecr) == [{"imageDigest": digest, "imageTag": "1.0-amd64"}]


# --------------------------------------------------------------------------------------------- layers


@pytest.mark.parametrize("error", ["LayersNotFoundException", "LayerInaccessibleException",
                                   "UnableToGetUpstreamLayerException"])
def test_an_injected_layer_error_is_raised_for_that_blob_only(ecr: FakeEcr, error: str) -> None:
    image, other = make_image("amd64"), make_image("arm64")
    ecr.push(REPO, "1.0-amd64", image)
    ecr.push(REPO, "1.0-arm64", other)
    ecr.fail_layer(REPO, image.config_digest, error, times=1)

    assert error_code(lambda: ecr.client.get_download_url_for_layer(
        repositoryName=REPO, layerDigest=image.config_digest)) == error
    assert ecr.client.get_download_url_for_layer(repositoryName=REPO, layerDigest=other.config_digest)["layerDigest"] \
        == other.config_digest
    assert ecr.client.get_download_url_for_layer(repositoryName=REPO, layerDigest=image.config_digest)["layerDigest"] \
        == image.config_digest  # times=1


def test_a_blob_never_uploaded_is_not_found_and_one_no_image_references_is_inaccessible(ecr: FakeEcr) -> None:
    image = make_image("amd64")
    ecr.push_blobs(REPO, image)  # uploaded, but no manifest names it yet
    assert error_code(lambda: ecr.client.get_download_url_for_layer(
        repositoryName=REPO, layerDigest=image.config_digest)) == "LayerInaccessibleException"
    assert error_code(lambda: ecr.client.get_download_url_for_layer(
        repositoryName=REPO, layerDigest="sha256:" + "1" * 64)) == "LayersNotFoundException"
    ecr.client.put_image(repositoryName=REPO, imageTag="1.0-amd64", imageManifest=image.manifest.decode(),
                         imageManifestMediaType=image.media_type)
    assert ecr.client.get_download_url_for_layer(repositoryName=REPO, layerDigest=image.config_digest)["layerDigest"] \
        == image.config_digest


# --------------------------------------------------------------------------------------------- PutImage checks


@pytest.mark.parametrize("missing", ["config", "layer"])
def test_put_image_of_a_manifest_whose_blobs_were_never_uploaded_is_refused(ecr: FakeEcr, missing: str) -> None:
    image = make_image("amd64")
    layer_digest = json.loads(image.manifest)["layers"][0]["digest"]
    absent = image.config_digest if missing == "config" else layer_digest
    for digest, data in image.blobs.items():
        if digest != absent:
            ecr.push_blobs(REPO, ImageBlobs(image.manifest, image.media_type, {digest: data}, image.config_digest))

    assert error_code(lambda: ecr.client.put_image(
        repositoryName=REPO, imageTag="1.0-amd64", imageManifest=image.manifest.decode(),
        imageManifestMediaType=image.media_type)) == "LayersNotFoundException"
    assert ecr.image_at(REPO, "1.0-amd64") is None


def test_put_image_of_an_index_whose_child_is_not_in_the_repository_is_refused(ecr: FakeEcr) -> None:
    present, absent = make_image("amd64"), make_image("arm64")
    ecr.push(REPO, "1.0-amd64", present)
    assert error_code(lambda: ecr.client.put_image(
        repositoryName=REPO, imageTag="1.0", imageManifest=index_of(present, absent),
        imageManifestMediaType=media_types.OCI_INDEX)) == "ReferencedImagesNotFoundException"


def test_put_image_checks_the_digest_it_is_given(ecr: FakeEcr) -> None:
    image = make_image("amd64")
    ecr.push_blobs(REPO, image)
    assert error_code(lambda: ecr.client.put_image(
        repositoryName=REPO, imageTag="1.0-amd64", imageManifest=image.manifest.decode(),
        imageManifestMediaType=image.media_type, imageDigest="sha256:" + "2" * 64)) == \
        "ImageDigestDoesNotMatchException"
    response = ecr.client.put_image(repositoryName=REPO, imageTag="1.0-amd64", imageManifest=image.manifest.decode(),
                                    imageManifestMediaType=image.media_type, imageDigest=image.digest)
    assert response["image"]["imageId"] == {"imageDigest": image.digest, "imageTag": "1.0-amd64"}


def test_a_missing_repository_is_repository_not_found(ecr: FakeEcr) -> None:
    image = make_image("amd64")
    for call in (lambda: ecr.client.put_image(repositoryName="nope", imageTag="1",
                                              imageManifest=image.manifest.decode(),
                                              imageManifestMediaType=image.media_type),
                 lambda: ecr.client.batch_get_image(repositoryName="nope", imageIds=[{"imageTag": "1"}]),
                 lambda: ecr.client.get_download_url_for_layer(repositoryName="nope", layerDigest=image.digest)):
        assert error_code(call) == "RepositoryNotFoundException"
