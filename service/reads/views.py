"""Every read-model query the service makes: the API, the pages, the feed and the scorer read
through here, so no blueprint, page or feed handler writes SQL of its own."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from events.recorder import Recorder
from projections.alerts import open_silence
from projections.clock import US_PER_SECOND
from projections.registry import PeriodProjection, fold_period
from projections.review import HISTORY, benchmarks, review_of
from projections.scoring.figures import Range, Sums, local_day, sums_from
from projections.session_rows import timeline_as_of
from projections.tables import (
    SCORED_SUMS,
    person_view,
    session_document,
    session_minute,
    session_order,
    session_review,
    session_source,
    session_timeline,
    session_view,
)
from worker.tables import worker_heartbeats

HEADLINE = (
    "views",
    "unique_viewers",
    "online",
    "peak_online",
    "gmv",
    "net_gmv",
    "orders_paid",
    "buyers",
    "conversion_rate",
    "gpm",
    "new_followers",
    "interaction_rate",
)


def headline(body: dict[str, Any]) -> dict[str, Any]:
    """A session's document cut down to what a list or the console shows."""
    metrics = body["metrics"]
    summary = {
        k: v
        for k, v in body.items()
        if k not in ("metrics", "open_incidents", "products", "recent", "timeline_tail", "alerts")
    }
    summary["metrics"] = {key: metrics[key] for key in HEADLINE}
    summary["metrics"]["incidents_open"] = metrics["incidents"]["open"]
    summary["metrics"]["incidents"] = metrics["incidents"]["total"]
    summary["open_incidents"] = body.get("open_incidents", [])
    return summary


# -- sessions ------------------------------------------------------------------------------------


def session_document_body(engine: Engine, session_id: str) -> dict[str, Any] | None:
    """The session's document, with its host's name (from the person read model) and the
    silence alert while the room is silent."""
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(session_document.c.body, *SILENCE_COLUMNS)
            .select_from(
                session_document.outerjoin(
                    session_view, session_view.c.session_id == session_document.c.session_id
                )
            )
            .where(session_document.c.session_id == session_id)
        ).first()
    if row is None:
        return None
    body: dict[str, Any] = row.body
    with_silence(body, row)
    body["host_name"] = person_names(engine, {body["host_id"]} - {None}).get(body["host_id"])
    return body


SILENCE_COLUMNS = (
    session_view.c.status,
    session_view.c.silent_since,
    session_view.c.last_recorded_at,
)


def with_silence(body: dict[str, Any], row: Any) -> None:
    """A live session silent for 60 s (the sweep set `silent_since` and no event came since)
    lists the silence alert, on, after its other alerts: the fold logs it only once events
    resume, so a page opened during the silence learns of it here."""
    silent_since, last = row.silent_since, row.last_recorded_at
    if row.status != "live" or silent_since is None or last is None or last >= silent_since:
        return
    body["alerts"] = [*body.get("alerts", []), open_silence(last)]


def session_timeline_body(engine: Engine, session_id: str) -> dict[str, Any] | None:
    """The timeline with its minutes and the session's version as of the same commit (one
    statement: a row per minute)."""
    with engine.connect() as conn:
        found = conn.execute(
            sa.select(
                session_timeline.c.body,
                session_view.c.version,
                session_view.c.clock,
                session_minute.c.body.label("minute"),
            )
            .join(session_view, session_view.c.session_id == session_timeline.c.session_id)
            .outerjoin(session_minute, session_minute.c.session_id == session_timeline.c.session_id)
            .where(session_timeline.c.session_id == session_id)
            .order_by(session_minute.c.minute)
        ).all()
    if not found:
        return None
    minutes = [row.minute for row in found if row.minute is not None]
    # a body written before migration 0018 carries its minutes, until the session's next run
    return timeline_as_of(found[0].body, found[0].version, minutes or None, found[0].clock)


