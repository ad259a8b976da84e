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


def test_skipped_messages_are_not_logged_even_behind_the_outage_filter(
    caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Both filters sit on dramatiq's worker-thread logger; a skip is coalescing at work, not news.
    from worker import quiet_logs
    from worker.claims import quiet_skip_warnings
    from worker.quiet_logs import quiet_outage_logs

    # Three skips within an interval, then one after it: the one the outage filter lets
    # through says "(and 2 more like it)".
    clock = iter([1e6, 1e6, 1e6, 1e6 + 100])
    monkeypatch.setattr(quiet_logs.time, "monotonic", lambda: next(clock))
    quiet_outage_logs()
    quiet_skip_warnings()
    logger = logging.getLogger("dramatiq.worker.WorkerThread")
    with caplog.at_level(logging.DEBUG, logger="dramatiq.worker.WorkerThread"):
        for n in range(4):
            logger.warning("Message %s was skipped.", f"project_stream('session-{n}')")
    assert caplog.records == []
