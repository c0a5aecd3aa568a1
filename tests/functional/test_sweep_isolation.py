"""The sweep isolates every version and every repository: an unexpected exception (a bug) in one is caught, logged
with its type, reported as ``failed`` with the reason, counted, and the sweep goes on. The scheduled function
finishes its run; the CLI exits non-zero."""

import json
import logging
from typing import Any

import boto3
import pytest

from devkit.fake_ecr import FakeEcr
from devkit.images import make_image
from ecr_multiarch import cli, reconcile_handler
from ecr_multiarch.adapters.ecr import BOTOCORE_CONFIG, EcrRegistry
from ecr_multiarch.adapters.http_blobs import HttpBlobReader
from ecr_multiarch.assembler import Assembler
from ecr_multiarch.domain.digest import Digest
from ecr_multiarch.reconcile import Reconciler, ReconcileSettings
from ecr_multiarch.settings import Settings
from tests.functional.test_reconcile import SCHEDULED_EVENT, Invocations, ShortContext

AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")
BROKEN_ARM64 = make_image("arm64", variant="v8", revision="its config download hits a bug")


class BuggyRegistry(EcrRegistry):
    """The real adapter, with a bug that strikes one config (a KeyError, as a missing response field would) and,
    optionally, one repository's listing."""

    broken_listing: str | None = None

    def config_download_url(self, repository: str, digest: Digest) -> str:
        if str(digest) == BROKEN_ARM64.config_digest:
            raise KeyError("downloadUrl")
        return super().config_download_url(repository, digest)

    def list_tag_digests(self, repository: str) -> dict[str, Digest]:
        if repository == self.broken_listing:
            raise AttributeError("'NoneType' object has no attribute 'get'")
        return super().list_tag_digests(repository)


@pytest.fixture
def seeded(ecr: FakeEcr) -> FakeEcr:
    """golang: 1.0 and 1.2 healthy around 1.1, whose arm64 config hits the bug; python: 1.0 healthy."""
    ecr.create_repository("python")
    for repository, version, arm64 in (("golang", "1.0", ARM64), ("golang", "1.1", BROKEN_ARM64),
                                       ("golang", "1.2", ARM64), ("python", "1.0", ARM64)):
        ecr.push(repository, f"{version}-amd64", AMD64)
        ecr.push(repository, f"{version}-arm64", arm64)
    ecr.calls.clear()
    return ecr


def buggy_reconciler(broken_listing: str | None = None) -> Reconciler:
    registry = BuggyRegistry(boto3.client("ecr", config=BOTOCORE_CONFIG))
    registry.broken_listing = broken_listing
    return Reconciler(registry, Assembler(registry, HttpBlobReader(), Settings()))


class Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_a_bug_in_one_version_fails_that_version_only(seeded: FakeEcr) -> None:
    records = Records()
    sweep_logger = logging.getLogger("ecr_multiarch.reconcile")
    sweep_logger.addHandler(records)
    try:
        report = buggy_reconciler().sweep(["golang", "python"])
    finally:
        sweep_logger.removeHandler(records)
    statuses = {(entry.repository, entry.version): entry.status for entry in report.entries}
    assert statuses == {("golang", "1.0"): "created", ("golang", "1.1"): "failed", ("golang", "1.2"): "created",
                        ("python", "1.0"): "created"}
    (failed,) = report.failed
    assert (failed.repository, failed.version, failed.error_type) == ("golang", "1.1", "KeyError")
    assert failed.failure == "unexpected KeyError: 'downloadUrl'"
    assert failed.to_json() == {"outcome": "failed", "repository": "golang", "version": "1.1",
                                "reason": "unexpected KeyError: 'downloadUrl'", "errorType": "KeyError"}
    for repository, version in (("golang", "1.0"), ("golang", "1.2"), ("python", "1.0")):
        assert seeded.image_at(repository, version) is not None
    assert seeded.image_at("golang", "1.1") is None
    (bug,) = [record for record in records.records if getattr(record, "error_type", None) == "KeyError"]
    assert bug.levelno == logging.ERROR and bug.version == "1.1"  # type: ignore[attr-defined]
    assert any("config_download_url" in frame for frame in bug.raised_at)  # type: ignore[attr-defined]
    assert "downloadUrl" not in bug.getMessage()  # the type and the place, not the unvetted text


def test_a_bug_in_one_repositorys_listing_fails_that_repository_only(seeded: FakeEcr) -> None:
    report = buggy_reconciler(broken_listing="golang").sweep(["golang", "python"])
    assert [(entry.repository, entry.version, entry.status) for entry in report.entries] == [
        ("golang", None, "failed"), ("python", "1.0", "created")]
    assert report.failed[0].error_type == "AttributeError"
    assert report.complete


def test_the_scheduled_function_finishes_reports_and_counts_the_failed_version(
    seeded: FakeEcr, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POWERTOOLS_METRICS_DISABLED", raising=False)
    reconcile_handler.metrics.clear_metrics()  # earlier invocations with metrics disabled leave values behind
    reconcile_handler.configure(reconcile_handler.ReconcileServices(
        buggy_reconciler(), ReconcileSettings(("golang", "python")), Invocations()))
    try:
        summary = reconcile_handler.lambda_handler(SCHEDULED_EVENT, ShortContext(900_000))  # type: ignore[arg-type]
    finally:
        reconcile_handler.configure(None)
    assert summary["complete"] is True
    assert summary["totals"]["created"] == 3 and summary["totals"]["failed"] == 1
    assert summary["failed"] == [{"outcome": "failed", "repository": "golang", "version": "1.1",
                                  "reason": "unexpected KeyError: 'downloadUrl'", "errorType": "KeyError"}]
    metrics = [json.loads(line) for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert metrics and metrics[-1]["SweepVersionFailed"] == [1.0]


def test_the_cli_reconcile_exits_non_zero_when_a_version_failed(
    seeded: FakeEcr, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    def buggy(self: EcrRegistry, repository: str, digest: Digest) -> Any:
        if str(digest) == BROKEN_ARM64.config_digest:
            raise KeyError("downloadUrl")
        return original(self, repository, digest)

    original = EcrRegistry.config_download_url
    monkeypatch.setattr(EcrRegistry, "config_download_url", buggy)
    code = cli.main(["reconcile", "golang", "--region", "us-east-1", "--no-progress"])
    out = capsys.readouterr().out
    assert code == cli.EXIT_FAILED
    assert "unexpected KeyError" in out
    assert seeded.image_at("golang", "1.0") is not None and seeded.image_at("golang", "1.2") is not None
