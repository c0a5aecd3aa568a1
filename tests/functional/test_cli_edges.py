"""The edges a new user meets first, as separate processes the way a shell runs them: a pipe closed early, an
endpoint nothing answers on, a function that outruns its timeout.

The ECR here is the fake as a real server on 127.0.0.1 (FakeEcr(server=True)), which every subprocess reaches
through AWS_ENDPOINT_URL, as with the sandbox's export lines.
"""

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from devkit.fake_ecr import FakeEcr
from devkit.images import make_image
from ecr_multiarch import cli
from tests.conftest import EVENTS, ROOT, load_event

AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")
COMMAND_SECONDS = 60


@pytest.fixture
def served() -> Iterator[FakeEcr]:
    """golang:1.0 complete, in the fake ECR served over HTTP; os.environ points the SDK at it meanwhile."""
    with FakeEcr(server=True) as ecr:
        ecr.create_repository("golang")
        ecr.push("golang", "1.0-amd64", AMD64)
        ecr.push("golang", "1.0-arm64", ARM64)
        ecr.calls.clear()
        yield ecr


def program(*argv: str) -> list[str]:
    return [sys.executable, "-m", "ecr_multiarch.cli", *argv]


# --------------------------------------------------------------------------------------------- a closed pipe


def run_with_stdout_closed(argv: list[str], buffering: str) -> tuple[int, str]:
    """The command with its stdout's reader gone before it writes a byte (`| head -0`, deterministically).
    ``buffering``: "buffered" as a shell runs Python (the output is written when flushed), or "unbuffered"
    (PYTHONUNBUFFERED=1: each print is written at once)."""
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    if buffering == "unbuffered":
        environment["PYTHONUNBUFFERED"] = "1"
    process = subprocess.Popen(argv, cwd=ROOT, env=environment, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True)
    assert process.stdout is not None and process.stderr is not None
    process.stdout.close()
    err = process.stderr.read()
    return process.wait(timeout=COMMAND_SECONDS), err


BUFFERING = pytest.mark.parametrize("buffering", ["buffered", "unbuffered"])


@BUFFERING
def test_a_closed_pipe_ends_the_command_quietly(served: FakeEcr, buffering: str) -> None:
    code, err = run_with_stdout_closed(program("plan", "golang:1.0"), buffering)
    assert (code, err) == (cli.EXIT_PIPE_CLOSED, "")
    assert served.operations().count("batch_get_image") == 1  # the plan ran; only its output was dropped


@BUFFERING
def test_a_closed_pipe_after_a_write_ends_the_command_quietly(served: FakeEcr, buffering: str) -> None:
    code, err = run_with_stdout_closed(program("assemble", "golang:1.0", "--json"), buffering)
    assert (code, err) == (cli.EXIT_PIPE_CLOSED, "")
    assert served.image_at("golang", "1.0") is not None  # the write is done; a reader that left cannot undo it


@BUFFERING
def test_help_into_a_closed_pipe_ends_quietly(buffering: str) -> None:
    code, err = run_with_stdout_closed(program("plan", "--help"), buffering)
    assert err == ""
    # argparse ignores a help it could not write and exits 0; when the write only fails at the flush, it is ours.
    assert code == (0 if buffering == "unbuffered" else cli.EXIT_PIPE_CLOSED)


def test_a_pipe_that_reads_the_first_line_gets_it_and_nothing_else_is_said(served: FakeEcr) -> None:
    environment = {key: value for key, value in os.environ.items() if key != "PYTHONUNBUFFERED"}
    shell = subprocess.run(["sh", "-c", '"$@" | head -n 1', "sh", *program("plan", "golang:1.0")], cwd=ROOT,
                           env=environment, capture_output=True, text=True, timeout=COMMAND_SECONDS, check=False)
    assert shell.stdout == "golang:1.0: would create the index (the tag does not exist yet); nothing written\n"
    assert shell.stderr == ""


# --------------------------------------------------------------------------------------------- an endpoint that is gone


