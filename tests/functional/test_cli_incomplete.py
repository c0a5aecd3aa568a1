"""``ecr-multiarch plan`` and ``reconcile`` name the versions incomplete for longer than INCOMPLETE_AFTER_HOURS."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
from moto.ecr.models import ecr_backends

from devkit.fake_ecr import ACCOUNT, REGION, FakeEcr
from devkit.images import make_image
from ecr_multiarch import cli


def age(repository: str, tag: str, hours: float) -> None:
    """Make the image at ``tag`` look pushed ``hours`` ago (moto stamps every push with the current time)."""
    for image in ecr_backends[ACCOUNT][REGION].repositories[repository].images:
        if tag in image.image_tags:
            image.image_pushed_at = int(time.time() - hours * 3600)


@pytest.fixture
def stuck(ecr: FakeEcr, monkeypatch: pytest.MonkeyPatch) -> FakeEcr:
    """golang 1.0 complete; 1.1 has amd64 only, pushed 30 h ago; 1.2 has amd64 only, pushed 2 h ago."""
    monkeypatch.setenv("INCOMPLETE_AFTER_HOURS", "24")
    ecr.push("golang", "1.0-amd64", make_image("amd64"))
    ecr.push("golang", "1.0-arm64", make_image("arm64", variant="v8"))
    ecr.push("golang", "1.1-amd64", make_image("amd64", revision="1.1"))
    ecr.push("golang", "1.2-amd64", make_image("amd64", revision="1.2"))
    age("golang", "1.1-amd64", 30)
    age("golang", "1.2-amd64", 2)
    return ecr


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = cli.main(list(argv))
    return code, capsys.readouterr().out


def test_reconcile_lists_the_stuck_version_only(stuck: FakeEcr, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run(capsys, "reconcile", "golang", "--no-progress")
    assert code == 0
    lines = out.splitlines()
    start = lines.index("Incomplete for more than 24 h (INCOMPLETE_AFTER_HOURS), no multi-arch tag:")
    assert len(lines) == start + 2
    assert lines[start + 1].startswith("  golang:1.1  missing arm64  (30 h since ")


def test_reconcile_json_carries_the_stuck_versions(stuck: FakeEcr, capsys: pytest.CaptureFixture[str]) -> None:
    _, out = run(capsys, "reconcile", "golang", "--json", "--no-progress")
    (version,) = json.loads(out)["incomplete"]
    assert (version["version"], version["missing"], version["present"]) == ("1.1", ["arm64"], ["1.1-amd64"])
    assert 29.9 <= version["ageHours"] <= 30.1


@pytest.mark.parametrize(("version", "reported"), [("1.1", True), ("1.2", False)])
def test_plan_says_when_the_waiting_version_is_stuck(stuck: FakeEcr, capsys: pytest.CaptureFixture[str],
                                                     version: str, reported: bool) -> None:
    _, out = run(capsys, "plan", f"golang:{version}")
    assert out.splitlines()[0] == f"golang:{version}: waiting for {version}-arm64; nothing to write"
    assert ("Incomplete for more than 24 h" in out) is reported
    _, out = run(capsys, "plan", f"golang:{version}", "--json")
    document: dict[str, Any] = json.loads(out)
    assert (document["incomplete"] is not None) is reported
