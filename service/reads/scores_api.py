"""GET /scores, /scores/{person_id}, /scorecards; POST /periods/{period}/close."""

from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, current_app
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate, validates_schema
from werkzeug.exceptions import NotFound

from events.catalogue import ROLES
from events.fields import PERIOD_PATTERN, PERIOD_RE, FullMatch
from projections.scoring.figures import Range, custom_range, month_range
from service.auth.scopes import requires
from service.process.http_errors import error_response, json_response
from service.reads.exports import XLSX, file_responses, scores_csv, scores_workbook
from service.reads.openapi_examples import Example
from service.reads.response_schemas import (
    PeriodClosedSchema,
    PersonScoreSchema,
    ScorecardSettingsSchema,
    ScoresSchema,
)
from service.reads.scores import (
    AlreadyClosed,
    PeriodNotOver,
    close_period,
    person_score,
    scores,
)

blp = Blueprint("scores", __name__, url_prefix="/api/v1", description="Period scorecards")


class ScoresQuerySchema(Schema):
    period = fields.String(
        load_default=None,
        validate=FullMatch(PERIOD_PATTERN, error="must be a month as YYYY-MM (years 1970-2999)"),
    )
    from_ = fields.Date(data_key="from", load_default=None)
    to = fields.Date(load_default=None)
    role = fields.String(load_default=None, validate=validate.OneOf(ROLES))
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "csv", "xlsx"]))

    @validates_schema
    def _one_range(self, data: dict[str, Any], **kwargs: Any) -> None:
        if data["period"] is None and (data["from_"] is None or data["to"] is None):
            raise ValidationError("give period=YYYY-MM, or both from and to dates", "period")
        for name in ("from_", "to"):
            day = data[name]
            if day is not None and not 1970 <= day.year <= 2999:
                raise ValidationError("must be a date in the years 1970-2999", name.rstrip("_"))
        if data["from_"] is not None and data["to"] is not None and data["to"] < data["from_"]:
            raise ValidationError("must not be before from", "to")


def range_of(query: dict[str, Any]) -> Range:
    """The query's period or dates, as the studio's days (LIVETALLY_TIMEZONE)."""
    zone = _runtime().settings.timezone
    if query["period"] is not None:
        return month_range(query["period"], zone)
    first, last = query["from_"], query["to"]
    assert isinstance(first, date) and isinstance(last, date)
    return custom_range(first, last, zone)


def _runtime() -> Any:
    return current_app.extensions["livetally"]


@blp.route("/scores")
@blp.arguments(ScoresQuerySchema, location="query")
@blp.response(200, ScoresSchema)
@blp.doc(
    security=[{"bearer": []}],
    responses=file_responses(
        ScoresSchema,
        Example("scores"),
        "every scorecard of the period or range, by role and rank; format=csv and format=xlsx "
        "give the same as a table",
        "text/csv",
        XLSX,
    ),
)
@requires("read")
def list_scores(query: dict[str, Any]) -> Response:
    body = scores(_runtime(), range_of(query), query["role"])
    name = f"livetally-scores-{body['period']}{'-' + query['role'] if query['role'] else ''}"
    if query["format"] == "csv":
        return Response(
            scores_csv(body),
            content_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}.csv"'},
        )
    if query["format"] == "xlsx":
        return Response(
            scores_workbook(body),
            mimetype=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'},
        )
    return json_response(body)


@blp.route("/scores/<person_id>")
@blp.arguments(ScoresQuerySchema, location="query")
@blp.response(
    200, PersonScoreSchema, description="the person's scorecard", example=Example("person_score")
)
@blp.doc(security=[{"bearer": []}])
@requires("read")
def one_score(query: dict[str, Any], person_id: str) -> Response:
    body = scores(_runtime(), range_of(query), None, person_id)
    if not body["scorecards"]:
        raise NotFound(f"no registered person {person_id!r} with a scorecard")
    return json_response(person_score(body))


@blp.route("/scorecards")
@blp.response(
    200,
    ScorecardSettingsSchema,
    description="the scorecards in force",
    example=Example("scorecards"),
)
@blp.doc(security=[{"bearer": []}])
@requires("read")
def scorecards() -> Response:
    return json_response(_runtime().scorecards.as_dict())


@blp.route("/periods/<period>/close", methods=["POST"])
@blp.response(
    201,
    PeriodClosedSchema,
    description="the period's scorecards frozen (409 if already closed, 422 if not over)",
    example=Example("period_closed"),
)
@blp.doc(security=[{"bearer": []}])
@requires("admin")
def close(period: str) -> Response:
    if not PERIOD_RE.match(period):
        return error_response(
            422,
            "invalid_period",
            "the period must be a month as YYYY-MM",
            {"path": {"period": ["must be a month as YYYY-MM"]}},
        )
    try:
        body = close_period(_runtime(), month_range(period, _runtime().settings.timezone))
    except AlreadyClosed:
        return error_response(
            409,
            "already_closed",
            f"period {period} is already closed",
            {"path": {"period": ["is already closed"]}},
        )
    except PeriodNotOver:
        return error_response(
            422,
            "period_not_over",
            f"period {period} has not ended yet; close it after it ends",
            {"path": {"period": ["has not ended yet"]}},
        )
    return json_response(body, 201)
