"""pytest plugin for `make mutate` only: run the unit tests before the functional ones.

mutmut runs a mutant's tests with ``-x`` in no particular order; most mutants are killed by a unit test in
milliseconds, so trying those first saves seconds of functional tests on every mutant that does not survive.
"""

from __future__ import annotations

import pytest


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: not item.nodeid.startswith("tests/unit/"))  # stable: keeps the order within each
