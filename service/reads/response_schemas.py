"""The reads API's 200 bodies as marshmallow schemas, for the OpenAPI document: sessions, a
session, its timeline, scores, a person's scorecard, the scorecards in force, and health.

The bodies are built elsewhere (projections/session_rows.py, session_metrics.py, timeline.py,
segments.py; service/reads/views.py, scores.py; projections/scoring/; health_api.py) and served
as they are: the views return finished responses, so `@blp.response` with these schemas only
documents them and never reshapes a body. A key always in the body is `required` (the others,
such as an alert's kind-specific keys, are there only when they apply); a null is allowed
only where marked. The schemas are open (`additionalProperties: true`): a key added later is not
a breaking change, and tests/integration/test_openapi_responses.py checks that the real bodies
carry no key missing from here.
"""

from __future__ import annotations

from typing import Any

from marshmallow import INCLUDE, Schema, fields, validate

from events.catalogue import ROLES

# -- building blocks ----------------------------------------------------------------------------


class _Open(Schema):
    class Meta:
        unknown = INCLUDE


def _time(description: str = "", nullable: bool = False, required: bool = True) -> fields.Field:
    """An ISO 8601 UTC time with a Z, as events.fields.format_timestamp writes it."""
    return fields.String(
        required=required,
        allow_none=nullable,
        metadata={"format": "date-time", **({"description": description} if description else {})},
    )


def _int(description: str = "", nullable: bool = False) -> fields.Field:
    return fields.Integer(required=True, allow_none=nullable, metadata=_described(description))


def _num(description: str = "", nullable: bool = False) -> fields.Field:
    return fields.Float(required=True, allow_none=nullable, metadata=_described(description))


def _str(description: str = "", nullable: bool = False) -> fields.Field:
    return fields.String(required=True, allow_none=nullable, metadata=_described(description))


def _bool(description: str = "") -> fields.Field:
    return fields.Boolean(required=True, metadata=_described(description))


def _ratio(description: str) -> fields.Field:
    return _num(f"{description}; null when its denominator is 0", nullable=True)


def _described(description: str) -> dict[str, Any]:
    return {"description": description} if description else {}


YUAN = "yuan"


# -- a session (projections/session_rows.py session_body) ---------------------------------------


class SessionHeaderSchema(_Open):
    """Who, where and when (projections/session_metrics.py session_header), and the host's name."""

    session_id = _str()
    status = fields.String(required=True, validate=validate.OneOf(["pending", "live", "ended"]))
    host_id = _str(nullable=True)
    host_name = _str("from the host's person.registered", nullable=True)
    ops_id = _str(nullable=True)
    room_id = _str(nullable=True)
    platform = _str(nullable=True)
    title = _str(nullable=True)
    planned_minutes = _int(nullable=True)
    shop_id = _str(nullable=True)
    gmv_target = _num(YUAN, nullable=True)
    started_at = _time(nullable=True)
    ended_at = _time(nullable=True)
    duration_seconds = _num("from the start to the session clock", nullable=True)
    last_event_at = _time("the session clock: the latest event's time", nullable=True)
    version = _int("the stream version the document was folded to")


class IncidentSummarySchema(_Open):
    total = _int()
    open = _int()
    by_kind = fields.Dict(keys=fields.String(), values=fields.Integer(), required=True)
    downtime_seconds = _num("stream interruptions, open ones up to the session clock")


class TrafficSourceSchema(_Open):
    views = _int(nullable=True)
    viewers = _int(nullable=True)
    buyers = _int("null when the platform's sources list is shown", nullable=True)
    gmv = _num(YUAN, nullable=True)
    conversion_rate = _ratio("buyers / viewers")


class PlatformSalesSchema(_Open):
    """The platform's own sales, each from the latest room.stats_reported carrying it."""

    gmv = _num(YUAN, nullable=True)
    orders_paid = _int(nullable=True)
    buyers = _int(nullable=True)
    as_of = _time("the latest of those reports")