@pytest.fixture
def stopped_sandbox() -> dict[str, str]:
    """A shell with a sandbox's export lines still set after the sandbox stopped: nothing listens on its port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    environment.update({"AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}", "AWS_REGION": "us-east-1",
                        "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
                        "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"})
    return environment


@pytest.mark.parametrize("argv", [["plan", "golang:1.0"], ["reconcile", "--dry-run"],
                                  ["assemble", "123456789012.dkr.ecr.us-east-1.amazonaws.com/golang:1.0"],
                                  ["invoke", str(EVENTS / "push-arm64.json")]])
def test_a_stopped_sandbox_fails_at_once_naming_its_endpoint(stopped_sandbox: dict[str, str], argv: list[str]) -> None:
    started = time.monotonic()
    result = subprocess.run(program(*argv), cwd=ROOT, env=stopped_sandbox, capture_output=True, text=True,
                            timeout=COMMAND_SECONDS, check=False)
    elapsed = time.monotonic() - started
    endpoint = stopped_sandbox["AWS_ENDPOINT_URL"]
    assert result.returncode == cli.EXIT_USAGE
    assert result.stderr == (
        f"ecr-multiarch: error: cannot connect to {endpoint} (from AWS_ENDPOINT_URL: Connection refused): it points "
        "at this machine, as the sandbox's export lines do: is `make sandbox` still running? Start it again and "
        "paste its new export lines, or `unset AWS_ENDPOINT_URL` to use AWS\n")
    assert elapsed < 10, elapsed  # botocore's retries alone took 20-30 s; one refused connection takes none


def test_a_refused_connection_is_tried_once_not_retried(
    stopped_sandbox: dict[str, str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in stopped_sandbox.items():
        monkeypatch.setenv(name, value)
    sent: list[str] = []
    opened = cli.open_session

    def counting(*args: Any, **kwargs: Any) -> Any:
        session = opened(*args, **kwargs)
        session.events.register("before-send", lambda request, **_: sent.append(request.url))
        return session

    monkeypatch.setattr(cli, "open_session", counting)
    assert cli.main(["plan", "golang:1.0"]) == cli.EXIT_USAGE
    assert sent == [stopped_sandbox["AWS_ENDPOINT_URL"] + "/"]  # one attempt (STS, the first call), no retry
    assert "is `make sandbox` still running?" in capsys.readouterr().err


def test_once_the_endpoint_has_answered_a_failed_connection_is_retried_as_in_the_functions(served: FakeEcr) -> None:
    from botocore.exceptions import EndpointConnectionError

    from ecr_multiarch.aws_session import EndpointWatch

    watch = EndpointWatch({"AWS_ENDPOINT_URL": served.endpoint_url or ""})
    refused = EndpointConnectionError(endpoint_url=f"{served.endpoint_url}/")
    with pytest.raises(cli.AwsConfigurationError, match="is `make sandbox` still running"):
        watch.needs_retry(caught_exception=refused)
    elsewhere = EndpointConnectionError(endpoint_url="http://127.0.0.1:9/")
    watch.after_call(http_response=type("Answer", (), {"url": f"{served.endpoint_url}/"})())
    assert watch.needs_retry(caught_exception=refused) is None  # botocore's retry handler decides
    with pytest.raises(cli.AwsConfigurationError, match=r"127\.0\.0\.1:9 "):
        watch.needs_retry(caught_exception=elsewhere)  # another endpoint (STS answered, ECR's set apart) is not
    assert EndpointWatch({}).needs_retry(caught_exception=None) is None  # an answer (throttling…): not ours


# --------------------------------------------------------------------------------------------- invoke --timeout


def test_invoke_past_its_timeout_is_reported_timed_out_as_lambda_does(served: FakeEcr, tmp_path: Path) -> None:
    event = tmp_path / "push.json"
    event.write_text(json.dumps(load_event("push-arm64.json", image_tag="1.0-arm64", image_digest=ARM64.digest)))
    served.blob_server.faults.extend(["slow:20", "slow:20"])  # each config download answers after 20 s
    started = time.monotonic()
    result = subprocess.run(program("invoke", str(event), "--timeout", "1"), cwd=ROOT, env=dict(os.environ),
                            capture_output=True, text=True, timeout=COMMAND_SECONDS, check=False)
    elapsed = time.monotonic() - started
    assert result.returncode == cli.EXIT_FAILED, result.stderr
    response = json.loads(result.stdout)
    assert response["errorType"] == "Sandbox.Timedout"
    assert re.fullmatch(r"RequestId: [0-9a-f-]{36} Error: Task timed out after 1\.00 seconds", response["errorMessage"])
    lines = result.stderr.splitlines()
    assert re.fullmatch(r"REPORT RequestId: \S+\tDuration: 1\d{3}\.\d\d ms\tMemory Size: 256 MB\tStatus: timeout",
                        next(line for line in lines if line.startswith("REPORT")))
    assert re.fullmatch(r"\S+Z [0-9a-f-]{36} Task timed out after 1\.00 seconds", lines[-2])
    assert lines[-1] == (
        "ecr-multiarch: error: ecr-multiarch-AssemblerFunction timed out after 1 s, as Lambda would stop it there "
        "(--timeout 1); what it did until then stays done; give it longer with --timeout (transient: run it again)")
    assert elapsed < 8, elapsed  # ended at the timeout, not when the downloads it left give up (10 s read timeout)
    assert served.image_at("golang", "1.0") is None  # stopped before its write


def test_invoke_within_its_timeout_returns_the_handlers_result(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ecr_multiarch import handler

    release = threading.Event()
    monkeypatch.setattr(handler, "lambda_handler", lambda _event, _context: release.wait(5) and {"outcome": "skipped"})
    try:
        assert cli.main(["invoke", str(EVENTS / "delete-amd64.json"), "--timeout", "0.2"]) == cli.EXIT_FAILED
        assert json.loads(capsys.readouterr().out)["errorType"] == "Sandbox.Timedout"
    finally:
        release.set()
    assert cli.main(["invoke", str(EVENTS / "delete-amd64.json"), "--timeout", "5"]) == cli.EXIT_OK
    assert json.loads(capsys.readouterr().out) == {"outcome": "skipped"}
