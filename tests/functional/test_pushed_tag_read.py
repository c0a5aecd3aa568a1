"""The pushed tag must be seen (issue 9 item 7): through the real handler against the in-memory ECR."""

import pytest

from devkit.fake_ecr import FakeEcr
from devkit.images import make_image
from ecr_multiarch.assembler import PushedTagNotVisibleError
from ecr_multiarch.errors import TransientError
from tests.conftest import load_event
from tests.functional.conftest import Invoke

AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")
ARM64_NEWER = make_image("arm64", variant="v8", revision="2")


def test_an_event_whose_tag_is_not_readable_yet_is_retried(ecr: FakeEcr, invoke: Invoke) -> None:
    ecr.push("golang", "1.0-amd64", AMD64)
    ecr.calls.clear()
    event = load_event("push-arm64.json", image_digest=ARM64.digest, image_tag="1.0-arm64")  # not readable yet
    with pytest.raises(PushedTagNotVisibleError, match=r"golang:1\.0-arm64 was pushed but BatchGetImage does not"):
        invoke(event)
    assert issubclass(PushedTagNotVisibleError, TransientError)  # what Lambda retries (and dead-letters at last)
    assert ecr.operations() == ["batch_get_image"]  # one read, nothing written
    ecr.push("golang", "1.0-arm64", ARM64)  # the retry, once the tag is readable, assembles
    assert invoke(event)["outcome"] == "created"


def test_a_missing_sibling_is_still_waiting(ecr: FakeEcr, invoke: Invoke) -> None:
    digest = ecr.push("golang", "1.0-arm64", ARM64)
    result = invoke(load_event("push-arm64.json", image_digest=digest, image_tag="1.0-arm64"))
    assert result["outcome"] == "waiting" and result["missing"] == ["1.0-amd64"]


def test_a_tag_holding_a_newer_digest_than_the_event_goes_on_with_the_read(ecr: FakeEcr, invoke: Invoke) -> None:
    ecr.push("golang", "1.0-amd64", AMD64)
    old = ecr.push("golang", "1.0-arm64", ARM64)
    ecr.push("golang", "1.0-arm64", ARM64_NEWER)  # re-pushed before the first event is handled
    result = invoke(load_event("push-arm64.json", image_digest=old, image_tag="1.0-arm64"))
    assert result["outcome"] == "created"
    stored = ecr.image_at("golang", "1.0")
    assert stored is not None and ARM64_NEWER.digest.encode() in stored.manifest and old.encode() not in stored.manifest
