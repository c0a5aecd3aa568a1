"""Smoke tests of what `sam build` produced: the built function and layer, as Lambda would run them.

`make test` runs `sam build` first and sets ECR_MULTIARCH_REQUIRE_BUILD=1, so a missing build fails here; a plain
`pytest` without a build skips these tests (run `make build-smoke`).

The built artefacts are zipped and unzipped (new timestamps, as after a deployment), made read-only (as /var/task and
/opt are), and imported on a bare CPython 3.13 (`-I -S`) with only the function, the layer and a stand-in for the
runtime's boto3 on sys.path. The layer is built for arm64; its packages are pure Python except wrapt and
charset-normalizer, which ship aarch64 C extensions next to the pure-Python modules they fall back to. On an x86_64
host those fallbacks run (checked below for wrapt), on an aarch64 host the extensions.
"""

from __future__ import annotations

import email.parser
import json
import stat
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from devkit.built import (
    LAMBDA_CONTEXT_SOURCE,
    RUNTIME_PROVIDED,
    RUNTIME_PROVIDED_MODULES,
    BuiltArtifacts,
    bare_python_command,
    lambda_environment,
)
from devkit.locks import read_requirements

ROOT = Path(__file__).resolve().parents[2]
SOURCE_PACKAGE = ROOT / "functions" / "assembler" / "ecr_multiarch"
REQUIREMENTS = ROOT / "layers" / "runtime" / "requirements.txt"
UNTAGGED_PUSH = ROOT / "events" / "push-untagged.json"

# The Lambda platform the layer is built for, for evaluating dependency markers.
LAMBDA_MARKER_ENVIRONMENT = {
    "python_version": "3.13",
    "python_full_version": "3.13.0",
    "implementation_name": "cpython",
    "platform_python_implementation": "CPython",
    "sys_platform": "linux",
    "platform_system": "Linux",
    "platform_machine": "aarch64",
    "os_name": "posix",
    "extra": "",
}


@pytest.fixture(scope="module")
def deployed(built: BuiltArtifacts, tmp_path_factory: pytest.TempPathFactory) -> Iterator[BuiltArtifacts]:
    """The artefacts after a zip round trip (fresh timestamps, as Lambda unpacks them), read-only."""
    root = tmp_path_factory.mktemp("lambda")
    targets = {built.function_dir: root / "task", built.layer_dir: root / "opt"}
    for source, target in targets.items():
        archive = root / f"{target.name}.zip"
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zipped:
            for path in sorted(source.rglob("*")):
                zipped.write(path, path.relative_to(source))
        with zipfile.ZipFile(archive) as zipped:
            zipped.extractall(target)
    for target in targets.values():
        _chmod_tree(target, writable=False)
    yield BuiltArtifacts(root / "task", root / "opt")
    for target in targets.values():
        _chmod_tree(target, writable=True)


def _chmod_tree(root: Path, *, writable: bool) -> None:
    for path in [root, *root.rglob("*")]:
        mode = path.stat().st_mode
        path.chmod(mode | stat.S_IWUSR if writable else mode & ~(stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH))


# ------------------------------------------------------------------------------------------- what was built


def test_the_build_is_of_the_current_sources(built: BuiltArtifacts) -> None:
    built_sources = {p.relative_to(built.function_dir / "ecr_multiarch") for p in
                     (built.function_dir / "ecr_multiarch").rglob("*.py")}
    sources = {p.relative_to(SOURCE_PACKAGE) for p in SOURCE_PACKAGE.rglob("*.py")}
    assert built_sources == sources, "stale build: run `make sam-build`"
    changed = [str(p) for p in sources
               if (SOURCE_PACKAGE / p).read_bytes() != (built.function_dir / "ecr_multiarch" / p).read_bytes()]
    assert not changed, f"stale build, changed since: {changed}; run `make sam-build`"


def test_the_function_ships_only_its_package(built: BuiltArtifacts) -> None:
    assert sorted(p.name for p in built.function_dir.iterdir()) == ["ecr_multiarch"]


def _pins() -> dict[str, Version]:
    return {name: Version(entry.version) for name, entry in read_requirements(REQUIREMENTS).items()}