def list_session_bodies(
    engine: Engine,
    *,
    status: str | None = None,
    host_id: str | None = None,
    ops_id: str | None = None,
    room_id: str | None = None,
    started_from: int | None = None,
    started_before: int | None = None,
    ended_before: int | None = None,
    ended_since: int | None = None,
    limit: int = 200,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Session documents, newest start first, filtered on session_view's columns."""
    view = session_view.c
    statement = (
        sa.select(session_document.c.body, *SILENCE_COLUMNS)
        .join(session_view, view.session_id == session_document.c.session_id)
        .order_by(view.started_at.desc(), view.session_id)
    )
    for column, value in (
        ("status", status),
        ("host_id", host_id),
        ("ops_id", ops_id),
        ("room_id", room_id),
    ):
        if value is not None:
            statement = statement.where(view[column] == value)
    if started_from is not None:
        statement = statement.where(view.started_at >= started_from)
    if started_before is not None:
        statement = statement.where(view.started_at < started_before)
    if ended_before is not None:
        statement = statement.where(view.ended_at < ended_before)
    if ended_since is not None:
        statement = statement.where(view.ended_at >= ended_since)
    statement = statement.limit(limit).offset(offset)
    with engine.connect() as conn:
        rows = conn.execute(statement).all()
    bodies = []
    for row in rows:
        with_silence(row.body, row)
        bodies.append(row.body)
    names = person_names(engine, {b["host_id"] for b in bodies if b.get("host_id")})
    for body in bodies:
        body["host_name"] = names.get(body.get("host_id"))
    return bodies


def live_session_bodies(engine: Engine) -> list[dict[str, Any]]:
    return list_session_bodies(engine, status="live", limit=100_000)


# -- people and periods --------------------------------------------------------------------------


def order_session(engine: Engine, order_id: str) -> str | None:
    """The session an order was placed in (session_order, kept by the session fold)."""
    t = session_order
    with engine.connect() as conn:
        return conn.execute(
            sa.select(t.c.session_id).where(t.c.order_id == order_id)
        ).scalar_one_or_none()


ATTRIBUTION_COLUMNS = ("shop_id", "room_id")


def live_session_at(engine: Engine, column: str, value: str, at_us: int) -> str | None:
    """The session of this shop (or room) that was live at `at_us`: started at or before it
    and not ended before it; the latest started if several (then the highest id)."""
    if column not in ATTRIBUTION_COLUMNS:
        raise ValueError(f"sessions are attributed by {ATTRIBUTION_COLUMNS}, not {column}")
    t = session_view
    query = (
        sa.select(t.c.session_id)
        .where(
            t.c[column] == value,
            t.c.started_at <= at_us,
            sa.or_(t.c.ended_at.is_(None), t.c.ended_at >= at_us),
        )
        .order_by(t.c.started_at.desc(), t.c.session_id.desc())
        .limit(1)
    )
    with engine.connect() as conn:
        return conn.execute(query).scalar_one_or_none()


def latest_session_of_room(engine: Engine, room_id: str) -> tuple[str, str] | None:
    """The latest started session of a room, with its status (live, ended): the pollers' test
    of whether a broadcast already has its session."""
    t = session_view
    with engine.connect() as conn:
        row = conn.execute(
            sa.select(t.c.session_id, t.c.status)
            .where(t.c.room_id == room_id)
            .order_by(t.c.started_at.desc(), t.c.session_id.desc())
            .limit(1)
        ).first()
    return None if row is None else (str(row[0]), str(row[1]))


def person_names(engine: Engine, ids: set[str]) -> dict[str, str]:
    if not ids:
        return {}
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(person_view.c.person_id, person_view.c.name).where(
                person_view.c.person_id.in_(sorted(ids))
            )
        )
        return {pid: name for pid, name in rows if name}


def frozen_period(recorder: Recorder, period: str) -> dict[str, Any] | None:
    """The period's frozen state, folded from its own stream (a close is its one event): read
    from the store, so a close is visible the moment it is appended, without running the
    worker's projector in the API process."""
    state = PeriodProjection().new(period)
    for event in recorder.read_stream(f"period-{period}", 0, 100):
        state = fold_period(state, event)
    return state if state.get("closed_at") is not None else None


def worker_beats(conn: Connection, since: int | None = None) -> list[tuple[str, int]]:
    """Each worker's id and last beat (microseconds), of those that beat after `since` when
    given."""
    query = sa.select(worker_heartbeats.c.worker_id, worker_heartbeats.c.seen_at)
    if since is not None:
        query = query.where(worker_heartbeats.c.seen_at > since)
    return [(w, int(seen)) for w, seen in conn.execute(query)]


# -- scoring figures (PeriodReads on the database) -----------------------------------------------


def _in_range(rng: Range) -> Any:
    return sa.and_(
        session_view.c.started_at >= rng.start_us, session_view.c.started_at < rng.end_us
    )


