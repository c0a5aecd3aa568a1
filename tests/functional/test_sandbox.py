"""``ecr-multiarch sandbox`` end to end, as a user runs it: start it, paste its export lines into another shell,
then plan, assemble, reconcile and invoke there, all as separate processes, with no AWS account."""

import json
import os
import queue
import re
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import EVENTS, ROOT

STARTUP_SECONDS = 60
COMMAND_SECONDS = 90


def _read_banner(process: subprocess.Popen[str]) -> list[str]:
    """The sandbox's stdout up to "Serving until Ctrl-C", within STARTUP_SECONDS (read by a thread: a pipe's
    buffered lines are invisible to select)."""
    assert process.stdout is not None
    stdout = process.stdout
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in iter(stdout.readline, "")], daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=1.0)
        except queue.Empty:
            assert process.poll() is None, f"sandbox exited early: {seen}"
            continue
        seen.append(line.rstrip("\n"))
        if line.startswith("# Serving until Ctrl-C"):
            return seen
    raise AssertionError(f"no banner within {STARTUP_SECONDS}s: {seen}")


def _exported(lines: list[str]) -> dict[str, str]:
    """What a shell would hold after pasting the export / unset lines."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    environment["AWS_PROFILE"] = "someone-elses"  # unset by the pasted lines, as are these
    environment["AWS_ENDPOINT_URL_ECR"] = environment["AWS_ENDPOINT_URL_STS"] = "http://127.0.0.1:9"
    environment["AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"] = "true"
    for line in lines:
        if line.startswith("#"):
            continue  # a shell comment
        words = shlex.split(line)
        if words[:1] == ["export"]:
            environment.update(word.split("=", 1) for word in words[1:])  # type: ignore[misc]
        elif words[:1] == ["unset"]:
            for name in words[1:]:
                environment.pop(name, None)
    return environment


@pytest.fixture(scope="module")
def sandbox() -> Iterator[dict[str, Any]]:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    process = subprocess.Popen([sys.executable, "-m", "ecr_multiarch.cli", "sandbox"], cwd=ROOT, env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = _read_banner(process)
        yield {"lines": lines, "environment": _exported(lines), "process": process}
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


def cli(sandbox: dict[str, Any], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecr_multiarch.cli", *argv], cwd=ROOT, env=sandbox["environment"],
                          capture_output=True, text=True, timeout=COMMAND_SECONDS, check=False)


def test_the_banner_gives_the_export_lines_and_what_is_seeded(sandbox: dict[str, Any]) -> None:
    lines = sandbox["lines"]
    exports = [line for line in lines if line.startswith("export ")]
    assert len(exports) == 1
    assert re.fullmatch(r"export AWS_ENDPOINT_URL=http://127\.0\.0\.1:\d+ AWS_REGION=us-east-1 "
                        r"AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing "
                        r"AWS_SESSION_TOKEN=testing", exports[0])
    assert "unset AWS_PROFILE AWS_ENDPOINT_URL_ECR AWS_ENDPOINT_URL_STS AWS_IGNORE_CONFIGURED_ENDPOINT_URLS" in lines
    assert all(line.startswith(("export ", "unset ", "# ")) for line in lines)  # the whole banner pastes into a shell
    assert "AWS_PROFILE" not in sandbox["environment"]


def test_plan_assemble_reconcile_and_invoke_work_offline(sandbox: dict[str, Any]) -> None:
    # Order matters: each step leaves the registry as the next one expects.
    plan = cli(sandbox, "plan", "golang:1.19.2-alpine", "--json")
    assert plan.returncode == 0, plan.stderr
    planned = json.loads(plan.stdout)
    assert planned["decision"] == "create" and sorted(planned["children"].values()) == [
        "1.19.2-alpine-amd64", "1.19.2-alpine-arm64"]

    dry = cli(sandbox, "reconcile", "--dry-run", "--json")
    assert dry.returncode == 0, dry.stderr
    assert {v["version"]: v.get("action", v["outcome"]) for v in json.loads(dry.stdout)["versions"]} == {
        "1.18-alpine": "update", "1.19.2-alpine": "create", "1.20-alpine": "waiting", "1.21-alpine": "create"}

    assemble = cli(sandbox, "assemble", "123456789012.dkr.ecr.us-east-1.amazonaws.com/golang:1.19.2-alpine")
    assert assemble.returncode == 0, assemble.stderr
    assert assemble.stdout.startswith(f"created    golang:1.19.2-alpine  {planned['digest']}")

    invoke = cli(sandbox, "invoke", str(EVENTS / "push-arm64.json"))
    assert invoke.returncode == 0, invoke.stderr
    assert json.loads(invoke.stdout) == {"outcome": "unchanged", "repository": "golang", "version": "1.19.2-alpine",
                                         "digest": planned["digest"], "mediaType": planned["mediaType"]}

    reconcile = cli(sandbox, "reconcile")
    assert reconcile.returncode == 0, reconcile.stderr
    rows = {cells[0]: cells[1:] for cells in (line.split() for line in reconcile.stdout.splitlines())
            if cells and cells[0] in {"golang", "total"}}
    assert rows["golang"] == ["1", "1", "1", "1", "0"]  # created 1.21, updated 1.18, 1.19.2 unchanged, 1.20 waiting
    assert reconcile.stdout.splitlines()[-1] == "Swept 1 repository; 2 indexes written."

    scheduled = cli(sandbox, "invoke", str(EVENTS / "schedule" / "scheduled-event.json"))
    assert scheduled.returncode == 0, scheduled.stderr
    assert json.loads(scheduled.stdout)["totals"] == {"created": 0, "updated": 0, "unchanged": 3, "waiting": 1,
                                                      "rejected": 0, "planned": 0, "failed": 0}

    for name in ("push-amd64.json", "push-index.json", "push-untagged.json", "delete-amd64.json"):
        result = cli(sandbox, "invoke", str(EVENTS / name))
        assert result.returncode == 0, (name, result.stderr)
        assert json.loads(result.stdout)["outcome"] in {"unchanged", "skipped"}


def test_every_command_the_banner_suggests_runs_as_printed_from_the_checkout_root(sandbox: dict[str, Any]) -> None:
    suggested = [line.removeprefix("#").strip() for line in sandbox["lines"]
                 if re.match(r"#\s+\S*ecr-multiarch ", line)]
    assert [line.split(" ", 1)[0] for line in suggested] == [".venv/bin/ecr-multiarch"] * 6  # not on PATH
    assert f"# Then try, from the checkout root ({ROOT}):" in sandbox["lines"]
    # A shell that has no ecr-multiarch on PATH, as a new user's has not.
    environment = dict(sandbox["environment"])
    environment["PATH"] = os.pathsep.join(entry for entry in environment.get("PATH", "").split(os.pathsep)
                                          if ".venv" not in entry)
    for line in suggested:
        result = subprocess.run(["sh", "-c", line], cwd=ROOT, env=environment, capture_output=True, text=True,
                                timeout=COMMAND_SECONDS, check=False)
        assert result.returncode == 0, (line, result.stderr)
        assert result.stdout.strip(), line


def test_ctrl_c_stops_it_cleanly() -> None:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    # As from a terminal: SIGINT at its default. A parent that ignores it (mutmut's workers do) would otherwise hand
    # the ignore on through exec, and Python then never raises KeyboardInterrupt in the sandbox.
    process = subprocess.Popen([sys.executable, "-m", "ecr_multiarch.cli", "sandbox"], cwd=ROOT, env=environment,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))  # noqa: PLW1509
    try:
        lines = _read_banner(process)
        endpoint = _exported(lines)["AWS_ENDPOINT_URL"]
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=20) == 0
        port = int(endpoint.rsplit(":", 1)[1])
        with socket.socket() as probe:
            assert probe.connect_ex(("127.0.0.1", port)) != 0  # nothing listens any more
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)
