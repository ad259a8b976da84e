"""A period's figures: ranges, sums, and the interface scoring reads them through."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from projections.clock import US_PER_SECOND
from projections.tables import SCORED_SUMS

ON_AIR_DAY_SECONDS = 3 * 3600  # host rule: at least 3 hours on air a day
CLIPS_PER_DAY = 2  # host rule: at least 2 short videos a day


STUDIO_ZONE = "Asia/Shanghai"  # the default studio time zone (LIVETALLY_TIMEZONE)


@lru_cache(maxsize=16)
def zone_of(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def day_start_us(day: date, zone: str = "UTC") -> int:
    """Microseconds since the epoch at the start of a day in the studio's zone."""
    moment = datetime(day.year, day.month, day.day, tzinfo=zone_of(zone))
    return int(moment.timestamp()) * US_PER_SECOND


def local_day(micros: int, zone: str) -> date:
    """The studio's date of an instant."""
    return datetime.fromtimestamp(micros / US_PER_SECOND, tz=zone_of(zone)).date()


@dataclass(frozen=True)
class Range:
    """Sessions started in [start, end) of the studio's days (`zone`: its IANA time zone).
    `period` is the month whose targets apply."""

    start: date
    end: date  # exclusive
    period: str
    label: str
    zone: str = "UTC"

    @property
    def start_us(self) -> int:
        return day_start_us(self.start, self.zone)

    @property
    def end_us(self) -> int:
        return day_start_us(self.end, self.zone)

    def previous(self) -> Range:
        if self.label == self.period:  # a calendar month: the month before
            first = (self.start - timedelta(days=1)).replace(day=1)
            return month_range(first.strftime("%Y-%m"), self.zone)
        length = self.end - self.start
        start = self.start - length
        return Range(
            start,
            self.start,
            start.strftime("%Y-%m"),
            f"{start.isoformat()}..{(self.start - timedelta(days=1)).isoformat()}",
            self.zone,
        )

    def holds(self, micros: int) -> bool:
        return self.start_us <= micros < self.end_us


def month_range(period: str, zone: str = "UTC") -> Range:
    start = date(int(period[:4]), int(period[5:7]), 1)
    end = (start + timedelta(days=32)).replace(day=1)
    return Range(start, end, period, period, zone)


def custom_range(first: date, last: date, zone: str = "UTC") -> Range:
    """from/to dates, both included; targets and recorded values of `first`'s month apply."""
    return Range(
        first,
        last + timedelta(days=1),
        first.strftime("%Y-%m"),
        f"{first.isoformat()}..{last.isoformat()}",
        zone,
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
        studio day (ISO date, the range's zone) of each session's start."""
        ...


def compliance(on_air: dict[str, float], ledger: dict[str, Any], rng: Range) -> dict[str, Any]:
    """Host rules: 3 hours on air and 2 clips a day. Days counted: days on air or with a clip."""
    clips: dict[str, int] = defaultdict(int)
    for at, _viral in ledger.get("clips", {}).values():
        if rng.holds(at):
            clips[local_day(at, rng.zone).isoformat()] += 1
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
