"""The whole path, event in -> ECR state out, through the real handler, boto3 and requests, against the fake ECR."""

import hashlib
import json
from typing import Any

import boto3
import pytest

from devkit.fake_ecr import FakeEcr
from devkit.images import ImageBlobs, make_image
from devkit.lambda_context import FakeLambdaContext
from devkit.stress import new_assembler
from ecr_multiarch import handler
from ecr_multiarch.adapters.ecr import EcrRegistry
from ecr_multiarch.domain import media_types
from ecr_multiarch.errors import BlobUnavailableError
from ecr_multiarch.settings import Settings
from tests.conftest import load_event
from tests.functional.conftest import Invoke

VERSION = "1.19.2-alpine"
AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")


def push(ecr: FakeEcr, arch: str, image: ImageBlobs) -> dict[str, Any]:
    """Push ``image`` as the ``arch`` tag of VERSION and return the event ECR would send for it."""
    digest = ecr.push("golang", f"{VERSION}-{arch}", image)
    ecr.calls.clear()
    return load_event(f"push-{arch}.json", image_digest=digest, manifest_media_type=image.media_type)


def expected_docker_list(*children: tuple[ImageBlobs, dict[str, str]]) -> bytes:
    """The index written out by hand, independently of the code under test."""
    entries = ",".join(
        f'{{"mediaType":"{image.media_type}","size":{len(image.manifest)},"digest":"{image.digest}",'
        f'"platform":{json.dumps(platform, separators=(",", ":"))}}}'
        for image, platform in children
    )
    return ('{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",'
            '"manifests":[' + entries + "]}").encode()


def test_amd64_alone_waits_then_arm64_creates_the_exact_index(ecr: FakeEcr, invoke: Invoke) -> None:
    first = invoke(push(ecr, "amd64", AMD64))
    assert first == {"outcome": "waiting", "repository": "golang", "version": VERSION,
                     "missing": [f"{VERSION}-arm64"]}
    assert ecr.operations() == ["batch_get_image"]
    assert ecr.image_at("golang", VERSION) is None

    second = invoke(push(ecr, "arm64", ARM64))
    expected = expected_docker_list(
        (AMD64, {"architecture": "amd64", "os": "linux"}),
        (ARM64, {"architecture": "arm64", "os": "linux", "variant": "v8"}),
    )
    expected_digest = "sha256:" + hashlib.sha256(expected).hexdigest()
    assert second == {"outcome": "created", "repository": "golang", "version": VERSION, "digest": expected_digest,
                      "mediaType": media_types.DOCKER_MANIFEST_LIST}
    stored = ecr.image_at("golang", VERSION)
    assert stored is not None
    assert stored.manifest == expected
    assert stored.digest == expected_digest
    assert stored.media_type == media_types.DOCKER_MANIFEST_LIST
    assert ecr.operations() == ["batch_get_image", "get_download_url_for_layer", "get_download_url_for_layer",
                                "put_image", "batch_get_image"]
    put = next(call for call in ecr.calls if call.operation == "put_image")
    assert put.params["imageDigest"] == expected_digest
    assert put.params["imageManifestMediaType"] == media_types.DOCKER_MANIFEST_LIST
    assert put.params["imageTag"] == VERSION


def test_the_same_event_again_is_unchanged_and_writes_nothing(ecr: FakeEcr, invoke: Invoke) -> None:
    push(ecr, "amd64", AMD64)
    event = push(ecr, "arm64", ARM64)
    created = invoke(event)
    ecr.calls.clear()
    again = invoke(event)
    assert again["outcome"] == "unchanged"
    assert again["digest"] == created["digest"]
    assert ecr.operations() == ["batch_get_image"]  # warm config cache: no blob URL, no write


