"""Outage logs: one line per cause per interval with a count of the rest; an expected
exception is one warning line without its traceback; an unexpected one keeps it."""

from __future__ import annotations

import logging

import pytest

from worker.errors import StreamBusy
from worker.quiet_logs import QuietRepeats


def emit(logger: logging.Logger, exc: BaseException) -> None:
    try:
        raise exc
    except BaseException:
        logger.error("Failed to process message %s with unhandled exception.", "m-1", exc_info=True)


def test_an_expected_exception_is_one_warning_line_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    logger = logging.getLogger("test.quiet.expected")
    quiet = QuietRepeats(interval=60)
    logger.addFilter(quiet)
    with caplog.at_level(logging.DEBUG, logger="test.quiet.expected"):
        for _ in range(50):
            emit(logger, StreamBusy("session-1"))
    (record,) = caplog.records
    assert record.levelname == "WARNING" and record.exc_info is None
    assert "StreamBusy" in record.getMessage()
    quiet.interval = 0  # the interval is over: the next says how many were held back
    caplog.clear()
    with caplog.at_level(logging.DEBUG, logger="test.quiet.expected"):
        emit(logger, StreamBusy("session-1"))
    assert "and 49 more like it" in caplog.records[0].getMessage()


def test_an_unexpected_exception_keeps_its_traceback(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.quiet.unexpected")
    logger.addFilter(QuietRepeats(interval=60))
    with caplog.at_level(logging.DEBUG, logger="test.quiet.unexpected"):
        for _ in range(3):
            emit(logger, KeyError("bug"))
    assert len(caplog.records) == 3 and all(r.exc_info for r in caplog.records)
