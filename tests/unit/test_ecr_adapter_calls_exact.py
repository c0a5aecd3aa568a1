"""The ECR adapter's calls and answers, exactly: the parameters each call sends (botocore's Stubber checks them
against the expected ones and the service model) and what the adapter makes of each answer.

The in-memory ECR always names a media type and a repository list, so the answers ECR may give without those
optional fields (BatchGetImage's ``imageManifestMediaType``, a DescribeRepositories page without ``repositories``)
are only reachable here.
"""

import logging
from collections.abc import Callable, Iterator

import boto3
import pytest
from botocore.exceptions import EndpointConnectionError, ParamValidationError
from botocore.stub import Stubber

from ecr_multiarch.adapters import ecr
from ecr_multiarch.adapters.ecr import Classification, EcrRegistry, Reaction, classify_client_error
from ecr_multiarch.domain import media_types
from ecr_multiarch.domain.digest import Digest, InvalidDigestError
from ecr_multiarch.domain.index import ChildDescriptor, ImageIndex
from ecr_multiarch.domain.platform import Platform
from ecr_multiarch.errors import (
    AccessDeniedError,
    ConfigBlobMissingError,
    ImageUnreadableError,
    ImmutableTagError,
    ManifestIntegrityError,
    PermanentError,
    RepositoryNotFoundError,
    TransientError,
)
from ecr_multiarch.ports import PutResult, StoredManifest
from tests.logs import records_named, records_of

LOGGER = "ecr_multiarch.adapters.ecr"
OTHER_REGISTRY = "210987654321"
DOCKER_BODY = b'{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json"}'
UNDECLARED_BODY = b'{"schemaVersion":2,"layers":[]}'
EMPTY_SHA256 = "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"


