"""``ecr-multiarch`` as a first-time user meets it: AWS configuration, credentials, input checks, demo flags.

In-process runs go against the fake ECR; the runs that must see a clean environment (no credentials, no region)
are subprocesses with a scrubbed environment and a bounded timeout.
"""

import json
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from devkit.fake_ecr import FakeEcr
from devkit.images import make_image
from ecr_multiarch import cli
from ecr_multiarch.domain import media_types
from tests.conftest import EVENTS, ROOT

AMD64 = make_image("amd64")
ARM64 = make_image("arm64", variant="v8")
HOST = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
ADVICE = ("aws configure", "AWS_PROFILE", "aws sso login")


class Run:
    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str]) -> Any:
    def invoke(*argv: str) -> Run:
        code = cli.main(list(argv))
        out, err = capsys.readouterr()
        return Run(code, out, err)

    return invoke


@pytest.fixture
def golang(ecr: FakeEcr) -> FakeEcr:
    """golang:1.0 complete (amd64 + arm64) in us-east-1, the fake's region."""
    ecr.push("golang", "1.0-amd64", AMD64)
    ecr.push("golang", "1.0-arm64", ARM64)
    ecr.calls.clear()
    return ecr


def scrubbed_environment(**extra: str) -> dict[str, str]:
    """A shell with no AWS configuration at all: no keys, no profile, no config files, no instance metadata."""
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    environment.update({"AWS_CONFIG_FILE": "/nonexistent/config", "AWS_SHARED_CREDENTIALS_FILE": "/nonexistent/cred",
                        "AWS_EC2_METADATA_DISABLED": "true", "HOME": "/nonexistent", **extra})
    return environment


def cli_subprocess(*argv: str, environment: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "ecr_multiarch.cli", *argv], capture_output=True, text=True,
                          env=environment, cwd=ROOT, timeout=60, check=False)


# --------------------------------------------------------------------------------------------- region


