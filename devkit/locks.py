"""Reading the committed locks (Makefile "dependencies"), for the contract and packaging tests.

Two formats: uv.lock (TOML, one universal resolution of the project, its extras and groups) and the requirements
files uv exports or compiles from it (``name==version \\`` then ``--hash=sha256:…`` lines, ``# via`` comments).
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

_HASH_OPTION = re.compile(r"--hash=(\S+)")


@dataclass(frozen=True, slots=True)
class LockedRequirement:
    """One entry of a hashed requirements file: ``name==version`` with its marker, and the hashes it accepts."""

    name: str
    version: str
    marker: str | None
    hashes: tuple[str, ...]


def read_requirements(path: Path) -> dict[str, LockedRequirement]:
    """Every entry of a requirements file, by canonical name. Raises ValueError for an entry that is not ``==``."""
    entries: dict[str, LockedRequirement] = {}
    for logical in _logical_lines(path.read_text(encoding="utf-8")):
        hashes = tuple(_HASH_OPTION.findall(logical))
        requirement = Requirement(_HASH_OPTION.sub("", logical).strip())
        specifiers = list(requirement.specifier)
        if len(specifiers) != 1 or specifiers[0].operator != "==":
            raise ValueError(f"{path.name}: {requirement} is not pinned with ==")
        name = canonicalize_name(requirement.name)
        entries[name] = LockedRequirement(name, specifiers[0].version,
                                          str(requirement.marker) if requirement.marker else None, hashes)
    return entries


def _logical_lines(text: str) -> list[str]:
    """Lines joined at a trailing backslash, comments and blank lines dropped."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].rstrip() if not raw.lstrip().startswith("--hash") else raw.rstrip()
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        joined = (pending + line).strip()
        pending = ""
        if joined:
            logical.append(joined)
    return logical


class UvLock:
    """uv.lock's packages by canonical name. A universal lock may hold two versions of a package for different
    Python versions (a fork); what the layer ships must not be forked, so ``package`` refuses those."""

    def __init__(self, path: Path) -> None:
        self._packages: dict[str, list[dict[str, Any]]] = {}
        for package in tomllib.loads(path.read_text(encoding="utf-8"))["package"]:
            self._packages.setdefault(canonicalize_name(package["name"]), []).append(package)

    def package(self, name: str) -> dict[str, Any]:
        (package, *forks) = self._packages[canonicalize_name(name)]
        if forks:
            raise ValueError(f"uv.lock holds {name} in several versions (a forked resolution)")
        return package

    def version(self, name: str) -> str:
        return str(self.package(name)["version"])


def runtime_closure(lock: UvLock, root: str, leave_out: frozenset[str]) -> set[str]:
    """The packages ``root`` needs at run time (its dependencies, with the extras they ask for, transitively;
    not its optional extras nor its groups), minus ``leave_out`` and whatever only they would bring."""
    needed: set[str] = set()
    pending = [canonicalize_name(root)]
    while pending:
        package = lock.package(pending.pop())
        wanted = list(package.get("dependencies", []))
        for dependency in wanted:
            name = canonicalize_name(dependency["name"])
            for extra in dependency.get("extra", []):
                wanted.extend(lock.package(name).get("optional-dependencies", {}).get(extra, []))
            if name not in needed and name not in leave_out:
                needed.add(name)
                pending.append(name)
    return needed
