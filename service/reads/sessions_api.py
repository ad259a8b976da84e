"""GET /api/v1/sessions, /sessions/{id}, /sessions/{id}/timeline: straight from the read models."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from flask import Response, current_app
from flask_smorest import Blueprint
from marshmallow import Schema, ValidationError, fields, validate
from werkzeug.exceptions import NotFound

from events.envelope import EARLIEST_US
from events.fields import Identifier, parse_timestamp
from projections.scoring.figures import day_start_us
from service.auth.scopes import requires
from service.process.http_errors import error_response, json_response
from service.reads import views
from service.reads.exports import XLSX, file_responses, review_workbook
from service.reads.openapi_examples import Example
from service.reads.response_schemas import SessionListSchema, SessionSchema, TimelineSchema
from service.reads.review_schema import ReviewSchema

LATEST_US = 32_503_680_000 * 1_000_000  # 3000-01-01

blp = Blueprint("sessions", __name__, url_prefix="/api/v1", description="Broadcast sessions")


class DateOrTime(fields.Field):
    """A date (YYYY-MM-DD, a whole UTC day) or an ISO 8601 time."""

    def _deserialize(self, value: Any, attr: str | None, data: Any, **kw: Any) -> Any:
        if isinstance(value, str) and len(value) == 10:
            try:
                day = date.fromisoformat(value)
            except ValueError:
                pass
            else:
                if not 2000 <= day.year <= 2999:
                    raise ValidationError("must be a date in the years 2000-2999")
                return day
        micros = parse_timestamp(value)
        if not EARLIEST_US <= micros < LATEST_US:
            raise ValidationError("must be a time in the years 2000-2999")
        return micros


class SessionsQuerySchema(Schema):
    status = fields.String(load_default=None, validate=validate.OneOf(["pending", "live", "ended"]))
    host_id = Identifier(load_default=None)
    ops_id = Identifier(load_default=None)
    from_ = DateOrTime(
        data_key="from",
        load_default=None,
        metadata={"description": "started at or after (date or time)"},
    )
    to = DateOrTime(
        load_default=None,
        metadata={"description": "started before this time, or on or before this date"},
    )
    limit = fields.Integer(load_default=200, validate=validate.Range(1, 5000))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, 10**9))


@blp.route("/sessions")
@blp.arguments(SessionsQuerySchema, location="query")
@blp.response(
    200, SessionListSchema, description="sessions, newest start first", example=Example("sessions")
)
@blp.doc(security=[{"bearer": []}])
@requires("read")
def list_sessions(query: dict[str, Any]) -> Response:
    start, end = query["from_"], query["to"]
    zone = current_app.extensions["livetally"].settings.timezone  # dates are the studio's days
    if start is not None:
        start = day_start_us(start, zone) if isinstance(start, date) else start
    if end is not None:
        end = day_start_us(end + timedelta(days=1), zone) if isinstance(end, date) else end
    if start is not None and end is not None and end <= start:
        return error_response(
            422, "invalid_query", "to must be after from", {"query": {"to": ["must be after from"]}}
        )
    bodies = views.list_session_bodies(
        current_app.extensions["livetally"].engine,
        status=query["status"],
        host_id=query["host_id"],
        ops_id=query["ops_id"],
        started_from=start,
        started_before=end,
        limit=query["limit"],
        offset=query["offset"],
    )
    return json_response(
        {"sessions": [views.headline(body) for body in bodies], "count": len(bodies)}
    )


def _found(body: Any, session_id: str) -> Any:
    if body is None:
        raise NotFound(f"no session {session_id!r} (or its events are not projected yet)")
    return body


@blp.route("/sessions/<session_id>")
@blp.response(200, SessionSchema, description="the session's document", example=Example("session"))
@blp.doc(security=[{"bearer": []}])
@requires("read")
def get_session(session_id: str) -> Response:
    engine = current_app.extensions["livetally"].engine
    return json_response(_found(views.session_document_body(engine, session_id), session_id))


@blp.route("/sessions/<session_id>/timeline")
@blp.response(
    200,
    TimelineSchema,
    description="per-minute figures, markers and segments",
    example=Example("timeline"),
)
@blp.doc(security=[{"bearer": []}])
@requires("read")
def get_timeline(session_id: str) -> Response:
    engine = current_app.extensions["livetally"].engine
    return json_response(_found(views.session_timeline_body(engine, session_id), session_id))


class ReviewQuerySchema(Schema):
    format = fields.String(load_default="json", validate=validate.OneOf(["json", "xlsx"]))
    lang = fields.String(load_default="zh", validate=validate.OneOf(["zh", "en"]))


@blp.route("/sessions/<session_id>/review")
@blp.arguments(ReviewQuerySchema, location="query")
@blp.response(200, ReviewSchema)
@blp.doc(
    security=[{"bearer": []}],
    responses=file_responses(
        ReviewSchema,
        Example("review"),
        "the post-broadcast review (复盘); format=xlsx gives the same as a workbook (a sheet per "
        "section of the page: summary with benchmarks, products, segments, minutes, traffic "
        "sources, incidents, alerts; Chinese headers, English with lang=en, times in the "
        "studio's zone)",
        XLSX,
    ),
)
@requires("read")
def get_review(query: dict[str, Any], session_id: str) -> Response:
    engine = current_app.extensions["livetally"].engine
    review = _found(views.review_body(engine, session_id), session_id)
    if query["format"] == "xlsx":
        timeline = views.session_timeline_body(engine, session_id)
        return Response(
            review_workbook(
                review,
                timeline,
                lang=query["lang"],
                zone=current_app.extensions["livetally"].settings.timezone,
            ),
            mimetype=XLSX,
            headers={
                "Content-Disposition": f'attachment; filename="livetally-review-{session_id}.xlsx"'
            },
        )
    return json_response(review)
