"""marshmallow fields the catalogue needs and marshmallow does not ship as strictly as we want."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any

from marshmallow import ValidationError, fields, validate

from events.money import MoneyError, fen_to_yuan, yuan_to_fen


def full_match(pattern: str) -> re.Pattern[str]:
    """`pattern` (written ^...$, as OpenAPI shows it) compiled to match the whole string: in
    Python `$` also matches before a final newline, so "s1\\n" would pass for "s1"."""
    return re.compile(pattern.removesuffix("$") + r"\Z")


class FullMatch(validate.Regexp):
    """validate.Regexp over the whole string. `regex` keeps the ^...$ form for the OpenAPI
    document; `strict` is what is checked."""

    def __init__(self, pattern: str, error: str) -> None:
        super().__init__(pattern, error=error)
        self.strict = full_match(pattern)

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, str) or self.strict.match(value) is None:
            raise ValidationError(self._format_error(value))
        return value


# Years 1970-2999: periods are calendar months of broadcasts, and date arithmetic on them
# (the month before, for growth) must stay in range.
PERIOD_PATTERN = r"^(19[7-9][0-9]|2[0-9]{3})-(0[1-9]|1[0-2])$"
IDENTIFIER_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$"
PERIOD_RE = full_match(PERIOD_PATTERN)
IDENTIFIER_RE = full_match(IDENTIFIER_PATTERN)


class Money(fields.Field):
    """Yuan on the wire, integer fen inside."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).update(
            {
                "type": "number",
                "minimum": 0,
                "multipleOf": 0.01,
                "description": "yuan, a number or decimal string with at most two decimals",
            }
        )
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        try:
            return yuan_to_fen(value)
        except MoneyError as exc:
            raise ValidationError(str(exc)) from None

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> float | None:
        return None if value is None else fen_to_yuan(int(value))


class StrictInteger(fields.Integer):
    """An integer that refuses booleans, floats and numeric strings."""

    fast_type = int  # see events/fastload.py

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(strict=True, **kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        # type() rather than isinstance(): bool is an int subclass, and a JSON integer is an int.
        if type(value) is not int:
            raise ValidationError("must be an integer")
        return value


class StrictNumber(fields.Float):
    """A JSON number (integer or float), never a boolean or string."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> float | int:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValidationError("must be a number")
        if value != value or value in (float("inf"), float("-inf")):
            raise ValidationError("must be a finite number")
        return value


class Identifier(fields.String):
    """Ids chosen by producers: 1-128 characters of letters, digits and . _ : @ -."""

    fast_pattern = IDENTIFIER_RE  # see events/fastload.py

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).update({"pattern": IDENTIFIER_PATTERN})
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or not IDENTIFIER_RE.match(value):
            raise ValidationError(
                "must be 1-128 characters: letters, digits and . _ : @ - (starting with a letter "
                "or digit)"
            )
        return value


class Period(fields.String):
    """A calendar month, YYYY-MM."""

    fast_pattern = PERIOD_RE

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).update({"pattern": PERIOD_PATTERN})
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> str:
        if not isinstance(value, str) or not PERIOD_RE.match(value):
            raise ValidationError("must be a month as YYYY-MM")
        return value


def parse_timestamp(value: object) -> int:
    """ISO 8601 -> integer microseconds since the epoch (UTC). A time without offset is UTC."""
    if not isinstance(value, str):
        raise ValidationError("must be an ISO 8601 timestamp string")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValidationError("is not an ISO 8601 timestamp") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    delta = parsed - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_EPOCH_NAIVE = datetime(1970, 1, 1)  # the same instant, for isoformat without an offset


# Remembered: a run formats the same few dozen times (the session's start, its last event, the
# timeline's minutes, the ticker's lines, the readings' stamps) on every write, thousands of
# runs a second with many rooms live; a lookup costs a tenth of formatting.
@lru_cache(maxsize=65_536)
def format_timestamp(micros: int) -> str:
    """Microseconds since the epoch -> ISO 8601 UTC with a Z (ms, or µs when needed)."""
    # isoformat on a naive datetime is C all the way: under half the cost of strftime.
    moment = _EPOCH_NAIVE + timedelta(microseconds=micros)
    return moment.isoformat(timespec="microseconds" if micros % 1000 else "milliseconds") + "Z"


class Timestamp(fields.Field):
    """ISO 8601 on the wire, integer microseconds since the epoch inside."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("metadata", {}).update({"type": "string", "format": "date-time"})
        super().__init__(**kwargs)

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kwargs: Any) -> int:
        return parse_timestamp(value)

    def _serialize(self, value: Any, attr: str | None, obj: Any, **kwargs: Any) -> str | None:
        return None if value is None else format_timestamp(int(value))
