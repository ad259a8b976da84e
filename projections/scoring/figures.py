"""A period's figures: ranges, sums, and the interface scoring reads them through."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any, Protocol

from projections.clock import US_PER_SECOND
from projections.tables import SCORED_SUMS

ON_AIR_DAY_SECONDS = 3 * 3600  # host rule: at least 3 hours on air a day
CLIPS_PER_DAY = 2  # host rule: at least 2 short videos a day


def day_start_us(day: date) -> int:
    """Microseconds since the epoch at the start of a UTC day."""
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * US_PER_SECOND


@dataclass(frozen=True)
class Range:
    """Sessions started in [start, end). `period` is the month whose targets apply."""

    start: date
    end: date  # exclusive
    period: str
    label: str

    @property
    def start_us(self) -> int:
        return day_start_us(self.start)

    @property
    def end_us(self) -> int:
        return day_start_us(self.end)

    def previous(self) -> Range:
        if self.label == self.period:  # a calendar month: the month before
            first = (self.start - timedelta(days=1)).replace(day=1)
            return month_range(first.strftime("%Y-%m"))
        length = self.end - self.start
        start = self.start - length
        return Range(
            start,
            self.start,
            start.strftime("%Y-%m"),
            f"{start.isoformat()}..{(self.start - timedelta(days=1)).isoformat()}",
        )

    def holds(self, micros: int) -> bool:
        return self.start_us <= micros < self.end_us


def month_range(period: str) -> Range:
    start = date(int(period[:4]), int(period[5:7]), 1)
    end = (start + timedelta(days=32)).replace(day=1)
    return Range(start, end, period, period)


def custom_range(first: date, last: date) -> Range:
    """from/to dates, both included; targets and recorded values of `first`'s month apply."""
    return Range(
        first,
        last + timedelta(days=1),
        first.strftime("%Y-%m"),
        f"{first.isoformat()}..{last.isoformat()}",
    )


@dataclass
class Sums:
    sessions: int = 0
    views: int = 0
    unique_viewers: int = 0
    interacting_viewers: int = 0
    new_followers: int = 0
    buyers: int = 0
    gmv_fen: int = 0
    refunds_fen: int = 0
    ad_spend_fen: int = 0
    incidents: int = 0
    promoted_viewers: int = 0
    promoted_buyers: int = 0


def sums_from(sessions: int, values: Any) -> Sums:
    """Sums from a session count and SCORED_SUMS' values in their order (None counts 0)."""
    counts: dict[str, Any] = {n: int(v or 0) for n, v in zip(SCORED_SUMS, values, strict=True)}
    return Sums(sessions=sessions, **counts)


class PeriodReads(Protocol):
    """What scoring reads of the read models. service/reads/views.py implements it on the database;
    tests implement it in memory."""

    def people(self) -> dict[str, dict[str, Any]]:
        """Every registered person's ledger."""
        ...

    def session_sums(
        self, rng: Range, by: str, promoted: tuple[str, ...] | None
    ) -> dict[str, Sums]:
        """Per host_id or ops_id (`by`): the sums of their sessions started in the range, and
        of their promoted-source viewers and buyers when `promoted` names the sources."""
        ...

    def team_sums(self, rng: Range, members: set[str], promoted: tuple[str, ...]) -> Sums:
        """Sums over the sessions hosted or run by any member (each session once)."""
        ...

    def host_figures(self, rng: Range) -> tuple[dict[str, Sums], dict[str, dict[str, float]]]:
        """Per host: the sums of their sessions started in the range, and seconds on air per
        UTC day (ISO date) of each session's start."""
        ...


def compliance(on_air: dict[str, float], ledger: dict[str, Any], rng: Range) -> dict[str, Any]:
    """Host rules: 3 hours on air and 2 clips a day. Days counted: days on air or with a clip."""
    clips: dict[str, int] = defaultdict(int)
    for at, _viral in ledger.get("clips", {}).values():
        if rng.holds(at):
            clips[datetime.fromtimestamp(at / US_PER_SECOND, tz=UTC).date().isoformat()] += 1
    working = set(on_air) | set(clips)
    return {
        "days_on_air": len(on_air),
        "days_under_3_hours": sum(1 for s in on_air.values() if s < ON_AIR_DAY_SECONDS),
        "days_under_2_clips": sum(1 for d in working if clips.get(d, 0) < CLIPS_PER_DAY),
        "clips": sum(clips.values()),
        "on_air_hours": round(sum(on_air.values()) / 3600, 4),
    }


def fines(ledger: dict[str, Any], rng: Range) -> dict[str, Any]:
    found = [(rule, fine, at) for rule, fine, at in ledger.get("violations", []) if rng.holds(at)]
    return {
        "count": len(found),
        "total": sum(f for _, f, _ in found) / 100,
        "by_rule": {
            rule: sum(f for r, f, _ in found if r == rule) / 100
            for rule in sorted({r for r, _, _ in found})
        },
    }
