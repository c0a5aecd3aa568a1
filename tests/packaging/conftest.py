"""What every packaging test needs: the `sam build` output, a CPython 3.13 and the runtime stand-in.

`make test` builds them first and sets ECR_MULTIARCH_REQUIRE_BUILD=1, so a missing piece fails there; a plain
`pytest` without them skips these tests (run `make build-smoke`).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devkit.built import RUNTIME_STANDIN, BuiltArtifacts, find_python313


def missing(reason: str) -> None:
    if os.environ.get("ECR_MULTIARCH_REQUIRE_BUILD") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def built() -> BuiltArtifacts:
    artifacts = BuiltArtifacts.at()
    if not artifacts.exists():
        missing("no sam build in .aws-sam/build: run `make sam-build` (or `make build-smoke`)")
    return artifacts


@pytest.fixture(scope="module")
def python313() -> str:
    found = find_python313()
    if found is None:
        missing("no working python3.13: the built artefacts are for the python3.13 runtime")
    assert found is not None
    return found


@pytest.fixture(scope="module")
def runtime() -> Path:
    """The runtime's own packages as the stand-in holds them (uv.lock's group lambda-runtime): boto3, and the
    runtime interface client the Runtime Interface Emulator starts."""
    if not (RUNTIME_STANDIN / "boto3").is_dir() or not (RUNTIME_STANDIN / "awslambdaric").is_dir():
        missing("no runtime stand-in with boto3 and awslambdaric in .aws-sam/runtime-standin: "
                "run `make runtime-standin`")
    return RUNTIME_STANDIN
