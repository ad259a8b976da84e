"""What every poller shares: one room as a platform reading shows it, and the exact money and
count conversions (a platform's float yuan is read through its shortest decimal form, never
multiplied as a float)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Protocol

from service.ingest.connections.store import Connection

MAX_REPORTED = 10**10


@dataclass(frozen=True)
class RoomReading:
    """One room at one reading. `figures` are room.stats_reported's data (wire shape, money as
    yuan strings), without `source`; empty when the platform gave no figure for the room."""

    room_id: str
    live: bool
    account: str | None = None  # the stable account (aweme id, username) for the host mapping
    started_at_us: int | None = None
    ended_at_us: int | None = None
    title: str | None = None
    figures: dict[str, Any] = field(default_factory=dict)


class RoomPoller(Protocol):
    source: str  # the reading's key in room.stats_reported
    platform: str  # session.started's platform for a session the poller opens

    def rooms(self, connection: Connection, now_us: int) -> list[RoomReading]:
        """Every room of the account the platform lists now. Raises PlatformApiError."""


def count(value: Any) -> int | None:
    """A platform count: an integer (or a digit string) within the catalogue's bounds, else
    None (the figure is left out, never guessed)."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= MAX_REPORTED else None


def yuan(value: Any) -> str | None:
    """A platform amount in yuan (a JSON number or a decimal string) as the catalogue's yuan
    string, rounded half up to the fen; None when it is not an amount."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        amount = Decimal(repr(value) if isinstance(value, float) else str(value))
    except InvalidOperation:
        return None
    if not amount.is_finite() or amount < 0:
        return None
    return str(amount.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def fen_as_yuan(value: Any) -> str | None:
    fen = count(value)
    return None if fen is None else f"{fen // 100}.{fen % 100:02d}"


def kept(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures that could be read (None dropped)."""
    return {k: v for k, v in figures.items() if v is not None}
