"""Aliases never fight versions (issue 9 item 9), through the real handler against the in-memory ECR."""

from typing import Any

import pytest

from devkit.fake_ecr import FakeEcr
from devkit.images import make_image
from ecr_multiarch.settings import Settings
from tests.conftest import load_event
from tests.functional.conftest import Invoke

pytestmark = pytest.mark.parametrize("settings", [Settings(alias_kinds=("minor", "latest"))])


def push_pair(ecr: FakeEcr, version: str, revision: str) -> dict[str, Any]:
    ecr.push("golang", f"{version}-amd64", make_image("amd64", revision=revision))
    digest = ecr.push("golang", f"{version}-arm64", make_image("arm64", variant="v8", revision=revision))
    return load_event("push-arm64.json", image_digest=digest, image_tag=f"{version}-arm64")


def test_an_alias_name_that_is_a_version_is_never_moved(ecr: FakeEcr, invoke: Invoke) -> None:
    own = invoke(push_pair(ecr, "latest", "nightly"))  # latest-amd64 and latest-arm64: `latest` is a version
    assert own["outcome"] == "created"
    release = invoke(push_pair(ecr, "2.0.0", "2.0.0"))
    assert release["outcome"] == "created"
    assert release["aliases"] == ["2.0"]  # minor moved; latest is a version of its own
    assert ecr.image_at("golang", "latest").digest == own["digest"]  # type: ignore[union-attr]
    assert ecr.image_at("golang", "2.0").digest == release["digest"]  # type: ignore[union-attr]
    assert [call.params["imageTag"] for call in ecr.calls if call.operation == "put_image"][-2:] == ["2.0.0", "2.0"]


def test_an_alias_that_would_drop_a_platform_is_not_moved(ecr: FakeEcr, invoke: Invoke) -> None:
    from tests.functional.test_no_drop import EXTRA_PLATFORM

    manual = ecr.push("golang", "latest", EXTRA_PLATFORM)  # a hand-made latest serving ppc64le too
    release = invoke(push_pair(ecr, "3.0.0", "3.0.0"))
    assert release["outcome"] == "created" and release["aliases"] == ["3.0"]
    assert ecr.image_at("golang", "latest").digest == manual  # type: ignore[union-attr]
