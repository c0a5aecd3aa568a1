"""The exact text and type of every error the ECR adapter makes from an answer that is not the data asked for: the
reason an operator reads in a ``rejected`` outcome, a log line or the dead-letter queue, so each word is pinned,
including for the answers botocore does not guarantee the shape of (no ``Error`` section, no code, no message,
a status that is not a number)."""

import logging
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ecr_multiarch.adapters.ecr import error_code, raise_image_failure, translate_client_error
from ecr_multiarch.errors import (
    ConfigBlobMissingError,
    ImageUnreadableError,
    PermanentError,
    RepositoryNotFoundError,
    TransientError,
)
from tests.logs import records_named, records_of

LOGGER = "ecr_multiarch.adapters.ecr"
DIGEST = "sha256:" + "a" * 64
UNKNOWN_CODE_ADVICE = "an error code ecr-multiarch does not know; it is reported, not retried (please report it)"
UNKNOWN_FAILURE_ADVICE = "a failure code ecr-multiarch does not know; it is reported, not retried (please report it)"


def client_error(operation: str, code: str | None = None, message: str | None = None,
                 status: Any = 400) -> ClientError:
    error: dict[str, str] = {}
    if code is not None:
        error["Code"] = code
    if message is not None:
        error["Message"] = message
    return ClientError({"Error": error, "ResponseMetadata": {"HTTPStatusCode": status}}, operation)


def translated(error: ClientError, operation: str) -> tuple[type[Exception], str]:
    result = translate_client_error(error, operation, "golang")
    return type(result), str(result)


# --------------------------------------------------------------------------------------------- ClientError codes


def test_a_transient_code_says_it_failed_after_retries_and_carries_ecrs_message() -> None:
    assert translated(client_error("BatchGetImage", "ServerException", "internal"), "BatchGetImage") == (
        TransientError, "BatchGetImage on golang failed after retries: ServerException: ECR had an internal error: "
                        "internal")


def test_a_permanent_code_names_the_operation_code_advice_and_message_without_failed_after_retries() -> None:
    assert translated(client_error("GetDownloadUrlForLayer", "LayersNotFoundException", "no such layer"),
                      "GetDownloadUrlForLayer") == (
        ConfigBlobMissingError,
        "GetDownloadUrlForLayer on golang: LayersNotFoundException: the config blob the manifest names is not in the "
        "repository: the image is broken; push it again: no such layer")


def test_a_code_listed_for_every_operation_is_found_from_any_operation() -> None:
    assert translated(client_error("ListImages", "RepositoryNotFoundException", "gone"), "ListImages") == (
        RepositoryNotFoundError, "ListImages on golang: RepositoryNotFoundException: the repository does not exist: "
                                 "gone")


def test_a_code_listed_for_one_operation_only_is_unknown_to_another() -> None:
    assert translated(client_error("ListImages", "LayersNotFoundException", "m"), "ListImages") == (
        PermanentError, f"ListImages on golang: LayersNotFoundException: {UNKNOWN_CODE_ADVICE}: m")


def test_an_error_without_a_message_ends_with_the_advice() -> None:
    assert translated(client_error("PutImage", "ThrottlingException"), "PutImage") == (
        TransientError, "PutImage on golang failed after retries: ThrottlingException: ECR throttled the calls "
                        "(PutImage is 10 per second per account)")


def test_an_error_without_a_code_is_an_unknown_permanent_one_with_an_empty_code() -> None:
    error = client_error("PutImage", message="m")
    assert error_code(error) == ""
    assert translated(error, "PutImage") == (PermanentError, f"PutImage on golang: : {UNKNOWN_CODE_ADVICE}: m")


def test_an_error_without_an_error_section_is_an_unknown_code_that_follows_its_status() -> None:
    error = ClientError({"ResponseMetadata": {"HTTPStatusCode": 503}}, "PutImage")
    assert error_code(error) == ""
    assert translated(error, "PutImage") == (
        TransientError, "PutImage on golang failed after retries: : an error code ecr-multiarch does not know, "
                        "with a server-side status")