def test_region_comes_from_aws_region_before_aws_default_region(
    golang: FakeEcr, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")  # an empty registry there
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    result = run("plan", "golang:1.0")
    assert result.code == 0, result.err
    assert result.out.startswith("golang:1.0: would create the index")


def test_region_comes_from_the_registry_host_before_the_environment(
    golang: FakeEcr, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_REGION", "eu-west-1")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert run("plan", "golang:1.0").code == 1  # eu-west-1 has no repository golang: rejected, as ECR would say
    result = run("plan", f"{HOST}/golang:1.0")
    assert result.code == 0, result.err
    assert result.out.startswith("golang:1.0: would create the index")


def test_a_region_flag_that_contradicts_the_host_is_a_usage_error(golang: FakeEcr, run: Any) -> None:
    result = run("plan", f"{HOST}/golang:1.0", "--region", "eu-west-1")
    assert result.code == 2
    assert "--region eu-west-1 contradicts the registry host's region us-east-1" in result.err
    assert golang.calls == []


def test_the_hosts_account_is_the_registry_id_of_every_call(
    golang: FakeEcr, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    sent: list[tuple[str, Any]] = []
    opened = cli.open_session

    def watching(*args: Any, **kwargs: Any) -> Any:
        session = opened(*args, **kwargs)
        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            # ListTagsForResource names the registry in the repository ARN; every other call in registryId.
            arn = params.get("resourceArn")
            sent.append((model.name, arn.split(":")[4] if arn else params.get("registryId")))

        session.events.register("provide-client-params.ecr", record)
        return session

    monkeypatch.setattr(cli, "open_session", watching)
    assert run("assemble", "210987654321.dkr.ecr.us-east-1.amazonaws.com/golang:1.0").code == 1  # not in moto's
    assert sent and all(registry == "210987654321" for _operation, registry in sent), sent
    sent.clear()
    assert run("assemble", "golang:1.0").code == 0  # no host: the caller's own registry, no registryId
    assert {operation for operation, _registry in sent} >= {"BatchGetImage", "PutImage", "GetDownloadUrlForLayer"}
    assert all(registry is None for operation, registry in sent if operation != "ListTagsForResource"), sent


def test_the_stuck_version_report_dates_tags_in_the_runs_region_and_registry(
    golang: FakeEcr, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """plan and reconcile date a waiting version's tags (DescribeImages) through the run's own session: with
    AWS_REGION alone (boto3 by itself reads only AWS_DEFAULT_REGION, so a session of its own had no region and the
    run ended "no AWS region" after the sweep), and in the registry the reference's host names."""
    golang.push("golang", "2.0-amd64", AMD64)
    monkeypatch.delenv("AWS_DEFAULT_REGION", raising=False)
    monkeypatch.setenv("AWS_REGION", "us-east-1")
    described: list[Any] = []
    opened = cli.open_session

    def watching(*args: Any, **kwargs: Any) -> Any:
        session = opened(*args, **kwargs)
        session.events.register("provide-client-params.ecr.DescribeImages",
                                lambda params, **_: described.append(params.get("registryId")))
        return session

    monkeypatch.setattr(cli, "open_session", watching)
    result = run("plan", "golang:2.0")
    assert result.code == 0, result.err
    assert result.out.startswith("golang:2.0: waiting for 2.0-arm64")
    result = run("reconcile", "golang", "--dry-run", "--no-progress")
    assert result.code == 0, result.err
    assert "Planned 1 repository" in result.out
    assert described == [None, None]  # the caller's own registry, through the run's session
    described.clear()
    assert run("plan", f"{HOST}/golang:2.0").code == 0
    assert described == ["123456789012"]


def test_a_caller_without_describe_images_still_gets_its_sweep_and_plan(
    golang: FakeEcr, run: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The stuck-version report is best effort, as in the sweep: a role without ecr:DescribeImages gets the sweep's
    summary (its writes are done) and a note, not exit 2 after the writes."""
    golang.push("golang", "2.0-amd64", AMD64)
    golang.calls.clear()
    opened = cli.open_session

    def denying(*args: Any, **kwargs: Any) -> Any:
        session = opened(*args, **kwargs)
        denied = {"Error": {"Code": "AccessDeniedException", "Message": "not authorized: ecr:DescribeImages"},
                  "ResponseMetadata": {"HTTPStatusCode": 400}}
        session.events.register("before-call.ecr.DescribeImages",
                                lambda **_: (type("Http", (), {"status_code": 400})(), denied))
        return session

    monkeypatch.setattr(cli, "open_session", denying)
    result = run("reconcile", "golang", "--no-progress")
    assert result.code == 0, result.err
    assert "Swept 1 repository; 1 index written." in result.out
    assert "stuck versions not reported" in result.err and "DescribeImages" in result.err
    assert golang.operations().count("put_image") == 1
    result = run("plan", "golang:2.0")
    assert result.code == 0, result.err
    assert result.out.startswith("golang:2.0: waiting for 2.0-arm64")


def test_no_region_anywhere_says_every_way_to_give_one() -> None:
    result = cli_subprocess("plan", "golang:1.0", environment=scrubbed_environment(AWS_ACCESS_KEY_ID="testing",
                                                                                 AWS_SECRET_ACCESS_KEY="testing"))
    assert result.returncode == 2
    assert "no AWS region" in result.stderr and "--region" in result.stderr and "AWS_REGION" in result.stderr


# --------------------------------------------------------------------------------------------- credentials


def test_missing_credentials_exit_2_with_advice_never_transient() -> None:
    environment = scrubbed_environment(AWS_REGION="eu-west-1")
    for argv in (["plan", "golang:1.0"], ["reconcile", "--dry-run"], ["invoke", str(EVENTS / "push-arm64.json")]):
        result = cli_subprocess(*argv, environment=environment)
        assert result.returncode == 2, (argv, result.stderr)
        assert "no AWS credentials found" in result.stderr
        assert all(advice in result.stderr for advice in ADVICE), result.stderr
        assert "transient" not in result.stderr
        assert '"level":"ERROR"' not in result.stderr  # a usage problem is not logged as an error


def test_an_sso_profile_without_a_login_says_to_log_in(tmp_path: Path) -> None:
    (tmp_path / "config").write_text("[profile dev]\nsso_start_url = https://example.awsapps.com/start\n"
                                     "sso_region = us-east-1\nsso_account_id = 123456789012\n"
                                     "sso_role_name = Developer\nregion = eu-west-1\n")
    environment = scrubbed_environment(AWS_CONFIG_FILE=str(tmp_path / "config"), HOME=str(tmp_path))
    result = cli_subprocess("--profile", "dev", "plan", "golang:1.0", environment=environment)
    assert result.returncode == 2
    assert "the SSO session of profile 'dev' needs a login" in result.stderr
    assert "`aws sso login --profile dev`" in result.stderr and "transient" not in result.stderr


def test_a_malformed_reconcile_payload_is_a_usage_error_not_a_logged_error(
    golang: FakeEcr, run: Any, tmp_path: Path
) -> None:
    (tmp_path / "bad.json").write_text(json.dumps({"reconcile": {"continuation": -1}}))
    result = run("invoke", str(tmp_path / "bad.json"))
    assert result.code == 2 and "'continuation' must be a non-negative integer" in result.err
    assert '"level":"ERROR"' not in result.err and golang.calls == []


def test_an_event_that_needs_no_aws_call_runs_with_no_region_and_no_credentials() -> None:
    environment = scrubbed_environment()
    for name, reason in (("push-untagged.json", "untagged push"), ("delete-amd64.json", "action-type 'DELETE'")):
        result = cli_subprocess("invoke", str(EVENTS / name), environment=environment)
        assert result.returncode == 0, result.stderr
        outcome = json.loads(result.stdout)
        assert outcome["outcome"] == "skipped" and reason in outcome["reason"].replace("is ", "")
        assert "START RequestId:" in result.stderr and "REPORT RequestId:" in result.stderr  # as sam local invoke
        assert "STS" not in result.stderr and '"level":"ERROR"' not in result.stderr


class _ExpiredTokenEndpoint(BaseHTTPRequestHandler):
    """Every AWS JSON-protocol call answered as AWS answers an expired session token."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        message = "The security token included in the request is expired"
        if self.headers.get("Content-Type", "").startswith("application/x-www-form-urlencoded"):  # STS: query/XML
            body = (f"<ErrorResponse><Error><Type>Sender</Type><Code>ExpiredToken</Code><Message>{message}</Message>"
                    "</Error><RequestId>1</RequestId></ErrorResponse>").encode()
            content_type = "text/xml"
        else:  # ECR: JSON
            body = json.dumps({"__type": "ExpiredTokenException", "message": message}).encode()
            content_type = "application/x-amz-json-1.1"
        self.send_response(400)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def expired_token_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _ExpiredTokenEndpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL", f"http://127.0.0.1:{server.server_address[1]}")
    yield []
    server.shutdown()
    server.server_close()


def test_expired_credentials_exit_2_with_advice(expired_token_endpoint: list[str], run: Any) -> None:
    for argv in (["plan", "golang:1.0"], ["reconcile", "golang"], ["invoke", str(EVENTS / "push-arm64.json")]):
        result = run(*argv)
        assert result.code == 2, (argv, result.err)
        assert "ExpiredToken" in result.err and "expired or invalid" in result.err
        assert '"level":"ERROR"' not in result.err
        verdict = result.err.strip().splitlines()[-1]  # invoke shows the handler's own logs before it
        assert verdict.startswith("ecr-multiarch: error: AWS refused"), verdict
        assert "aws sso login" in verdict and "transient" not in verdict


# --------------------------------------------------------------------------------------------- input


@pytest.mark.parametrize(("argv", "says"), [
    (["plan", "golang:ünïcødé-arm64"], "tag 'ünïcødé-arm64': a tag is ASCII only"),
    (["assemble", "Golang:1.0"], "repository 'Golang': a repository name is lowercase"),
    (["plan", "gölang:1.0"], "repository 'gölang'"),
    (["plan", "a" * 300 + ":1.0"], "2 to 256 characters (300 given)"),
    (["plan", "golang:1.0:extra"], "exactly one ':'"),
    (["plan", "golang@sha256:123"], "is not a digest"),
    (["plan", f"golang@sha256:{'a' * 64}"], "names a digest; give the version tag"),
    (["reconcile", "Team/*"], "REPOSITORY 'Team/*'"),
    (["--architectures", "amd64,sparc", "plan", "golang:1.0"], "--architectures has unknown suffixes ['sparc']"),
])
def test_bad_input_exits_2_naming_what_was_typed_before_any_call(golang: FakeEcr, run: Any, argv: list[str],
                                                                 says: str) -> None:
    result = run(*argv)
    assert result.code == 2
    assert says in result.err, result.err
    assert "REQUIRED_ARCHITECTURES" not in result.err and "RECONCILE_REPOSITORIES" not in result.err
    assert golang.calls == []


# --------------------------------------------------------------------------------------------- flags


def test_version_prints_the_installed_package_version(run: Any, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["--version"])
    assert exit_info.value.code == 0
    assert capsys.readouterr().out.strip() == f"ecr-multiarch {version('ecr-multiarch')}"


def test_demo_honours_architectures_index_format_and_json(run: Any) -> None:
    result = run("demo", "--architectures", "amd64,arm64,armv7", "--index-format", "oci", "--json")
    assert result.code == 0, result.err
    document = json.loads(result.out)
    assert document["mediaType"] == media_types.OCI_INDEX == document["index"]["mediaType"]
    platforms = [entry["platform"] for entry in document["index"]["manifests"]]
    assert platforms == [{"architecture": "amd64", "os": "linux"},
                         {"architecture": "arm64", "os": "linux", "variant": "v8"},
                         {"architecture": "arm", "os": "linux", "variant": "v7"}]
    assert sorted(document["children"].values()) == [f"golang:1.19.2-alpine-{suffix}"
                                                      for suffix in ("amd64", "arm64", "armv7")]
    assert [event["outcome"]["outcome"] for event in document["events"]] == [
        "waiting", "waiting", "created", "unchanged", "skipped", "skipped", "skipped"]


def test_demo_refuses_an_unknown_suffix(run: Any) -> None:
    result = run("demo", "--architectures", "amd64,bogus")
    assert result.code == 2 and "--architectures has unknown suffixes ['bogus']" in result.err
    assert result.out == ""


def test_the_lambda_functions_never_import_rich() -> None:
    probe = ("import sys; import ecr_multiarch.handler, ecr_multiarch.reconcile_handler; "
             "print(sorted(name for name in sys.modules if name == 'rich' or name.startswith('rich.')))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                            cwd=ROOT, env={**os.environ, "PYTHONPATH": str(Path(ROOT, "functions", "assembler"))},
                            check=True)
    assert result.stdout.strip() == "[]"
    # ...while the CLI's terminal drawing does use it (so the probe above can tell).
    drawn = subprocess.run([sys.executable, "-c", "import sys, ecr_multiarch.terminal as t; t.ProgressBar(sys.stderr);"
                            "print('rich' in sys.modules)"], capture_output=True, text=True, timeout=60,
                           cwd=ROOT, check=True)
    assert drawn.stdout.strip() == "True"