class SqlPeriodReads:
    """projections.scoring.figures.PeriodReads over the read models: sums in SQL."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def people(self) -> dict[str, dict[str, Any]]:
        rows = self.conn.execute(
            sa.select(person_view.c.person_id, person_view.c.ledger).where(
                person_view.c.registered.is_(True)
            )
        )
        return {person_id: ledger for person_id, ledger in rows}

    def session_sums(
        self, rng: Range, by: str, promoted: tuple[str, ...] | None
    ) -> dict[str, Sums]:
        key = session_view.c[by]
        query = (
            sa.select(key, sa.func.count(), *(sa.func.sum(session_view.c[n]) for n in SCORED_SUMS))
            .where(_in_range(rng), key.is_not(None))
            .group_by(key)
        )
        result: dict[str, Sums] = {}
        for row in self.conn.execute(query):
            result[row[0]] = sums_from(row[1], row[2:])
        if not promoted:
            return result
        promo = (
            sa.select(
                key, sa.func.sum(session_source.c.viewers), sa.func.sum(session_source.c.buyers)
            )
            .select_from(
                session_view.join(
                    session_source, session_source.c.session_id == session_view.c.session_id
                )
            )
            .where(_in_range(rng), key.is_not(None), session_source.c.source.in_(promoted))
            .group_by(key)
        )
        for who, viewers, buyers in self.conn.execute(promo):
            sums = result.setdefault(who, Sums())
            sums.promoted_viewers, sums.promoted_buyers = int(viewers or 0), int(buyers or 0)
        return result

    def team_sums(self, rng: Range, members: set[str], promoted: tuple[str, ...]) -> Sums:
        if not members:
            return Sums()
        ids = sorted(members)
        where = sa.and_(
            _in_range(rng), sa.or_(session_view.c.host_id.in_(ids), session_view.c.ops_id.in_(ids))
        )
        row = self.conn.execute(
            sa.select(
                sa.func.count(), *(sa.func.sum(session_view.c[n]) for n in SCORED_SUMS)
            ).where(where)
        ).one()
        sums = sums_from(row[0], row[1:])
        promo = self.conn.execute(
            sa.select(sa.func.sum(session_source.c.viewers), sa.func.sum(session_source.c.buyers))
            .select_from(
                session_view.join(
                    session_source, session_source.c.session_id == session_view.c.session_id
                )
            )
            .where(where, session_source.c.source.in_(promoted))
        ).one()
        sums.promoted_viewers, sums.promoted_buyers = int(promo[0] or 0), int(promo[1] or 0)
        return sums

    def host_figures(self, rng: Range) -> tuple[dict[str, Sums], dict[str, dict[str, float]]]:
        """The studio's days: each session of the range counted on the studio date of its
        start (a month's sessions are hundreds of rows, summed here)."""
        t = session_view
        query = sa.select(
            t.c.host_id,
            t.c.started_at,
            t.c.ended_at,
            t.c.clock,
            *(t.c[n] for n in SCORED_SUMS),
        ).where(_in_range(rng), t.c.host_id.is_not(None))
        totals: dict[str, list[int]] = {}
        days: dict[str, dict[str, float]] = defaultdict(dict)
        width = len(SCORED_SUMS) + 1
        for host, started_at, ended_at, clock, *values in self.conn.execute(query):
            until = ended_at if ended_at is not None else (clock or started_at)
            day = local_day(int(started_at), rng.zone).isoformat()
            days[host][day] = days[host].get(day, 0.0) + max(0, until - started_at) / US_PER_SECOND
            total = totals.get(host)
            if total is None:
                total = totals[host] = [0] * width
            total[0] += 1
            for i, value in enumerate(values, start=1):
                total[i] += int(value or 0)
        return {host: sums_from(t[0], t[1:]) for host, t in totals.items()}, days


# -- the review -----------------------------------------------------------------------------------


def _earlier_metrics(
    conn: Connection, column: str, value: str | None, before: int
) -> list[dict[str, Any]]:
    """Metrics of the sessions with this host_id or room_id that ended before `before`, most
    recently ended first, at most HISTORY."""
    if value is None:
        return []
    rows = conn.execute(
        sa.select(session_document.c.body)
        .join(session_view, session_view.c.session_id == session_document.c.session_id)
        .where(
            session_view.c[column] == value,
            session_view.c.ended_at.is_not(None),
            session_view.c.ended_at < before,
        )
        .order_by(session_view.c.ended_at.desc(), session_view.c.session_id)
        .limit(HISTORY)
    ).scalars()
    return [body["metrics"] for body in rows]


def review_body(engine: Engine, session_id: str) -> dict[str, Any] | None:
    """The review of a live or ended session: its own part as projected, with benchmarks
    against the host's and the room's earlier sessions."""
    with engine.connect() as conn:
        # One statement, so both bodies and the clock are those of one run (written in one
        # transaction)
        parts = conn.execute(
            sa.select(
                session_document.c.body, session_review.c.body.label("own"), session_view.c.clock
            )
            .join(session_review, session_review.c.session_id == session_document.c.session_id)
            .join(session_view, session_view.c.session_id == session_document.c.session_id)
            .where(session_document.c.session_id == session_id)
        ).first()
        if parts is None:
            return None
        body = review_of(parts.body, parts.own, parts.clock)
        row = conn.execute(
            sa.select(
                session_view.c.host_id, session_view.c.room_id, session_view.c.started_at
            ).where(session_view.c.session_id == session_id)
        ).first()
        if row is None or row.started_at is None:
            host, room = [], []
        else:
            host = _earlier_metrics(conn, "host_id", row.host_id, row.started_at)
            room = _earlier_metrics(conn, "room_id", row.room_id, row.started_at)
    host_id = body.get("host_id")
    names = person_names(engine, {host_id}) if host_id else {}
    return {
        **body,
        "host_name": names.get(host_id) if host_id else None,
        "benchmarks": benchmarks(body["metrics"], host, room),
    }
