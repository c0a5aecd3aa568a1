"""Classifying an ECR event (domain/events.py): each skip as the exact reason, repository and tag logged and
returned, so an operator reading why an event was ignored sees what arrived."""

import copy
from typing import Any

import pytest

from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.domain.events import ArchPush, Skip, classify_event
from ecr_multiarch.domain.tags import ArchTag
from tests.unit.test_events import changed

SUFFIXES = ("amd64", "arm64")
DIGEST = "sha256:" + "e" * 64
PUSH: dict[str, Any] = {
    "detail-type": "ECR Image Action",
    "source": "aws.ecr",
    "detail": {"result": "SUCCESS", "repository-name": "golang", "image-digest": DIGEST, "action-type": "PUSH",
               "image-tag": "1.0-arm64",
               "manifest-media-type": "application/vnd.docker.distribution.manifest.v2+json"},
}
REPLICATION: dict[str, Any] = {**copy.deepcopy(PUSH), "detail-type": "ECR Replication Action"}
REPLICATION["detail"].update({"action-type": "REPLICATE", "source-account": "111122223333",
                              "source-region": "eu-west-1"})


@pytest.mark.parametrize(("event", "skip"), [
    ([], Skip("event is not a JSON object")),
    ({**PUSH, "source": "aws.s3"},
     Skip("not an ECR image action or replication action (source='aws.s3', detail-type='ECR Image Action')")),
    ({**PUSH, "detail-type": "ECR Image Scan"},
     Skip("not an ECR image action or replication action (source='aws.ecr', detail-type='ECR Image Scan')")),
    ({**PUSH, "detail-type": 7}, Skip("not an ECR image action or replication action (source='aws.ecr', "
                                      "detail-type=7)")),
    ({**PUSH, "detail": "nope"}, Skip("event has no detail object")),
    (changed(PUSH, repository_name=None), Skip("event has no repository-name")),
    (changed(PUSH, repository_name="Golang"), Skip("repository-name is not a valid ECR repository name")),
    (changed(PUSH, repository_name="g"), Skip("repository-name is not a valid ECR repository name")),
    (changed(PUSH, action_type="DELETE"), Skip("action-type is 'DELETE', not PUSH", "golang", "1.0-arm64")),
    (changed(REPLICATION, action_type="PUSH"), Skip("action-type is 'PUSH', not REPLICATE", "golang", "1.0-arm64")),
    (changed(PUSH, result="FAILURE"), Skip("result is 'FAILURE', not SUCCESS", "golang", "1.0-arm64")),
    (changed(PUSH, image_tag=None), Skip("untagged push", "golang")),
    (changed(REPLICATION, image_tag=None), Skip("untagged image replicated", "golang")),
    (changed(PUSH, image_tag="1.0", manifest_media_type="application/vnd.oci.image.index.v1+json"),
     Skip("pushed image is an index (application/vnd.oci.image.index.v1+json) at a tag without an architecture "
          "suffix (such as our own index push)", "golang", "1.0")),
    (changed(PUSH, image_tag="1.0-ppc64le"),
     Skip("tag has no configured architecture suffix", "golang", "1.0-ppc64le")),
    (changed(PUSH, image_digest="sha256:short"), Skip("event has no valid image-digest", "golang", "1.0-arm64")),
], ids=["not-a-mapping", "source", "detail-type", "detail-type-not-text", "detail", "no-repository",
        "repository-case", "repository-short", "push-action", "replication-action", "result", "untagged-push",
        "untagged-replication", "index-without-suffix", "unknown-suffix", "digest"])
def test_each_skip_says_exactly_why(event: Any, skip: Skip) -> None:
    assert classify_event(event, SUFFIXES) == skip


@pytest.mark.parametrize("event", [PUSH, REPLICATION], ids=["push", "replication"])
def test_an_arrival_is_the_arch_tag_split_and_the_digest(event: dict[str, Any]) -> None:
    arrival = classify_event(event, SUFFIXES)
    assert arrival == ArchPush("golang", Digest(DIGEST), ArchTag("1.0-arm64", "1.0", "arm64"))
    assert isinstance(arrival, ArchPush) and arrival.version == "1.0"


@pytest.mark.parametrize("name", ["ab", "a" * 256, "team/app_1.x-y"])
def test_repository_names_at_the_bounds_are_accepted(name: str) -> None:
    event = changed(PUSH, repository_name=name)
    arrival = classify_event(event, SUFFIXES)
    assert isinstance(arrival, ArchPush) and arrival.repository == name


@pytest.mark.parametrize("event", [PUSH, REPLICATION], ids=["push", "replication"])
def test_an_arrival_carries_the_registrys_account_the_event_states(event: dict[str, Any]) -> None:
    arrival = classify_event({**event, "account": "210987654321"}, SUFFIXES)
    assert arrival == ArchPush("golang", Digest(DIGEST), ArchTag("1.0-arm64", "1.0", "arm64"), "210987654321")


@pytest.mark.parametrize("account", [None, "", "12345678901", "1234567890123", "12345678901a", 123456789012,
                                     "\uff11" * 12, " 123456789012"],
                         ids=["missing", "empty", "11-digits", "13-digits", "letter", "number", "wide-digits",
                              "space"])
def test_an_arrival_without_a_well_formed_account_leaves_it_to_the_registry(account: object) -> None:
    event = {**PUSH, "account": account} if account is not None else PUSH
    arrival = classify_event(event, SUFFIXES)
    assert arrival == ArchPush("golang", Digest(DIGEST), ArchTag("1.0-arm64", "1.0", "arm64"), None)
