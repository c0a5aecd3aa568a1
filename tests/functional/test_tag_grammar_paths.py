"""One tag grammar across the event path, the sweep and the CLI: ``1.0-windows-amd64`` is the windows-amd64 tag of
``1.0`` everywhere, and a version whose arch tag reads as another version's (``2.0-windows``) is refused alike."""

import json
from typing import Any

import boto3
import pytest

from devkit.fake_ecr import FakeEcr
from devkit.images import make_image
from ecr_multiarch import cli, handler
from ecr_multiarch.adapters.ecr import BOTOCORE_CONFIG, EcrRegistry
from ecr_multiarch.adapters.http_blobs import HttpBlobReader
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.domain.tags import DEFAULT_SUFFIXES
from ecr_multiarch.outcome import OutcomeKind
from ecr_multiarch.reconcile import Reconciler
from ecr_multiarch.settings import Settings
from tests.conftest import load_event
from tests.functional.conftest import Invoke

AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")
WINDOWS = make_image("amd64", os="windows", os_version="10.0.17763.5206")
AMBIGUOUS = ("golang: version 2.0-windows cannot be indexed: its amd64 tag 2.0-windows-amd64 is the windows-amd64 "
             "tag of version 2.0")


def event_for(ecr: FakeEcr, tag: str) -> dict[str, Any]:
    digest = ecr.image_at("golang", tag).digest  # type: ignore[union-attr]
    ecr.calls.clear()
    return load_event("push-amd64.json", image_tag=tag, image_digest=digest)


def sweep(settings: Settings) -> dict[str | None, Any]:
    registry = EcrRegistry(boto3.client("ecr", config=BOTOCORE_CONFIG))
    report = Reconciler(registry, Assembler(registry, HttpBlobReader(), settings)).sweep(["golang"])
    return {entry.version: entry.outcome for entry in report.entries}


def children(ecr: FakeEcr, tag: str) -> list[str] | None:
    stored = ecr.image_at("golang", tag)
    return None if stored is None else [entry["digest"] for entry in json.loads(stored.manifest)["manifests"]]


@pytest.fixture
def windows_tags(ecr: FakeEcr) -> FakeEcr:
    ecr.push("golang", "1.0-amd64", AMD64)
    ecr.push("golang", "1.0-arm64", ARM64)
    ecr.push("golang", "1.0-windows-amd64", WINDOWS)
    ecr.push("golang", "2.0-windows-amd64", WINDOWS)
    ecr.push("golang", "2.0-windows-arm64", ARM64)
    ecr.calls.clear()
    return ecr


def test_with_amd64_and_arm64_required_the_windows_tag_belongs_to_1_0_on_every_path(
    windows_tags: FakeEcr, invoke: Invoke
) -> None:
    ecr = windows_tags
    # Event path: the windows-amd64 tag of 1.0, a suffix this function does not require.
    skipped = invoke(event_for(ecr, "1.0-windows-amd64"))
    assert skipped["outcome"] == "skipped" and skipped["version"] == "1.0"
    assert "'windows-amd64' is not one of the required architectures" in skipped["reason"]
    # Event path: 2.0-windows-arm64 names version 2.0-windows, whose amd64 tag is 2.0's windows tag.
    refused = invoke(event_for(ecr, "2.0-windows-arm64"))
    assert refused["outcome"] == "rejected" and refused["reason"].startswith(AMBIGUOUS)
    assert ecr.operations() == []  # refused by the grammar, before any read
    # The sweep: the same two readings, no "1.0-windows" version, and 1.0 from its amd64 and arm64 tags only.
    outcomes = sweep(Settings())
    assert sorted(outcomes) == ["1.0", "2.0-windows"]
    assert outcomes["1.0"].kind is OutcomeKind.CREATED
    assert outcomes["2.0-windows"].kind is OutcomeKind.REJECTED
    assert (outcomes["2.0-windows"].reason or "").startswith(AMBIGUOUS)
    assert children(ecr, "1.0") == [AMD64.digest, ARM64.digest]
    assert ecr.image_at("golang", "1.0-windows") is None and ecr.image_at("golang", "2.0-windows") is None


def test_with_windows_amd64_required_event_and_sweep_build_the_same_index(windows_tags: FakeEcr) -> None:
    ecr = windows_tags
    windows = Settings(required_architectures=("amd64", "windows-amd64"))
    handler.configure(Assembler(EcrRegistry(boto3.client("ecr", config=BOTOCORE_CONFIG)), HttpBlobReader(), windows))
    try:
        created = handler.handle(event_for(ecr, "1.0-windows-amd64"), handler.services())
    finally:
        handler.configure(None)
    assert created.kind is OutcomeKind.CREATED and created.version == "1.0"
    assert children(ecr, "1.0") == [AMD64.digest, WINDOWS.digest]
    outcomes = sweep(windows)
    assert outcomes["1.0"].kind is OutcomeKind.UNCHANGED and outcomes["1.0"].digest == created.digest
    assert sorted(outcomes) == ["1.0", "2.0"]  # 2.0-windows-arm64: arm64 is not required, so no "2.0-windows"
    assert outcomes["2.0"].kind is OutcomeKind.WAITING and outcomes["2.0"].missing == ("2.0-amd64",)


def test_the_cli_reads_an_arch_tag_reference_with_the_same_grammar() -> None:
    for text, version in (("golang:1.0-windows-amd64", "1.0"), ("golang:2.0-windows-arm64", "2.0-windows")):
        reference, parsed = cli.parse_version_reference(text, tuple(DEFAULT_SUFFIXES))
        assert (reference.repository, parsed) == ("golang", version)


def test_the_cli_assemble_of_the_windows_tag_means_version_1_0(windows_tags: FakeEcr,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    code = cli.main(["assemble", "golang:1.0-windows-amd64", "--region", "us-east-1"])
    err = capsys.readouterr().err
    assert "is the windows-amd64 tag of 1.0; using golang:1.0" in err
    assert code == 0
    assert children(windows_tags, "1.0") == [AMD64.digest, ARM64.digest]
