"""Every ECR failure code, injected at the boto3 client, through the real handler and the real sweep: each one ends
as the error table says (docs/errors.md), and never writes anything. The expectations are this file's own."""

from collections.abc import Iterator
from typing import Any

import pytest

from devkit.fake_ecr import FakeEcr
from devkit.images import make_image
from devkit.lambda_context import FakeLambdaContext
from ecr_multiarch import handler
from ecr_multiarch.adapters.http_blobs import HttpBlobReader
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.errors import TransientError
from ecr_multiarch.reconcile import Reconciler
from ecr_multiarch.settings import Settings
from tests.conftest import load_event
from tests.functional.ecr_faults import FaultyEcrClient, faulty_registry

AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")

# failureCode -> the outcome of an arm64 push event when the amd64 tag's read fails with it.
IMAGE_FAILURE_OUTCOMES = {
    "ImageNotFound": "waiting",
    "ImageTagDoesNotMatchDigest": "waiting",
    "MissingDigestAndTag": "waiting",
    "ImageInaccessible": "rejected",
    "KmsError": "rejected",
    "UpstreamAccessDenied": "rejected",
    "InvalidImageDigest": "rejected",
    "InvalidImageTag": "rejected",
    "ImageReferencedByManifestList": "rejected",
    "UpstreamTooManyRequests": "retried",
    "UpstreamUnavailable": "retried",
    "ACodeEcrAddsNextYear": "rejected",
}

# GetDownloadUrlForLayer error code -> the outcome when the arm64 config's URL is refused with it.
LAYER_ERROR_OUTCOMES = {
    "LayersNotFoundException": "rejected",
    "LayerInaccessibleException": "rejected",
    "UnableToGetUpstreamLayerException": "retried",
    "RepositoryNotFoundException": "rejected",
    "InvalidParameterException": "rejected",
    "AccessDeniedException": "rejected",
    "ServerException": "retried",
    "ThrottlingException": "retried",
    "AnExceptionEcrAddsNextYear": "rejected",  # a 400: the request is wrong, and will be next time too
}


@pytest.fixture
def faulty(ecr: FakeEcr) -> Iterator[FaultyEcrClient]:
    for version in ("1.0", "1.1", "1.2", "1.3"):
        ecr.push("golang", f"{version}-amd64", AMD64)
        ecr.push("golang", f"{version}-arm64", ARM64)
    ecr.calls.clear()
    registry, client = faulty_registry()
    handler.configure(Assembler(registry, HttpBlobReader(), Settings()))
    yield client
    handler.configure(None)


def outcome_of(event: dict[str, Any]) -> tuple[str, dict[str, Any] | TransientError]:
    try:
        result = handler.lambda_handler(event, FakeLambdaContext())  # type: ignore[arg-type]
    except TransientError as error:
        return "retried", error
    return result["outcome"], result


ARM64_EVENT = load_event("push-arm64.json", image_tag="1.0-arm64", image_digest=ARM64.digest)


@pytest.mark.parametrize(("code", "expected"), sorted(IMAGE_FAILURE_OUTCOMES.items()))
def test_each_batch_get_image_failure_code_ends_as_the_table_says(
    ecr: FakeEcr, faulty: FaultyEcrClient, code: str, expected: str
) -> None:
    faulty.image_failures["1.0-amd64"] = code
    kind, detail = outcome_of(ARM64_EVENT)
    assert kind == expected
    if kind == "waiting":
        assert isinstance(detail, dict) and detail["missing"] == ["1.0-amd64"]
    else:
        assert f"golang:1.0-amd64 cannot be read: {code}: " in (detail["reason"] if isinstance(detail, dict)
                                                                 else str(detail))
    assert "put_image" not in ecr.operations()
    assert ecr.image_at("golang", "1.0") is None


def test_an_archived_arch_tag_is_rejected_with_how_to_restore_it(ecr: FakeEcr, faulty: FaultyEcrClient) -> None:
    faulty.image_failures["1.0-amd64"] = "ImageInaccessible"
    kind, detail = outcome_of(ARM64_EVENT)
    assert kind == "rejected" and isinstance(detail, dict)
    assert "archived" in detail["reason"] and "--target-storage-class STANDARD" in detail["reason"]


@pytest.mark.parametrize(("code", "expected"), sorted(LAYER_ERROR_OUTCOMES.items()))
def test_each_config_download_error_ends_as_the_table_says(
    ecr: FakeEcr, faulty: FaultyEcrClient, code: str, expected: str
) -> None:
    faulty.layer_errors[ARM64.config_digest] = code
    kind, detail = outcome_of(ARM64_EVENT)
    assert kind == expected
    text = detail["reason"] if isinstance(detail, dict) else str(detail)
    assert "GetDownloadUrlForLayer on golang" in text and code in text
    assert "put_image" not in ecr.operations()


def test_the_sweep_rejects_or_fails_only_the_versions_whose_images_fail(ecr: FakeEcr) -> None:
    for version in ("1.0", "1.1", "1.2", "1.3"):
        ecr.push("golang", f"{version}-amd64", AMD64)
        ecr.push("golang", f"{version}-arm64", ARM64)
    registry, client = faulty_registry()
    # Every tag is in the first 100-id bulk read, which version 1.0 triggers: 1.1's archived image must not fail it.
    client.image_failures["1.1-arm64"] = "ImageInaccessible"
    client.image_failures["1.3-amd64"] = "UpstreamUnavailable"
    report = Reconciler(registry, Assembler(registry, HttpBlobReader(), Settings())).sweep(["golang"])
    by_version = {entry.version: entry for entry in report.entries}
    assert {version: entry.status for version, entry in by_version.items()} == {
        "1.0": "created", "1.1": "rejected", "1.2": "created", "1.3": "failed"}
    rejected = by_version["1.1"].outcome
    assert rejected is not None and "golang:1.1-arm64 cannot be read: ImageInaccessible" in (rejected.reason or "")
    assert by_version["1.3"].error_type == "TransientError"
    assert "golang:1.3-amd64 cannot be read: UpstreamUnavailable" in (by_version["1.3"].failure or "")
    assert [entry.version for entry in report.failed] == ["1.3"]
    for version in ("1.0", "1.2"):
        assert ecr.image_at("golang", version) is not None
    for version in ("1.1", "1.3"):
        assert ecr.image_at("golang", version) is None