class FigureSourceSchema(_Open):
    from_ = fields.String(
        data_key="from", required=True, validate=validate.OneOf(["events", "reported"])
    )
    source = fields.String(metadata={"description": "the reading's source, when reported"})
    as_of = _time("the reading's time, when reported", nullable=True, required=False)


class SessionMetricsSchema(_Open):
    """The Session metrics of docs/contract.md (projections/session_metrics.py)."""

    views = _int()
    unique_viewers = _int()
    online = _int()
    peak_online = _int()
    watch_seconds = _num()
    avg_watch_seconds = _ratio("watch_seconds / unique_viewers")
    interactions = fields.Dict(
        keys=fields.String(),
        values=fields.Integer(),
        required=True,
        metadata={"description": "count per interaction kind"},
    )
    interacting_viewers = _int()
    interaction_rate = _ratio("interacting_viewers / unique_viewers")
    new_followers = _int()
    product_clicks = _int()
    clicking_viewers = _int()
    click_rate = _ratio("clicking_viewers / unique_viewers")
    orders_placed = _int()
    orders_paid = _int()
    buyers = _int()
    gmv = _num(YUAN)
    refunds = _num(YUAN)
    net_gmv = _num(YUAN)
    conversion_rate = _ratio("buyers / unique_viewers")
    click_to_order_rate = _ratio("buyers / clicking_viewers")
    gpm = _num("GMV per thousand views; null with no views", nullable=True)
    uv_value = _ratio("GMV / unique_viewers")
    aov = _ratio("GMV / buyers")
    ad_spend = _num(YUAN)
    roi = _ratio("GMV / ad spend")
    incidents = fields.Nested(IncidentSummarySchema, required=True)
    traffic_sources = fields.Dict(
        keys=fields.String(), values=fields.Nested(TrafficSourceSchema), required=True
    )
    impressions = _int("null unless sampled or reported", nullable=True)
    impression_view_rate = _ratio("views / impressions")
    interactions_last_minute = _int("in the last complete minute before the session clock")
    platform = fields.Nested(
        PlatformSalesSchema,
        required=True,
        allow_none=True,
        metadata={"description": "null when no report carried sales"},
    )
    gmv_gap = _num("GMV minus the platform's, yuan; null without a platform GMV", nullable=True)
    platform_gap_alert = _bool("our GMV and the platform's disagree past the threshold")
    figure_sources = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(FigureSourceSchema),
        required=True,
        metadata={"description": "per figure: derived from events, or reported by a platform"},
    )


class SessionProductSchema(_Open):
    product_id = _str()
    name = _str(nullable=True)
    price = _num(YUAN, nullable=True)
    explanations = _int()
    explanation_seconds = _num()
    impressions = _int("null unless the platform reports it", nullable=True)
    clicks = _int()
    clicking_viewers = _int()
    orders_placed = _int()
    orders_paid = _int()
    items_sold = _int()
    buyers = _int()
    gmv = _num(YUAN)
    refunds = _num(YUAN)
    net_gmv = _num(YUAN)
    refund_rate = _ratio("refunds / GMV")
    click_to_pay_rate = _ratio("buyers / clicking_viewers")


class OpenIncidentSchema(_Open):
    incident_id = _str()
    kind = _str()
    severity = _int()
    opened_at = _time()
    description = _str(nullable=True)


class RecentOrderSchema(_Open):
    at = _time("paid at")
    product_id = _str(nullable=True)
    name = _str(nullable=True)
    amount = _num(YUAN)
    buyer = _str('masked: "u***9"', nullable=True)


class RecentCommentSchema(_Open):
    at = _time()
    viewer = _str('masked: "u***9"', nullable=True)
    text = _str()


class RecentSchema(_Open):
    orders = fields.List(fields.Nested(RecentOrderSchema), required=True)
    comments = fields.List(fields.Nested(RecentCommentSchema), required=True)


