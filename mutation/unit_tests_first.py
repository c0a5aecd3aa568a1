"""pytest plugin for `make mutate` only: run the unit tests first, and keep the failures of mutmut's first pass.

mutmut runs a mutant's tests with ``-x`` in no particular order; most mutants are killed by a unit test in
milliseconds, so trying those first saves seconds of functional tests on every mutant that does not survive.

mutmut's first pass (one traced run of every selected test, in a forked child) ends with "failed to collect stats"
and no output when a test fails there; the test and its traceback are appended to ``stats-failures.log`` in the
workspace (``.mutation/``), so that message can be acted on.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# mutmut runs pytest from .mutation/mutants; the log goes one level up, beside mutmut's own files.
FAILURES = Path("..") / "stats-failures.log"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith("tests/unit/"))  # stable: keeps the order within each


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed and os.environ.get("MUTANT_UNDER_TEST") == "stats":
        with FAILURES.open("a") as log:
            log.write(f"=== {report.nodeid} ({report.when})\n{report.longreprtext}\n")
