"""Timestamps: ISO 8601 on the wire, integer microseconds since the epoch inside."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from events.fields import format_timestamp, parse_timestamp

# 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59.999999Z, in microseconds since the epoch.
EARLIEST, LATEST = -62_135_596_800_000_000, 253_402_300_799_999_999


def test_whole_milliseconds_are_written_with_three_digits() -> None:
    assert format_timestamp(0) == "1970-01-01T00:00:00.000Z"
    assert format_timestamp(1_000) == "1970-01-01T00:00:00.001Z"
    # 2026-11-22 is day 20,779 of the epoch (56 years, 14 of them leap, and 325 days): 20,779 *
    # 86,400 s + 12 h + 1.25 s.
    assert format_timestamp((20_779 * 86_400 + 43_201) * 1_000_000 + 250_000) == (
        "2026-11-22T12:00:01.250Z"
    )


def test_microseconds_are_written_when_present() -> None:
    assert format_timestamp(1) == "1970-01-01T00:00:00.000001Z"
    assert format_timestamp(-1) == "1969-12-31T23:59:59.999999Z"
    assert format_timestamp(LATEST) == "9999-12-31T23:59:59.999999Z"
    assert format_timestamp(EARLIEST) == "0001-01-01T00:00:00.000Z"


@given(st.integers(EARLIEST, LATEST))
def test_formatting_then_parsing_gives_the_same_microsecond(micros: int) -> None:
    assert parse_timestamp(format_timestamp(micros)) == micros
