"""The built functions under AWS's own runtime pieces, as `sam local invoke` runs them, without Docker.

`sam local invoke` starts a container whose entry point is the Lambda Runtime Interface Emulator (RIE, shipped inside
aws-sam-cli as samcli/local/rapid/aws-lambda-rie-<arch>), which starts the runtime interface client
(`python3.13 -m awslambdaric <Handler>`) and hands it each event with the emulator's own context: its function ARN
carries a placeholder account (012345678912). Here the same binary and the same client run on this machine: the built
function, the built layer and the runtime stand-in on PYTHONPATH in Lambda's order, the environment SAM's own code
makes from template.yaml and the --env-vars sample of docs/sam-local.md (docs/sam-local-env-vars.json), and the
in-memory ECR served over HTTP on 127.0.0.1. Events go in over the emulator's HTTP API; the test reads what ECR holds.

Needs `make sam-venv` (the RIE binary and SAM's code), `make sam-build` and the runtime stand-in with awslambdaric
(`make runtime-standin`); skipped without them, failed under ECR_MULTIARCH_REQUIRE_BUILD=1 (`make test`).
"""

from __future__ import annotations

import json
import os
import platform
import signal
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from devkit.built import BuiltArtifacts
from devkit.fake_ecr import REGION, FakeEcr
from devkit.sandbox import seed
from ecr_multiarch.domain import media_types
from tests.contract.test_template import Evaluator, load_template, parameter_defaults

from .conftest import missing

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
ENV_VARS_SAMPLE = ROOT / "docs" / "sam-local-env-vars.json"  # the --env-vars file docs/sam-local.md gives
SAM_SITE = ROOT / ".venv-sam" / "lib"
RIE_MACHINES = {"x86_64": "x86_64", "amd64": "x86_64", "aarch64": "arm64", "arm64": "arm64"}
PLACEHOLDER_ACCOUNT = "012345678912"  # the RIE's InvokedFunctionArn account
CREDENTIALS = {"region": REGION, "key": "testing", "secret": "testing", "sessiontoken": "testing"}
INVOKE_PATH = "/2015-03-31/functions/function/invocations"
# An invocation is a cold start (about 2-3 s on a loaded 2-core machine) plus a few ECR calls on loopback.
INVOKE_TIMEOUT = 60.0

# Run with SAM's own interpreter and code: the container environment `sam local invoke` makes for one function
# (samcli.local.lambdafn.env_vars: AWS_SAM_LOCAL, AWS_LAMBDA_FUNCTION_TIMEOUT, credentials, the declared variables
# with the --env-vars overrides applied to declared variables only).
SAM_ENVIRONMENT = r'''
import json, sys
from samcli.local.lambdafn.env_vars import EnvironmentVariables
spec = json.loads(sys.argv[1])
variables = EnvironmentVariables(spec["name"], spec["memory"], spec["timeout"], spec["handler"],
                                 variables=spec["variables"], shell_env_values={},
                                 override_values=spec["overrides"], aws_creds=spec["credentials"])
print(json.dumps(variables.resolve()))
'''


def _sam_python() -> Path:
    return ROOT / ".venv-sam" / "bin" / "python"


@pytest.fixture(scope="module")
def rie() -> Path:
    machine = RIE_MACHINES.get(platform.machine())
    if machine is None:
        pytest.skip(f"aws-sam-cli ships no RIE for {platform.machine()}")
    found = sorted(SAM_SITE.glob(f"python3.*/site-packages/samcli/local/rapid/aws-lambda-rie-{machine}"))
    if not found or not _sam_python().is_file():
        missing(f"no aws-lambda-rie-{machine} in .venv-sam: run `make sam-venv`")
    return found[-1]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def function_spec(function_id: str) -> dict[str, Any]:
    """What SAM reads of one function in template.yaml (Globals under the function's own), intrinsics resolved
    with the parameters' defaults."""
    template = load_template()
    merged = {**template["Globals"]["Function"], **template["Resources"][function_id]["Properties"]}
    variables = Evaluator(template, parameter_defaults(template)).resolve(merged["Environment"]["Variables"])
    return {"name": function_id, "memory": merged["MemorySize"], "timeout": merged["Timeout"],
            "handler": merged["Handler"], "variables": variables}


def env_vars_overrides(function_id: str, endpoint_url: str) -> dict[str, str]:
    """The sample --env-vars file with the sandbox's endpoint in it, merged as SAM merges it: "Parameters" for every
    function, then the function's own section."""
    document = json.loads(ENV_VARS_SAMPLE.read_text(encoding="utf-8"))
    overrides = {**document.get("Parameters", {}), **document.get(function_id, {})}
    assert set(overrides) == {"ECR_MULTIARCH_ENDPOINT_URL"}, overrides
    return {name: endpoint_url for name in overrides}


