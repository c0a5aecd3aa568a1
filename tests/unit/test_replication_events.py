"""ECR Replication Action events: an arch tag replicated into this region is classified like a push of it."""

import copy
from typing import Any

import pytest

from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.events import ArchPush, Skip, classify_event

SUFFIXES = ("amd64", "arm64")
DIGEST = "sha256:" + "7f5b" * 16
# AWS's documented sample of a replication event, with an arch-suffixed tag.
REPLICATION: dict[str, Any] = {
    "version": "0",
    "id": "c8b133b1-6029-ee73-e2a1-4f466b8ba999",
    "detail-type": "ECR Replication Action",
    "source": "aws.ecr",
    "account": "123456789012",
    "time": "2024-05-08T20:44:54Z",
    "region": "us-east-1",
    "resources": ["arn:aws:ecr:us-east-1:123456789012:repository/docker-hub/alpine"],
    "detail": {
        "result": "SUCCESS",
        "repository-name": "docker-hub/alpine",
        "image-digest": DIGEST,
        "source-account": "123456789012",
        "action-type": "REPLICATE",
        "source-region": "us-west-2",
        "image-tag": "3.17.2-arm64",
    },
}


def replication(**detail: Any) -> dict[str, Any]:
    event = copy.deepcopy(REPLICATION)
    for key, value in detail.items():
        if value is None:
            event["detail"].pop(key.replace("_", "-"), None)
        else:
            event["detail"][key.replace("_", "-")] = value
    return event


def test_a_successful_replication_of_an_arch_tag_is_an_arrival() -> None:
    classified = classify_event(REPLICATION, SUFFIXES)
    assert isinstance(classified, ArchPush)
    assert (classified.repository, classified.version, classified.arch_tag.suffix) == ("docker-hub/alpine",
                                                                                        "3.17.2", "arm64")
    assert classified.digest == Digest(DIGEST)


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (replication(result="FAILURE"), "result is 'FAILURE', not SUCCESS"),
        (replication(action_type="PUSH"), "action-type is 'PUSH', not REPLICATE"),
        (replication(image_tag=None), "untagged image replicated"),
        (replication(image_tag="3.17.2"), "tag has no configured architecture suffix"),
        (replication(image_digest="sha256:short"), "event has no valid image-digest"),
        ({**REPLICATION, "detail-type": "ECR Pull Through Cache Action"}, "not an ECR image action"),
        ({**REPLICATION, "source": "aws.s3"}, "not an ECR image action"),
    ],
)
def test_other_replication_events_are_skipped_with_a_reason(event: dict[str, Any], reason: str) -> None:
    classified = classify_event(event, SUFFIXES)
    assert isinstance(classified, Skip)
    assert reason in classified.reason


def test_a_push_event_must_still_say_push() -> None:
    push = copy.deepcopy(REPLICATION)
    push["detail-type"] = "ECR Image Action"
    classified = classify_event(push, SUFFIXES)
    assert isinstance(classified, Skip) and "action-type is 'REPLICATE', not PUSH" in classified.reason
