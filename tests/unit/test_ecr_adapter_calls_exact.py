"""The ECR adapter's calls and answers, exactly: the parameters each call sends (botocore's Stubber checks them
against the expected ones and the service model) and what the adapter makes of each answer.

The in-memory ECR always names a media type and a repository list, so the answers ECR may give without those
optional fields (BatchGetImage's ``imageManifestMediaType``, a DescribeRepositories page without ``repositories``)
are only reachable here.
"""

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import Stubber

from ecr_multiarch.adapters import ecr
from ecr_multiarch.adapters.ecr import Classification, EcrRegistry, Reaction, classify_client_error
from ecr_multiarch.domain import media_types
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.errors import (
    AccessDeniedError,
    ConfigBlobMissingError,
    ImageUnreadableError,
    ManifestIntegrityError,
    PermanentError,
    TransientError,
)
from ecr_multiarch.ports import StoredManifest

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


def test_a_refused_describe_repositories_names_the_operation_and_the_registry(client) -> None:
    ecr_client, stubber = client
    stubber.add_client_error("describe_repositories", service_error_code="AccessDeniedException",
                             service_message="no ecr:DescribeRepositories", http_status_code=400)

    with pytest.raises(AccessDeniedError) as raised:
        EcrRegistry(ecr_client, account_id="123456789012").list_repositories()

    assert str(raised.value) == (
        "DescribeRepositories on the registry: AccessDeniedException: not allowed: add the repository to the "
        "stack's RepositoryNames parameter (or fix the IAM policy): no ecr:DescribeRepositories")


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
