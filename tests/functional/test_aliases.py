"""Alias tags (ALIAS_TAGS, opt-in) through the real handler: they follow the highest version, never move back."""

from typing import Any

import pytest

from devkit.fake_ecr import FakeEcr
from devkit.images import make_image
from ecr_multiarch.settings import Settings
from tests.conftest import load_event
from tests.functional.conftest import Invoke

pytestmark = pytest.mark.parametrize("settings", [Settings(alias_kinds=("minor", "latest"))])


def push_version(ecr: FakeEcr, version: str) -> dict[str, Any]:
    event: dict[str, Any] = {}
    for arch, image in (("amd64", make_image("amd64", revision=version)),
                        ("arm64", make_image("arm64", variant="v8", revision=version))):
        digest = ecr.push("golang", f"{version}-{arch}", image)
        event = load_event(f"push-{arch}.json", image_digest=digest, image_tag=f"{version}-{arch}")
    ecr.calls.clear()
    return event


def digest_at(ecr: FakeEcr, tag: str) -> str | None:
    stored = ecr.image_at("golang", tag)
    return stored.digest if stored else None


def test_aliases_follow_the_highest_version_and_never_move_back(ecr: FakeEcr, invoke: Invoke) -> None:
    first = invoke(push_version(ecr, "1.19.2"))
    assert first["outcome"] == "created" and first["aliases"] == ["1.19", "latest"]
    assert digest_at(ecr, "1.19") == digest_at(ecr, "latest") == first["digest"] == digest_at(ecr, "1.19.2")

    newer = invoke(push_version(ecr, "1.19.3"))
    assert newer["aliases"] == ["1.19", "latest"]
    assert digest_at(ecr, "1.19") == digest_at(ecr, "latest") == newer["digest"]

    older = invoke(push_version(ecr, "1.19.1"))  # a late backport: its own index, no alias moves back
    assert older["outcome"] == "created" and "aliases" not in older
    assert digest_at(ecr, "1.19") == digest_at(ecr, "latest") == newer["digest"]

    # 1.19.2's arm64 re-pushed: its index is updated, the aliases stay on 1.19.3.
    event = load_event("push-arm64.json", image_tag="1.19.2-arm64",
                       image_digest=ecr.push("golang", "1.19.2-arm64", make_image("arm64", variant="v8",
                                                                                   revision="fix")))
    assert invoke(event)["outcome"] == "updated"
    assert digest_at(ecr, "1.19") == newer["digest"]


def test_a_duplicate_event_checks_aliases_with_one_read_and_writes_nothing(ecr: FakeEcr, invoke: Invoke) -> None:
    event = push_version(ecr, "2.0.0")
    invoke(event)
    ecr.calls.clear()
    again = invoke(event)
    assert again["outcome"] == "unchanged" and again["aliases"] == ["2.0", "latest"]
    assert ecr.operations() == ["batch_get_image", "batch_get_image"]  # the version, then its aliases


def test_an_alias_lost_to_a_failed_write_is_written_by_the_retry(ecr: FakeEcr, invoke: Invoke) -> None:
    event = push_version(ecr, "3.1.0")
    invoke(event)
    ecr.client.batch_delete_image(repositoryName="golang", imageIds=[{"imageTag": "latest"}])
    again = invoke(event)
    assert again["outcome"] == "unchanged" and again["aliases"] == ["3.1", "latest"]
    assert digest_at(ecr, "latest") == again["digest"]


def test_an_immutable_alias_is_reported_and_the_index_outcome_stands(ecr: FakeEcr, invoke: Invoke) -> None:
    ecr.client.put_image_tag_mutability(repositoryName="golang", imageTagMutability="IMMUTABLE")
    first = invoke(push_version(ecr, "4.0.0"))
    assert first["aliases"] == ["4.0", "latest"]  # new tags may be written once
    newer = invoke(push_version(ecr, "4.0.1"))
    assert newer["outcome"] == "created"  # the index is there; the immutable aliases could not move
    assert "aliases" not in newer
    assert digest_at(ecr, "latest") == first["digest"]


def test_an_alias_ecr_will_not_hand_out_leaves_the_index_outcome_standing(ecr: FakeEcr, invoke: Invoke) -> None:
    """An archived (or KMS-locked) alias makes BatchGetImage of the aliases fail permanently after the index is
    written and verified: the outcome stays ``created`` (it was reported ``rejected``, with a Rejected metric and
    pipeline event for an index that is there), and the aliases are left as they are."""
    first = invoke(push_version(ecr, "5.0.0"))
    ecr.archive("golang", "latest")
    newer = invoke(push_version(ecr, "5.0.1"))
    assert newer["outcome"] == "created" and "aliases" not in newer
    assert digest_at(ecr, "5.0.1") == newer["digest"]
    ecr.restore("golang", first["digest"])
    assert digest_at(ecr, "latest") == first["digest"]
