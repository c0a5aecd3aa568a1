"""Real pipelines, through the real handler, boto3 and requests, against the fake ECR with real blobs:
BuildKit arch tags (OCI indexes with attestation manifests), mixed formats, many architectures, Windows."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from devkit.fake_ecr import FakeEcr
from devkit.images import ImageBlobs, make_buildkit_image, make_image
from devkit.lambda_context import FakeLambdaContext
from ecr_multiarch import handler
from ecr_multiarch.adapters.ecr import BOTOCORE_CONFIG, EcrRegistry
from ecr_multiarch.adapters.http_blobs import HttpBlobReader
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.domain import media_types
from ecr_multiarch.settings import Settings
from tests.conftest import load_event
from tests.functional.conftest import Invoke

VERSION = "1.19.2-alpine"
ATTESTATION = {media_types.REFERENCE_TYPE_ANNOTATION: media_types.ATTESTATION_MANIFEST}


def push(ecr: FakeEcr, suffix: str, image: ImageBlobs, version: str = VERSION,
         repository: str = "golang") -> dict[str, Any]:
    """Push ``image`` at ``<version>-<suffix>`` the way its builder would, and return ECR's event for it."""
    tag = f"{version}-{suffix}"
    digest = ecr.push(repository, tag, image)
    ecr.calls.clear()
    return load_event("push-amd64.json", image_tag=tag, image_digest=digest, manifest_media_type=image.media_type,
                      repository_name=repository)


def stored_index(ecr: FakeEcr, version: str = VERSION) -> dict[str, Any]:
    stored = ecr.image_at("golang", version)
    assert stored is not None
    assert stored.digest == "sha256:" + hashlib.sha256(stored.manifest).hexdigest()
    document: dict[str, Any] = json.loads(stored.manifest)
    assert document["mediaType"] == stored.media_type
    return document


def test_buildkit_arch_tags_give_an_oci_index_with_each_attestation_after_its_image(
    ecr: FakeEcr, invoke: Invoke
) -> None:
    amd64 = make_buildkit_image("amd64")
    arm64 = make_buildkit_image("arm64", variant="v8")
    assert invoke(push(ecr, "amd64", amd64))["outcome"] == "waiting"
    result = invoke(push(ecr, "arm64", arm64))
    assert result["outcome"] == "created"
    assert result["mediaType"] == media_types.OCI_INDEX
    document = stored_index(ecr)
    assert result["digest"] == ecr.image_at("golang", VERSION).digest  # type: ignore[union-attr]
    entries = document["manifests"]
    image_amd64, attest_amd64 = amd64.children
    image_arm64, attest_arm64 = arm64.children
    assert [e["digest"] for e in entries] == [image_amd64.digest, attest_amd64.digest,
                                              image_arm64.digest, attest_arm64.digest]
    assert entries[0]["platform"] == {"architecture": "amd64", "os": "linux"}
    assert entries[2]["platform"] == {"architecture": "arm64", "os": "linux", "variant": "v8"}
    for image_entry, attestation_entry in (entries[0:2], entries[2:4]):
        assert "annotations" not in image_entry
        assert attestation_entry["platform"] == {"architecture": "unknown", "os": "unknown"}
        # The link is intact: the attestation names the very image entry before it.
        assert attestation_entry["annotations"] == {
            media_types.REFERENCE_DIGEST_ANNOTATION: image_entry["digest"], **ATTESTATION}
        assert attestation_entry["mediaType"] == media_types.OCI_MANIFEST
    for entry, child in zip(entries, [*amd64.children, *arm64.children], strict=True):
        assert (entry["mediaType"], entry["size"]) == (child.media_type, len(child.manifest))
    assert set(document) == {"schemaVersion", "mediaType", "manifests"}  # no artifactType, subject, annotations
    # Reads: the arch tags, then the two images inside their indexes by digest (one call), two configs.
    assert ecr.operations() == ["batch_get_image", "batch_get_image", "get_download_url_for_layer",
                                "get_download_url_for_layer", "put_image", "batch_get_image"]