def container_environment(function_id: str, endpoint_url: str, built: BuiltArtifacts, runtime: Path) -> dict[str, str]:
    spec = {**function_spec(function_id), "overrides": env_vars_overrides(function_id, endpoint_url),
            "credentials": CREDENTIALS}
    made = subprocess.run([str(_sam_python()), "-c", SAM_ENVIRONMENT, json.dumps(spec)], capture_output=True,
                          text=True, timeout=60, check=True)
    environment: dict[str, str] = json.loads(made.stdout)
    assert environment["AWS_SAM_LOCAL"] == "true"
    assert environment["ECR_MULTIARCH_ENDPOINT_URL"] == endpoint_url
    environment.update({
        # What the Lambda image sets: the task root, and the runtime's import path (function, layer, runtime).
        "LAMBDA_TASK_ROOT": str(built.function_dir),
        "PYTHONPATH": os.pathsep.join(built.lambda_sys_path(runtime)),
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        # Any client that ignored ECR_MULTIARCH_ENDPOINT_URL would fail at once on this closed port, never reach AWS.
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    })
    return environment


@dataclass
class Emulator:
    url: str
    log: Path

    def invoke(self, event: dict[str, Any]) -> Any:
        request = urllib.request.Request(self.url + INVOKE_PATH, data=json.dumps(event).encode(), method="POST")
        with urllib.request.urlopen(request, timeout=INVOKE_TIMEOUT) as response:  # the emulator, on 127.0.0.1
            return json.loads(response.read())

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")

    def metrics(self) -> list[dict[str, Any]]:
        """The EMF documents Powertools printed (one per invocation)."""
        return [json.loads(line) for line in self.output().splitlines() if line.startswith('{"_aws"')]


@contextmanager
def emulator(rie: Path, python313: str, handler: str, environment: dict[str, str], cwd: Path,
             log: Path) -> Iterator[Emulator]:
    """The RIE on 127.0.0.1 (its own and the runtime API's port both free ones, never 0.0.0.0), starting
    `python3.13 -S -m awslambdaric <handler>` on the first invocation; always killed, with the runtime it started."""
    address = f"127.0.0.1:{free_port()}"
    command = [str(rie), "--runtime-interface-emulator-address", address,
               "--runtime-api-address", f"127.0.0.1:{free_port()}", "--log-level", "error",
               python313, "-S", "-m", "awslambdaric", handler]  # -S: no site-packages but the stand-in's
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=environment, cwd=cwd, stdout=output, stderr=subprocess.STDOUT,
                                   start_new_session=True)  # its own process group: the runtime goes with it
    try:
        _wait_until_listening(address, process)
        yield Emulator(f"http://{address}", log)
    finally:
        _stop(process)


def _wait_until_listening(address: str, process: subprocess.Popen[bytes]) -> None:
    host, port = address.rsplit(":", 1)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"the RIE exited with {process.returncode} before listening")
        try:
            socket.create_connection((host, int(port)), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.05)
    raise AssertionError(f"the RIE did not listen on {address} within 10 s")


def _stop(process: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 5), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
        try:
            process.wait(timeout=wait)
            break
        except subprocess.TimeoutExpired:
            continue
    if process.poll() is None:  # pragma: no cover - SIGKILL is not refused
        raise AssertionError(f"the RIE (pid {process.pid}) outlived SIGKILL")


@dataclass
class Stage:
    """The fake ECR, seeded as `make sandbox` seeds it, and the emulator for one of the template's functions."""

    ecr: FakeEcr
    start: Any


@pytest.fixture
def stage(rie: Path, built: BuiltArtifacts, python313: str, runtime: Path, tmp_path: Path) -> Iterator[Stage]:
    with FakeEcr(server=True) as ecr:
        seed(ecr)
        assert ecr.endpoint_url is not None
        endpoint_url = ecr.endpoint_url

        @contextmanager
        def start(function_id: str) -> Iterator[Emulator]:
            environment = container_environment(function_id, endpoint_url, built, runtime)
            handler = function_spec(function_id)["handler"]
            with emulator(rie, python313, handler, environment, built.function_dir,
                          tmp_path / f"{function_id}.log") as running:
                yield running

        yield Stage(ecr, start)


