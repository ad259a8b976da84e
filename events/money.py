"""Money crosses the wire as yuan (a JSON number or a plain decimal string) and is kept as
integer fen.

Floats never hold money here: a JSON number is re-read through its shortest decimal
representation, so 19.9 becomes exactly 1990 fen. A string must be a plain ASCII decimal:
digits, one optional point, at most two decimals; no sign, exponent, spaces, underscores or
full-width digits (Python's own Decimal and int accept all of those).
"""

from __future__ import annotations

import re

from events.errors import LivetallyError

# Per event. Far beyond any single order or day's spend, and 5,000 such events a request
# summed over years stay inside a signed 64-bit fen column.
MAX_YUAN = 100_000_000
MAX_FEN = MAX_YUAN * 100


class MoneyError(LivetallyError, ValueError):
    """Raised when a value is not an amount of money in yuan with at most two decimals."""


_PLAIN = re.compile(r"([0-9]{1,9})(?:\.([0-9]{1,2}))?\Z")
_TOO_PRECISE = re.compile(r"[0-9]+\.[0-9]{3,}\Z")


def yuan_to_fen(value: object) -> int:
    if type(value) is int:
        if value < 0:
            raise MoneyError("must not be negative")
        fen = value * 100
    elif type(value) is float:
        if value != value or value in (float("inf"), float("-inf")):
            raise MoneyError("must be a finite number")
        if value < 0 or (value == 0 and str(value).startswith("-")):
            raise MoneyError("must not be negative")
        if value > MAX_YUAN:
            raise MoneyError(f"must be at most {MAX_YUAN:,} yuan")
        fen = _fen_of_decimal_text(repr(value))
    elif type(value) is str:
        fen = _fen_of_decimal_text(value)
    else:
        raise MoneyError("must be a number or a decimal string in yuan")
    if fen > MAX_FEN:
        raise MoneyError(f"must be at most {MAX_YUAN:,} yuan")
    return fen


def _fen_of_decimal_text(text: str) -> int:
    plain = _PLAIN.match(text)
    if plain is None:
        if text.startswith("-"):
            raise MoneyError("must not be negative")
        if _TOO_PRECISE.match(text):
            raise MoneyError("must have at most two decimals (fen)")
        if re.fullmatch(r"[0-9]{10,}(\.[0-9]{1,2})?", text):
            raise MoneyError(f"must be at most {MAX_YUAN:,} yuan")
        raise MoneyError(
            "must be a plain decimal in yuan: ASCII digits with an optional point "
            "and at most two decimals (no sign, exponent, spaces or separators)"
        )
    cents = plain.group(2) or "0"
    return int(plain.group(1)) * 100 + int(cents) * (10 if len(cents) == 1 else 1)


def fen_to_yuan(fen: int) -> float:
    """For JSON output: the nearest double to an exact two-decimal amount prints as that amount."""
    return fen / 100
