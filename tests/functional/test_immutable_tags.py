"""Immutable tags read as real ECR writes them (issue 9 item 4), through the real handler and adapters.

Real ECR refuses every PutImage on an immutable tag with ImageTagAlreadyExistsException, even when the tag already
holds the identical digest (aws/containers-roadmap#2179); moto answers ImageAlreadyExists instead. The in-memory
ECR (devkit/fake_ecr.py) gives ECR's answer natively, for IMMUTABLE and for the *_WITH_EXCLUSION modes with their
wildcard filters, so these tests set the repository's mutability as an operator would.
"""

import threading
from collections.abc import Sequence
from typing import Any

import boto3
import pytest
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


def set_mutability(ecr: FakeEcr, mutability: str, exclusions: Sequence[str] = ()) -> Any:
    """The repository's tag mutability, as `aws ecr put-image-tag-mutability` sets it; the service's client."""
    extra: dict[str, Any] = {}
    if exclusions:
        extra["imageTagMutabilityExclusionFilters"] = [{"filterType": "WILDCARD", "filter": pattern}
                                                       for pattern in exclusions]
    ecr.client.put_image_tag_mutability(repositoryName="golang", imageTagMutability=mutability, **extra)
    return boto3.client("ecr", config=BOTOCORE_CONFIG)


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
    client = set_mutability(ecr, "IMMUTABLE")
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
    assert len(puts) == 2  # B's PutImage was sent and refused (ImageTagAlreadyExists); B then read the tag
    with pytest.raises(ClientError) as refused:  # what B was answered: ECR refuses even the identical bytes
        client.put_image(repositoryName="golang", imageTag="1.0", imageManifest=stored.manifest.decode(),
                         imageManifestMediaType=results["a"].index.media_type)
    assert refused.value.response["Error"]["Code"] == "ImageTagAlreadyExistsException"


def test_an_immutable_tag_holding_another_index_is_still_rejected(ecr: FakeEcr) -> None:
    ecr.push("golang", "1.0-amd64", AMD64)
    ecr.push("golang", "1.0-arm64", ARM64)
    # Arch tags excluded (re-pushable), the version tag immutable.
    client = set_mutability(ecr, "IMMUTABLE_WITH_EXCLUSION", exclusions=("*-amd64", "*-arm64"))
    first = Assembler(EcrRegistry(client), HttpBlobReader(), Settings()).assemble("golang", "1.0")
    assert first.kind is OutcomeKind.CREATED
    ecr.push("golang", "1.0-arm64", make_image("arm64", variant="v8", revision="2"))  # the old one stays, untagged
    second = Assembler(EcrRegistry(client), HttpBlobReader(), Settings()).assemble("golang", "1.0")
    assert second.kind is OutcomeKind.REJECTED
    assert f"it holds {first.digest}, not the desired index sha256:" in (second.reason or "")
    assert ecr.image_at("golang", "1.0").digest == first.digest  # type: ignore[union-attr]


def test_immutable_with_exclusion_needs_no_prediction(ecr: FakeEcr) -> None:
    """IMMUTABLE_WITH_EXCLUSION: version tags excluded (mutable), aliases immutable. Nothing predicts which tag is
    which: the version tag is updated, and the alias ECR refuses is reported, not a rejection."""
    ecr.push("golang", "1.0.0-amd64", AMD64)
    ecr.push("golang", "1.0.0-arm64", ARM64)
    client = set_mutability(ecr, "IMMUTABLE_WITH_EXCLUSION", exclusions=("1.*",))  # only latest is immutable
    service = Assembler(EcrRegistry(client), HttpBlobReader(), Settings(alias_kinds=("latest",)))
    first = service.assemble("golang", "1.0.0")
    assert first.kind is OutcomeKind.CREATED and first.aliases == ("latest",)
    ecr.push("golang", "1.0.1-amd64", AMD64)
    ecr.push("golang", "1.0.1-arm64", make_image("arm64", variant="v8", revision="2"))
    newer = service.assemble("golang", "1.0.1")
    assert newer.kind is OutcomeKind.CREATED and newer.aliases == ()
    assert ecr.image_at("golang", "latest").digest == first.digest  # type: ignore[union-attr]