def _shipped(site: Path) -> dict[str, tuple[Version, list[str]]]:
    """Distribution name -> (version, Requires-Dist) for every .dist-info in the layer."""
    shipped: dict[str, tuple[Version, list[str]]] = {}
    for info in site.glob("*.dist-info"):
        metadata = email.parser.Parser().parsestr((info / "METADATA").read_text(encoding="utf-8"))
        shipped[canonicalize_name(metadata["Name"])] = (Version(metadata["Version"]),
                                                        metadata.get_all("Requires-Dist") or [])
    return shipped


def test_the_layer_holds_exactly_the_pinned_requirements(built: BuiltArtifacts) -> None:
    shipped = {name: version for name, (version, _) in _shipped(built.layer_site).items()}
    assert shipped == _pins()


def test_the_layer_leaves_boto3_and_botocore_to_the_runtime(built: BuiltArtifacts) -> None:
    top_level = {p.name.removesuffix(".py") for p in built.layer_site.iterdir()}
    assert not top_level & RUNTIME_PROVIDED_MODULES, "a copy in the layer would shadow the runtime's"
    assert not set(_shipped(built.layer_site)) & RUNTIME_PROVIDED


def test_every_dependency_of_the_layer_is_shipped_or_provided_by_the_runtime(built: BuiltArtifacts) -> None:
    shipped = _shipped(built.layer_site)
    unmet: list[str] = []
    for name, (_, requires) in shipped.items():
        for line in requires:
            requirement = Requirement(line)
            if requirement.marker is not None and not requirement.marker.evaluate(LAMBDA_MARKER_ENVIRONMENT):
                continue
            dependency = canonicalize_name(requirement.name)
            if dependency in RUNTIME_PROVIDED:
                continue
            if dependency not in shipped:
                unmet.append(f"{name} needs {line}: not in the layer")
            elif not requirement.specifier.contains(shipped[dependency][0], prereleases=True):
                unmet.append(f"{name} needs {line}: the layer has {shipped[dependency][0]}")
    assert not unmet, unmet


def _magic_number(python313: str) -> bytes:
    out = subprocess.run([python313, "-I", "-c", "import importlib.util, sys; "
                          "sys.stdout.write(importlib.util.MAGIC_NUMBER.hex())"],
                         capture_output=True, text=True, check=True, timeout=60).stdout
    return bytes.fromhex(out)


@pytest.mark.parametrize("part", ["function", "layer"])
def test_every_module_ships_unchecked_hash_bytecode_for_python313(
    built: BuiltArtifacts, python313: str, part: str
) -> None:
    root = built.function_dir if part == "function" else built.layer_dir
    magic = _magic_number(python313)
    problems: list[str] = []
    sources = sorted(root.rglob("*.py"))
    assert sources
    for source in sources:
        cached = source.parent / "__pycache__" / f"{source.stem}.cpython-313.pyc"
        if not cached.is_file():
            problems.append(f"{source.relative_to(root)}: no {cached.name}")
            continue
        header = cached.read_bytes()[:8]
        flags = int.from_bytes(header[4:8], "little")
        if header[:4] != magic or flags != 0b01:  # bit 0: hash-based; bit 1: check the source (must be off)
            problems.append(f"{cached.relative_to(root)}: magic {header[:4].hex()}, flags {flags:#04b}")
    assert not problems, problems[:20]


# ------------------------------------------------------------------------------------ importing and running

SMOKE_SCRIPT = r'''
import _frozen_importlib_external as _external
import json, platform, sys

compiled = []
_source_to_code = _external.SourceLoader.source_to_code

def _spy(self, data, path, *args, **kwargs):
    compiled.append(str(path))
    return _source_to_code(self, data, path, *args, **kwargs)

_external.SourceLoader.source_to_code = _spy
sys.dont_write_bytecode = True


''' + LAMBDA_CONTEXT_SOURCE + r'''

from ecr_multiarch import handler

with open(sys.argv[1], encoding="utf-8") as stream:
    event = json.load(stream)
result = handler.lambda_handler(event, Context())
# What the skipped event made the process import; then what a full assembly needs (the blob reader brings requests
# and charset_normalizer), to see where it comes from.
imported = sorted(sys.modules)

import botocore.session, urllib3, wrapt
import ecr_multiarch.adapters.http_blobs, ecr_multiarch.assembler

xray = sys.modules.get("aws_xray_sdk")
modules = ("ecr_multiarch.handler", "ecr_multiarch.adapters.http_blobs", "aws_lambda_powertools", "aws_xray_sdk",
           "requests", "urllib3", "charset_normalizer", "wrapt", "botocore", "jmespath")
report = {
    "result": result,
    "imported_by_the_event": imported,
    "compiled_from_source": compiled,
    "origins": {name: getattr(sys.modules.get(name), "__file__", None) for name in modules},
    "wrapt_c_extension": "wrapt._wrappers" in sys.modules,
    "xray_enabled": xray.global_sdk_config.sdk_enabled() if xray is not None else None,
    "machine": platform.machine(),
    "version": list(sys.version_info[:2]),
}
with open(sys.argv[2], "w", encoding="utf-8") as stream:
    json.dump(report, stream)
'''


