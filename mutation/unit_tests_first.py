"""pytest plugin for `make mutate` only: unit tests first, a time budget per mutant, and the first pass's failures.

- mutmut runs a mutant's tests with ``-x``; most mutants are killed by a unit test in milliseconds, so trying those
  first saves seconds of functional tests on every mutant that does not survive.
- A mutant that no test kills runs every test that reaches its function: for the functions the sweep and the CLI
  share, hundreds of functional tests, minutes on a 2-core machine. After ``BUDGET_SECONDS`` the run of a mutant
  stops (pytest exits 2, "interrupted") and the mutant is written to ``over-budget.txt``: it counts as NOT detected,
  so the budget can only lower the score, never raise it.
- mutmut's first pass (one traced run of every selected test, in a forked child) ends with "failed to collect stats"
  and no output when a test fails there; the test and its traceback go to ``stats-failures.log``.

Both files are in the workspace (``.mutation/``); mutmut runs pytest from ``.mutation/mutants``.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

WORKSPACE = Path("..")
FAILURES = WORKSPACE / "stats-failures.log"
OVER_BUDGET = WORKSPACE / "over-budget.txt"
BUDGET_SECONDS = 40.0
# mutmut sets MUTANT_UNDER_TEST to the mutant's name, or to one of these for its own runs (no budget there).
_NOT_A_MUTANT = {"", "stats", "fail", "mutant_generation", "list_all_tests"}
_clock = {"started": time.monotonic()}


def _mutant() -> str:
    name = os.environ.get("MUTANT_UNDER_TEST", "")
    return "" if name in _NOT_A_MUTANT else name


def pytest_sessionstart(session: pytest.Session) -> None:
    _clock["started"] = time.monotonic()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith("tests/unit/"))  # stable: keeps the order within each


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.failed and os.environ.get("MUTANT_UNDER_TEST") == "stats":
        with FAILURES.open("a") as log:
            log.write(f"=== {report.nodeid} ({report.when})\n{report.longreprtext}\n")


@pytest.hookimpl(tryfirst=True)  # before pytest's own, which returns a result and so ends the hook
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> None:
    """Past the budget: this test still runs, then the session stops (pytest checks shouldstop after each test)."""
    mutant = _mutant()
    if mutant and nextitem is not None and time.monotonic() - _clock["started"] > BUDGET_SECONDS:
        item.session.shouldstop = f"mutation budget of {BUDGET_SECONDS:.0f} s spent"
        with OVER_BUDGET.open("a") as log:
            log.write(f"{mutant}\n")
