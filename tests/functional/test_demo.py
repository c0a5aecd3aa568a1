"""`make demo` is the first thing a new user runs: it must end with a real index over both children, whatever AWS
configuration the shell holds."""

import json
import os
import re
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from devkit import demo
from ecr_multiarch import cli
from tests.conftest import ROOT

OUTCOMES = ["waiting", "created", "unchanged", "skipped", "skipped", "skipped"]


def replayed_outcomes(out: str) -> list[str]:
    return [json.loads(line.split("outcome: ", 1)[1])["outcome"] for line in out.splitlines()
            if line.startswith("  outcome: ")]


def test_demo_prints_an_index_over_both_children(capsys: pytest.CaptureFixture[str]) -> None:
    assert demo.main([]) == 0
    out = capsys.readouterr().out
    assert replayed_outcomes(out) == OUTCOMES
    assert "ECR now holds golang:1.19.2-alpine" in out
    assert re.search(r"linux/amd64\s+-> sha256:[0-9a-f]{64}  \(golang:1\.19\.2-alpine-amd64\)", out)
    assert re.search(r"linux/arm64/v8\s+-> sha256:[0-9a-f]{64}  \(golang:1\.19\.2-alpine-arm64\)", out)
    assert "X-Amz-Signature" not in out


# --------------------------------------------------------------------------------------------- another ECR configured


class OtherEcr:
    """A live ECR endpoint on 127.0.0.1 that already holds every repository (as a running sandbox does): it answers
    every call RepositoryAlreadyExistsException and records it."""

    def __init__(self) -> None:
        self.requests: list[str] = []
        requests = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                requests.append(f"{self.headers.get('X-Amz-Target')} {self.headers.get('Host')}")
                body = json.dumps({"__type": "RepositoryAlreadyExistsException",
                                   "message": "The repository with name 'golang' already exists"}).encode()
                self.send_response(400)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_POST

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@pytest.fixture
def other_ecr() -> Iterator[OtherEcr]:
    other = OtherEcr()
    yield other
    other.server.shutdown()
    other.server.server_close()


def configured_for(other: OtherEcr, home: Path) -> dict[str, str]:
    """Every way a shell can point the AWS SDK somewhere: a sandbox's export lines, a service's own endpoint, and
    config files (named, and the default ~/.aws ones) whose profiles name the endpoint, globally and per service."""
    (home / ".aws").mkdir()
    config, credentials = home / ".aws" / "config", home / ".aws" / "credentials"
    profile = f"region = eu-west-1\nendpoint_url = {other.url}\nservices = there\n"
    config.write_text(f"[default]\n{profile}[profile elsewhere]\n{profile}"
                      f"[services there]\necr =\n  endpoint_url = {other.url}\nsts =\n  endpoint_url = {other.url}\n")
    credentials.write_text("[default]\naws_access_key_id = elsewhere\naws_secret_access_key = elsewhere\n"
                           "[elsewhere]\naws_access_key_id = elsewhere\naws_secret_access_key = elsewhere\n")
    return {"AWS_ENDPOINT_URL": other.url, "AWS_ENDPOINT_URL_ECR": other.url, "AWS_ENDPOINT_URL_STS": other.url,
            "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing", "AWS_PROFILE": "elsewhere",
            "AWS_CONFIG_FILE": str(config), "AWS_SHARED_CREDENTIALS_FILE": str(credentials), "HOME": str(home)}


@pytest.mark.parametrize("run", ["devkit.demo.main", "ecr-multiarch demo"])
def test_demo_in_process_uses_its_own_ecr_whatever_aws_configuration_is_set(
    run: str, other_ecr: OtherEcr, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name, value in configured_for(other_ecr, tmp_path).items():
        monkeypatch.setenv(name, value)
    code = demo.main([]) if run == "devkit.demo.main" else cli.main(["demo"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert replayed_outcomes(out) == OUTCOMES
    assert other_ecr.requests == []
    assert os.environ["AWS_ENDPOINT_URL"] == other_ecr.url  # the caller's environment is put back


@pytest.mark.parametrize("argv", [["-m", "devkit.demo"], ["-m", "ecr_multiarch.cli", "demo", "--json"]])
def test_demo_as_a_program_uses_its_own_ecr_whatever_aws_configuration_is_set(
    argv: list[str], other_ecr: OtherEcr, tmp_path: Path
) -> None:
    environment = {key: value for key, value in os.environ.items() if not key.startswith("AWS_")}
    environment.update(configured_for(other_ecr, tmp_path))
    result = subprocess.run([sys.executable, *argv], cwd=ROOT, env=environment, capture_output=True, text=True,
                            timeout=120, check=False)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    if "--json" in argv:
        assert [event["outcome"]["outcome"] for event in json.loads(result.stdout)["events"]] == OUTCOMES
    else:
        assert replayed_outcomes(result.stdout) == OUTCOMES
    assert other_ecr.requests == []
