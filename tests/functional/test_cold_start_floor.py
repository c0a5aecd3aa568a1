"""The cold-start bench's (b) floor does exactly the work of the real handler's cold start on a full assembly
(benchmarks/cold_start.py): the handler as its composition root builds it (policy read, blob reader, EventBridge
notifier from EVENT_BUS_NAME) and the floor's script in a process of its own, against the same in-memory AWS; the ECR
calls with their parameters, the config GETs and the event on the bus compared. The (a) floor does less, and the
comparison says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from benchmarks.cold_start import (
    BOTO3_FLOOR_WORKER,
    EVENT_BUS,
    SAME_WORK_FLOOR_WORKER,
    PublishedEvents,
    Work,
    differences,
    floor_job,
    work_of,
)
from benchmarks.common import moto_server, seed_version
from devkit.built import LAMBDA_LIKE_ENVIRONMENT, bare_python_command
from devkit.fake_ecr import FakeEcr
from devkit.lambda_context import FakeLambdaContext
from ecr_multiarch import handler, notify

FUNCTION_CODE = Path(__file__).resolve().parents[2] / "functions" / "assembler"


@pytest.fixture
def endpoint(ecr: FakeEcr, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The in-memory AWS over HTTP; the handler's own composition root, publishing to EVENT_BUS_NAME."""
    with moto_server() as url:
        monkeypatch.setenv("EVENT_BUS_NAME", EVENT_BUS)
        monkeypatch.setenv("AWS_ENDPOINT_URL_EVENTBRIDGE", url)
        handler.configure(None)
        notify.configure(None)
        yield url
        handler.configure(None)
        notify.configure(None)


def _work(ecr: FakeEcr, bus: PublishedEvents, version: str) -> Work:
    work = work_of([(call.operation, call.params) for call in ecr.calls], len(ecr.blob_server.requests), bus.take(),
                   version)
    ecr.calls.clear()
    ecr.blob_server.requests.clear()
    return work


def _floor(script: str, endpoint: str, event: dict[str, Any], scratch: Path) -> str:
    job, out = scratch / "job.json", scratch / "out.json"
    job.write_text(json.dumps({**floor_job(), "event": event}), encoding="utf-8")
    site = sysconfig.get_paths()["purelib"]
    environment = {**LAMBDA_LIKE_ENVIRONMENT, "AWS_ENDPOINT_URL_ECR": endpoint, "EVENT_BUS_NAME": EVENT_BUS,
                   "AWS_ENDPOINT_URL_EVENTBRIDGE": endpoint, "PATH": os.environ.get("PATH", "")}
    subprocess.run(bare_python_command(sys.executable, [site], script, str(job), str(out)),
                   env=environment, check=True, timeout=120)
    return str(json.loads(out.read_text(encoding="utf-8"))["outcome"])


def test_the_same_work_floor_makes_the_handlers_calls_gets_and_event(ecr: FakeEcr, endpoint: str,
                                                                     tmp_path: Path) -> None:
    ecr.create_repository("cold-start")
    bus = PublishedEvents()
    ours = seed_version(ecr, "cold-start", "2.0", ("amd64", "arm64"))["arm64"]
    theirs = seed_version(ecr, "cold-start", "2.1", ("amd64", "arm64"), revision="2")["arm64"]
    ecr.calls.clear()
    ecr.blob_server.requests.clear()
    bus.take()

    assert handler.lambda_handler(ours, FakeLambdaContext())["outcome"] == "created"
    function = _work(ecr, bus, "2.0")
    assert _floor(SAME_WORK_FLOOR_WORKER, endpoint, theirs, tmp_path) == "created"
    floor = _work(ecr, bus, "2.1")

    assert [json.loads(call)["operation"] for call in function.calls] == sorted(
        ["list_tags_for_resource", "batch_get_image", "get_download_url_for_layer", "get_download_url_for_layer",
         "put_image", "batch_get_image"])
    assert (function.gets, len(function.events)) == (2, 1)
    assert differences(function, floor) == []


def test_the_boto3_floor_of_a_does_less_than_the_handler(ecr: FakeEcr, endpoint: str, tmp_path: Path) -> None:
    ecr.create_repository("cold-start")
    bus = PublishedEvents()
    ours = seed_version(ecr, "cold-start", "1.0", ("amd64",))["amd64"]
    ecr.calls.clear()

    assert handler.lambda_handler(ours, FakeLambdaContext())["outcome"] == "waiting"
    function = _work(ecr, bus, "1.0")
    assert _floor(BOTO3_FLOOR_WORKER, endpoint, ours, tmp_path) == "waiting"
    floor = _work(ecr, bus, "1.0")

    assert [line.split(": ")[0] for line in differences(function, floor)] == ["ECR call not made"]
    assert "list_tags_for_resource" in differences(function, floor)[0]