def test_repushed_arm64_updates_the_index_to_the_new_digest(ecr: FakeEcr, invoke: Invoke) -> None:
    push(ecr, "amd64", AMD64)
    created = invoke(push(ecr, "arm64", ARM64))
    arm64_v2 = make_image("arm64", variant="v8", revision="2")
    updated = invoke(push(ecr, "arm64", arm64_v2))
    assert updated["outcome"] == "updated"
    assert updated["digest"] != created["digest"]
    stored = ecr.image_at("golang", VERSION)
    assert stored is not None and stored.digest == updated["digest"]
    assert [entry["digest"] for entry in json.loads(stored.manifest)["manifests"]] == [AMD64.digest,
                                                                                        arm64_v2.digest]


def test_mislabelled_architecture_is_rejected_and_nothing_written(ecr: FakeEcr, invoke: Invoke) -> None:
    push(ecr, "amd64", AMD64)
    result = invoke(push(ecr, "arm64", make_image("amd64", revision="mislabelled")))
    assert result["outcome"] == "rejected"
    assert "labelled arm64 (linux/arm64) but its config says linux/amd64" in result["reason"]
    assert "put_image" not in ecr.operations()
    assert ecr.image_at("golang", VERSION) is None


def test_single_arch_image_at_the_version_tag_is_rejected_and_left_untouched(ecr: FakeEcr, invoke: Invoke) -> None:
    someone_elses = make_image("amd64", revision="pushed by hand")
    ecr.push("golang", VERSION, someone_elses)
    push(ecr, "amd64", AMD64)
    result = invoke(push(ecr, "arm64", ARM64))
    assert result["outcome"] == "rejected"
    assert "single-arch image" in result["reason"] and "left untouched" in result["reason"]
    assert "put_image" not in ecr.operations()
    stored = ecr.image_at("golang", VERSION)
    assert stored is not None and stored.digest == someone_elses.digest


def test_the_index_own_push_event_is_skipped(ecr: FakeEcr, invoke: Invoke) -> None:
    push(ecr, "amd64", AMD64)
    created = invoke(push(ecr, "arm64", ARM64))
    ecr.calls.clear()
    result = invoke(load_event("push-index.json", image_digest=created["digest"]))
    assert result["outcome"] == "skipped"
    assert "index" in result["reason"]
    assert ecr.operations() == []


@pytest.mark.parametrize(("name", "reason"), [("push-untagged.json", "untagged"),
                                               ("delete-amd64.json", "not PUSH")])
def test_other_events_are_skipped_without_any_call(ecr: FakeEcr, invoke: Invoke, name: str, reason: str) -> None:
    result = invoke(load_event(name))
    assert result["outcome"] == "skipped"
    assert reason in result["reason"]
    assert ecr.operations() == []


def test_oci_children_give_an_oci_index(ecr: FakeEcr, invoke: Invoke) -> None:
    amd64, arm64 = make_image("amd64", oci=True), make_image("arm64", variant="v8", oci=True)
    push(ecr, "amd64", amd64)
    result = invoke(push(ecr, "arm64", arm64))
    stored = ecr.image_at("golang", VERSION)
    assert stored is not None
    document = json.loads(stored.manifest)
    assert result["outcome"] == "created"
    assert stored.media_type == document["mediaType"] == media_types.OCI_INDEX
    assert [(m["mediaType"], m["digest"], m["size"]) for m in document["manifests"]] == [
        (media_types.OCI_MANIFEST, amd64.digest, len(amd64.manifest)),
        (media_types.OCI_MANIFEST, arm64.digest, len(arm64.manifest)),
    ]


def test_mixed_children_give_an_oci_index(ecr: FakeEcr, invoke: Invoke) -> None:
    push(ecr, "amd64", AMD64)
    invoke(push(ecr, "arm64", make_image("arm64", oci=True)))
    stored = ecr.image_at("golang", VERSION)
    assert stored is not None and stored.media_type == media_types.OCI_INDEX


@pytest.mark.parametrize("settings", [Settings(dry_run=True)])
def test_dry_run_reports_the_index_and_writes_nothing(ecr: FakeEcr, invoke: Invoke) -> None:
    push(ecr, "amd64", AMD64)
    result = invoke(push(ecr, "arm64", ARM64))
    assert result["outcome"] == "planned"
    assert result["digest"].startswith("sha256:")
    assert "put_image" not in ecr.operations()
    assert ecr.image_at("golang", VERSION) is None


