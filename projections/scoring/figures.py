"""A period's figures, read from the read models (never from raw events): sums in SQL."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from projections.clock import US_PER_SECOND
from projections.tables import SCORED_SUMS, host_day, person_view, session_source, session_view

ON_AIR_DAY_SECONDS = 3 * 3600  # host rule: at least 3 hours on air a day
CLIPS_PER_DAY = 2  # host rule: at least 2 short videos a day


def _micros(day: date) -> int:
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
        return _micros(self.start)

    @property
    def end_us(self) -> int:
        return _micros(self.end)

    def previous(self) -> Range:
        if self.label == self.period:  # a calendar month: the month before
            first = (self.start - timedelta(days=1)).replace(day=1)
            return month_range(first.strftime("%Y-%m"))
        length = self.end - self.start
        start = self.start - length
        return Range(start, self.start, start.strftime("%Y-%m"),
                     f"{start.isoformat()}..{(self.start - timedelta(days=1)).isoformat()}")

    def holds(self, micros: int) -> bool:
        return self.start_us <= micros < self.end_us


def month_range(period: str) -> Range:
    start = date(int(period[:4]), int(period[5:7]), 1)
    end = (start + timedelta(days=32)).replace(day=1)
    return Range(start, end, period, period)


def custom_range(first: date, last: date) -> Range:
    """from/to dates, both included; targets and recorded values of `first`'s month apply."""
    return Range(first, last + timedelta(days=1), first.strftime("%Y-%m"),
                 f"{first.isoformat()}..{last.isoformat()}")


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


_SUMMED = SCORED_SUMS


def _sums(sessions: int, values: Any) -> Sums:
    counts: dict[str, Any] = {n: int(v or 0) for n, v in zip(_SUMMED, values, strict=True)}
    return Sums(sessions=sessions, **counts)


def _in_range(rng: Range) -> Any:
    return sa.and_(session_view.c.started_at >= rng.start_us,
                   session_view.c.started_at < rng.end_us)


def session_sums(conn: Connection, rng: Range, by: str, promoted: tuple[str, ...] | None
                 ) -> dict[str, Sums]:
    """Per host_id or ops_id: the sums of their sessions started in the range (and of their
    promoted-source viewers and buyers, when `promoted` names the sources)."""
    key = session_view.c[by]
    query = (sa.select(key, sa.func.count(), *(sa.func.sum(session_view.c[n]) for n in _SUMMED))
             .where(_in_range(rng), key.is_not(None)).group_by(key))
    result: dict[str, Sums] = {}
    for row in conn.execute(query):
        result[row[0]] = _sums(row[1], row[2:])
    if not promoted:
        return result
    promo = (sa.select(key, sa.func.sum(session_source.c.viewers),
                       sa.func.sum(session_source.c.buyers))
             .select_from(session_view.join(
                 session_source, session_source.c.session_id == session_view.c.session_id))
             .where(_in_range(rng), key.is_not(None), session_source.c.source.in_(promoted))
             .group_by(key))
    for who, viewers, buyers in conn.execute(promo):
        sums = result.setdefault(who, Sums())
        sums.promoted_viewers, sums.promoted_buyers = int(viewers or 0), int(buyers or 0)
    return result


def team_sums(conn: Connection, rng: Range, members: set[str], promoted: tuple[str, ...]) -> Sums:
    """Sums over the sessions hosted or run by any member (each session once)."""
    if not members:
        return Sums()
    ids = sorted(members)
    where = sa.and_(_in_range(rng), sa.or_(session_view.c.host_id.in_(ids),
                                           session_view.c.ops_id.in_(ids)))
    row = conn.execute(sa.select(sa.func.count(), *(sa.func.sum(session_view.c[n])
                                                    for n in _SUMMED)).where(where)).one()
    sums = _sums(row[0], row[1:])
    promo = conn.execute(
        sa.select(sa.func.sum(session_source.c.viewers), sa.func.sum(session_source.c.buyers))
        .select_from(session_view.join(
            session_source, session_source.c.session_id == session_view.c.session_id))
        .where(where, session_source.c.source.in_(promoted))).one()
    sums.promoted_viewers, sums.promoted_buyers = int(promo[0] or 0), int(promo[1] or 0)
    return sums


def people(conn: Connection) -> dict[str, dict[str, Any]]:
    """Every registered person's ledger."""
    rows = conn.execute(sa.select(person_view.c.person_id, person_view.c.ledger)
                        .where(person_view.c.registered.is_(True)))
    return {person_id: ledger for person_id, ledger in rows}


def host_figures(conn: Connection, rng: Range
                 ) -> tuple[dict[str, Sums], dict[str, dict[str, float]]]:
    """Per host: the sums of their sessions started in the range, and seconds on air per UTC
    day (of each session's start), from the host_day read model (a row per host and day)."""
    epoch = date(1970, 1, 1)
    first, last = (rng.start - epoch).days, (rng.end - epoch).days
    query = (sa.select(host_day.c.host_id, host_day.c.day, host_day.c.on_air_us,
                       host_day.c.sessions, *(host_day.c[n] for n in _SUMMED))
             .where(host_day.c.day >= first, host_day.c.day < last))
    totals: dict[str, list[int]] = {}
    days: dict[str, dict[str, float]] = defaultdict(dict)
    width = len(_SUMMED) + 1
    for host, day_number, micros, *values in conn.execute(query):
        days[host][(epoch + timedelta(days=int(day_number))).isoformat()] = (
            int(micros) / US_PER_SECOND)
        total = totals.get(host)
        if total is None:
            total = totals[host] = [0] * width
        for i, value in enumerate(values):
            total[i] += int(value)
    return {host: _sums(t[0], t[1:]) for host, t in totals.items()}, days


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
    return {"count": len(found), "total": sum(f for _, f, _ in found) / 100,
            "by_rule": {rule: sum(f for r, f, _ in found if r == rule) / 100
                        for rule in sorted({r for r, _, _ in found})}}