def test_a_redelivered_buildkit_event_is_recognised_without_reading_children(ecr: FakeEcr, invoke: Invoke) -> None:
    push(ecr, "amd64", make_buildkit_image("amd64"))
    event = push(ecr, "arm64", make_buildkit_image("arm64", variant="v8"))
    created = invoke(event)
    ecr.calls.clear()
    again = invoke(event)
    assert again["outcome"] == "unchanged" and again["digest"] == created["digest"]
    assert ecr.operations() == ["batch_get_image"]


@pytest.mark.parametrize("settings", [Settings(keep_attestations=False)])
def test_attestations_can_be_dropped(ecr: FakeEcr, invoke: Invoke) -> None:
    amd64 = make_buildkit_image("amd64")
    arm64 = make_buildkit_image("arm64", variant="v8")
    push(ecr, "amd64", amd64)
    result = invoke(push(ecr, "arm64", arm64))
    assert result["outcome"] == "created" and result["mediaType"] == media_types.OCI_INDEX
    entries = stored_index(ecr)["manifests"]
    assert [e["digest"] for e in entries] == [amd64.children[0].digest, arm64.children[0].digest]
    assert all("annotations" not in e for e in entries)


@pytest.mark.parametrize("settings", [Settings(keep_attestations=False)])
def test_dropped_attestations_over_docker_images_give_a_docker_list(ecr: FakeEcr, invoke: Invoke) -> None:
    push(ecr, "amd64", make_buildkit_image("amd64", oci=False))
    result = invoke(push(ecr, "arm64", make_buildkit_image("arm64", variant="v8", oci=False)))
    assert result["mediaType"] == media_types.DOCKER_MANIFEST_LIST
    assert len(stored_index(ecr)["manifests"]) == 2


def test_mixed_docker_and_buildkit_children_give_an_oci_index(ecr: FakeEcr, invoke: Invoke) -> None:
    plain = make_image("amd64")
    buildkit = make_buildkit_image("arm64", variant="v8", oci=False)  # Docker image, but an OCI attestation
    push(ecr, "amd64", plain)
    result = invoke(push(ecr, "arm64", buildkit))
    assert result["outcome"] == "created" and result["mediaType"] == media_types.OCI_INDEX
    entries = stored_index(ecr)["manifests"]
    assert [e["digest"] for e in entries] == [plain.digest, *(child.digest for child in buildkit.children)]
    assert [e["mediaType"] for e in entries] == [media_types.DOCKER_MANIFEST, media_types.DOCKER_MANIFEST,
                                                 media_types.OCI_MANIFEST]


def test_an_arch_index_without_the_tags_platform_is_rejected(ecr: FakeEcr, invoke: Invoke) -> None:
    push(ecr, "amd64", make_buildkit_image("amd64"))
    result = invoke(push(ecr, "arm64", make_buildkit_image("amd64", revision="built for the wrong platform")))
    assert result["outcome"] == "rejected"
    assert f"golang:{VERSION}-arm64 is an index with no image manifest for linux/arm64" in result["reason"]
    assert "put_image" not in ecr.operations()


def test_an_arch_index_with_two_images_for_the_tags_platform_is_rejected(ecr: FakeEcr, invoke: Invoke) -> None:
    other = make_image("arm64", variant="v8", oci=True, revision="second build")
    twice = make_buildkit_image("arm64", variant="v8",
                                extra=((other, {"architecture": "arm64", "os": "linux", "variant": "v8"}),))
    push(ecr, "amd64", make_buildkit_image("amd64"))
    result = invoke(push(ecr, "arm64", twice))
    assert result["outcome"] == "rejected"
    assert "2 image manifests for linux/arm64" in result["reason"] and "ambiguous" in result["reason"]
    assert ecr.image_at("golang", VERSION) is None


def test_a_multi_platform_arch_index_contributes_only_the_tags_platform(ecr: FakeEcr, invoke: Invoke) -> None:
    stray = make_image("s390x", oci=True)
    arm64 = make_buildkit_image("arm64", variant="v8", extra=((stray, {"architecture": "s390x", "os": "linux"}),))
    push(ecr, "amd64", make_image("amd64", oci=True))
    assert invoke(push(ecr, "arm64", arm64))["outcome"] == "created"
    digests = [e["digest"] for e in stored_index(ecr)["manifests"]]
    assert stray.digest not in digests and len(digests) == 3


