"""Every projection livetally runs, registered in one place, keyed by stream family."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import orjson
import sqlalchemy as sa

from events.fields import format_timestamp
from events.recorder import StoredEvent
from projections.alerts import alert_state
from projections.person import fold_person, new_person
from projections.session import SessionState, fold_session
from projections.session_rows import session_writes
from projections.tables import period_view, person_view, session_view
from projections.writes import RowSet, Writes


class Projection(Protocol):
    @property
    def family(self) -> str: ...

    def new(self, key: str) -> Any: ...
    def fold(self, state: Any, event: StoredEvent) -> Any: ...
    def dump(self, state: Any) -> bytes: ...
    def load(self, raw: bytes) -> Any:
        """The state a stored snapshot holds, or None if the snapshot is of an older shape."""
        ...

    @property
    def view(self) -> sa.Table | None:
        """A table whose current row (keyed by the stream's key) `writes` needs to see."""
        ...

    def writes(self, state: Any, before: dict[str, Any] | None) -> Writes:
        """The read-model rows for this state, as data; `before` is `view`'s current row."""
        ...

    def take_alerts(self, state: Any) -> list[dict[str, Any]]: ...

    def update_message(
        self, writes: Writes, version: int, alerts: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        """What the run publishes after commit, if anything (the publisher hook)."""
        ...


@dataclass(frozen=True)
class SessionProjection:
    family: str = "session"

    def new(self, key: str) -> SessionState:
        return SessionState(key)

    def fold(self, state: SessionState, event: StoredEvent) -> SessionState:
        return fold_session(state, event)

    def dump(self, state: SessionState) -> bytes:
        return orjson.dumps(state.dump())

    def load(self, raw: bytes) -> SessionState | None:
        return SessionState.load(orjson.loads(raw))

    @property
    def view(self) -> sa.Table | None:
        return session_view

    def writes(self, state: SessionState, before: dict[str, Any] | None) -> Writes:
        return session_writes(state, before)

    def update_message(
        self, writes: Writes, version: int, alerts: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        document = writes.document
        if document is None:
            return None
        return {
            "type": "update",
            "session_id": document["session_id"],
            "version": version,
            "document": document,
            "alerts": alerts,
        }

    def take_alerts(self, state: SessionState) -> list[dict[str, Any]]:
        alerts, state.alerts = state.alerts, []
        for alert in alerts:
            alert["at"] = format_timestamp(alert["at"])
            alert["state"] = alert_state(alert)  # as raised: on (or a one-off notice)
        return alerts


class _PlainStateProjection:
    """For folds whose state is plain JSON data: stored as it is, raising no alerts."""

    def dump(self, state: dict[str, Any]) -> bytes:
        return orjson.dumps(state)

    def load(self, raw: bytes) -> dict[str, Any]:
        loaded: dict[str, Any] = orjson.loads(raw)
        return loaded

    @property
    def view(self) -> sa.Table | None:
        return None

    def take_alerts(self, state: dict[str, Any]) -> list[dict[str, Any]]:
        return []

    def update_message(
        self, writes: Writes, version: int, alerts: list[dict[str, Any]]
    ) -> dict[str, Any] | None:
        return None


@dataclass(frozen=True)
class PersonProjection(_PlainStateProjection):
    family: str = "person"

    def new(self, key: str) -> dict[str, Any]:
        return new_person(key)

    def fold(self, state: dict[str, Any], event: StoredEvent) -> dict[str, Any]:
        return fold_person(state, event)

    def writes(self, state: dict[str, Any], before: dict[str, Any] | None) -> Writes:
        return Writes(
            row_sets=[
                RowSet(
                    person_view,
                    [
                        {
                            "person_id": state["person_id"],
                            "registered": state["registered"],
                            "name": state["name"],
                            "role": state["role"],
                            "level": state["level"],
                            "team_id": state["team_id"],
                            "manager_id": state["manager_id"],
                            "on_air_since": state["on_air_since"],
                            "version": state["version"],
                            "ledger": state,
                        }
                    ],
                    ("person_id",),
                )
            ]
        )


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

    def writes(self, state: dict[str, Any], before: dict[str, Any] | None) -> Writes:
        return Writes(
            row_sets=[
                RowSet(
                    period_view,
                    [
                        {
                            "period": state["period"],
                            "version": state["version"],
                            "closed_at": state["closed_at"],
                            "body": state,
                        }
                    ],
                    ("period",),
                )
            ]
        )


PROJECTIONS: dict[str, Projection] = {
    p.family: p for p in (SessionProjection(), PersonProjection(), PeriodProjection())
}


def projection_for(stream_id: str) -> tuple[Projection, str] | None:
    family, _, key = stream_id.partition("-")
    projection = PROJECTIONS.get(family)
    return (projection, key) if projection and key else None