class AlertSchema(_Open):
    """An alert, as it stands now; the other keys depend on `kind`."""

    kind = fields.String(
        required=True,
        metadata={
            "description": "incident_opened, online_drop, no_events, platform_gap, "
            "platform_gap_cleared"
        },
    )
    at = _time("when it was raised")
    state = fields.String(
        required=True,
        validate=validate.OneOf(["on", "cleared", "resolved", "raised"]),
        metadata={
            "description": "on (still on), cleared (its condition is over: cleared_at), "
            "resolved (an incident: resolved_at), raised (a one-off notice)"
        },
    )
    cleared_at = _time(
        "online_drop, no_events, platform_gap: when it ended, null while on",
        nullable=True,
        required=False,
    )
    resolved_at = _time(
        "incident_opened: when the incident was resolved, null while open",
        nullable=True,
        required=False,
    )
    since = _time("no_events: the last event recorded before the silence", required=False)
    incident_id = fields.String(metadata={"description": "incident_opened"})
    incident_kind = fields.String(metadata={"description": "incident_opened"})
    severity = fields.Integer(metadata={"description": "incident_opened"})
    description = fields.String(allow_none=True, metadata={"description": "incident_opened"})
    from_ = fields.Integer(data_key="from", metadata={"description": "online_drop: online before"})
    to = fields.Integer(metadata={"description": "online_drop: online after"})
    gmv = fields.Float(metadata={"description": "platform_gap: ours, yuan"})
    platform_gmv = fields.Float(metadata={"description": "platform_gap: the platform's, yuan"})
    gap = fields.Float(metadata={"description": "platform_gap: gmv - platform_gmv, yuan"})


# -- the timeline (projections/timeline.py) -----------------------------------------------------


class TimelineMinuteSchema(_Open):
    minute = _time("the minute's start")
    joins = _int()
    leaves = _int()
    online = _int()
    interactions = _int()
    clicks = _int()
    paid_orders = _int()
    gmv = _num(YUAN)
    incidents = _int("incidents opened in the minute")


class TimelineMarkerSchema(_Open):
    """An incident, or a product pinned or unpinned; the other keys depend on `type`."""

    type = fields.String(
        required=True, validate=validate.OneOf(["incident", "product_pin", "product_unpin"])
    )
    at = _time()
    incident_id = fields.String(metadata={"description": "incident"})
    kind = fields.String(metadata={"description": "incident"})
    severity = fields.Integer(metadata={"description": "incident"})
    description = fields.String(allow_none=True, metadata={"description": "incident"})
    resolved_at = fields.String(
        allow_none=True, metadata={"format": "date-time", "description": "incident"}
    )
    product_id = fields.String(metadata={"description": "product_pin, product_unpin"})
    name = fields.String(allow_none=True, metadata={"description": "product_pin, product_unpin"})
    price = fields.Float(
        allow_none=True, metadata={"description": "product_pin, product_unpin; yuan"}
    )


class TimelineSegmentSchema(_Open):
    """An explanation segment (讲解): from a product's pin to the next pin, its unpin or the end."""

    product_id = _str()
    name = _str(nullable=True)
    started_at = _time()
    ended_at = _time("null: open while live", nullable=True)
    seconds = _num()
    views = _int()
    clicks = _int()
    orders_paid = _int()
    gmv = _num(YUAN)
    gpm = _num("GMV per thousand views; null with no views", nullable=True)


class TimelineTailSchema(_Open):
    """The timeline's last minutes and their markers (what the feed carries)."""

    minutes = fields.List(fields.Nested(TimelineMinuteSchema), required=True)
    markers = fields.List(fields.Nested(TimelineMarkerSchema), required=True)


class TimelineSchema(_Open):
    session_id = _str()
    version = _int()
    minutes = fields.List(fields.Nested(TimelineMinuteSchema), required=True)
    markers = fields.List(fields.Nested(TimelineMarkerSchema), required=True)
    segments = fields.List(fields.Nested(TimelineSegmentSchema), required=True)