def test_unreachable_config_blob_raises_for_a_retry_and_writes_nothing(ecr: FakeEcr, invoke: Invoke) -> None:
    push(ecr, "amd64", AMD64)
    event = push(ecr, "arm64", ARM64)
    ecr.blob_server.faults.extend(["503"] * 8)
    with pytest.raises(BlobUnavailableError):
        invoke(event)
    assert "put_image" not in ecr.operations()
    assert ecr.image_at("golang", VERSION) is None


def test_default_composition_root_reads_settings_from_the_environment(
    ecr: FakeEcr, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No injection: the handler builds its own boto3 client and settings, as in Lambda."""
    monkeypatch.setenv("REQUIRED_ARCHITECTURES", "amd64,arm64")
    monkeypatch.setenv("INDEX_FORMAT", "oci")
    monkeypatch.setenv("DRY_RUN", "false")
    handler.configure(None)
    try:
        push(ecr, "amd64", AMD64)
        result = handler.lambda_handler(push(ecr, "arm64", ARM64), FakeLambdaContext())  # type: ignore[arg-type]
    finally:
        handler.configure(None)
    assert result["outcome"] == "created"
    stored = ecr.image_at("golang", VERSION)
    assert stored is not None and stored.media_type == media_types.OCI_INDEX


def test_list_tags_pages_through_the_repository(ecr: FakeEcr) -> None:
    for index in range(1005):  # seeded with their blobs: ECR refuses a manifest whose layers were never uploaded
        image = make_image("amd64", revision=str(index))
        ecr.seed("golang", f"t{index}", image.manifest, image.media_type, image.blobs)
    ecr.calls.clear()
    tags = EcrRegistry(boto3.client("ecr")).list_tags("golang")
    assert len(tags) == 1005 and tags[0] == "t0"
    assert [call.params["maxResults"] for call in ecr.calls if call.operation == "list_images"] == [1000, 1000]


def test_an_event_without_optional_envelope_fields_still_assembles(ecr: FakeEcr, invoke: Invoke) -> None:
    """Found by make stress: a missing "id" crashed the handler through Powertools' EventBridgeEvent.get_id."""
    push(ecr, "amd64", AMD64)
    event = push(ecr, "arm64", ARM64)
    for key in ("id", "time", "account", "region", "resources", "version"):
        del event[key]
    assert invoke(event)["outcome"] == "created"


def test_a_current_index_is_recognised_by_a_cold_container_without_any_config_download(
    ecr: FakeEcr, invoke: Invoke
) -> None:
    push(ecr, "amd64", AMD64)
    event = push(ecr, "arm64", ARM64)
    invoke(event)
    ecr.calls.clear()
    handler.configure(new_assembler())  # a new container: empty config cache
    assert invoke(event)["outcome"] == "unchanged"
    assert ecr.operations() == ["batch_get_image"]
    assert len(ecr.blob_server.requests) == 2  # both configs, downloaded once, by the first container


def test_a_hand_made_index_over_the_same_children_is_rewritten_canonically(ecr: FakeEcr, invoke: Invoke) -> None:
    push(ecr, "amd64", AMD64)
    event = push(ecr, "arm64", ARM64)
    pretty = json.dumps(json.loads(expected_docker_list(
        (AMD64, {"architecture": "amd64", "os": "linux"}),
        (ARM64, {"architecture": "arm64", "os": "linux", "variant": "v8"}),
    )), indent=3)  # what `docker manifest push` would have written by hand
    ecr.client.put_image(repositoryName="golang", imageTag=VERSION, imageManifest=pretty,
                         imageManifestMediaType=media_types.DOCKER_MANIFEST_LIST)
    ecr.calls.clear()
    result = invoke(event)
    assert result["outcome"] == "updated"
    stored = ecr.image_at("golang", VERSION)
    assert stored is not None and json.loads(stored.manifest) == json.loads(pretty)
    assert stored.manifest != pretty.encode()
