"""Platform values to the catalogue's: ids, Unix times, amounts (never through a float)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from typing import Any

from events.fields import IDENTIFIER_RE
from service.ingest.connectors.errors import DeadLetter

_DIGITS = re.compile(r"[0-9]{1,19}\Z")
# The latest Unix time a platform value may name: 9999-12-31T23:59:59Z. Beyond it the catalogue's
# timestamps cannot even be written (a signed push once carried 2^63-1 ms); the catalogue's own
# bound (now + 5 minutes) then refuses anything in the future with its reason.
LATEST_SECONDS = 253_402_300_799
_DECIMAL = re.compile(r"([0-9]{1,12})(?:\.([0-9]{1,2}))?\Z")


def platform_id(prefix: str, value: object, what: str) -> str:
    """A platform id (number or string) as a catalogue identifier `prefix:value`; ids that do
    not fit the identifier pattern are hashed (stable) rather than refused."""
    return f"{prefix}:{_fitted(_id_text(value, what), prefix + ':')}"


def _id_text(value: object, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise DeadLetter("unreadable", f"{what} is missing or not an id")
    return str(value)


def _fitted(text: str, prefix: str = "") -> str:
    """`text` if prefix + text fits the identifier pattern, else `h-` and a stable hash."""
    if IDENTIFIER_RE.match(prefix + text):
        return text
    return f"h-{hashlib.sha256(text.encode()).hexdigest()[:40]}"


def unix_time_us(value: object, what: str) -> int:
    """A platform time: Unix seconds (or milliseconds from 10^12 on) as an integer or a
    digit string, to microseconds since the epoch (UTC: Unix time has no zone)."""
    if isinstance(value, str) and _DIGITS.match(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise DeadLetter("unreadable", f"{what} is not a Unix timestamp")
    micros = value * 1000 if value >= 10**12 else value * 1_000_000
    if micros > LATEST_SECONDS * 1_000_000:
        raise DeadLetter("unreadable", f"{what} {value} is past the year 9999")
    return micros


def fen_of_integer(value: object, what: str) -> int:
    """Doudian's amounts: integer fen (a JSON integer or a digit string), never a float."""
    if isinstance(value, str) and _DIGITS.match(value):
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise DeadLetter("unreadable", f"{what} is not an amount in fen")
    return value


def fen_of_decimal(value: object, what: str) -> int:
    """TikTok Shop's amounts: a decimal string in the currency's unit with at most two
    decimals ("12.5" is 1250 fen); read as text, never through a float."""
    if not isinstance(value, str) or not _DECIMAL.match(value):
        raise DeadLetter("unreadable", f"{what} is not a decimal amount with at most two decimals")
    match = _DECIMAL.match(value)
    assert match is not None
    cents = match.group(2) or "0"
    return int(match.group(1)) * 100 + int(cents) * (10 if len(cents) == 1 else 1)


def yuan_text(fen: int) -> str:
    """Fen as the catalogue's plain decimal yuan string (exact)."""
    return f"{fen // 100}.{fen % 100:02d}"


def field_of(data: Mapping[str, Any], name: str, what: str) -> Any:
    if name not in data or data[name] is None:
        raise DeadLetter("unreadable", f"{what} has no {name}")
    return data[name]


def identifier(value: object, what: str) -> str:
    """A platform id used as-is where it fits the catalogue's pattern (so a product pinned
    with the platform's product id meets its orders), else a stable hash of it."""
    return _fitted(_id_text(value, what))