@pytest.fixture
def client() -> Iterator[tuple[object, Stubber]]:
    client = boto3.client("ecr", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def by_digest_call(registry: EcrRegistry, stubber: Stubber, images: list[dict[str, object]],
                   asked: list[Digest]) -> dict[Digest, StoredManifest]:
    stubber.add_response(
        "batch_get_image", {"images": images, "failures": []},
        {"repositoryName": "golang", "imageIds": [{"imageDigest": str(digest)} for digest in asked],
         "acceptedMediaTypes": list(media_types.ALL_MANIFESTS)})
    return registry.get_manifests_by_digest("golang", asked)


# ------------------------------------------------------------------------------------------- list_repositories


def test_list_repositories_asks_the_other_registry_for_pages_of_1000_and_names_every_repository(client) -> None:
    ecr_client, stubber = client
    stubber.add_response("describe_repositories",
                         {"repositories": [{"repositoryName": "golang"}, {"repositoryName": "team/api"}],
                          "nextToken": "page-2"},
                         {"registryId": OTHER_REGISTRY, "maxResults": 1000})
    stubber.add_response("describe_repositories", {},  # a page may come without the (optional) list
                         {"registryId": OTHER_REGISTRY, "maxResults": 1000, "nextToken": "page-2"})

    names = EcrRegistry(ecr_client, registry_id=OTHER_REGISTRY).list_repositories()

    assert names == ["golang", "team/api"]


def test_list_repositories_of_the_own_registry_sends_no_registry_id(client) -> None:
    ecr_client, stubber = client
    stubber.add_response("describe_repositories", {"repositories": [{"repositoryName": "golang"}]},
                         {"maxResults": 1000})

    assert EcrRegistry(ecr_client, account_id="123456789012").list_repositories() == ["golang"]


# ------------------------------------------------------------------------------ get_manifests_by_digest answers


def test_a_manifest_asked_by_digest_keeps_the_media_type_ecr_names_over_the_one_it_declares(client) -> None:
    ecr_client, stubber = client
    digest = Digest.of(DOCKER_BODY)
    image = {"imageId": {"imageDigest": str(digest)}, "imageManifest": DOCKER_BODY.decode(),
             "imageManifestMediaType": media_types.OCI_MANIFEST}

    found = by_digest_call(EcrRegistry(ecr_client, account_id="1"), stubber, [image], [digest])

    assert found == {digest: StoredManifest(tag="", digest=digest, media_type=media_types.OCI_MANIFEST,
                                            body=DOCKER_BODY)}


def test_a_manifest_asked_by_digest_without_a_media_type_from_ecr_takes_the_one_it_declares(client) -> None:
    ecr_client, stubber = client
    digest = Digest.of(DOCKER_BODY)
    image = {"imageId": {"imageDigest": str(digest)}, "imageManifest": DOCKER_BODY.decode()}

    found = by_digest_call(EcrRegistry(ecr_client, account_id="1"), stubber, [image], [digest])

    assert found == {digest: StoredManifest(tag="", digest=digest, media_type=media_types.DOCKER_MANIFEST,
                                            body=DOCKER_BODY)}


@pytest.mark.parametrize("body", [UNDECLARED_BODY, b'["not", "an", "object"]', b'{"mediaType": 2}', b"{not json"])
def test_a_manifest_asked_by_digest_with_no_media_type_anywhere_is_refused(client, body: bytes) -> None:
    ecr_client, stubber = client
    digest = Digest.of(body)
    image = {"imageId": {"imageDigest": str(digest)}, "imageManifest": body.decode()}

    with pytest.raises(PermanentError) as raised:
        by_digest_call(EcrRegistry(ecr_client, account_id="1"), stubber, [image], [digest])

    assert type(raised.value) is PermanentError
    assert str(raised.value) == f"{digest}: ECR named no media type and the manifest declares none"


def test_an_image_without_manifest_bytes_is_the_empty_document_which_was_not_asked_for(client) -> None:
    ecr_client, stubber = client
    asked = Digest.of(DOCKER_BODY)

    with pytest.raises(ManifestIntegrityError) as raised:
        by_digest_call(EcrRegistry(ecr_client, account_id="1"), stubber,
                       [{"imageId": {"imageDigest": str(asked)}}], [asked])

    assert str(raised.value) == f"ECR returned manifest bytes with digest {EMPTY_SHA256}, which was not asked for"


# ------------------------------------------------------------------- the table's helpers and its unknown codes


def test_the_permanent_helper_builds_a_permanent_verdict_with_the_error_it_is_given() -> None:
    # The table is built once, at import, so tests of its entries do not run the helper; this one does.
    assert ecr._permanent("advice", ImageUnreadableError) == Classification(
        Reaction.PERMANENT, "advice", ImageUnreadableError)
    assert ecr._permanent("advice") == Classification(Reaction.PERMANENT, "advice", PermanentError)


def test_the_transient_helper_builds_a_transient_verdict_with_the_error_it_is_given() -> None:
    assert ecr._transient("advice", ConfigBlobMissingError) == Classification(
        Reaction.TRANSIENT, "advice", ConfigBlobMissingError)
    assert ecr._transient("advice") == Classification(Reaction.TRANSIENT, "advice", TransientError)


@pytest.mark.parametrize("status", [None, 400, 404])
def test_an_unknown_code_with_a_client_side_status_is_a_permanent_verdict(status: int | None) -> None:
    assert classify_client_error("PutImage", "SomethingNewException", status) == Classification(
        Reaction.PERMANENT, "an error code ecr-multiarch does not know; it is reported, not retried (please report it)",
        PermanentError)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_an_unknown_code_with_a_server_side_status_is_a_transient_verdict(status: int) -> None:
    assert classify_client_error("PutImage", "SomethingNewException", status) == Classification(
        Reaction.TRANSIENT, "an error code ecr-multiarch does not know, with a server-side status", TransientError)


# --------------------------------------------------------------------- the registry's account and repository tags


class Recorded:
    """Stands in for one client method: records each call's parameters and answers with ``answer``."""

    def __init__(self, answer: dict[str, object]) -> None:
        self.answer = answer
        self.calls: list[dict[str, object]] = []

    def __call__(self, **kwargs: object) -> dict[str, object]:
        self.calls.append(kwargs)
        return self.answer


def test_repository_tags_asks_for_the_repositorys_arn_in_the_clients_partition_and_region() -> None:
    ecr_client = boto3.client("ecr", region_name="eu-west-1")
    ecr_client.list_tags_for_resource = Recorded(  # type: ignore[method-assign]
        {"tags": [{"Key": "ecr-multiarch:enabled", "Value": "true"}, {"Key": "team"}]})  # a Value ECR left out

    tags = EcrRegistry(ecr_client, account_id="123456789012").repository_tags("team/api")

    assert tags == {"ecr-multiarch:enabled": "true", "team": ""}
    assert ecr_client.list_tags_for_resource.calls == [  # type: ignore[attr-defined]
        {"resourceArn": "arn:aws:ecr:eu-west-1:123456789012:repository/team/api"}]


def test_repository_tags_of_another_registry_use_its_account_and_an_answer_without_tags_is_none() -> None:
    ecr_client = boto3.client("ecr", region_name="us-east-1")
    ecr_client.list_tags_for_resource = Recorded({})  # type: ignore[method-assign]

    assert EcrRegistry(ecr_client, account_id="123456789012", registry_id=OTHER_REGISTRY).repository_tags("golang") \
        == {}
    assert ecr_client.list_tags_for_resource.calls == [  # type: ignore[attr-defined]
        {"resourceArn": f"arn:aws:ecr:us-east-1:{OTHER_REGISTRY}:repository/golang"}]


def sts_clients(monkeypatch: pytest.MonkeyPatch, *answers: dict[str, object] | str) -> list[tuple[tuple, dict]]:
    """boto3.client("sts", ...) answers with a stubbed STS client; returns the list of boto3.client calls made."""
    real_client = boto3.client
    made: list[tuple[tuple, dict]] = []

    def client(*args: object, **kwargs: object) -> object:
        made.append((args, kwargs))
        sts = real_client("sts", region_name="us-east-1")
        stubber = Stubber(sts)
        for answer in answers:
            if isinstance(answer, str):
                stubber.add_client_error("get_caller_identity", service_error_code=answer, http_status_code=403)
            else:
                stubber.add_response("get_caller_identity", answer, {})
        stubber.activate()
        return sts

    monkeypatch.setattr(boto3, "client", client)
    return made


def test_the_own_account_is_asked_of_sts_once_in_the_clients_region_with_the_adapters_retries(
        monkeypatch: pytest.MonkeyPatch) -> None:
    ecr_client = boto3.client("ecr", region_name="eu-west-1")
    ecr_client.list_tags_for_resource = Recorded({"tags": []})  # type: ignore[method-assign]
    made = sts_clients(monkeypatch, {"Account": "123456789012", "UserId": "u", "Arn": "arn:aws:iam::1:user/u"})
    registry = EcrRegistry(ecr_client)

    registry.repository_tags("golang")
    registry.repository_tags("python")

    assert made == [(("sts",), {"region_name": "eu-west-1", "config": ecr.BOTOCORE_CONFIG, "endpoint_url": None})]
    assert [call["resourceArn"] for call in ecr_client.list_tags_for_resource.calls] == [  # type: ignore[attr-defined]
        "arn:aws:ecr:eu-west-1:123456789012:repository/golang",
        "arn:aws:ecr:eu-west-1:123456789012:repository/python"]


def test_sts_goes_where_the_functions_endpoint_points(monkeypatch: pytest.MonkeyPatch) -> None:
    ecr_client = boto3.client("ecr", region_name="us-east-1")
    ecr_client.list_tags_for_resource = Recorded({"tags": []})  # type: ignore[method-assign]
    made = sts_clients(monkeypatch, {"Account": "123456789012", "UserId": "u", "Arn": "arn:aws:iam::1:user/u"})

    EcrRegistry(ecr_client, endpoint_url="http://127.0.0.1:5000").repository_tags("golang")

    assert made == [(("sts",), {"region_name": "us-east-1", "config": ecr.BOTOCORE_CONFIG,
                                "endpoint_url": "http://127.0.0.1:5000"})]


def test_the_account_an_event_states_names_the_arn_over_any_other_and_asks_sts_nothing(
        monkeypatch: pytest.MonkeyPatch) -> None:
    ecr_client = boto3.client("ecr", region_name="us-east-1")
    ecr_client.list_tags_for_resource = Recorded({"tags": []})  # type: ignore[method-assign]
    made = sts_clients(monkeypatch)
    registry = EcrRegistry(ecr_client, account_id="012345678912")

    registry.repository_tags("golang", "123456789012")
    EcrRegistry(ecr_client).repository_tags("python", "123456789012")

    assert made == []
    assert [call["resourceArn"] for call in ecr_client.list_tags_for_resource.calls] == [  # type: ignore[attr-defined]
        "arn:aws:ecr:us-east-1:123456789012:repository/golang",
        "arn:aws:ecr:us-east-1:123456789012:repository/python"]


def test_a_listed_repository_is_read_at_the_arn_describe_repositories_gave_without_sts(
        client, monkeypatch: pytest.MonkeyPatch) -> None:
    ecr_client, stubber = client
    made = sts_clients(monkeypatch, {"Account": "123456789012", "UserId": "u", "Arn": "arn:aws:iam::1:user/u"})
    stubber.add_response("describe_repositories", {"repositories": [
        {"repositoryName": "golang", "repositoryArn": "arn:aws-cn:ecr:cn-north-1:333333333333:repository/golang"},
        {"repositoryName": "python"}]}, {"maxResults": 1000})
    for arn in ("arn:aws-cn:ecr:cn-north-1:333333333333:repository/golang",
                "arn:aws:ecr:us-east-1:444444444444:repository/golang",
                "arn:aws:ecr:us-east-1:123456789012:repository/python"):  # the stubber checks each call's ARN
        stubber.add_response("list_tags_for_resource", {"tags": []}, {"resourceArn": arn})
    registry = EcrRegistry(ecr_client)

    registry.list_repositories()
    registry.repository_tags("golang")
    registry.repository_tags("golang", "444444444444")  # an event's account wins over the listing's ARN
    assert made == []
    registry.repository_tags("python")  # listed without an ARN: STS names the account
    assert len(made) == 1


def test_sts_failing_is_a_transient_error_naming_the_call(monkeypatch: pytest.MonkeyPatch) -> None:
    ecr_client = boto3.client("ecr", region_name="us-east-1")
    sts_clients(monkeypatch, "AccessDenied")

    with pytest.raises(TransientError) as raised:
        EcrRegistry(ecr_client).repository_tags("golang")

    assert str(raised.value) == "STS GetCallerIdentity failed: ClientError"


# ------------------------------------------------------------------------------------------ get_manifests by tag


def by_tag_params(tags: list[str], **registry: str) -> dict[str, object]:
    return {"repositoryName": "golang", "imageIds": [{"imageTag": tag} for tag in tags],
            "acceptedMediaTypes": list(media_types.ALL_MANIFESTS), **registry}


def image_at(tag: str, body: bytes = DOCKER_BODY, digest: str | None = None, **fields: str) -> dict[str, object]:
    return {"imageId": {"imageTag": tag, "imageDigest": digest or str(Digest.of(body))},
            "imageManifest": body.decode(), **fields}


def test_tags_are_asked_once_each_in_calls_of_100_and_each_answer_is_kept_under_its_tag(client) -> None:
    ecr_client, stubber = client
    tags = [f"1.{n}-amd64" for n in range(150)]
    stubber.add_response("batch_get_image", {"images": [image_at("1.0-amd64", registryId=OTHER_REGISTRY)]},
                         by_tag_params(tags[:100], registryId=OTHER_REGISTRY))
    stubber.add_response("batch_get_image", {"images": [
        image_at("1.149-amd64", imageManifestMediaType=media_types.OCI_MANIFEST)], "failures": []},
        by_tag_params(tags[100:], registryId=OTHER_REGISTRY))

    found = EcrRegistry(ecr_client, registry_id=OTHER_REGISTRY).get_manifests("golang", [*tags, "1.0-amd64"])

    digest = Digest.of(DOCKER_BODY)
    assert found == {
        "1.0-amd64": StoredManifest("1.0-amd64", digest, media_types.DOCKER_MANIFEST, DOCKER_BODY),  # as declared
        "1.149-amd64": StoredManifest("1.149-amd64", digest, media_types.OCI_MANIFEST, DOCKER_BODY),  # as ECR says
    }


def test_no_tags_is_no_call(client) -> None:
    ecr_client, _ = client
    assert EcrRegistry(ecr_client, account_id="1").get_manifests("golang", []) == {}


def test_an_image_for_a_tag_not_asked_is_left_out_with_a_warning(client, caplog: pytest.LogCaptureFixture) -> None:
    ecr_client, stubber = client
    stubber.add_response("batch_get_image", {"images": [image_at("latest"), image_at("1.0-amd64")]},
                         by_tag_params(["1.0-amd64"]))

    with records_of(LOGGER, caplog), caplog.at_level(logging.INFO, logger=LOGGER):
        found = EcrRegistry(ecr_client, account_id="1").get_manifests("golang", ["1.0-amd64"])

    assert list(found) == ["1.0-amd64"]
    assert [(r.levelname, r.getMessage(), r.tag) for r in records_named(LOGGER, caplog)] == [  # type: ignore[attr-defined]
        ("WARNING", "BatchGetImage returned an image for a tag that was not asked for", "latest")]


def test_an_absent_tag_is_left_out_and_an_unreadable_one_is_raised_with_its_name(client) -> None:
    ecr_client, stubber = client
    stubber.add_response("batch_get_image", {"images": [image_at("1.0-amd64")], "failures": [
        {"imageId": {"imageTag": "1.0-arm64"}, "failureCode": "ImageNotFound", "failureReason": "no"}]},
        by_tag_params(["1.0-amd64", "1.0-arm64"]))
    stubber.add_response("batch_get_image", {"images": [], "failures": [
        {"imageId": {"imageTag": "1.0-arm64"}, "failureCode": "ImageInaccessible", "failureReason": "archived"}]},
        by_tag_params(["1.0-amd64", "1.0-arm64"]))
    registry = EcrRegistry(ecr_client, account_id="1")

    assert list(registry.get_manifests("golang", ["1.0-amd64", "1.0-arm64"])) == ["1.0-amd64"]
    with pytest.raises(ImageUnreadableError) as raised:
        registry.get_manifests("golang", ["1.0-amd64", "1.0-arm64"])

    assert str(raised.value) == (
        "golang:1.0-arm64 cannot be read: ImageInaccessible: the image is archived and cannot be pulled: restore it "
        "(aws ecr update-image-storage-class --target-storage-class STANDARD) or push it again (ECR: archived)")


def test_an_answer_without_images_is_no_manifest(client) -> None:
    ecr_client, stubber = client
    stubber.add_response("batch_get_image", {}, by_tag_params(["1.0-amd64"]))
    assert EcrRegistry(ecr_client, account_id="1").get_manifests("golang", ["1.0-amd64"]) == {}


@pytest.mark.parametrize(("image", "message"), [
    (image_at("1.0-amd64", digest="sha256:abc"),
     "ECR returned 1.0-amd64 with an invalid digest: {invalid}"),
    (image_at("1.0-amd64", digest=str(Digest.of(b"other bytes"))),
     f"ECR returned manifest bytes for 1.0-amd64 whose sha256 {Digest.of(DOCKER_BODY)} is not its digest "
     f"{Digest.of(b'other bytes')}"),
    ({"imageId": {"imageTag": "1.0-amd64", "imageDigest": str(Digest.of(DOCKER_BODY))}},  # no bytes at all
     f"ECR returned manifest bytes for 1.0-amd64 whose sha256 {EMPTY_SHA256} is not its digest "
     f"{Digest.of(DOCKER_BODY)}"),
])
def test_manifest_bytes_that_are_not_their_digest_are_refused(client, image: dict[str, object], message: str) -> None:
    ecr_client, stubber = client
    stubber.add_response("batch_get_image", {"images": [image]}, by_tag_params(["1.0-amd64"]))
    with pytest.raises(InvalidDigestError) as invalid:
        Digest("sha256:abc")

    with pytest.raises(ManifestIntegrityError) as raised:
        EcrRegistry(ecr_client, account_id="1").get_manifests("golang", ["1.0-amd64"])

    assert str(raised.value) == message.format(invalid=invalid.value)


def test_a_manifest_by_tag_with_no_media_type_anywhere_is_refused(client) -> None:
    ecr_client, stubber = client
    stubber.add_response("batch_get_image", {"images": [image_at("1.0-amd64", UNDECLARED_BODY)]},
                         by_tag_params(["1.0-amd64"]))

    with pytest.raises(PermanentError) as raised:
        EcrRegistry(ecr_client, account_id="1").get_manifests("golang", ["1.0-amd64"])

    assert type(raised.value) is PermanentError
    assert str(raised.value) == "1.0-amd64: ECR named no media type and the manifest declares none"


# ------------------------------------------------------------------------------------------- list_tag_digests


def list_images_params(token: str | None = None, **registry: str) -> dict[str, object]:
    params: dict[str, object] = {"repositoryName": "golang", "filter": {"tagStatus": "TAGGED"}, "maxResults": 1000,
                                 **registry}
    if token:
        params["nextToken"] = token
    return params


def test_list_tag_digests_pages_through_tagged_images_and_skips_an_untagged_one(client) -> None:
    ecr_client, stubber = client
    one, two, three = (str(Digest.of(bytes([n]))) for n in range(3))
    stubber.add_response("list_images", {"imageIds": [{"imageTag": "1.0-amd64", "imageDigest": one},
                                                      {"imageDigest": two},
                                                      {"imageTag": "1.0-arm64", "imageDigest": three}],
                                         "nextToken": "t"}, list_images_params(registryId=OTHER_REGISTRY))
    stubber.add_response("list_images", {}, list_images_params("t", registryId=OTHER_REGISTRY))

    digests = EcrRegistry(ecr_client, registry_id=OTHER_REGISTRY).list_tag_digests("golang")

    assert digests == {"1.0-amd64": Digest(one), "1.0-arm64": Digest(three)}


def test_list_tags_names_the_tags_of_the_listing(client) -> None:
    ecr_client, stubber = client
    stubber.add_response("list_images", {"imageIds": [{"imageTag": "1.0", "imageDigest": EMPTY_SHA256}]},
                         list_images_params())
    assert EcrRegistry(ecr_client, account_id="1").list_tags("golang") == ["1.0"]


def test_a_listing_with_an_invalid_digest_is_refused_naming_the_tag(client) -> None:
    ecr_client, stubber = client
    stubber.add_response("list_images", {"imageIds": [{"imageTag": "1.0", "imageDigest": "sha256:abc"}]},
                         list_images_params())
    with pytest.raises(InvalidDigestError) as invalid:
        Digest("sha256:abc")

    with pytest.raises(ManifestIntegrityError) as raised:
        EcrRegistry(ecr_client, account_id="1").list_tag_digests("golang")

    assert str(raised.value) == f"ListImages named golang:1.0 with {invalid.value}"


# ---------------------------------------------------------------------------------------- config_download_url


def test_config_download_url_asks_for_the_blob_of_the_repository_and_gives_the_url(client) -> None:
    ecr_client, stubber = client
    digest = Digest.of(b"config")
    stubber.add_response("get_download_url_for_layer",
                         {"downloadUrl": "https://blobs.example/config?X-Amz-Signature=s", "layerDigest": str(digest)},
                         {"repositoryName": "golang", "layerDigest": str(digest), "registryId": OTHER_REGISTRY})

    url = EcrRegistry(ecr_client, registry_id=OTHER_REGISTRY).config_download_url("golang", digest)

    assert url == "https://blobs.example/config?X-Amz-Signature=s"


def test_parameters_botocore_refuses_are_a_permanent_error_naming_operation_and_repository() -> None:
    ecr_client = boto3.client("ecr", region_name="us-east-1")  # botocore refuses before sending: nothing leaves
    with pytest.raises(ParamValidationError) as refused:
        ecr_client.get_download_url_for_layer(repositoryName=None, layerDigest=EMPTY_SHA256)

    with pytest.raises(PermanentError) as raised:
        EcrRegistry(ecr_client, account_id="1").config_download_url(None, Digest(EMPTY_SHA256))  # type: ignore[arg-type]

    assert type(raised.value) is PermanentError
    assert str(raised.value) == f"GetDownloadUrlForLayer on None has invalid parameters: {refused.value}"


def test_a_connection_error_after_retries_is_a_transient_error_naming_its_type(client) -> None:
    ecr_client, _ = client

    def unreachable(**kwargs: object) -> None:
        raise EndpointConnectionError(endpoint_url="https://api.ecr.us-east-1.amazonaws.com")

    ecr_client.get_download_url_for_layer = unreachable  # type: ignore[method-assign]

    with pytest.raises(TransientError) as raised:
        EcrRegistry(ecr_client, account_id="1").config_download_url("golang", Digest(EMPTY_SHA256))

    assert str(raised.value) == "GetDownloadUrlForLayer on golang failed after retries: EndpointConnectionError"


# -------------------------------------------------------------------------------------------------- put_index

INDEX = ImageIndex(media_types.OCI_INDEX, (ChildDescriptor(media_types.OCI_MANIFEST, 500, Digest.of(DOCKER_BODY),
                                                           Platform("linux", "arm64")),))


def put_params(**registry: str) -> dict[str, object]:
    return {"repositoryName": "golang", "imageManifest": INDEX.body.decode(), "imageManifestMediaType":
            media_types.OCI_INDEX, "imageTag": "1.0", "imageDigest": str(INDEX.digest), **registry}


def test_put_index_writes_the_exact_bytes_type_tag_and_digest(client) -> None:
    ecr_client, stubber = client
    stubber.add_response("put_image", {"image": {"repositoryName": "golang"}}, put_params(registryId=OTHER_REGISTRY))

    assert EcrRegistry(ecr_client, registry_id=OTHER_REGISTRY).put_index("golang", "1.0", INDEX) is PutResult.WRITTEN


def test_put_index_of_bytes_already_at_the_tag_is_already_exists(client) -> None:
    ecr_client, stubber = client
    stubber.add_client_error("put_image", service_error_code="ImageAlreadyExistsException", http_status_code=400,
                             expected_params=put_params())

    assert EcrRegistry(ecr_client, account_id="1").put_index("golang", "1.0", INDEX) is PutResult.ALREADY_EXISTS


def test_put_index_refused_by_an_immutable_tag_says_how_to_fix_it(client) -> None:
    ecr_client, stubber = client
    stubber.add_client_error("put_image", service_error_code="ImageTagAlreadyExistsException", http_status_code=400,
                             service_message="tag held")

    with pytest.raises(ImmutableTagError) as raised:
        EcrRegistry(ecr_client, account_id="1").put_index("golang", "1.0", INDEX)

    assert str(raised.value) == (
        "PutImage on golang: ImageTagAlreadyExistsException: the repository has immutable tags and the version tag "
        "already holds another image (make the repository MUTABLE, or exclude version tags from immutability): "
        "tag held")


def test_an_image_without_an_id_is_for_no_tag_asked_and_left_out_with_a_warning(
        client, caplog: pytest.LogCaptureFixture) -> None:
    ecr_client, stubber = client
    stubber.add_response("batch_get_image", {"images": [{"imageManifest": DOCKER_BODY.decode()}]},
                         by_tag_params(["1.0-amd64"]))

    with records_of(LOGGER, caplog), caplog.at_level(logging.INFO, logger=LOGGER):
        assert EcrRegistry(ecr_client, account_id="1").get_manifests("golang", ["1.0-amd64"]) == {}

    assert [(r.getMessage(), r.tag) for r in records_named(LOGGER, caplog)] == [  # type: ignore[attr-defined]
        ("BatchGetImage returned an image for a tag that was not asked for", None)]


# ------------------------------------------------------------------------------ refusals: operation, where, what to do

@pytest.mark.parametrize(("operation", "code", "message", "call", "error", "text"), [
    pytest.param("describe_repositories", "AccessDeniedException", "no ecr:DescribeRepositories",
                 lambda registry: registry.list_repositories(), AccessDeniedError,
                 "DescribeRepositories on the registry: AccessDeniedException: not allowed: add the repository to "
                 "the stack's RepositoryNames parameter (or fix the IAM policy): no ecr:DescribeRepositories",
                 id="DescribeRepositories"),
    pytest.param("list_tags_for_resource", "RepositoryNotFoundException", "none",
                 lambda registry: registry.repository_tags("golang"), RepositoryNotFoundError,
                 "ListTagsForResource on golang: RepositoryNotFoundException: the repository does not exist: none",
                 id="ListTagsForResource"),
    pytest.param("list_images", "RepositoryNotFoundException", "none",
                 lambda registry: registry.list_tag_digests("golang"), RepositoryNotFoundError,
                 "ListImages on golang: RepositoryNotFoundException: the repository does not exist: none",
                 id="ListImages"),
    pytest.param("get_download_url_for_layer", "LayerInaccessibleException", "not referenced",
                 lambda registry: registry.config_download_url("golang", Digest.of(b"config")),
                 ConfigBlobMissingError,
                 "GetDownloadUrlForLayer on golang: LayerInaccessibleException: the config blob is not available "
                 "(archived, or not associated with an image): restore or push the image again: not referenced",
                 id="GetDownloadUrlForLayer"),
    pytest.param("batch_get_image", "AccessDeniedException", "no ecr:BatchGetImage",
                 lambda registry: registry.get_manifests("golang", ["1.0-amd64"]), AccessDeniedError,
                 "BatchGetImage on golang: AccessDeniedException: not allowed: add the repository to the stack's "
                 "RepositoryNames parameter (or fix the IAM policy): no ecr:BatchGetImage",
                 id="BatchGetImage"),
])
def test_a_refused_call_names_the_operation_where_and_what_to_do(
    client, operation: str, code: str, message: str, call: Callable[[EcrRegistry], object],
    error: type[Exception], text: str,
) -> None:
    ecr_client, stubber = client
    stubber.add_client_error(operation, service_error_code=code, service_message=message, http_status_code=400)

    with pytest.raises(error) as raised:
        call(EcrRegistry(ecr_client, account_id="123456789012"))

    assert str(raised.value) == text
