"""The sweep owns the silence flag: one alert per silence, again after events resume."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events import open_recorder
from events.database import write_transaction
from projections.tables import session_view
from tests.builders import Broadcast
from tests.integration.test_projector import to_new
from worker.projector import Projector
from worker.sweep import Sweeper

S = 1_000_000


def test_a_silent_live_session_alerts_once_per_silence(engine: Engine) -> None:
    open_recorder(engine).append(to_new(Broadcast("quiet").start(0).join(1, "v1").events))
    Projector(engine, open_recorder(engine)).project("session-quiet")
    sweeper = Sweeper(engine, open_recorder(engine), lambda s: 0, None)
    t0 = 2_000_000_000 * S

    def heard_at(at: int) -> None:
        with write_transaction(engine) as conn:
            conn.execute(session_view.update().values(last_recorded_at=at))

    def silent(now: int) -> list[str]:
        with write_transaction(engine) as conn:
            return [sid for sid, _ in sweeper._mark_silent(conn, now)]

    heard_at(t0)
    assert silent(t0 + 30 * S) == []
    assert silent(t0 + 61 * S) == ["quiet"]
    with engine.connect() as conn:  # the moment the silence reached 60 s: the alert's `at`
        assert conn.execute(sa.select(session_view.c.silent_since)).scalar() == t0 + 60 * S
    assert silent(t0 + 62 * S) == []  # raised once
    heard_at(t0 + 70 * S)  # events again: the flag clears
    assert silent(t0 + 71 * S) == []
    with engine.connect() as conn:
        assert conn.execute(sa.select(session_view.c.silent_since)).scalar() is None
    assert silent(t0 + 131 * S) == ["quiet"]  # a new silence alerts again


def test_the_silence_alert_is_published_on_and_the_session_body_lists_it(engine: Engine) -> None:
    from events.clock import now_micros
    from events.fields import format_timestamp
    from service.reads.views import session_document_body

    open_recorder(engine).append(to_new(Broadcast("hush").start(0).join(1, "v1").events))
    Projector(engine, open_recorder(engine)).project("session-hush")
    last = now_micros() - 90 * S  # 90 s ago: silent for over 60 s
    with write_transaction(engine) as conn:
        conn.execute(session_view.update().values(last_recorded_at=last))
    published: list[dict[str, object]] = []

    class Catch:
        def publish(self, message: dict[str, object]) -> None:
            published.append(message)

    Sweeper(engine, open_recorder(engine), lambda s: 0, Catch()).sweep_once()
    expected = {
        "kind": "no_events",
        "since": format_timestamp(last),
        "at": format_timestamp(last + 60 * S),
        "cleared_at": None,
        "state": "on",
    }
    assert published == [{"type": "alert", "session_id": "hush", "alert": expected}]
    body = session_document_body(engine, "hush")  # what a screen opened now is sent
    assert body is not None and body["alerts"][-1] == expected