class SessionSchema(SessionHeaderSchema):
    """GET /sessions/{id}: the session's document, as the feed's snapshot carries it."""

    metrics = fields.Nested(SessionMetricsSchema, required=True)
    open_incidents = fields.List(fields.Nested(OpenIncidentSchema), required=True)
    products = fields.List(
        fields.Nested(SessionProductSchema),
        required=True,
        metadata={"description": "the top 10 by GMV"},
    )
    recent = fields.Nested(RecentSchema, required=True)
    alerts = fields.List(
        fields.Nested(AlertSchema),
        required=True,
        metadata={
            "description": "the latest 10 as they stand now, then the silence alert while the "
            "room is silent (no_events, on)"
        },
    )
    timeline_tail = fields.Nested(TimelineTailSchema, required=True)


# -- the sessions list (service/reads/views.py headline) ----------------------------------------


class HeadlineMetricsSchema(_Open):
    views = _int()
    unique_viewers = _int()
    online = _int()
    peak_online = _int()
    gmv = _num(YUAN)
    net_gmv = _num(YUAN)
    orders_paid = _int()
    buyers = _int()
    conversion_rate = _ratio("buyers / unique_viewers")
    gpm = _num("GMV per thousand views; null with no views", nullable=True)
    new_followers = _int()
    interaction_rate = _ratio("interacting_viewers / unique_viewers")
    incidents_open = _int()
    incidents = _int()


class SessionSummarySchema(SessionHeaderSchema):
    metrics = fields.Nested(HeadlineMetricsSchema, required=True)
    open_incidents = fields.List(fields.Nested(OpenIncidentSchema), required=True)


class SessionListSchema(_Open):
    sessions = fields.List(
        fields.Nested(SessionSummarySchema),
        required=True,
        metadata={"description": "newest start first"},
    )
    count = _int("sessions in this page")


# -- scores (service/reads/scores.py, projections/scoring/) -------------------------------------


class KpiSchema(_Open):
    key = _str()
    weight = _num("the weight it counted with (scaled when others are left out)")
    configured_weight = _num("the scorecard's weight")
    actual = _num(nullable=True)
    target = _num(nullable=True)
    attainment = _num(nullable=True)
    points = _num()
    status = fields.String(
        required=True, validate=validate.OneOf(["ok", "no_target", "no_data", "no_sessions"])
    )
    target_source = _str("set, tenure or previous_period; null without a target", nullable=True)


class FinesSchema(_Open):
    count = _int()
    total = _num(YUAN)
    by_rule = fields.Dict(keys=fields.String(), values=fields.Float(), required=True)


class ComplianceSchema(_Open):
    """Host rules: 3 hours on air and 2 clips a day."""

    days_on_air = _int()
    days_under_3_hours = _int()
    days_under_2_clips = _int()
    clips = _int()
    on_air_hours = _num()


class KpiCorrectionSchema(_Open):
    actual = _num(nullable=True)
    points = _num("the change in points")


class CorrectionsSchema(_Open):
    score = _num("the change in score", nullable=True)
    kpis = fields.Dict(keys=fields.String(), values=fields.Nested(KpiCorrectionSchema))


class ScorecardSchema(_Open):
    """One person's scorecard; in a closed period its frozen figures, and what changed since."""

    person_id = _str()
    name = _str(nullable=True)
    role = fields.String(required=True, validate=validate.OneOf(ROLES))
    level = _str(nullable=True)
    score = _num()
    grade = _str("null when not graded", nullable=True)
    graded = fields.Boolean(
        metadata={"description": "absent from cards frozen before grading could be withheld"}
    )
    rank = _int("within the role; ungraded cards after the graded")
    complete = _bool("every KPI counted")
    sessions = _int()
    kpis = fields.List(fields.Nested(KpiSchema), required=True)
    fines = fields.Nested(FinesSchema, required=True)
    compliance = fields.Nested(
        ComplianceSchema,
        required=True,
        allow_none=True,
        metadata={"description": "hosts only"},
    )
    frozen = fields.Boolean(metadata={"description": "closed periods only"})
    corrections = fields.Nested(
        CorrectionsSchema,
        allow_none=True,
        metadata={"description": "closed periods only: null when nothing changed since"},
    )


