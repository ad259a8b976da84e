"""What every poller shares: one room as a platform reading shows it, and the exact money and
count conversions (a platform's float yuan is read through its shortest decimal form, never
multiplied as a float)."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, Protocol, runtime_checkable

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


@runtime_checkable
class MinuteSeries(Protocol):
    """A poller whose platform gives a room's per-minute figures after it ended (TikTok)."""

    platform: str
    minute_source: str  # the key of the per-minute readings in room.stats_reported

    def minutes(self, connection: Connection, room_id: str) -> list[MinuteFigures]:
        """Each minute's own figures (increments), oldest first; [] when the platform has
        none (yet). Raises PlatformApiError."""


@dataclass(frozen=True)
class MinuteFigures:
    """One minute of a room, as the platform's per-minute report gives it: the minute's start
    (µs) and the figure's change within that minute (None: not given or unreadable)."""

    start_us: int
    changes: dict[str, int | None]


class SpendReader(Protocol):
    """Where a shop's rooms' ad spend comes from: the report of advertiser accounts (another
    connection platform) that name the shop in their `shop_id`."""

    platform: str  # the advertiser accounts' connection platform

    def spend(
        self, account: Connection, shop: Connection, rooms: list[RoomReading], now_us: int
    ) -> dict[str, Decimal]:
        """Room id -> the account's cumulative spend on it (exact, in yuan), for the rooms
        the report attributes; a room it does not name is left out. Raises
        PlatformApiError."""


def count(value: Any) -> int | None:
    """A platform count: an integer (or a digit string) within the catalogue's bounds, else
    None (the figure is left out, never guessed)."""
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if 0 <= value <= MAX_REPORTED else None


def amount(value: Any) -> Decimal | None:
    """A platform amount (a JSON number or a decimal string) exactly: a float through its
    shortest decimal form, never multiplied; None when it is not a non-negative amount."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        found = Decimal(repr(value) if isinstance(value, float) else str(value).strip())
    except InvalidOperation:
        return None
    if not found.is_finite() or found < 0:
        return None
    return found


def fen_rounded(value: Decimal) -> str:
    """An exact amount as the catalogue's yuan string, rounded half up to the fen."""
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def yuan(value: Any) -> str | None:
    """A platform amount in yuan (a JSON number or a decimal string) as the catalogue's yuan
    string, rounded half up to the fen; None when it is not an amount."""
    found = amount(value)
    return None if found is None else fen_rounded(found)


def fen_as_yuan(value: Any) -> str | None:
    fen = count(value)
    return None if fen is None else f"{fen // 100}.{fen % 100:02d}"


def kept(figures: dict[str, Any]) -> dict[str, Any]:
    """The figures that could be read (None dropped)."""
    return {k: v for k, v in figures.items() if v is not None}
