"""Immutable tags read as real ECR writes them (issue 9 item 4), through the real handler and adapters.

Real ECR refuses every PutImage on an immutable tag with ImageTagAlreadyExistsException, even when the tag already
holds the identical digest (aws/containers-roadmap#2179); moto answers ImageAlreadyExists instead. A botocore
hook on the service's own client gives ECR's answer, so the tests hold against the real service's semantics.
"""

import threading
from collections.abc import Sequence
from typing import Any

import boto3
from botocore.exceptions import ClientError

from devkit.fake_ecr import FakeEcr
from devkit.images import make_image
from ecr_multiarch import handler
from ecr_multiarch.adapters.ecr import BOTOCORE_CONFIG, EcrRegistry
from ecr_multiarch.adapters.http_blobs import HttpBlobReader
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.outcome import OutcomeKind
from ecr_multiarch.ports import StoredManifest
from ecr_multiarch.settings import Settings
from tests.conftest import load_event

AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")


def ecr_client_with_real_immutability(ecr: FakeEcr, immutable: Sequence[str]) -> Any:
    """A boto3 ECR client whose PutImage to an existing tag in ``immutable`` fails as ECR fails it: whatever the
    digest. (Checked against the fake's state just before the call is sent.)"""
    client = boto3.client("ecr", config=BOTOCORE_CONFIG)

    def refuse(params: dict[str, Any], **_: Any) -> None:
        tag = params.get("imageTag")
        if tag in immutable and ecr.image_at(params["repositoryName"], tag) is not None:
            raise ClientError({"Error": {"Code": "ImageTagAlreadyExistsException",
                                         "Message": f"The image tag '{tag}' already exists in the "
                                                    f"'{params['repositoryName']}' repository and cannot be "
                                                    "overwritten because the tag is immutable."}}, "PutImage")

    client.meta.events.register("before-parameter-build.ecr.PutImage", refuse)
    return client


class ReadThenWait(EcrRegistry):
    """Writer B: its first read happens, then it waits until writer A has finished (both read an empty tag)."""

    def __init__(self, client: Any, read_done: threading.Event, go: threading.Event) -> None:
        super().__init__(client)
        self._read_done, self._go, self._first = read_done, go, True

    def get_manifests(self, repository: str, tags: Sequence[str]) -> dict[str, StoredManifest]:
        manifests = super().get_manifests(repository, tags)
        if self._first:
            self._first = False
            self._read_done.set()
            assert self._go.wait(30)
        return manifests


def test_two_writers_into_an_immutable_repository_both_succeed(ecr: FakeEcr) -> None:
    ecr.push("golang", "1.0-amd64", AMD64)
    ecr.push("golang", "1.0-arm64", ARM64)
    amd64_event = load_event("push-amd64.json", image_digest=AMD64.digest, image_tag="1.0-amd64")
    arm64_event = load_event("push-arm64.json", image_digest=ARM64.digest, image_tag="1.0-arm64")
    client = ecr_client_with_real_immutability(ecr, immutable=["1.0"])
    ecr.calls.clear()
    read_done, go = threading.Event(), threading.Event()
    writer_b = Assembler(ReadThenWait(client, read_done, go), HttpBlobReader(), Settings())
    writer_a = Assembler(EcrRegistry(client), HttpBlobReader(), Settings())
    results: dict[str, Any] = {}
    thread = threading.Thread(target=lambda: results.update(b=handler.handle(amd64_event, writer_b)))
    thread.start()
    assert read_done.wait(30)
    results["a"] = handler.handle(arm64_event, writer_a)
    go.set()
    thread.join(30)
    assert results["a"].kind is OutcomeKind.CREATED
    assert results["b"].kind is OutcomeKind.UNCHANGED  # refused by ECR, yet the tag holds exactly its index
    stored = ecr.image_at("golang", "1.0")
    assert stored is not None and results["a"].digest == results["b"].digest == stored.digest
    puts = [call for call in ecr.calls if call.operation == "put_image"]
    assert len(puts) == 1  # B's PutImage never reached the registry: ECR refused it


def test_an_immutable_tag_holding_another_index_is_still_rejected(ecr: FakeEcr) -> None:
    ecr.push("golang", "1.0-amd64", AMD64)
    ecr.push("golang", "1.0-arm64", ARM64)
    client = ecr_client_with_real_immutability(ecr, immutable=["1.0"])
    first = Assembler(EcrRegistry(client), HttpBlobReader(), Settings()).assemble("golang", "1.0")
    assert first.kind is OutcomeKind.CREATED
    ecr.client.batch_delete_image(repositoryName="golang", imageIds=[{"imageTag": "1.0-arm64"}])
    ecr.push("golang", "1.0-arm64", make_image("arm64", variant="v8", revision="2"))
    second = Assembler(EcrRegistry(client), HttpBlobReader(), Settings()).assemble("golang", "1.0")
    assert second.kind is OutcomeKind.REJECTED
    assert f"it holds {first.digest}, not the desired index sha256:" in (second.reason or "")
    assert ecr.image_at("golang", "1.0").digest == first.digest  # type: ignore[union-attr]


def test_immutable_with_exclusion_needs_no_prediction(ecr: FakeEcr) -> None:
    """IMMUTABLE_WITH_EXCLUSION: version tags excluded (mutable), aliases immutable. Nothing predicts which tag is
    which: the version tag is updated, and the alias ECR refuses is reported, not a rejection."""
    ecr.push("golang", "1.0.0-amd64", AMD64)
    ecr.push("golang", "1.0.0-arm64", ARM64)
    client = ecr_client_with_real_immutability(ecr, immutable=["latest"])
    service = Assembler(EcrRegistry(client), HttpBlobReader(), Settings(alias_kinds=("latest",)))
    first = service.assemble("golang", "1.0.0")
    assert first.kind is OutcomeKind.CREATED and first.aliases == ("latest",)
    ecr.push("golang", "1.0.1-amd64", AMD64)
    ecr.push("golang", "1.0.1-arm64", make_image("arm64", variant="v8", revision="2"))
    newer = service.assemble("golang", "1.0.1")
    assert newer.kind is OutcomeKind.CREATED and newer.aliases == ()
    assert ecr.image_at("golang", "latest").digest == first.digest  # type: ignore[union-attr]
