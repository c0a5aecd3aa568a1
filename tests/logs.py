"""Log capture for tests of the service's own loggers."""

import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest


@contextmanager
def records_of(name: str, caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """The named logger's records in caplog, whether or not the handler's setup stopped it propagating (it does,
    once an earlier test has configured the function's logging)."""
    logger = logging.getLogger(name)
    level = logger.level
    logger.addHandler(caplog.handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(caplog.handler)
        logger.setLevel(level)


def records_named(name: str, caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The named logger's records, each once whether or not it also reached caplog's handler by propagation."""
    return list({id(record): record for record in caplog.records if record.name == name}.values())
