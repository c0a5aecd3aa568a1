"""`make mutate`: mutmut over the core, then the score of the mutants that are not equivalent.

mutmut names a mutant after the file it comes from (``functions/assembler/ecr_multiarch/x.py`` would become module
``functions.assembler.ecr_multiarch.x``) but records which tests reach a function under the name the tests import it by
(``ecr_multiarch.x``); when the two differ every mutant is reported as having no tests. So mutmut runs in a workspace,
``.mutation/``, where the package sits at ``src/ecr_multiarch`` (mutmut strips ``src.``) and ``tests/``, ``devkit/``,
``events/``, ``benchmarks/`` and ``pyproject.toml`` are links to the real ones: the configuration is ``[tool.mutmut]``
in the repository's pyproject.toml, paths relative to that workspace.

Usage: ``python mutation/run.py [--report-only | --resume | --survivors] [MUTANT_GLOB ...]``. Without a glob every
earlier result is discarded and all mutants run; with one (``'ecr_multiarch.domain.digest.*'``) only those run again,
the rest are kept; ``--resume`` keeps every result and runs the mutants an interrupted run did not reach;
``--survivors`` runs every mutant not detected yet: the survivors again (after tests were written for them) and any
not checked.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKSPACE = ROOT / ".mutation"
EQUIVALENTS = ROOT / "mutation" / "equivalent-mutants.md"
STATS_FAILURES = WORKSPACE / "stats-failures.log"  # written by mutation/unit_tests_first.py
OVER_BUDGET = WORKSPACE / "over-budget.txt"  # likewise: mutants whose test run was stopped at the time budget
GOAL_PERCENT = 90.0
LINKS = {
    "src/ecr_multiarch": ROOT / "functions" / "assembler" / "ecr_multiarch",
    "tests": ROOT / "tests",
    "devkit": ROOT / "devkit",
    "events": ROOT / "events",
    "benchmarks": ROOT / "benchmarks",
    "pyproject.toml": ROOT / "pyproject.toml",
    # Read by the tests that check the docs against the code (commands, error codes): present, so they pass.
    "docs": ROOT / "docs",
    "README.md": ROOT / "README.md",
    "Makefile": ROOT / "Makefile",
}
# Detected: the tests failed (killed), ran past their time limit (timeout, e.g. a loop that no longer ends), or
# mypy --strict, which `make test` runs too, rejected the mutated code before any test ran.
DETECTED = {"killed", "timeout", "caught by type check"}
# One entry of the equivalents file: - `module:Qualified.name` ``added code`` — why
ENTRY = re.compile(r"^- `(?P<module>[\w.]+):(?P<qualname>[\w.]+)` ``(?P<code>.+?)`` — (?P<why>.+)$")


def prepare_workspace(*, fresh: bool) -> None:
    for relative, target in LINKS.items():
        link = WORKSPACE / relative
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.is_symlink() and link.resolve() == target:
            continue
        if link.is_symlink() or link.exists():
            link.unlink()
        link.symlink_to(os.path.relpath(target, link.parent))
    if fresh:
        shutil.rmtree(WORKSPACE / "mutants", ignore_errors=True)
        OVER_BUDGET.unlink(missing_ok=True)


@dataclass(frozen=True)
class Mutant:
    name: str  # mutmut's name, e.g. ecr_multiarch.domain.digest.x_sha256__mutmut_3 (the number shifts with the code)
    module: str
    qualname: str  # the function as written: sha256, Assembler.assemble
    status: str

    def signature(self, diff: str) -> str:
        """The mutated line(s) as they read after the mutation, whitespace collapsed: stable while the code is."""
        added = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
        return " ".join(" ".join(added).split())


def read_results() -> list[Mutant]:
    from mutmut.mutation.data import SourceFileMutationData
    from mutmut.stats import status_by_exit_code
    from mutmut.utils.file_utils import walk_mutatable_files
    from mutmut.utils.format_utils import mangled_name_from_mutant_name

    stopped_at_budget = set(OVER_BUDGET.read_text().split()) if OVER_BUDGET.exists() else set()
    mutants = []
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for name, exit_code in data.exit_code_by_key.items():
            mangled = mangled_name_from_mutant_name(name)
            module, _, function = mangled.rpartition(".")
            qualname = function[2:] if function.startswith("x_") else ".".join(function.split("ǁ")[1:])
            status = status_by_exit_code[exit_code]
            if exit_code == 2 and name in stopped_at_budget:  # pytest's "interrupted": our budget stopped it
                status = "over budget"
            mutants.append(Mutant(name, module, qualname, status))
    return mutants


def read_equivalents() -> dict[tuple[str, str], str]:
    """(qualname, code after the mutation) -> why it changes no behaviour. The module is for readers: matching on the
    function alone keeps an entry valid when a function moves to another module unchanged."""
    entries = {}
    for line in EQUIVALENTS.read_text().splitlines():
        match = ENTRY.match(line)
        if match:
            entries[(match["qualname"], " ".join(match["code"].split()))] = match["why"]
    return entries


def report(wall_seconds: float | None) -> int:
    from mutmut.mutation.diff_apply import get_diff_for_mutant

    mutants = read_results()
    if not mutants:
        print("no mutation results: run `make mutate` first")
        return 1
    equivalents = read_equivalents()
    used: set[tuple[str, str]] = set()
    unexplained: list[tuple[Mutant, str]] = []
    rows: dict[str, Counter[str]] = {}
    for mutant in mutants:
        counts = rows.setdefault(mutant.module, Counter())
        counts["total"] += 1
        status = mutant.status
        if status not in DETECTED and status != "not checked":
            diff = get_diff_for_mutant(mutant.name)
            key = (mutant.qualname, mutant.signature(diff))
            if key in equivalents:
                used.add(key)
                status = "equivalent"
            else:
                unexplained.append((mutant, diff))
        counts[status] += 1

    columns = ["killed", "timeout", "caught by type check", "survived", "over budget", "no tests", "equivalent",
               "not checked", "total"]
    headers = {"caught by type check": "mypy"}
    print()
    print(f"{'module':<40}" + "".join(f"{headers.get(c, c):>12}" for c in columns) + f"{'score':>9}")
    total: Counter[str] = Counter()
    for module in sorted(rows):
        total.update(rows[module])
        print(f"{module:<40}" + "".join(f"{rows[module][c]:>12}" for c in columns) + f"{score(rows[module]):>9}")
    print(f"{'all':<40}" + "".join(f"{total[c]:>12}" for c in columns) + f"{score(total):>9}")
    other = set(total) - set(columns)
    if other:
        print("also:", ", ".join(f"{k}={total[k]}" for k in sorted(other)))

    for mutant, diff in unexplained:
        print(f"\n{mutant.status}, not in {EQUIVALENTS.relative_to(ROOT)}: {mutant.module}:{mutant.qualname}"
              f" ({mutant.name})\n{diff}")
    stale = set(equivalents) - used
    if stale:
        print(f"\n{len(stale)} entries of {EQUIVALENTS.relative_to(ROOT)} matched no surviving mutant "
              "(killed now, or the code changed: check and remove them):")
        for qualname, code in sorted(stale):
            print(f"  {qualname}: {code}")

    detected = sum(total[status] for status in DETECTED)
    scored = total["total"] - total["equivalent"] - total["not checked"]
    percent = 100.0 * detected / scored if scored else 0.0
    print(f"\nkilled {total['killed']} / survived {total['survived']} / timeout {total['timeout']} / "
          f"caught by mypy {total['caught by type check']} / "
          f"over budget {total['over budget']} / no tests {total['no tests']} / equivalent {total['equivalent']} / "
          f"total {total['total']}")
    print(f"score of non-equivalent mutants: {detected} / {scored} = {percent:.1f}% (goal {GOAL_PERCENT:.0f}%)")
    by_tests = total["killed"] + total["timeout"]
    reached = scored - total["caught by type check"]
    if reached:
        print(f"by the tests alone, of the mutants mypy lets through: {by_tests} / {reached} = "
              f"{100.0 * by_tests / reached:.1f}%")
    if total["not checked"]:
        ran = total["total"] - total["not checked"]
        print(f"{total['not checked']} mutants not checked yet: the score covers only the {ran} that ran "
              "(`make mutate` without MUTANTS runs all)")
    if wall_seconds is not None:
        print(f"wall time: {wall_seconds:.0f} s")
    return 0 if percent >= GOAL_PERCENT else 2


def score(counts: Counter[str]) -> str:
    scored = counts["total"] - counts["equivalent"] - counts["not checked"]
    return f"{100.0 * sum(counts[status] for status in DETECTED) / scored:.1f}%" if scored else "-"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mutants", nargs="*", help="globs of mutant names to run again (default: all, from scratch)")
    parser.add_argument("--report-only", action="store_true", help="print the last results, run nothing")
    parser.add_argument("--resume", action="store_true",
                        help="keep every result so far and run only the mutants not checked yet (after a stop)")
    parser.add_argument("--survivors", action="store_true",
                        help="run every mutant not detected yet: survivors again (after writing tests for them) "
                             "and any not checked")
    # One more test run than cores: the functional tests wait on sockets and threads part of the time.
    parser.add_argument("--max-children", type=int, default=(os.cpu_count() or 2) + 1)
    args = parser.parse_args()

    prepare_workspace(fresh=not (args.mutants or args.report_only or args.resume or args.survivors))
    os.chdir(WORKSPACE)
    if args.survivors:
        args.mutants = [m.name for m in read_results() if m.status not in DETECTED]  # "not checked" included
        if not args.mutants:
            print("no survivors to run again")
            return report(None)
        print(f"running the {len(args.mutants)} mutants not detected yet")
    wall_seconds = None
    if not args.report_only:
        started = time.monotonic()
        STATS_FAILURES.unlink(missing_ok=True)
        mutmut = Path(sys.executable).with_name("mutmut")
        environment = {**os.environ, "PATH": os.pathsep.join([str(mutmut.parent), os.environ.get("PATH", "")]),
                       "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT / "mutation"),
                                                                               os.environ.get("PYTHONPATH")]))}
        # Each mutant's test run imports the mutated modules (assembler.py grows to ~2 MB): compile them once.
        environment.pop("PYTHONDONTWRITEBYTECODE", None)
        command = [str(mutmut), "run", "--max-children", str(args.max_children), *args.mutants]
        run = subprocess.run(command, check=False, env=environment)  # noqa: S603 (our own venv's mutmut)
        wall_seconds = time.monotonic() - started
        if run.returncode != 0:
            print(f"mutmut run failed (exit {run.returncode})", file=sys.stderr)
            if STATS_FAILURES.exists():
                print(f"tests that failed in mutmut's first pass:\n{STATS_FAILURES.read_text()}", file=sys.stderr)
            return run.returncode
    return report(wall_seconds)


if __name__ == "__main__":
    sys.exit(main())
