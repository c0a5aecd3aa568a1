"""The edges a new user meets first, as separate processes the way a shell runs them: a pipe closed early, an
endpoint nothing answers on, a function that outruns its timeout.

The ECR here is the fake as a real server on 127.0.0.1 (FakeEcr(server=True)), which every subprocess reaches
through AWS_ENDPOINT_URL, as with the sandbox's export lines.
"""

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from devkit.fake_ecr import FakeEcr
from devkit.images import make_image
from ecr_multiarch import cli
from tests.conftest import ROOT

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
