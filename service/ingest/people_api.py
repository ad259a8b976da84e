"""The people API: the roster, a month's targets (a grid in one request), ratings and
violations, for admin tokens and logged-in staff. Every write is the catalogue's events through
the same validation as any producer's, with `metadata.actor`; a manager changes only their own
team (the people whose manager chain reaches the person their account is), a viewer nothing.

A logged-in staff member's write carries the CSRF token in the `X-CSRFToken` header (the
pages' forms in their field): a cookie alone is never enough to change anything.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import Response, current_app
from flask_smorest import Blueprint
from flask_wtf.csrf import CSRFError
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.exceptions import Forbidden, Unauthorized

from events.catalogue import LEVELS, ROLES
from events.clock import now_micros
from events.envelope import parse_event
from events.fields import PERIOD_PATTERN, FullMatch
from projections.tables import person_view
from service.auth.logins import signed_in
from service.auth.scopes import bearer_token
from service.process.http_errors import error_response, json_response

blp = Blueprint(
    "people",
    __name__,
    url_prefix="/api/v1",
    description="People, targets, ratings and violations (admin tokens and staff logins)",
)
ID = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"
KPI = r"^[a-z][a-z0-9_]{0,63}$"


@dataclass(frozen=True)
class Actor:
    label: str  # metadata.actor
    role: str  # admin | manager | viewer
    person_id: str | None = None


def _actor(write: bool) -> Actor:
    """Who is asking: an admin bearer token, or a logged-in staff account (whose writes carry
    their CSRF token). Raises Unauthorized or Forbidden."""
    runtime = current_app.extensions["livetally"]
    token = bearer_token()
    if token is not None:
        if runtime.tokens.allows(token, "admin"):
            return Actor("token", "admin")
        raise Forbidden("the people API needs an admin token or a staff login")
    account = signed_in()
    if account is None:
        raise Unauthorized(
            "log in at /login, or give an admin token: Authorization: Bearer <token>"
        )
    if write:
        if not account.can_write():
            raise Forbidden(f"a {account.role} account changes nothing")
        try:
            current_app.extensions["livetally.logins"].csrf.protect()
        except CSRFError:
            raise Forbidden("the X-CSRFToken header is missing or not this session's") from None
    return Actor(f"account:{account.name}", account.role, account.person_id)


def _roster() -> dict[str, dict[str, Any]]:
    engine = current_app.extensions["livetally"].engine
    t = person_view
    with engine.connect() as conn:
        rows = conn.execute(
            sa.select(
                t.c.person_id,
                t.c.name,
                t.c.role,
                t.c.level,
                t.c.team_id,
                t.c.manager_id,
                t.c.on_air_since,
            ).where(t.c.registered.is_(True))
        ).mappings()
        return {str(r["person_id"]): {str(k): v for k, v in r.items()} for r in rows}


def team_of(roster: dict[str, dict[str, Any]], manager: str) -> set[str]:
    """The people whose manager chain reaches `manager` (cycles stop the walk)."""
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


def _may_change(actor: Actor, person_id: str, roster: dict[str, dict[str, Any]]) -> bool:
    if actor.role == "admin":
        return True
    return actor.person_id is not None and person_id in team_of(roster, actor.person_id)


def _append(actor: Actor, raws: list[dict[str, Any]]) -> Response:
    """Validate every event first: one bad cell refuses the request and stores nothing."""
    runtime = current_app.extensions["livetally"]
    now = now_micros()
    events, errors = [], {}
    for raw in raws:
        raw.setdefault("event_id", str(uuid.uuid4()))
        raw.setdefault("occurred_at", _iso(now))
        raw["metadata"] = {"source": "people-api", "actor": actor.label[:200]}
        try:
            events.append(parse_event(raw, now))
        except ValidationError as exc:
            for field, messages in exc.messages.items():  # type: ignore[union-attr]
                where = f"{raw.get('person_id')}.{str(field).removeprefix('data.')}"
                errors[where if len(raws) > 1 else str(field).removeprefix("data.")] = messages
    if errors:
        return error_response(400, "invalid", "nothing was stored: fix the fields named", errors)
    result = runtime.recorder.append(events)
    runtime.streams_moved(result.heads)
    return json_response({"appended": result.appended}, 201)


def _iso(micros: int) -> str:
    from events.fields import format_timestamp

    return format_timestamp(micros)


class PersonInSchema(Schema):
    person_id = fields.String(required=True, validate=validate.Regexp(ID))
    name = fields.String(required=True, validate=validate.Length(1, 200))
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    level = fields.String(load_default=None, validate=validate.OneOf(LEVELS))
    team_id = fields.String(load_default=None, validate=validate.Regexp(ID))
    manager_id = fields.String(load_default=None, validate=validate.Regexp(ID))
    on_air_since = fields.Date(load_default=None)


class TargetsInSchema(Schema):
    targets = fields.Dict(
        keys=fields.String(validate=validate.Regexp(ID)),
        values=fields.Dict(
            keys=fields.String(validate=validate.Regexp(KPI)),
            values=fields.Float(validate=validate.Range(min=0), allow_nan=False),
        ),
        required=True,
        metadata={"description": "person_id -> {kpi: target}"},
    )


class RatingInSchema(Schema):
    kind = fields.String(required=True, validate=validate.Regexp(KPI))
    value = fields.Float(required=True, validate=validate.Range(0, 100), allow_nan=False)


class ViolationInSchema(Schema):
    rule = fields.String(required=True, validate=validate.Regexp(KPI))
    fine = fields.String(
        load_default=None, metadata={"description": "yuan; the rule book's fine when absent"}
    )


class PeriodPath(Schema):
    period = fields.String(validate=FullMatch(PERIOD_PATTERN, error="must be YYYY-MM"))


@blp.route("/people", methods=["GET"])
@blp.doc(security=[{"bearer": []}])
def list_people() -> Response:
    """The roster (a manager sees their team and themselves)."""
    actor = _actor(write=False)
    roster = _roster()
    if actor.role == "manager" and actor.person_id:
        visible = team_of(roster, actor.person_id) | {actor.person_id}
        roster = {k: v for k, v in roster.items() if k in visible}
    people = [{**row, "on_air_since": row["on_air_since"]} for _, row in sorted(roster.items())]
    return json_response({"people": people})


@blp.route("/people", methods=["POST"])
@blp.arguments(PersonInSchema)
@blp.doc(security=[{"bearer": []}])
def register_person(body: dict[str, Any]) -> Response:
    """Add or change a person (person.registered): a manager only in their team."""
    actor = _actor(write=True)
    roster = _roster()
    if actor.role != "admin":
        chain_ok = body["manager_id"] is not None and (
            body["manager_id"] == actor.person_id
            or body["manager_id"] in team_of(roster, actor.person_id or "")
        )
        if not chain_ok or (
            body["person_id"] in roster and not _may_change(actor, body["person_id"], roster)
        ):
            return error_response(
                403,
                "forbidden",
                "a manager changes only their own team",
                {"manager_id": ["must be you or someone in your team"]},
            )
    data = {k: v for k, v in body.items() if k != "person_id" and v is not None}
    if data.get("on_air_since") is not None:
        data["on_air_since"] = data["on_air_since"].isoformat()
    return _append(
        actor, [{"type": "person.registered", "person_id": body["person_id"], "data": data}]
    )


@blp.route("/targets/<string:period>", methods=["PUT"])
@blp.arguments(TargetsInSchema)
@blp.doc(security=[{"bearer": []}])
def set_targets(body: dict[str, Any], period: str) -> Response:
    """A month's targets in one request: every cell a target.set, all or nothing."""
    try:
        PeriodPath().load({"period": period})
    except ValidationError as exc:
        return error_response(400, "invalid", "the period is not YYYY-MM", exc.messages)  # type: ignore[arg-type]
    actor = _actor(write=True)
    roster = _roster()
    outside = sorted(p for p in body["targets"] if not _may_change(actor, p, roster))
    if outside:
        return error_response(
            403,
            "forbidden",
            "a manager sets targets only for their team",
            {p: ["not in your team"] for p in outside},
        )
    raws = [
        {
            "type": "target.set",
            "person_id": person,
            "data": {"period": period, "kpi": kpi, "value": value},
        }
        for person, cells in sorted(body["targets"].items())
        for kpi, value in sorted(cells.items())
    ]
    return _append(actor, raws)


