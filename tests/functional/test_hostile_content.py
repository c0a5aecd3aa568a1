"""Hostile content from the registry, through the real handler and the real sweep: each poisoned version is
``rejected`` with a reason that names the bound, nothing is written for it, and the sweep writes the healthy
versions sorted after it. Before the bounded reader, the deep config raised RecursionError (the event was retried
into the dead-letter queue, the sweep aborted there every day) and the UTF-16 config was indexed."""

import json
import logging

import boto3
import pytest

from devkit.fake_ecr import FakeEcr
from devkit.images import make_image
from ecr_multiarch import handler
from ecr_multiarch.adapters.ecr import BOTOCORE_CONFIG, EcrRegistry
from ecr_multiarch.adapters.http_blobs import HttpBlobReader
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.domain import media_types
from ecr_multiarch.reconcile import Reconciler
from ecr_multiarch.settings import Settings
from tests.conftest import load_event
from tests.functional.conftest import Invoke
from tests.functional.ecr_faults import (
    deeply_nested_config,
    huge_index,
    image_with_config,
    latin1_config,
    utf16_config,
)

AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")
HEALTHY = ("0.9", "2.0")


def deeply_nested_manifest(depth: int = 50_000) -> bytes:
    """An image manifest (honest config descriptor) carrying an annotation nested ``depth`` levels."""
    manifest = json.loads(ARM64.manifest)
    head = json.dumps(manifest)[:-1]
    return (head + ', "annotations": {"x": ' + "[" * depth + "]" * depth + "}}").encode()


def seed_hostile(ecr: FakeEcr) -> dict[str, tuple[str, str]]:
    """Versions 1.0 to 1.4, each with a healthy amd64 tag and a poisoned arm64 tag; 0.9 and 2.0 are healthy.
    Returns version -> (arm64 digest, the reason expected)."""
    for version in ("1.0", "1.1", "1.2", "1.3", "1.4", *HEALTHY):
        ecr.push("golang", f"{version}-amd64", AMD64)
    for version in HEALTHY:
        ecr.push("golang", f"{version}-arm64", ARM64)
    expected: dict[str, tuple[str, str]] = {}
    for version, config, bound in (("1.0", deeply_nested_config(), "config nests deeper than 64 levels"),
                                   ("1.1", utf16_config(), "config is not UTF-8 (byte 0 is 0xff)"),
                                   ("1.4", latin1_config(), "config is not UTF-8 (byte")):
        image = image_with_config(config, revision=version)
        digest = ecr.push("golang", f"{version}-arm64", image)
        expected[version] = (digest, f"golang:{version}-arm64 config {image.config_digest} is unusable: {bound}")
    index, inner = huge_index()
    ecr.push_untagged("golang", inner)
    digest = ecr.seed("golang", "1.2-arm64", index, media_types.OCI_INDEX)
    expected["1.2"] = (digest, "golang:1.2-arm64 index lists 10000 manifests, over the limit of 256")
    manifest = deeply_nested_manifest()
    digest = ecr.seed("golang", "1.3-arm64", manifest, media_types.DOCKER_MANIFEST, ARM64.blobs)
    expected["1.3"] = (digest, "golang:1.3-arm64 manifest nests deeper than 64 levels")
    ecr.calls.clear()
    return expected


@pytest.mark.parametrize("version", ["1.0", "1.1", "1.2", "1.3", "1.4"])
def test_the_handler_rejects_each_poisoned_version_with_the_bound_named(ecr: FakeEcr, invoke: Invoke,
                                                                        version: str) -> None:
    digest, reason = seed_hostile(ecr)[version]
    result = invoke(load_event("push-arm64.json", image_tag=f"{version}-arm64", image_digest=digest))
    assert result["outcome"] == "rejected"
    assert result["reason"].startswith(reason)
    assert "put_image" not in ecr.operations()
    assert ecr.image_at("golang", version) is None


def test_the_sweep_rejects_the_poisoned_versions_and_writes_the_healthy_ones_after_them(ecr: FakeEcr) -> None:
    expected = seed_hostile(ecr)
    registry = EcrRegistry(boto3.client("ecr", config=BOTOCORE_CONFIG))
    report = Reconciler(registry, Assembler(registry, HttpBlobReader(), Settings())).sweep(["golang"])
    outcomes = {entry.version: entry.outcome for entry in report.entries}
    assert list(outcomes) == ["0.9", "1.0", "1.1", "1.2", "1.3", "1.4", "2.0"]  # every one, in order
    for version, (_, reason) in expected.items():
        outcome = outcomes[version]
        assert outcome is not None and outcome.kind.value == "rejected"
        assert (outcome.reason or "").startswith(reason)
        assert ecr.image_at("golang", version) is None
    for version in HEALTHY:
        assert report.totals()["created"] == 2
        stored = ecr.image_at("golang", version)
        assert stored is not None
        assert [entry["digest"] for entry in json.loads(stored.manifest)["manifests"]] == [AMD64.digest,
                                                                                          ARM64.digest]
    assert report.failed == []


@pytest.mark.parametrize(
    ("architecture", "bound"),
    [('"\\ud800"', "config holds a string with a lone UTF-16 surrogate"),  # once broke the logger's JSON encoder
     ('"' + "x" * 2_000_000 + '"', "config field 'architecture' is not a platform value"),  # was a 2 MB reason
     ('"arm64\\u0000"', "config field 'architecture' is not a platform value")],
    ids=["lone-surrogate", "two-megabyte-name", "control-character"],
)
def test_platform_strings_that_cannot_be_quoted_safely_are_rejected_with_a_short_reason(
    ecr: FakeEcr, invoke: Invoke, architecture: str, bound: str
) -> None:
    ecr.push("golang", "1.0-amd64", AMD64)
    image = image_with_config(('{"os": "linux", "architecture": ' + architecture + "}").encode())
    digest = ecr.push("golang", "1.0-arm64", image)
    ecr.calls.clear()
    lines: list[str] = []

    class Formatted(logging.Handler):  # every log line of the invocation, as the function's formatter writes it
        def emit(self, record: logging.LogRecord) -> None:
            lines.append(handler.logger.registered_formatter.format(record))

    capture = Formatted()
    handler.logger.addHandler(capture)
    try:
        result = invoke(load_event("push-arm64.json", image_tag="1.0-arm64", image_digest=digest))
    finally:
        handler.logger.removeHandler(capture)
    assert result["outcome"] == "rejected"
    assert result["reason"] == f"golang:1.0-arm64 config {image.config_digest} is unusable: {bound}" + (
        " (1 to 128 printable ASCII characters, no spaces)" if "platform value" in bound else " (not Unicode text)")
    json.dumps(result, ensure_ascii=False).encode("utf-8")  # what Lambda must be able to return
    (outcome_line,) = [line for line in lines if '"outcome: rejected"' in line]
    outcome_line.encode("utf-8")  # a lone surrogate here once made the logger drop the line
    assert len(outcome_line) < 2_000
    assert "put_image" not in ecr.operations()