@pytest.mark.parametrize(("status", "expected"), [
    (500, TransientError), (502, TransientError), (429, TransientError),
    (499, PermanentError), (428, PermanentError), (430, PermanentError),
    ("503", PermanentError),  # not a number: no status to go by
])
def test_an_unknown_code_is_transient_only_for_a_5xx_or_429_status(status: Any, expected: type[Exception]) -> None:
    assert translated(client_error("PutImage", "SomethingNewException", status=status), "PutImage")[0] is expected


def test_an_unknown_code_without_response_metadata_is_permanent() -> None:
    error = ClientError({"Error": {"Code": "SomethingNewException", "Message": "m"}}, "PutImage")
    assert translated(error, "PutImage") == (
        PermanentError, f"PutImage on golang: SomethingNewException: {UNKNOWN_CODE_ADVICE}: m")


# ----------------------------------------------------------------------------------- BatchGetImage failures[]


def test_an_unreadable_image_names_the_tag_code_advice_and_ecrs_reason() -> None:
    with pytest.raises(ImageUnreadableError) as raised:
        raise_image_failure("golang", {"imageId": {"imageTag": "1.0-arm64", "imageDigest": DIGEST},
                                       "failureCode": "KmsError", "failureReason": "  key disabled \n"})
    assert str(raised.value) == (
        "golang:1.0-arm64 cannot be read: KmsError: the repository's KMS key cannot be used to read the image: the key "
        "is disabled or pending deletion, or the function's role may not kms:Decrypt with it (ECR: key disabled)")


def test_an_image_asked_by_digest_is_named_by_its_digest_and_without_a_reason_ends_with_the_advice() -> None:
    with pytest.raises(TransientError) as raised:
        raise_image_failure("golang", {"imageId": {"imageDigest": DIGEST}, "failureCode": "UpstreamUnavailable"})
    assert str(raised.value) == (
        f"golang:{DIGEST} cannot be read: UpstreamUnavailable: the pull-through cache's upstream registry is "
        "unavailable")


@pytest.mark.parametrize("failure", [
    {"failureCode": "InvalidImageTag", "failureReason": ""},
    {"imageId": None, "failureCode": "InvalidImageTag", "failureReason": None},
    {"imageId": {}, "failureCode": "InvalidImageTag"},
])
def test_a_failure_that_names_no_image_says_an_image(failure: dict[str, Any]) -> None:
    with pytest.raises(ImageUnreadableError) as raised:
        raise_image_failure("golang", failure)
    assert str(raised.value) == "golang:an image cannot be read: InvalidImageTag: ECR calls the tag invalid"


@pytest.mark.parametrize("code", ["ImageNotFound", "ImageTagDoesNotMatchDigest", "MissingDigestAndTag"])
def test_an_absent_image_raises_nothing_and_logs_nothing(code: str, caplog: pytest.LogCaptureFixture) -> None:
    with records_of(LOGGER, caplog), caplog.at_level(logging.INFO, logger=LOGGER):
        assert raise_image_failure("golang", {"imageId": {"imageTag": "1.0-arm64"}, "failureCode": code}) is None
    assert records_named(LOGGER, caplog) == []


@pytest.mark.parametrize(("failure", "code"), [
    ({"imageId": {"imageTag": "1.0-arm64"}, "failureCode": "ImageFrozenInCarbonite"}, "ImageFrozenInCarbonite"),
    ({"imageId": {"imageTag": "1.0-arm64"}}, ""),  # no code at all
])
def test_an_unknown_failure_code_is_logged_once_then_raised_as_unreadable(
        failure: dict[str, Any], code: str, caplog: pytest.LogCaptureFixture) -> None:
    with records_of(LOGGER, caplog), caplog.at_level(logging.INFO, logger=LOGGER), \
            pytest.raises(ImageUnreadableError) as raised:
        raise_image_failure("golang", failure)

    assert str(raised.value) == f"golang:1.0-arm64 cannot be read: {code}: {UNKNOWN_FAILURE_ADVICE}"
    assert [(r.levelname, r.getMessage(), r.failure_code, r.repository)  # type: ignore[attr-defined]
            for r in records_named(LOGGER, caplog)] == [
        ("WARNING", "unknown BatchGetImage failure code", code, "golang")]
