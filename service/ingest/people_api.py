"""The people API: the roster, a month's targets (a grid in one request), ratings and
violations, for admin tokens and logged-in staff. Every write is the catalogue's events through
the same validation as any producer's, with `metadata.actor`; a manager changes only their own
team (the people whose manager chain reaches the person their account is), a viewer nothing.

A logged-in staff member's write carries the CSRF token in the `X-CSRFToken` header (the
pages' forms in their field): a cookie alone is never enough to change anything.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Response, current_app
from flask_smorest import Blueprint
from flask_wtf.csrf import CSRFError
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.exceptions import Forbidden, Unauthorized

from events.catalogue import LEVELS, ROLES
from events.fields import PERIOD_PATTERN, FullMatch
from service.auth.logins import signed_in
from service.auth.scopes import bearer_token
from service.ingest.people import Actor, People, Refused
from service.process.http_errors import error_response, json_response
from service.reads.openapi_examples import Example

blp = Blueprint(
    "people",
    __name__,
    url_prefix="/api/v1",
    description="People, targets, ratings and violations (admin tokens and staff logins)",
)
ID = r"^[A-Za-z0-9][A-Za-z0-9_.:@-]{0,127}$"
KPI = r"^[a-z][a-z0-9_]{0,63}$"


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


def people() -> People:
    runtime = current_app.extensions["livetally"]
    return People(runtime.engine, runtime.recorder, runtime.streams_moved)


def _written(write: Callable[[], int]) -> Response:
    try:
        appended = write()
    except Refused as exc:
        return error_response(
            exc.status, "forbidden" if exc.status == 403 else "invalid", exc.message, exc.errors
        )
    return json_response({"appended": appended}, 201)


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


class AppendedEventsSchema(Schema):
    appended = fields.Integer(required=True, metadata={"description": "catalogue events stored"})


class PersonOutSchema(Schema):
    person_id = fields.String(required=True)
    name = fields.String(required=True, allow_none=True)
    role = fields.String(required=True, allow_none=True)
    level = fields.String(required=True, allow_none=True)
    team_id = fields.String(required=True, allow_none=True)
    manager_id = fields.String(required=True, allow_none=True)
    on_air_since = fields.String(required=True, allow_none=True, metadata={"format": "date"})


class RosterSchema(Schema):
    people = fields.List(fields.Nested(PersonOutSchema), required=True)


WRITTEN = "stored as catalogue events (metadata.actor names who)"


@blp.route("/people", methods=["GET"])
@blp.response(
    200, RosterSchema, description="the people this caller may see", example=Example("roster")
)
@blp.doc(security=[{"bearer": []}])
def list_people() -> Response:
    """The roster (a manager sees their team and themselves)."""
    actor = _actor(write=False)
    roster = people().visible(actor)
    return json_response(
        {
            "people": [
                {k: v for k, v in row.items() if k != "ledger"} for _, row in sorted(roster.items())
            ]
        }
    )


@blp.route("/people", methods=["POST"])
@blp.arguments(PersonInSchema)
@blp.response(201, AppendedEventsSchema, description=WRITTEN, example=Example("person_appended"))
@blp.doc(security=[{"bearer": []}])
def register_person(body: dict[str, Any]) -> Response:
    """Add or change a person (person.registered): a manager only in their team."""
    actor = _actor(write=True)
    return _written(lambda: people().register(actor, body))


@blp.route("/targets/<string:period>", methods=["PUT"])
@blp.arguments(TargetsInSchema)
@blp.response(201, AppendedEventsSchema, description=WRITTEN, example=Example("targets_appended"))
@blp.doc(security=[{"bearer": []}])
def set_targets(body: dict[str, Any], period: str) -> Response:
    """A month's targets in one request: every cell a target.set, all or nothing."""
    try:
        PeriodPath().load({"period": period})
    except ValidationError as exc:
        return error_response(400, "invalid", "the period is not YYYY-MM", exc.messages)  # type: ignore[arg-type]
    actor = _actor(write=True)
    return _written(lambda: people().set_targets(actor, period, body["targets"]))


@blp.route("/people/<string:person_id>/ratings", methods=["POST"])
@blp.arguments(RatingInSchema)
@blp.response(201, AppendedEventsSchema, description=WRITTEN, example=Example("person_appended"))
@blp.doc(security=[{"bearer": []}])
def rate(body: dict[str, Any], person_id: str) -> Response:
    actor = _actor(write=True)
    return _written(lambda: people().rate(actor, {person_id: {body["kind"]: body["value"]}}))


@blp.route("/people/<string:person_id>/violations", methods=["POST"])
@blp.arguments(ViolationInSchema)
@blp.response(201, AppendedEventsSchema, description=WRITTEN, example=Example("person_appended"))
@blp.doc(security=[{"bearer": []}])
def violation(body: dict[str, Any], person_id: str) -> Response:
    """A violation of the rule book (a correction is a new event, never an edit)."""
    actor = _actor(write=True)
    return _written(lambda: people().record_violation(actor, person_id, body["rule"], body["fine"]))
