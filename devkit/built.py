"""What `sam build` produced, and a bare CPython 3.13 to run it on the way the Lambda runtime would.

Used by tests/packaging (the smoke test of the built artefacts) and benchmarks/bench.py. The Lambda python3.13 runtime
puts the function code (/var/task) first on sys.path, then the layer (/opt/python), then its own site-packages, which
hold boto3 and botocore. Here: the built function folder, the built layer's ``python/`` folder, then a stand-in for
the runtime's boto3 (``make runtime-standin`` installs it), on an interpreter started with ``-I -S``: no
PYTHON* environment variables, no user or system site-packages, nothing else on the path.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = ROOT / ".aws-sam" / "build"
RUNTIME_STANDIN = ROOT / ".aws-sam" / "runtime-standin"
FUNCTION_ID = "AssemblerFunction"
LAYER_ID = "RuntimeDependenciesLayer"

# What the python3.13 Lambda runtime provides, so the layer must not ship (it would shadow the runtime's copy).
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "python-dateutil", "six"})
RUNTIME_PROVIDED_MODULES = frozenset({"boto3", "botocore", "s3transfer", "jmespath", "dateutil", "six"})

_PYTHON313_CANDIDATES = (
    "python3.13",
    "{pyenv_root}/versions/3.13*/bin/python3.13",
    "{home}/.pyenv/versions/3.13*/bin/python3.13",
    "/root/.pyenv/versions/3.13*/bin/python3.13",
    "/usr/local/bin/python3.13",
    "/usr/bin/python3.13",
)


def _runs_python313(path: str) -> bool:
    try:
        result = subprocess.run(  # noqa: S603 - an interpreter path we looked up, probed with a fixed script
            [path, "-c", "import sys; assert sys.version_info[:2] == (3, 13)"],
            capture_output=True, timeout=30, check=False,
        )
    except OSError:
        return False
    return result.returncode == 0


def find_python313() -> str | None:
    """$PYTHON313 if set, else the first python3.13 that really runs (a pyenv shim for an unselected version fails)."""
    explicit = os.environ.get("PYTHON313")
    if explicit:
        return explicit if _runs_python313(explicit) else None
    home = str(Path.home())
    pyenv_root = os.environ.get("PYENV_ROOT", home + "/.pyenv")
    for template in _PYTHON313_CANDIDATES:
        pattern = template.format(pyenv_root=pyenv_root, home=home)
        if "/" not in pattern:
            found = shutil.which(pattern)
            candidates = [found] if found else []
        else:
            anchor = Path("/")
            candidates = sorted(str(p) for p in anchor.glob(pattern.lstrip("/")))
        for candidate in candidates:
            if _runs_python313(candidate):
                return candidate
    return None


@dataclass(frozen=True)
class BuiltArtifacts:
    """The function and layer folders of one `sam build`."""

    function_dir: Path
    layer_dir: Path

    @classmethod
    def at(cls, build_dir: Path = BUILD_DIR) -> BuiltArtifacts:
        return cls(build_dir / FUNCTION_ID, build_dir / LAYER_ID)

    @property
    def layer_site(self) -> Path:
        """Lambda adds /opt/python to sys.path; the layer's packages live there."""
        return self.layer_dir / "python"

    def exists(self) -> bool:
        return (self.function_dir / "ecr_multiarch" / "handler.py").is_file() and self.layer_site.is_dir()

    def lambda_sys_path(self, runtime: Path = RUNTIME_STANDIN) -> list[str]:
        """sys.path in the order the runtime builds it: function code, layer, the runtime's own packages."""
        return [str(self.function_dir), str(self.layer_site), str(runtime)]


# Prepended to every script run on the bare interpreter: sys.path from argv[1], nothing else.
_PRELUDE = "import json as _json, sys as _sys\n_sys.path[:0] = _json.loads(_sys.argv.pop(1))\n"


def bare_python_command(python313: str, sys_path: Sequence[str], script: str, *args: str) -> list[str]:
    """A command running ``script`` on ``python313 -I -S`` with exactly ``sys_path`` in front of the stdlib."""
    return [python313, "-I", "-S", "-c", _PRELUDE + script, json.dumps(list(sys_path)), *args]


# The environment of a Lambda function of this template, minus AWS: fake credentials, and an endpoint on a closed
# loopback port, so that a call that should not happen fails at once instead of reaching AWS.
LAMBDA_LIKE_ENVIRONMENT: Mapping[str, str] = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_REGION": "us-east-1",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ENDPOINT_URL": "http://127.0.0.1:9",
    "AWS_LAMBDA_FUNCTION_NAME": "ecr-multiarch-AssemblerFunction",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "256",
    "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
    "REQUIRED_ARCHITECTURES": "amd64,arm64",
    "INDEX_FORMAT": "auto",
    "DRY_RUN": "false",
    "POWERTOOLS_SERVICE_NAME": "ecr-multiarch",
    "POWERTOOLS_METRICS_NAMESPACE": "EcrMultiarch",
    "POWERTOOLS_LOG_LEVEL": "INFO",
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
}


# The Lambda context for scripts that run on the bare python3.13 with only the built artefacts on sys.path, where
# devkit (and so devkit.lambda_context.FakeLambdaContext) cannot be imported: the same attributes, as source.
LAMBDA_CONTEXT_SOURCE = r'''
class Context:
    function_name = "ecr-multiarch-AssemblerFunction"
    function_version = "$LATEST"
    memory_limit_in_mb = 256
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:ecr-multiarch-AssemblerFunction"
    aws_request_id = "00000000-0000-4000-8000-000000000000"
    log_group_name = "/aws/lambda/ecr-multiarch-AssemblerFunction"
    log_stream_name = "local"

    def get_remaining_time_in_millis(self):
        return 60_000
'''


def lambda_environment(function_dir: Path, *, tracing: bool) -> dict[str, str]:
    """LAMBDA_LIKE_ENVIRONMENT plus LAMBDA_TASK_ROOT (Lambda always sets it, and the X-Ray SDK and Powertools act
    on it), with X-Ray tracing active (Tracing: Active; daemon address on loopback) or disabled for Powertools."""
    environment = {**LAMBDA_LIKE_ENVIRONMENT, "LAMBDA_TASK_ROOT": str(function_dir)}
    if tracing:
        environment.update({
            "_X_AMZN_TRACE_ID": "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1",
            "AWS_XRAY_DAEMON_ADDRESS": "127.0.0.1:2000",
            "AWS_XRAY_CONTEXT_MISSING": "LOG_ERROR",
        })
    else:
        environment["POWERTOOLS_TRACE_DISABLED"] = "true"
    return environment
