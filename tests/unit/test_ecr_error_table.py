"""The ECR error table against botocore's own model: every code ECR can answer is classified, as this test expects.

The expectations below are written out independently of adapters/ecr.py. The lists of codes come from botocore's
service model, so a botocore upgrade that brings a new failure code or error fails here until someone decides
what the code means and adds it to both tables (and to docs/errors.md).
"""

from pathlib import Path

import botocore.session
import pytest
from botocore.exceptions import ClientError

from ecr_multiarch.adapters.ecr import (
    CLIENT_ERRORS,
    IMAGE_FAILURES,
    Reaction,
    classify_client_error,
    raise_image_failure,
    translate_client_error,
)
from ecr_multiarch.errors import (
    AccessDeniedError,
    ConfigBlobMissingError,
    ImageUnreadableError,
    ImmutableTagError,
    IndexRejectedError,
    PermanentError,
    ReferencedImagesMissingError,
    RepositoryNotFoundError,
    TransientError,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "errors.md"
MODEL = botocore.session.get_session().get_service_model("ecr")

# BatchGetImage failures[].failureCode -> what must follow for an arch tag.
EXPECTED_IMAGE_FAILURES: dict[str, Reaction] = {
    "ImageNotFound": Reaction.ABSENT,
    "ImageTagDoesNotMatchDigest": Reaction.ABSENT,
    "MissingDigestAndTag": Reaction.ABSENT,
    "ImageInaccessible": Reaction.PERMANENT,
    "KmsError": Reaction.PERMANENT,
    "UpstreamAccessDenied": Reaction.PERMANENT,
    "InvalidImageDigest": Reaction.PERMANENT,
    "InvalidImageTag": Reaction.PERMANENT,
    "ImageReferencedByManifestList": Reaction.PERMANENT,
    "UpstreamTooManyRequests": Reaction.TRANSIENT,
    "UpstreamUnavailable": Reaction.TRANSIENT,
}

# Every operation the adapter calls, and the error each of its modelled codes must become.
OPERATIONS = ("BatchGetImage", "GetDownloadUrlForLayer", "PutImage", "ListImages", "DescribeRepositories",
              "ListTagsForResource")
EXPECTED_CLIENT_ERRORS: dict[tuple[str, str], type[Exception] | None] = {
    ("BatchGetImage", "ServerException"): TransientError,
    ("BatchGetImage", "InvalidParameterException"): PermanentError,
    ("BatchGetImage", "RepositoryNotFoundException"): RepositoryNotFoundError,
    ("BatchGetImage", "LimitExceededException"): PermanentError,
    ("BatchGetImage", "UnableToGetUpstreamImageException"): PermanentError,
    ("GetDownloadUrlForLayer", "ServerException"): TransientError,
    ("GetDownloadUrlForLayer", "InvalidParameterException"): PermanentError,
    ("GetDownloadUrlForLayer", "LayersNotFoundException"): ConfigBlobMissingError,
    ("GetDownloadUrlForLayer", "LayerInaccessibleException"): ConfigBlobMissingError,
    ("GetDownloadUrlForLayer", "RepositoryNotFoundException"): RepositoryNotFoundError,
    ("GetDownloadUrlForLayer", "UnableToGetUpstreamLayerException"): TransientError,
    ("PutImage", "ServerException"): TransientError,
    ("PutImage", "InvalidParameterException"): IndexRejectedError,
    ("PutImage", "RepositoryNotFoundException"): RepositoryNotFoundError,
    ("PutImage", "ImageAlreadyExistsException"): None,  # success: the same bytes are there
    ("PutImage", "LayersNotFoundException"): IndexRejectedError,
    ("PutImage", "ReferencedImagesNotFoundException"): ReferencedImagesMissingError,
    ("PutImage", "LimitExceededException"): IndexRejectedError,
    ("PutImage", "ImageTagAlreadyExistsException"): ImmutableTagError,
    ("PutImage", "ImageDigestDoesNotMatchException"): IndexRejectedError,
    ("PutImage", "KmsException"): PermanentError,
    ("ListImages", "ServerException"): TransientError,
    ("ListImages", "InvalidParameterException"): PermanentError,
    ("ListImages", "RepositoryNotFoundException"): RepositoryNotFoundError,
    ("DescribeRepositories", "ServerException"): TransientError,
    ("DescribeRepositories", "InvalidParameterException"): PermanentError,
    ("DescribeRepositories", "RepositoryNotFoundException"): RepositoryNotFoundError,
    ("ListTagsForResource", "InvalidParameterException"): PermanentError,
    ("ListTagsForResource", "RepositoryNotFoundException"): RepositoryNotFoundError,
    ("ListTagsForResource", "ServerException"): TransientError,
    # Not in the model's per-operation lists, but answered by every AWS API.
    ("PutImage", "ThrottlingException"): TransientError,
    ("BatchGetImage", "AccessDeniedException"): AccessDeniedError,
}


def modelled_errors(operation: str) -> set[str]:
    return {shape.name for shape in MODEL.operation_model(operation).error_shapes}


def test_every_failure_code_in_botocores_model_is_expected_here_and_classified_in_the_table() -> None:
    codes = set(MODEL.shape_for("ImageFailureCode").enum)
    assert codes == set(EXPECTED_IMAGE_FAILURES), "botocore changed ImageFailureCode: classify the new codes"
    assert set(IMAGE_FAILURES) == codes


def test_every_modelled_error_of_every_operation_we_call_is_expected_and_listed_in_the_table() -> None:
    for operation in OPERATIONS:
        for code in modelled_errors(operation):
            assert (operation, code) in EXPECTED_CLIENT_ERRORS, f"botocore lists {code} for {operation}: classify it"
            assert (operation, code) in CLIENT_ERRORS or ("*", code) in CLIENT_ERRORS, (operation, code)


@pytest.mark.parametrize(("code", "reaction"), sorted(EXPECTED_IMAGE_FAILURES.items()))
def test_each_failure_code_reacts_as_expected(code: str, reaction: Reaction) -> None:
    failure = {"imageId": {"imageTag": "1.0-arm64"}, "failureCode": code, "failureReason": "as ECR words it"}
    if reaction is Reaction.ABSENT:
        raise_image_failure("golang", failure)  # left out of the answer: the arch tag is awaited
        return
    expected = TransientError if reaction is Reaction.TRANSIENT else ImageUnreadableError
    with pytest.raises(expected) as raised:
        raise_image_failure("golang", failure)
    assert str(raised.value).startswith(f"golang:1.0-arm64 cannot be read: {code}: ")
    assert str(raised.value).endswith("(ECR: as ECR words it)")


def test_an_archived_image_says_how_to_restore_it() -> None:
    with pytest.raises(ImageUnreadableError, match=r"archived.*update-image-storage-class"):
        raise_image_failure("golang", {"imageId": {"imageDigest": "sha256:" + "a" * 64},
                                       "failureCode": "ImageInaccessible"})


def test_an_unknown_failure_code_is_reported_as_permanent_not_retried_forever() -> None:
    with pytest.raises(ImageUnreadableError, match=r"golang:1.0-arm64 cannot be read: ImageFrozenInCarbonite: .*"
                                                   r"does not know.*not retried"):
        raise_image_failure("golang", {"imageId": {"imageTag": "1.0-arm64"}, "failureCode": "ImageFrozenInCarbonite"})


@pytest.mark.parametrize(("operation", "code"), sorted(EXPECTED_CLIENT_ERRORS))
def test_each_client_error_becomes_the_expected_error(operation: str, code: str) -> None:
    error = ClientError({"Error": {"Code": code, "Message": "as ECR words it"},
                         "ResponseMetadata": {"HTTPStatusCode": 400}}, operation)
    translated = translate_client_error(error, operation, "golang")
    expected = EXPECTED_CLIENT_ERRORS[(operation, code)]
    if expected is None:
        assert classify_client_error(operation, code).reaction is Reaction.DONE
        assert not isinstance(translated, PermanentError | TransientError)
        return
    assert type(translated) is expected
    assert code in str(translated) and "as ECR words it" in str(translated)


@pytest.mark.parametrize(("status", "expected"), [(500, TransientError), (503, TransientError),
                                                  (429, TransientError), (400, PermanentError), (None, PermanentError)])
def test_an_unknown_client_error_follows_its_http_status(status: int | None, expected: type[Exception]) -> None:
    metadata = {} if status is None else {"ResponseMetadata": {"HTTPStatusCode": status}}
    error = ClientError({"Error": {"Code": "SomethingNewException", "Message": "m"}, **metadata}, "PutImage")
    assert type(translate_client_error(error, "PutImage", "golang")) is expected


def test_the_operator_page_lists_every_code_of_the_table() -> None:
    page = DOCS.read_text()
    for code in [*IMAGE_FAILURES, *(code for _, code in CLIENT_ERRORS)]:
        assert f"`{code}`" in page, f"docs/errors.md does not list {code}"