def digest_at(ecr: FakeEcr, tag: str) -> str:
    stored = ecr.image_at("golang", tag)
    assert stored is not None, tag
    return stored.digest


def index_at(ecr: FakeEcr, tag: str) -> tuple[str, list[str]]:
    """The media type ECR stores at ``tag`` and the digests its entries point to, in order."""
    stored = ecr.image_at("golang", tag)
    assert stored is not None, f"no image at golang:{tag}"
    return stored.media_type, [entry["digest"] for entry in json.loads(stored.manifest)["manifests"]]


def push_event(ecr: FakeEcr) -> dict[str, Any]:
    """events/push-arm64.json as ECR sends it for the seeded golang:1.19.2-alpine-arm64 (its digest)."""
    event: dict[str, Any] = json.loads((EVENTS / "push-arm64.json").read_text(encoding="utf-8"))
    assert event["detail"]["image-tag"] == "1.19.2-alpine-arm64" and event["account"] != PLACEHOLDER_ACCOUNT
    event["detail"]["image-digest"] = digest_at(ecr, "1.19.2-alpine-arm64")
    return event


def test_the_arm64_push_of_a_complete_version_creates_the_index_then_is_unchanged(stage: Stage) -> None:
    ecr = stage.ecr
    event = push_event(ecr)
    children = [digest_at(ecr, "1.19.2-alpine-amd64"), digest_at(ecr, "1.19.2-alpine-arm64")]
    assert ecr.image_at("golang", "1.19.2-alpine") is None

    with stage.start("AssemblerFunction") as function:
        first = function.invoke(event)
        assert first.get("outcome") == "created", (first, function.output()[-3000:])
        written = index_at(ecr, "1.19.2-alpine")
        second = function.invoke(event)
        output = function.output()

    assert written == (media_types.DOCKER_MANIFEST_LIST, children)
    assert first["digest"] == digest_at(ecr, "1.19.2-alpine")
    assert second == {**first, "outcome": "unchanged"}, output[-3000:]
    assert index_at(ecr, "1.19.2-alpine") == written
    assert ecr.operations().count("put_image") == 1
    # The context was the emulator's own; the policy read named the registry's account from the event.
    assert f":{PLACEHOLDER_ACCOUNT}:function:AssemblerFunction" in output
    assert [call.params["resourceArn"] for call in ecr.calls if call.operation == "list_tags_for_resource"] == [
        f"arn:aws:ecr:{REGION}:{event['account']}:repository/golang"]
    assert [m.get("Created") for m in function.metrics()] == [[1.0], None]
    assert not any("EventsNotPublished" in m for m in function.metrics()), "a pipeline event missed the endpoint"


def test_the_scheduled_sweep_writes_the_index_of_every_complete_version(stage: Stage) -> None:
    ecr = stage.ecr
    scheduled = json.loads((EVENTS / "schedule" / "scheduled-event.json").read_text(encoding="utf-8"))
    plain = {version: [digest_at(ecr, f"{version}-amd64"), digest_at(ecr, f"{version}-arm64")]
             for version in ("1.19.2-alpine", "1.18-alpine")}
    stale = digest_at(ecr, "1.18-alpine")
    # BuildKit's arch tags are indexes: the new index holds each one's image, then its attestation.
    buildkit = [digest for suffix in ("amd64", "arm64") for digest in index_at(ecr, f"1.21-alpine-{suffix}")[1]]

    with stage.start("ReconcileFunction") as function:
        summary = function.invoke(scheduled)
        output = function.output()

    assert "totals" in summary, (summary, output[-3000:])
    assert summary["totals"]["created"] == 2 and summary["totals"]["updated"] == 1, (summary, output[-3000:])
    assert summary["totals"]["waiting"] == 1 and summary["totals"]["rejected"] == 0, summary
    assert summary["complete"] is True and "continued" not in summary
    assert index_at(ecr, "1.19.2-alpine") == (media_types.DOCKER_MANIFEST_LIST, plain["1.19.2-alpine"])
    assert index_at(ecr, "1.18-alpine") == (media_types.DOCKER_MANIFEST_LIST, plain["1.18-alpine"])
    assert digest_at(ecr, "1.18-alpine") != stale
    assert index_at(ecr, "1.21-alpine") == (media_types.OCI_INDEX, buildkit)
    assert ecr.image_at("golang", "1.20-alpine") is None  # arm64 never pushed: nothing written
    assert f":{PLACEHOLDER_ACCOUNT}:function:ReconcileFunction" in output
    assert not any("EventsNotPublished" in m for m in function.metrics()), "a pipeline event missed the endpoint"
