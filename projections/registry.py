"""Every projection livetally runs, registered in one place, keyed by stream family."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import orjson
from sqlalchemy.engine import Connection

from events.fields import format_timestamp
from events.recorder import StoredEvent
from projections.person import fold_person, new_person
from projections.session import SessionState, fold_session
from projections.session_rows import write_session
from projections.tables import period_view, person_view
from projections.upsert import upsert


class Projection(Protocol):
    @property
    def family(self) -> str: ...

    def new(self, key: str) -> Any: ...
    def fold(self, state: Any, event: StoredEvent) -> Any: ...
    def dump(self, state: Any) -> bytes: ...
    def load(self, raw: bytes) -> Any: ...
    def write(self, conn: Connection, state: Any) -> dict[str, Any] | None:
        """Write the read-model rows; return the document to publish, if any."""
        ...

    def take_alerts(self, state: Any) -> list[dict[str, Any]]: ...


@dataclass(frozen=True)
class SessionProjection:
    family: str = "session"

    def new(self, key: str) -> SessionState:
        return SessionState(key)

    def fold(self, state: SessionState, event: StoredEvent) -> SessionState:
        return fold_session(state, event)

    def dump(self, state: SessionState) -> bytes:
        return orjson.dumps(state.dump())

    def load(self, raw: bytes) -> SessionState:
        return SessionState.load(orjson.loads(raw))

    def write(self, conn: Connection, state: SessionState) -> dict[str, Any]:
        return write_session(conn, state)

    def take_alerts(self, state: SessionState) -> list[dict[str, Any]]:
        alerts, state.alerts = state.alerts, []
        for alert in alerts:
            alert["at"] = format_timestamp(alert["at"])
        return alerts


class _PlainStateProjection:
    """For folds whose state is plain JSON data: stored as it is, raising no alerts."""

    def dump(self, state: dict[str, Any]) -> bytes:
        return orjson.dumps(state)

    def load(self, raw: bytes) -> dict[str, Any]:
        loaded: dict[str, Any] = orjson.loads(raw)
        return loaded

    def take_alerts(self, state: dict[str, Any]) -> list[dict[str, Any]]:
        return []


@dataclass(frozen=True)
class PersonProjection(_PlainStateProjection):
    family: str = "person"

    def new(self, key: str) -> dict[str, Any]:
        return new_person(key)

    def fold(self, state: dict[str, Any], event: StoredEvent) -> dict[str, Any]:
        return fold_person(state, event)

    def write(self, conn: Connection, state: dict[str, Any]) -> None:
        upsert(conn, person_view, [{
            "person_id": state["person_id"], "registered": state["registered"],
            "name": state["name"], "role": state["role"], "level": state["level"],
            "team_id": state["team_id"], "manager_id": state["manager_id"],
            "on_air_since": state["on_air_since"], "version": state["version"], "ledger": state,
        }], ["person_id"])
        return None


def fold_period(state: dict[str, Any], event: StoredEvent) -> dict[str, Any]:
    if event.type == "period.closed" and state["closed_at"] is None:
        # The first close freezes the figures; a repeated close changes nothing.
        state["closed_at"] = event.occurred_at
        state["scorecards"] = event.data["scorecards"]
    state["version"] = event.version
    return state


@dataclass(frozen=True)
class PeriodProjection(_PlainStateProjection):
    family: str = "period"

    def new(self, key: str) -> dict[str, Any]:
        return {"period": key, "version": 0, "closed_at": None, "scorecards": []}

    def fold(self, state: dict[str, Any], event: StoredEvent) -> dict[str, Any]:
        return fold_period(state, event)

    def write(self, conn: Connection, state: dict[str, Any]) -> None:
        upsert(conn, period_view, [{
            "period": state["period"], "version": state["version"],
            "closed_at": state["closed_at"], "body": state,
        }], ["period"])
        return None


PROJECTIONS: dict[str, Projection] = {
    p.family: p for p in (SessionProjection(), PersonProjection(), PeriodProjection())
}


def projection_for(stream_id: str) -> tuple[Projection, str] | None:
    family, _, key = stream_id.partition("-")
    projection = PROJECTIONS.get(family)
    return (projection, key) if projection and key else None
