"""The no-drop rule (issue 9 item 1) through the real handler, the sweep and the CLI, against the in-memory ECR:
an index someone else made at the version tag is replaced only when ours serves every platform it serves."""

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest

from devkit.fake_ecr import FakeEcr
from devkit.images import ImageBlobs, make_image
from devkit.lambda_context import FakeLambdaContext
from ecr_multiarch import cli, handler
from ecr_multiarch.adapters.ecr import BOTOCORE_CONFIG, EcrRegistry
from ecr_multiarch.adapters.http_blobs import HttpBlobReader
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.domain import media_types
from ecr_multiarch.reconcile import Reconciler
from ecr_multiarch.settings import Settings
from tests.conftest import load_event
from tests.functional.conftest import Invoke

AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")
PPC64LE = make_image("ppc64le")
ARN = "arn:aws:ecr:us-east-1:123456789012:repository/golang"


def docker_manifest_index(*children: tuple[ImageBlobs, dict[str, str]]) -> ImageBlobs:
    """What `docker manifest create` + `push` leaves at a tag: a Docker list, pretty-printed, not our rendering."""
    entries = [{"mediaType": image.media_type, "size": len(image.manifest), "digest": image.digest,
                "platform": platform} for image, platform in children]
    body = json.dumps({"schemaVersion": 2, "mediaType": media_types.DOCKER_MANIFEST_LIST, "manifests": entries},
                      indent=3).encode()
    return ImageBlobs(manifest=body, media_type=media_types.DOCKER_MANIFEST_LIST, blobs={}, config_digest="",
                      children=tuple(image for image, _ in children))


EXTRA_PLATFORM = docker_manifest_index((AMD64, {"architecture": "amd64", "os": "linux"}),
                                       (ARM64, {"architecture": "arm64", "os": "linux", "variant": "v8"}),
                                       (PPC64LE, {"architecture": "ppc64le", "os": "linux"}))
# The same two platforms, arm64 first and without the variant: a manual index a team made before adopting us.
SAME_PLATFORMS = docker_manifest_index((ARM64, {"architecture": "arm64", "os": "linux"}),
                                       (AMD64, {"architecture": "amd64", "os": "linux"}))


def push_version(ecr: FakeEcr, version: str = "1.0") -> dict[str, Any]:
    ecr.push("golang", f"{version}-amd64", AMD64)
    digest = ecr.push("golang", f"{version}-arm64", ARM64)
    return load_event("push-arm64.json", image_digest=digest, image_tag=f"{version}-arm64")


def entries_at(ecr: FakeEcr, tag: str) -> list[tuple[str, str]]:
    stored = ecr.image_at("golang", tag)
    assert stored is not None
    return [(entry["digest"], entry["platform"]["architecture"]) for entry in json.loads(stored.manifest)["manifests"]]


@pytest.fixture
def foreign(ecr: FakeEcr) -> Iterator[tuple[FakeEcr, dict[str, Any], str]]:
    """golang:1.0 complete (amd64, arm64) and holding a hand-made index that also serves linux/ppc64le."""
    event = push_version(ecr)
    digest = ecr.push("golang", "1.0", EXTRA_PLATFORM)
    ecr.calls.clear()
    yield ecr, event, digest


def test_a_foreign_index_with_an_extra_platform_is_left_untouched_and_named(
    foreign: tuple[FakeEcr, dict[str, Any], str], invoke: Invoke
) -> None:
    ecr, event, digest = foreign
    result = invoke(event)
    assert result["outcome"] == "rejected"
    assert "serving linux/ppc64le, which the new index would drop" in result["reason"]
    assert "push 1.0-ppc64le and require ppc64le" in result["reason"]
    assert "--force" in result["reason"] and "ecr-multiarch:replace=always" in result["reason"]
    stored = ecr.image_at("golang", "1.0")
    assert stored is not None and stored.digest == digest and stored.manifest == EXTRA_PLATFORM.manifest
    assert "put_image" not in ecr.operations()


def test_the_sweep_leaves_it_untouched_too_and_goes_on(foreign: tuple[FakeEcr, dict[str, Any], str]) -> None:
    ecr, _, digest = foreign
    push_version(ecr, "1.1")
    ecr.calls.clear()
    registry = EcrRegistry(boto3.client("ecr", config=BOTOCORE_CONFIG))
    report = Reconciler(registry, Assembler(registry, HttpBlobReader(), Settings())).sweep(["golang"])
    by_version = {entry.version: entry.to_json() for entry in report.entries}
    assert by_version["1.0"]["outcome"] == "rejected" and "linux/ppc64le" in by_version["1.0"]["reason"]
    assert by_version["1.1"]["outcome"] == "created"
    assert ecr.image_at("golang", "1.0").digest == digest  # type: ignore[union-attr]
    assert [call.params["imageTag"] for call in ecr.calls if call.operation == "put_image"] == ["1.1"]


