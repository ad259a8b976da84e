"""Money crosses the wire as yuan (a JSON number or decimal string) and is kept as integer fen.

Floats never hold money here: a JSON number is re-read through its shortest decimal
representation, so 19.9 becomes exactly 1990 fen.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

# 10^12 yuan is far beyond any shop's GMV and keeps every sum inside a signed 64-bit column.
MAX_YUAN = Decimal(10) ** 12


class MoneyError(ValueError):
    """The value is not an amount of money in yuan with at most two decimals."""


_PLAIN = re.compile(r"^(\d{1,12})(?:\.(\d{1,2}))?$")


def yuan_to_fen(value: object) -> int:
    # Fast path for the common shapes: 19, "19.9", "19.90".
    if type(value) is int and 0 <= value < 10**12:
        return value * 100
    if type(value) is str:
        plain = _PLAIN.match(value)
        if plain:
            cents = plain.group(2) or "0"
            return int(plain.group(1)) * 100 + int(cents) * (10 if len(cents) == 1 else 1)
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise MoneyError("must be a number or a decimal string in yuan")
    try:
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value).strip())
    except InvalidOperation:
        raise MoneyError("must be a number or a decimal string in yuan") from None
    if not amount.is_finite():
        raise MoneyError("must be a finite number")
    if amount < 0:
        raise MoneyError("must not be negative")
    if amount >= MAX_YUAN:
        raise MoneyError("is too large")
    exponent = amount.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -2 and amount != amount.quantize(Decimal("0.01")):
        raise MoneyError("must have at most two decimals (fen)")
    return int(amount * 100)


def fen_to_yuan(fen: int) -> float:
    """For JSON output: the nearest double to an exact two-decimal amount prints as that amount."""
    return fen / 100
