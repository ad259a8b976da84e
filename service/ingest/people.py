"""Writing the month's people data: the roster, targets, ratings and violations, as catalogue
events through the same validation as any producer's, each with `metadata.actor`. Shared by
the people API and the pages; who may change whom is decided here once.

A manager changes only their own team (the people whose manager chain reaches the person their
account is); an admin everybody; a viewer nobody.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from marshmallow import ValidationError
from sqlalchemy.engine import Engine

from events import Recorder
from events.clock import now_micros
from events.envelope import parse_event
from events.errors import LivetallyError
from events.fields import format_timestamp
from projections.tables import person_view


@dataclass(frozen=True)
class Actor:
    label: str  # metadata.actor
    role: str  # admin | manager | viewer
    person_id: str | None = None


class Refused(LivetallyError):
    """Raised when a write is refused: `status` 400 (a field is wrong) or 403 (not yours to
    change); `errors` name each field and why. Nothing was stored."""

    def __init__(self, status: int, message: str, errors: dict[str, list[str]]) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors


@dataclass
class People:
    engine: Engine
    recorder: Recorder
    streams_moved: Callable[[Iterable[str]], object]
    clock: Callable[[], int] = field(default=now_micros)

    def roster(self) -> dict[str, dict[str, Any]]:
        t = person_view
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    t.c.person_id,
                    t.c.name,
                    t.c.role,
                    t.c.level,
                    t.c.team_id,
                    t.c.manager_id,
                    t.c.on_air_since,
                    t.c.ledger,
                ).where(t.c.registered.is_(True))
            ).mappings()
            return {str(r["person_id"]): {str(k): v for k, v in r.items()} for r in rows}

    def visible(self, actor: Actor) -> dict[str, dict[str, Any]]:
        roster = self.roster()
        if actor.role == "manager":
            mine = team_of(roster, actor.person_id or "") | {actor.person_id or ""}
            roster = {k: v for k, v in roster.items() if k in mine}
        return roster

    def may_change(
        self, actor: Actor, person_id: str, roster: dict[str, Any] | None = None
    ) -> bool:
        if actor.role == "admin":
            return True
        if actor.role != "manager" or actor.person_id is None:
            return False
        return person_id in team_of(
            roster if roster is not None else self.roster(), actor.person_id
        )

    # -- writes --------------------------------------------------------------------------

    def register(self, actor: Actor, person: dict[str, Any]) -> int:
        roster = self.roster()
        if actor.role == "viewer":
            raise Refused(403, "a viewer changes nothing", {"person_id": ["read only"]})
        if actor.role != "admin":
            manager = person.get("manager_id")
            chain_ok = manager is not None and (
                manager == actor.person_id or manager in team_of(roster, actor.person_id or "")
            )
            existing_ok = person["person_id"] not in roster or self.may_change(
                actor, person["person_id"], roster
            )
            if not (chain_ok and existing_ok):
                raise Refused(
                    403,
                    "a manager changes only their own team",
                    {"manager_id": ["must be you or someone in your team"]},
                )
        data = {k: v for k, v in person.items() if k != "person_id" and v not in (None, "")}
        if hasattr(data.get("on_air_since"), "isoformat"):
            data["on_air_since"] = data["on_air_since"].isoformat()
        return self._append(
            actor, [{"type": "person.registered", "person_id": person["person_id"], "data": data}]
        )

    def set_targets(self, actor: Actor, period: str, targets: dict[str, dict[str, float]]) -> int:
        roster = self.roster()
        outside = sorted(p for p in targets if not self.may_change(actor, p, roster))
        if outside:
            raise Refused(
                403,
                "targets are set only for your team",
                {p: ["not in your team"] for p in outside},
            )
        return self._append(
            actor,
            [
                {
                    "type": "target.set",
                    "person_id": person,
                    "data": {"period": period, "kpi": kpi, "value": value},
                }
                for person, cells in sorted(targets.items())
                for kpi, value in sorted(cells.items())
            ],
        )

    def rate(self, actor: Actor, ratings: dict[str, dict[str, float]]) -> int:
        """person_id -> {rating kind: 0-100}."""
        roster = self.roster()
        outside = sorted(p for p in ratings if not self.may_change(actor, p, roster))
        if outside:
            raise Refused(
                403, "you rate only your team", {p: ["not in your team"] for p in outside}
            )
        raws = []
        for person, cells in sorted(ratings.items()):
            for kind, value in sorted(cells.items()):
                data: dict[str, Any] = {"kind": kind, "value": value}
                if actor.person_id:
                    data["rater_id"] = actor.person_id
                raws.append({"type": "rating.recorded", "person_id": person, "data": data})
        return self._append(actor, raws)

    def record_violation(
        self, actor: Actor, person_id: str, rule: str, fine: str | None, at_us: int | None = None
    ) -> int:
        """`at_us`: when it happened (a violation entered later keeps its own day)."""
        if not self.may_change(actor, person_id, None):
            raise Refused(
                403, "you record only your team's violations", {"person_id": ["not in your team"]}
            )
        data: dict[str, Any] = {"rule": rule}
        if fine:
            data["fine"] = fine
        raw: dict[str, Any] = {"type": "violation.recorded", "person_id": person_id, "data": data}
        if at_us is not None:
            raw["occurred_at"] = format_timestamp(at_us)
        return self._append(actor, [raw])

    def _append(self, actor: Actor, raws: list[dict[str, Any]]) -> int:
        """Every event validated first: one bad cell refuses the whole write."""
        now = self.clock()
        events, errors = [], {}
        for raw in raws:
            raw["event_id"] = str(uuid.uuid4())
            raw.setdefault("occurred_at", format_timestamp(now))
            raw["metadata"] = {"source": "people", "actor": actor.label[:200]}
            try:
                events.append(parse_event(raw, now))
            except ValidationError as exc:
                for name, messages in exc.messages.items():  # type: ignore[union-attr]
                    short = str(name).removeprefix("data.")
                    key = f"{raw.get('person_id')}.{short}" if len(raws) > 1 else short
                    errors[key] = [str(m) for m in messages]
        if errors:
            raise Refused(400, "nothing was stored: fix the fields named", errors)
        if not events:
            return 0
        result = self.recorder.append(events)
        self.streams_moved(result.heads)
        return result.appended


def team_of(roster: dict[str, dict[str, Any]], manager: str) -> set[str]:
    """The people whose manager chain reaches `manager` (a cycle stops the walk)."""
    team = set()
    for person_id in roster:
        seen: set[str] = set()
        current: str | None = roster[person_id].get("manager_id")
        while current is not None and current not in seen:
            if current == manager:
                team.add(person_id)
                break
            seen.add(current)
            current = (roster.get(current) or {}).get("manager_id")
    return team