class ForeignPushAfterListing(EcrRegistry):
    """buildx pushes an index at 1.0 right after the sweep listed the repository (the listing does not show it)."""

    def __init__(self, ecr: FakeEcr) -> None:
        super().__init__(ecr.client)
        self._ecr = ecr
        self.pushed: str | None = None

    def list_tag_digests(self, repository: str) -> dict[str, Any]:
        listed = super().list_tag_digests(repository)
        if self.pushed is None:
            self.pushed = self._ecr.push("golang", "1.0", EXTRA_PLATFORM)
        return listed


def test_the_sweep_sees_a_foreign_index_pushed_after_its_listing(ecr: FakeEcr) -> None:
    """The listing can be minutes old when a version's turn comes: the version tag is read with its arch tags,
    listed or not, so an index pushed since is decided on (kept), never taken for an absent tag."""
    push_version(ecr)
    registry = ForeignPushAfterListing(ecr)
    report = Reconciler(registry, Assembler(registry, HttpBlobReader(), Settings())).sweep(["golang"])
    [entry] = [item.to_json() for item in report.entries]
    assert entry["outcome"] == "rejected" and "linux/ppc64le" in entry["reason"], entry
    stored = ecr.image_at("golang", "1.0")
    assert stored is not None and stored.digest == registry.pushed and stored.manifest == EXTRA_PLATFORM.manifest


def test_a_foreign_index_of_the_same_platforms_is_taken_over(ecr: FakeEcr, invoke: Invoke) -> None:
    event = push_version(ecr)
    manual = ecr.push("golang", "1.0", SAME_PLATFORMS)
    result = invoke(event)
    assert result["outcome"] == "updated" and result["digest"] != manual
    assert entries_at(ecr, "1.0") == [(AMD64.digest, "amd64"), (ARM64.digest, "arm64")]  # ours: canonical order
    assert invoke(event)["outcome"] == "unchanged"


def test_force_on_the_command_line_replaces(foreign: tuple[FakeEcr, dict[str, Any], str],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    ecr, _, digest = foreign
    assert cli.main(["assemble", "golang:1.0", "--json"]) != 0
    refused = json.loads(capsys.readouterr().out)
    assert refused["outcome"] == "rejected" and "linux/ppc64le" in refused["reason"]
    assert ecr.image_at("golang", "1.0").digest == digest  # type: ignore[union-attr]
    assert cli.main(["assemble", "golang:1.0", "--force", "--json"]) == 0
    forced = json.loads(capsys.readouterr().out)
    assert forced["outcome"] == "updated"
    assert entries_at(ecr, "1.0") == [(AMD64.digest, "amd64"), (ARM64.digest, "arm64")]


def test_the_repository_tag_replace_always_replaces(foreign: tuple[FakeEcr, dict[str, Any], str]) -> None:
    ecr, event, _ = foreign
    ecr.client.tag_resource(resourceArn=ARN, tags=[{"Key": "ecr-multiarch:replace", "Value": "always"}])
    registry = EcrRegistry(boto3.client("ecr", config=BOTOCORE_CONFIG))
    handler.configure(Assembler(registry, HttpBlobReader(), Settings(repository_tags_ttl=0), repository_tags=registry))
    try:
        result = handler.lambda_handler(event, FakeLambdaContext())  # type: ignore[arg-type]
    finally:
        handler.configure(None)
    assert result["outcome"] == "updated"
    assert entries_at(ecr, "1.0") == [(AMD64.digest, "amd64"), (ARM64.digest, "arm64")]


def test_a_version_that_grows_a_platform_is_updated(ecr: FakeEcr, invoke: Invoke) -> None:
    """Growing is allowed: an index of amd64 only (the set was smaller) gains arm64."""
    event = push_version(ecr)
    ecr.push("golang", "1.0", docker_manifest_index((AMD64, {"architecture": "amd64", "os": "linux"})))
    assert invoke(event)["outcome"] == "updated"
    assert entries_at(ecr, "1.0") == [(AMD64.digest, "amd64"), (ARM64.digest, "arm64")]


def test_a_foreign_entry_without_a_platform_is_never_dropped(ecr: FakeEcr, invoke: Invoke) -> None:
    """OCI makes an entry's platform optional, and containerd takes such an entry for any host no other entry
    matches: a ppc64le host pulls PPC64LE through this index. Replacing it with amd64 + arm64 would leave that host
    with nothing, so it is left untouched, as a platform the new index would drop is."""
    event = push_version(ecr)
    ecr.push_untagged("golang", PPC64LE)
    body = json.dumps({"schemaVersion": 2, "mediaType": media_types.OCI_INDEX, "manifests": [
        {"mediaType": AMD64.media_type, "size": len(AMD64.manifest), "digest": AMD64.digest,
         "platform": {"architecture": "amd64", "os": "linux"}},
        {"mediaType": PPC64LE.media_type, "size": len(PPC64LE.manifest), "digest": PPC64LE.digest},
    ]}).encode()
    digest = ecr.seed("golang", "1.0", body, media_types.OCI_INDEX)
    result = invoke(event)
    assert result["outcome"] == "rejected"
    assert f"with an entry that states no platform ({PPC64LE.digest})" in result["reason"]
    assert ecr.image_at("golang", "1.0").digest == digest  # type: ignore[union-attr]