SIX = ("amd64", "arm64", "armv7", "armv6", "ppc64le", "s390x")


@pytest.mark.parametrize("settings", [Settings(required_architectures=SIX)])
def test_six_architectures_with_arm_variants(ecr: FakeEcr, invoke: Invoke) -> None:
    images = {
        "amd64": make_image("x86_64"),  # an alias in the config: normalised
        "arm64": make_buildkit_image("arm64", variant="v8"),
        "armv7": make_image("arm", variant="v7"),
        "armv6": make_image("arm", variant="v6", oci=True),
        "ppc64le": make_image("ppc64le"),
        "s390x": make_image("s390x"),
    }
    outcomes = [invoke(push(ecr, suffix, image))["outcome"] for suffix, image in images.items()]
    assert outcomes == ["waiting"] * 5 + ["created"]
    entries = stored_index(ecr)["manifests"]
    platforms = [e["platform"] for e in entries if "annotations" not in e]
    assert platforms == [
        {"architecture": "amd64", "os": "linux"},
        {"architecture": "arm64", "os": "linux", "variant": "v8"},
        {"architecture": "arm", "os": "linux", "variant": "v7"},
        {"architecture": "arm", "os": "linux", "variant": "v6"},
        {"architecture": "ppc64le", "os": "linux"},
        {"architecture": "s390x", "os": "linux"},
    ]
    assert len(entries) == 7  # arm64's attestation follows it


@pytest.mark.parametrize("settings", [Settings(required_architectures=("amd64", "windows-amd64"))])
def test_windows_child_carries_os_version_and_features(ecr: FakeEcr, invoke: Invoke) -> None:
    windows = make_image("amd64", os="windows", os_version="10.0.20348.1906", os_features=["win32k"])
    push(ecr, "amd64", make_image("amd64"))
    result = invoke(push(ecr, "windows-amd64", windows))
    assert result["outcome"] == "created" and result["version"] == VERSION  # not "<version>-windows"
    assert stored_index(ecr)["manifests"][1]["platform"] == {
        "architecture": "amd64", "os": "windows", "os.version": "10.0.20348.1906", "os.features": ["win32k"]}


@pytest.mark.parametrize("settings", [Settings.from_environment(
    {"ARCH_SUFFIXES_EXTRA": "arm=linux/arm/v7", "REQUIRED_ARCHITECTURES": "amd64,arm"})])
def test_a_custom_suffix_from_configuration(ecr: FakeEcr, invoke: Invoke) -> None:
    push(ecr, "amd64", make_image("amd64"))
    assert invoke(push(ecr, "arm64", make_image("arm64", variant="v8")))["outcome"] == "skipped"  # not required
    result = invoke(push(ecr, "arm", make_image("arm", variant="v7")))
    assert result["outcome"] == "created"
    assert stored_index(ecr)["manifests"][1]["platform"] == {"architecture": "arm", "os": "linux", "variant": "v7"}
    mislabelled = invoke(push(ecr, "arm", make_image("arm", variant="v6", revision="2")))
    assert mislabelled["outcome"] == "rejected" and "labelled arm (linux/arm/v7)" in mislabelled["reason"]


# ------------------------------------------------------------------ per-repository policy (repository tags)

ARN = "arn:aws:ecr:us-east-1:123456789012:repository/golang"


@pytest.fixture
def invoke_with_policy(ecr: FakeEcr) -> Iterator[Invoke]:
    """The handler as the composition root wires it: repository tags read through the ECR adapter (TTL 0, so a
    tag change shows at once)."""
    registry = EcrRegistry(boto3.client("ecr", config=BOTOCORE_CONFIG))
    assembler = Assembler(registry, HttpBlobReader(), Settings(repository_tags_ttl=0), repository_tags=registry)
    handler.configure(assembler)
    yield lambda event: handler.lambda_handler(event, FakeLambdaContext())  # type: ignore[arg-type]
    handler.configure(None)