def run_smoke(python313: str, deployed: BuiltArtifacts, runtime: Path, tmp_path: Path, *,
              tracing: bool) -> dict[str, Any]:
    report_path = tmp_path / "report.json"
    command = bare_python_command(python313, deployed.lambda_sys_path(runtime), SMOKE_SCRIPT,
                                  str(UNTAGGED_PUSH), str(report_path))
    result = subprocess.run(command, env=lambda_environment(deployed.function_dir, tracing=tracing), cwd=tmp_path,
                            capture_output=True, text=True, timeout=120, check=False)
    assert result.returncode == 0, f"the built handler failed on python3.13:\n{result.stdout}\n{result.stderr}"
    report: dict[str, Any] = json.loads(report_path.read_text(encoding="utf-8"))
    return report


def _under(path: str | None, root: Path) -> bool:
    return path is not None and Path(path).is_relative_to(root)


def assert_ran_from_the_artefacts(report: dict[str, Any], deployed: BuiltArtifacts, runtime: Path) -> None:
    assert report["version"] == [3, 13]
    assert report["result"]["outcome"] == "skipped", report["result"]
    origins = report["origins"]
    for name in ("ecr_multiarch.handler", "ecr_multiarch.adapters.http_blobs"):
        assert _under(origins[name], deployed.function_dir), (name, origins[name])
    for name in ("aws_lambda_powertools", "requests", "urllib3", "charset_normalizer", "wrapt"):
        assert _under(origins[name], deployed.layer_site), (name, origins[name])
    for name in ("botocore", "jmespath"):
        assert _under(origins[name], runtime), f"{name} must come from the runtime, not {origins[name]}"
    # A skipped event pays for nothing it does not use: no client, no ECR adapter, no assembler, no HTTP stack.
    paid_for = set(report["imported_by_the_event"]) & {
        "boto3", "botocore.session", "botocore.client", "urllib3", "requests", "asyncio", "ecr_multiarch.assembler",
        "ecr_multiarch.adapters.ecr", "ecr_multiarch.adapters.http_blobs"}
    assert not paid_for, f"imported before a skipped outcome: {sorted(paid_for)}"
    # The shipped bytecode was used as it is, after the zip round trip: nothing of ours was compiled at import.
    ours = [p for p in report["compiled_from_source"]
            if _under(p, deployed.function_dir) or _under(p, deployed.layer_dir)]
    assert not ours, f"compiled from source at import (bytecode missing or rejected): {ours[:10]}"
    # wrapt's C extension is built for aarch64; elsewhere its pure-Python fallback must carry the same import.
    assert report["wrapt_c_extension"] is (report["machine"] == "aarch64")


def test_the_built_handler_runs_on_a_bare_python313(
    python313: str, deployed: BuiltArtifacts, runtime: Path, tmp_path: Path
) -> None:
    report = run_smoke(python313, deployed, runtime, tmp_path, tracing=False)
    assert_ran_from_the_artefacts(report, deployed, runtime)
    assert report["xray_enabled"] in (False, None)


def test_the_built_handler_runs_with_xray_tracing_active(
    python313: str, deployed: BuiltArtifacts, runtime: Path, tmp_path: Path
) -> None:
    # Tracing: Active in Lambda: Powertools' Tracer records with the layer's X-Ray SDK (botocore is patched when the
    # first client is built).
    report = run_smoke(python313, deployed, runtime, tmp_path, tracing=True)
    assert_ran_from_the_artefacts(report, deployed, runtime)
    assert report["xray_enabled"] is True
    assert _under(report["origins"]["aws_xray_sdk"], deployed.layer_site)