@blp.route("/people/<string:person_id>/ratings", methods=["POST"])
@blp.arguments(RatingInSchema)
@blp.doc(security=[{"bearer": []}])
def rate(body: dict[str, Any], person_id: str) -> Response:
    actor = _actor(write=True)
    if not _may_change(actor, person_id, _roster()):
        return error_response(
            403, "forbidden", "a manager rates only their team", {"person_id": ["not in your team"]}
        )
    data: dict[str, Any] = {"kind": body["kind"], "value": body["value"]}
    if actor.person_id:
        data["rater_id"] = actor.person_id
    return _append(actor, [{"type": "rating.recorded", "person_id": person_id, "data": data}])


@blp.route("/people/<string:person_id>/violations", methods=["POST"])
@blp.arguments(ViolationInSchema)
@blp.doc(security=[{"bearer": []}])
def violation(body: dict[str, Any], person_id: str) -> Response:
    """A violation of the rule book (a correction is a new event, never an edit)."""
    actor = _actor(write=True)
    if not _may_change(actor, person_id, _roster()):
        return error_response(
            403,
            "forbidden",
            "a manager records only their team's violations",
            {"person_id": ["not in your team"]},
        )
    data: dict[str, Any] = {"rule": body["rule"]}
    if body["fine"] is not None:
        data["fine"] = body["fine"]
    return _append(actor, [{"type": "violation.recorded", "person_id": person_id, "data": data}])
