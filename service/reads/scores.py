"""Scores as the API and the CLI show them: live, or frozen with corrections once closed."""

from __future__ import annotations

import uuid
from typing import Any

from events import ConcurrencyConflict, NewEvent
from events.clock import now_micros
from events.errors import LivetallyError
from projections.scoring.figures import Range
from projections.scoring.period import score_period, with_corrections
from service.process.runtime import Runtime
from service.reads.views import SqlPeriodReads, frozen_period


class AlreadyClosed(LivetallyError):
    """Raised when a period that is already closed is closed again."""


class PeriodNotOver(LivetallyError):
    """Raised when a period is closed before it has ended (its scores could still move)."""


def scores(
    runtime: Runtime, rng: Range, role: str | None = None, person_id: str | None = None
) -> dict[str, Any]:
    with runtime.engine.connect() as conn:
        live = score_period(SqlPeriodReads(conn), runtime.scorecards, rng, role, person_id)
    frozen = frozen_period(runtime.recorder, rng.period) if rng.label == rng.period else None
    return scores_body(rng, live, frozen, role, person_id)


def scores_body(
    rng: Range,
    live: list[dict[str, Any]],
    frozen: dict[str, Any] | None,
    role: str | None = None,
    person_id: str | None = None,
) -> dict[str, Any]:
    """GET /scores: the live scorecards, or in a closed period (`frozen`) the frozen ones
    with what changed since."""
    body: dict[str, Any] = {
        "period": rng.label,
        "role": role,
        "closed": frozen is not None,
        "from": rng.start.isoformat(),
        "to": rng.end.isoformat(),
    }
    if frozen is None:
        body["scorecards"] = live
        return body
    kept = [
        c
        for c in frozen["scorecards"]
        if (role is None or c["role"] == role)
        and (person_id is None or c["person_id"] == person_id)
    ]
    body["scorecards"] = with_corrections(kept, live)
    body["closed_at"] = frozen["closed_at"]
    return body


def person_score(body: dict[str, Any]) -> dict[str, Any]:
    """GET /scores/{person_id}: the period, and the person's scorecard (the body's only one)."""
    return {"period": body["period"], "closed": body["closed"], **body["scorecards"][0]}


def close_period(runtime: Runtime, rng: Range) -> dict[str, Any]:
    """Append period.closed with every scorecard frozen in it (the workers project it; the
    frozen state is read from the period's stream, so it shows at once)."""
    if rng.end_us > now_micros():
        raise PeriodNotOver(rng.period)
    if frozen_period(runtime.recorder, rng.period) is not None:
        raise AlreadyClosed(rng.period)
    with runtime.engine.connect() as conn:
        cards = score_period(SqlPeriodReads(conn), runtime.scorecards, rng)
    stream_id = f"period-{rng.period}"
    try:
        runtime.recorder.append(
            [
                NewEvent(
                    event_id=str(uuid.uuid4()),
                    type="period.closed",
                    stream_id=stream_id,
                    data={"period": rng.period, "scorecards": cards},
                    occurred_at=now_micros(),
                    metadata={"source": "livetally"},
                    expected_version=0,
                )
            ]
        )
    except ConcurrencyConflict:
        raise AlreadyClosed(rng.period) from None
    return closed_body(rng.period, cards)


def closed_body(period: str, cards: list[dict[str, Any]]) -> dict[str, Any]:
    """POST /periods/{period}/close's answer, once `cards` are frozen in the period."""
    return {"period": period, "closed": True, "scorecards": len(cards)}
