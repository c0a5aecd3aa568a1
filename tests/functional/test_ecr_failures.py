"""What the service does when ECR reports a problem with one image or one blob, through the real handler, sweep and
adapters against the in-memory ECR's per-image faults: never a write, never an image taken for one it is not.

- A BatchGetImage failure that means "not there" gives ``waiting``; one a retry can fix (an upstream registry
  throttling or down) is raised for a Lambda retry; any other (archived, KMS, invalid...) is ``rejected`` with its
  code, reported once and never retried forever (adapters/ecr.py's table). None is taken for "not there": that
  would report a broken or archived child as simply missing.
- Bytes that do not hash to the digest ECR names (a converted manifest) are never used.
- An archived child is out of the sweep's listing (ListImages lists ACTIVE images by default): ``waiting``.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest

from devkit.fake_ecr import FakeEcr
from devkit.images import ImageBlobs, make_image
from ecr_multiarch.adapters.ecr import BOTOCORE_CONFIG, EcrRegistry
from ecr_multiarch.adapters.http_blobs import HttpBlobReader
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.errors import ManifestIntegrityError, TransientError
from ecr_multiarch.reconcile import Reconciler
from ecr_multiarch.settings import Settings
from tests.conftest import load_event
from tests.functional.conftest import Invoke

VERSION = "1.19.2-alpine"
AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")

ABSENT = ("ImageNotFound", "ImageTagDoesNotMatchDigest", "MissingDigestAndTag")
PERMANENT = ("InvalidImageDigest", "InvalidImageTag", "ImageReferencedByManifestList", "KmsError",
             "UpstreamAccessDenied", "ImageInaccessible")
TRANSIENT = ("UpstreamTooManyRequests", "UpstreamUnavailable")
REPORTED = PERMANENT + TRANSIENT


def push_both(ecr: FakeEcr) -> dict[str, Any]:
    ecr.push("golang", f"{VERSION}-amd64", AMD64)
    digest = ecr.push("golang", f"{VERSION}-arm64", ARM64)
    ecr.calls.clear()
    return load_event("push-arm64.json", image_digest=digest, manifest_media_type=ARM64.media_type)


def index_writes(ecr: FakeEcr) -> list[dict[str, Any]]:
    return [call.params for call in ecr.calls if call.operation == "put_image"]


def test_the_failure_codes_split_into_absent_and_reported() -> None:
    """Every ImageFailureCode botocore knows is in exactly one of the two tables below."""
    from devkit.ecr_rules import ecr_enum

    assert sorted(ABSENT + REPORTED) == sorted(ecr_enum("ImageFailureCode"))


@pytest.mark.parametrize("code", ABSENT)
def test_a_failure_meaning_not_there_gives_waiting(ecr: FakeEcr, invoke: Invoke, code: str) -> None:
    event = push_both(ecr)
    ecr.fail_image("golang", f"{VERSION}-amd64", code)
    assert invoke(event) == {"outcome": "waiting", "repository": "golang", "version": VERSION,
                             "missing": [f"{VERSION}-amd64"]}
    assert index_writes(ecr) == []


@pytest.mark.parametrize("code", PERMANENT)
def test_a_permanent_failure_is_rejected_with_its_code_and_nothing_is_written(ecr: FakeEcr, invoke: Invoke,
                                                                             code: str) -> None:
    event = push_both(ecr)
    ecr.fail_image("golang", AMD64.digest, code)  # by digest: it fails however the image is asked for

    result = invoke(event)
    assert result["outcome"] == "rejected" and f"{code}:" in result["reason"], result
    assert index_writes(ecr) == []
    assert ecr.image_at("golang", VERSION) is None


@pytest.mark.parametrize("code", TRANSIENT)
def test_a_transient_failure_is_raised_for_a_retry_and_the_retry_writes(ecr: FakeEcr, invoke: Invoke,
                                                                      code: str) -> None:
    event = push_both(ecr)
    ecr.fail_image("golang", AMD64.digest, code, times=1)  # by digest: it fails however the image is asked for

    with pytest.raises(TransientError, match=code):
        invoke(event)
    assert index_writes(ecr) == []
    assert ecr.image_at("golang", VERSION) is None

    assert invoke(event)["outcome"] == "created"  # Lambda's retry, once ECR answers again
    assert len(index_writes(ecr)) == 1


def test_a_manifest_whose_bytes_do_not_hash_to_its_digest_is_never_used(ecr: FakeEcr, invoke: Invoke) -> None:
    """ECR converts Docker <-> OCI when asked by tag without the stored type accepted; the service accepts every
    type, and still checks, because an index built from converted bytes would name the wrong manifest size."""
    event = push_both(ecr)
    ecr.convert_image("golang", f"{VERSION}-arm64")
    with pytest.raises(ManifestIntegrityError, match="sha256"):
        invoke(event)
    assert index_writes(ecr) == []


def test_the_service_accepts_every_manifest_type_so_ecr_never_converts(ecr: FakeEcr, invoke: Invoke) -> None:
    oci_arm64 = make_image("arm64", variant="v8", oci=True)
    ecr.push("golang", f"{VERSION}-amd64", AMD64)
    digest = ecr.push("golang", f"{VERSION}-arm64", oci_arm64)
    ecr.calls.clear()
    event = load_event("push-arm64.json", image_digest=digest, manifest_media_type=oci_arm64.media_type)

    assert invoke(event)["outcome"] == "created"
    reads = [call.params["acceptedMediaTypes"] for call in ecr.calls if call.operation == "batch_get_image"]
    assert reads and all(sorted(accepted) == sorted([
        "application/vnd.docker.distribution.manifest.v2+json", "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.list.v2+json", "application/vnd.oci.image.index.v1+json",
    ]) for accepted in reads)


@pytest.mark.parametrize("error", ["LayersNotFoundException", "LayerInaccessibleException"])
def test_a_config_ecr_will_never_serve_is_rejected_and_nothing_is_written(ecr: FakeEcr, invoke: Invoke,
                                                                         error: str) -> None:
    event = push_both(ecr)
    ecr.fail_layer("golang", ARM64.config_digest, error)
    result = invoke(event)
    assert result["outcome"] == "rejected" and error in result["reason"], result
    assert index_writes(ecr) == []


def test_a_config_the_upstream_cannot_serve_now_is_raised_for_a_retry_and_nothing_is_written(
    ecr: FakeEcr, invoke: Invoke
) -> None:
    event = push_both(ecr)
    ecr.fail_layer("golang", ARM64.config_digest, "UnableToGetUpstreamLayerException")
    with pytest.raises(TransientError, match="UnableToGetUpstreamLayerException"):
        invoke(event)
    assert index_writes(ecr) == []


def test_an_archived_child_leaves_its_version_waiting_in_a_sweep(ecr: FakeEcr) -> None:
    push_both(ecr)
    ecr.archive("golang", f"{VERSION}-amd64")
    registry = EcrRegistry(boto3.client("ecr", config=BOTOCORE_CONFIG))
    report = Reconciler(registry, Assembler(registry, HttpBlobReader(), Settings())).sweep(["golang"])

    [entry] = report.entries
    assert entry.to_json() == {"outcome": "waiting", "repository": "golang", "version": VERSION,
                               "missing": [f"{VERSION}-amd64"]}
    assert index_writes(ecr) == []


def test_a_stale_index_naming_a_replaced_child_is_updated_by_a_sweep(ecr: FakeEcr, invoke: Invoke) -> None:
    """ECR keeps the replaced arm64 image untagged, so the old index stays valid until the sweep rewrites it."""
    invoke(push_both(ecr))
    repushed: ImageBlobs = make_image("arm64", variant="v8", revision="2")
    ecr.push("golang", f"{VERSION}-arm64", repushed)
    ecr.calls.clear()
    registry = EcrRegistry(boto3.client("ecr", config=BOTOCORE_CONFIG))
    report = Reconciler(registry, Assembler(registry, HttpBlobReader(), Settings())).sweep(["golang"])

    assert [entry.status for entry in report.entries] == ["updated"]
    stored = ecr.image_at("golang", VERSION)
    assert stored is not None and repushed.digest.encode() in stored.manifest
    assert {"imageDigest": ARM64.digest} in ecr.client.list_images(repositoryName="golang")["imageIds"]