class ScoresSchema(_Open):
    period = _str("YYYY-MM, or from..to for a custom range")
    role = fields.String(required=True, allow_none=True, validate=validate.OneOf(ROLES))
    closed = _bool()
    from_ = fields.Date(data_key="from", required=True, metadata={"description": "first day"})
    to = fields.Date(required=True, metadata={"description": "the day after the last"})
    scorecards = fields.List(fields.Nested(ScorecardSchema), required=True)
    closed_at = fields.Integer(
        metadata={"description": "closed periods only: microseconds since the epoch"}
    )


class PeriodClosedSchema(_Open):
    """POST /periods/{period}/close: the period is frozen."""

    period = _str("YYYY-MM")
    closed = _bool()
    scorecards = _int("the scorecards frozen in it")


class PersonScoreSchema(ScorecardSchema):
    """GET /scores/{person_id}: the period, and the person's scorecard."""

    period = _str("YYYY-MM, or from..to for a custom range")
    closed = _bool()


class KpiDefinitionSchema(_Open):
    key = _str()
    weight = _num()
    source = fields.String(
        required=True, validate=validate.OneOf(["derived", "recorded", "rating"])
    )
    direction = fields.String(required=True, validate=validate.OneOf(["higher", "lower"]))
    formula = _str()


class TenureTargetSchema(_Open):
    from_month = _int()
    to_month = _int()
    target = _num(nullable=True)


class ScorecardSettingsSchema(_Open):
    """GET /scorecards: the scorecards in force (the shipped YAML, or the file replacing it)."""

    cap = _num("attainment is capped at this")
    grades = fields.Dict(
        keys=fields.String(),
        values=fields.Float(),
        required=True,
        metadata={"description": "grade -> minimum score"},
    )
    promoted_sources = fields.List(fields.String(), required=True)
    incident_penalty = _num()
    min_graded_weight = _num()
    host_sales_targets = fields.List(fields.Nested(TenureTargetSchema), required=True)
    roles = fields.Dict(
        keys=fields.String(),
        values=fields.List(fields.Nested(KpiDefinitionSchema)),
        required=True,
    )


# -- health (service/reads/health_api.py) -------------------------------------------------------


class ProjectionLagSchema(_Open):
    streams_behind = _int()
    events_behind = _int()
    worst_stream = _str(nullable=True)
    worst_lag = _int()


class WorkersSchema(_Open):
    alive = _int("workers whose heartbeat is a few seconds old at most")
    ids = fields.List(fields.String(), required=True)


class ParkedStreamSchema(_Open):
    stream_id = _str()
    attempts = _int()
    error = _str(nullable=True)
    parked_at = _time()


class ConnectionStateSchema(_Open):
    """A connection's state, never its secrets; a vault that cannot be opened is one row with
    connection_id "*" and only the first three keys."""

    connection_id = _str()
    state = _str()
    last_sync_error = _str(nullable=True)
    platform = fields.String()
    name = fields.String(allow_none=True)
    last_sync = fields.String(allow_none=True, metadata={"format": "date-time"})
    last_poll = fields.String(allow_none=True, metadata={"format": "date-time"})
    poll_error = fields.String(allow_none=True)


class HealthSchema(_Open):
    status = fields.String(required=True, validate=validate.OneOf(["ok", "degraded"]))
    database = _str()
    redis = _str('"ok", "not used" or "down: ..."')
    projection_lag = fields.Nested(ProjectionLagSchema, required=True)
    workers = fields.Nested(WorkersSchema, required=True)
    parked_streams = fields.List(fields.Nested(ParkedStreamSchema), required=True)
    connections = fields.List(fields.Nested(ConnectionStateSchema), required=True)


class HealthDownSchema(_Open):
    status = fields.String(required=True, validate=validate.OneOf(["down"]))
    database = _str('"unreachable: ..."')