def tag_repository(ecr: FakeEcr, **tags: str) -> None:
    ecr.client.tag_resource(resourceArn=ARN, tags=[{"Key": f"ecr-multiarch:{key.replace('_', '-')}", "Value": value}
                                                   for key, value in tags.items()])


def test_a_repository_tag_changes_the_architecture_set(ecr: FakeEcr, invoke_with_policy: Invoke) -> None:
    tag_repository(ecr, architectures="amd64+arm64+armv7")
    push(ecr, "amd64", make_image("amd64"))
    waiting = invoke_with_policy(push(ecr, "arm64", make_image("arm64", variant="v8")))
    assert waiting["outcome"] == "waiting" and waiting["missing"] == [f"{VERSION}-armv7"]
    created = invoke_with_policy(push(ecr, "armv7", make_image("arm", variant="v7")))
    assert created["outcome"] == "created" and len(stored_index(ecr)["manifests"]) == 3
    tag_repository(ecr, architectures="amd64 arm64")  # spaces work too
    skipped = invoke_with_policy(push(ecr, "armv7", make_image("arm", variant="v7", revision="2")))
    assert skipped["outcome"] == "skipped" and "'armv7' is not one of the required" in skipped["reason"]
    # Narrowing the set never drops a platform the version tag serves by itself (issue 9: the no-drop rule) ...
    kept = invoke_with_policy(push(ecr, "arm64", make_image("arm64", variant="v8", revision="2")))
    assert kept["outcome"] == "rejected" and "serving linux/arm/v7, which the new index would drop" in kept["reason"]
    assert len(stored_index(ecr)["manifests"]) == 3
    tag_repository(ecr, replace="always")  # ... the operator's override lets it
    updated = invoke_with_policy(push(ecr, "arm64", make_image("arm64", variant="v8", revision="3")))
    assert updated["outcome"] == "updated" and len(stored_index(ecr)["manifests"]) == 2


def test_an_opted_out_repository_is_skipped_and_nothing_is_read(ecr: FakeEcr, invoke_with_policy: Invoke) -> None:
    tag_repository(ecr, enabled="false")
    push(ecr, "amd64", make_image("amd64"))
    result = invoke_with_policy(push(ecr, "arm64", make_image("arm64", variant="v8")))
    assert result["outcome"] == "skipped" and "opted out" in result["reason"]
    # The policy read, and the first read issued together with it (issue 13: the policy is not on the critical
    # path); nothing else is read and nothing is written.
    assert sorted(ecr.operations()) == ["batch_get_image", "list_tags_for_resource"]
    assert ecr.image_at("golang", VERSION) is None


def test_a_repository_tag_forces_the_index_format(ecr: FakeEcr, invoke_with_policy: Invoke) -> None:
    tag_repository(ecr, index_format="oci")
    push(ecr, "amd64", make_image("amd64"))
    assert invoke_with_policy(push(ecr, "arm64", make_image("arm64", variant="v8")))["mediaType"] == \
        media_types.OCI_INDEX


def test_an_unusable_repository_tag_is_rejected_with_its_name(ecr: FakeEcr, invoke_with_policy: Invoke) -> None:
    tag_repository(ecr, architectures="amd64,arm64")
    result = invoke_with_policy(push(ecr, "amd64", make_image("amd64")))
    assert result["outcome"] == "rejected" and "ecr-multiarch:architectures" in result["reason"]


@pytest.mark.parametrize("settings", [Settings(index_annotations=(("org.opencontainers.image.vendor", "ACME"),))])
def test_static_index_annotations_make_a_deterministic_oci_index(ecr: FakeEcr, invoke: Invoke) -> None:
    push(ecr, "amd64", make_image("amd64"))
    event = push(ecr, "arm64", make_image("arm64", variant="v8"))
    created = invoke(event)
    assert created["mediaType"] == media_types.OCI_INDEX
    assert stored_index(ecr)["annotations"] == {"org.opencontainers.image.vendor": "ACME"}
    ecr.calls.clear()
    assert invoke(event)["outcome"] == "unchanged"  # same bytes again, recognised without downloads
    assert ecr.operations() == ["batch_get_image"]
