"""Replication destinations: an arch tag that arrives by replication (an "ECR Replication Action" event, no push
event at all) assembles the index through the real handler, as a push would."""

import copy
import hashlib
import json
from typing import Any

from devkit.fake_ecr import FakeEcr
from devkit.images import make_image
from ecr_multiarch.domain import media_types
from tests.conftest import load_event
from tests.functional.conftest import Invoke

VERSION = "3.17.2"
AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")

# AWS's documented sample of the event (detail-type, detail fields), for our repository and arch tag.
REPLICATION_SAMPLE: dict[str, Any] = {
    "version": "0",
    "id": "c8b133b1-6029-ee73-e2a1-4f466b8ba999",
    "detail-type": "ECR Replication Action",
    "source": "aws.ecr",
    "account": "123456789012",
    "time": "2024-05-08T20:44:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ecr:us-east-1:123456789012:repository/golang"],
    "detail": {
        "result": "SUCCESS",
        "repository-name": "golang",
        "image-digest": "sha256:7f5b" + "0" * 60,
        "source-account": "123456789012",
        "action-type": "REPLICATE",
        "source-region": "us-west-2",
        "image-tag": f"{VERSION}-arm64",
    },
}


def replicated(ecr: FakeEcr, tag: str, digest: str) -> dict[str, Any]:
    event = copy.deepcopy(REPLICATION_SAMPLE)
    event["detail"].update({"image-tag": tag, "image-digest": digest})
    ecr.calls.clear()
    return event


def test_a_replicated_second_arch_tag_assembles_the_exact_index(ecr: FakeEcr, invoke: Invoke) -> None:
    amd64 = ecr.push("golang", f"{VERSION}-amd64", AMD64)
    ecr.calls.clear()
    first = invoke(load_event("push-amd64.json", image_tag=f"{VERSION}-amd64", image_digest=amd64))
    assert first["outcome"] == "waiting" and first["missing"] == [f"{VERSION}-arm64"]

    # Replication writes the image into this region's repository; the only event is the replication one.
    arm64 = ecr.push("golang", f"{VERSION}-arm64", ARM64)
    result = invoke(replicated(ecr, f"{VERSION}-arm64", arm64))

    expected = ('{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.list.v2+json",'
                f'"manifests":[{{"mediaType":"{AMD64.media_type}","size":{len(AMD64.manifest)},'
                f'"digest":"{AMD64.digest}","platform":{{"architecture":"amd64","os":"linux"}}}},'
                f'{{"mediaType":"{ARM64.media_type}","size":{len(ARM64.manifest)},"digest":"{ARM64.digest}",'
                '"platform":{"architecture":"arm64","os":"linux","variant":"v8"}}]}').encode()
    digest = "sha256:" + hashlib.sha256(expected).hexdigest()
    assert result == {"outcome": "created", "repository": "golang", "version": VERSION, "digest": digest,
                      "mediaType": media_types.DOCKER_MANIFEST_LIST}
    stored = ecr.image_at("golang", VERSION)
    assert stored is not None and stored.manifest == expected
    assert ecr.operations().count("put_image") == 1


def test_a_failed_or_untagged_replication_writes_nothing(ecr: FakeEcr, invoke: Invoke) -> None:
    ecr.push("golang", f"{VERSION}-amd64", AMD64)
    arm64 = ecr.push("golang", f"{VERSION}-arm64", ARM64)
    failed = replicated(ecr, f"{VERSION}-arm64", arm64)
    failed["detail"]["result"] = "FAILURE"
    untagged = replicated(ecr, f"{VERSION}-arm64", arm64)
    del untagged["detail"]["image-tag"]
    for event, reason in ((failed, "result is 'FAILURE', not SUCCESS"), (untagged, "untagged image replicated")):
        result = invoke(json.loads(json.dumps(event)))
        assert result["outcome"] == "skipped" and reason in result["reason"]
    assert ecr.operations() == []
    assert ecr.image_at("golang", VERSION) is None
