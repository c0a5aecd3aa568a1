"""What the CLI draws on a terminal, with rich (the optional ``cli`` extra): the sweep's progress bar and summary table.

Only the CLI imports this module, and only when a terminal is attached: the Lambda functions never import rich (a
test holds them to it). Without rich, or on a pipe, the CLI prints its plain text instead.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, TextIO

from .reconcile import SweepProgress

if TYPE_CHECKING:
    from rich.progress import TaskID


def available() -> bool:
    return importlib.util.find_spec("rich") is not None


class ProgressBar:
    """One bar per repository (versions done / versions), redrawn at most ten times a second, on ``stream``."""

    def __init__(self, stream: TextIO) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("versions"),
            TimeElapsedColumn(), console=Console(file=stream), auto_refresh=False, transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._last_draw = 0.0

    def __enter__(self) -> ProgressBar:
        self._progress.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self._progress.refresh()
        self._progress.stop()

    def __call__(self, progress: SweepProgress) -> None:
        task = self._tasks.get(progress.repository)
        if task is None:
            task = self._tasks[progress.repository] = self._progress.add_task(progress.repository,
                                                                              total=progress.total)
        self._progress.update(task, completed=progress.done, total=progress.total)
        now = time.monotonic()
        if progress.done >= progress.total or now - self._last_draw >= 0.1:
            self._last_draw = now
            self._progress.refresh()


def print_table(stream: TextIO, header: Sequence[str], rows: Sequence[Sequence[object]],
                footer: Sequence[object]) -> None:
    """The summary table: one row per repository, numbers right-aligned, the totals as the footer."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    table = Table(show_footer=True, box=box.SIMPLE_HEAD)
    for position, (title, total) in enumerate(zip(header, footer, strict=True)):
        table.add_column(title, footer=str(total), justify="left" if position == 0 else "right")
    for row in rows:
        table.add_row(*(str(cell) for cell in row))
    Console(file=stream).print(table)
