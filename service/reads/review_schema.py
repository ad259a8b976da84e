"""The review's response shape, for the OpenAPI document (the body is built in
projections/review.py and views.review_body, and served as it is). Its header, metrics,
products, segments, alerts and traffic sources are the session document's own schemas
(service/reads/response_schemas.py): the review shows the same figures."""

from __future__ import annotations

from marshmallow import fields

from service.reads.response_schemas import (
    AlertSchema,
    SessionHeaderSchema,
    SessionMetricsSchema,
    SessionProductSchema,
    TimelineSegmentSchema,
    TrafficSourceSchema,
    _Open,
)


def _number(description: str = "", nullable: bool = True) -> fields.Field:
    return fields.Float(
        required=True,
        allow_none=nullable,
        metadata={"description": description} if description else {},
    )


class Benchmark(_Open):
    value = _number()
    host_median = _number("of the host's earlier sessions (at most 10); null without any")
    room_median = _number("of the room's earlier sessions (at most 10); null without any")
    vs_host = _number("value / host_median - 1")
    host_sessions = fields.Integer(required=True)
    room_sessions = fields.Integer(required=True)


class FunnelStage(_Open):
    stage = fields.String(required=True)
    value = fields.Integer(required=True)
    rate = _number("of the stage before")


class Funnel(_Open):
    stages = fields.List(fields.Nested(FunnelStage), required=True)
    click_rate = _number()
    click_to_order_rate = _number()
    conversion_rate = _number()


class Peak(_Open):
    value = fields.Integer(required=True)
    minute = fields.String(required=True, allow_none=True, metadata={"format": "date-time"})


class ReviewIncident(_Open):
    incident_id = fields.String(required=True)
    kind = fields.String(required=True)
    severity = fields.Integer(required=True)
    description = fields.String(required=True, allow_none=True)
    opened_at = fields.String(required=True, metadata={"format": "date-time"})
    resolved_at = fields.String(required=True, allow_none=True, metadata={"format": "date-time"})
    downtime_seconds = _number(nullable=False)


class ReviewSchema(SessionHeaderSchema):
    metrics = fields.Nested(SessionMetricsSchema, required=True)
    funnel = fields.Nested(Funnel, required=True)
    benchmarks = fields.Dict(
        keys=fields.String(),
        values=fields.Nested(Benchmark),
        required=True,
        metadata={"description": "per benchmarked metric: against the host's and the room's"},
    )
    products = fields.List(fields.Nested(SessionProductSchema), required=True)
    segments = fields.List(fields.Nested(TimelineSegmentSchema), required=True)
    peak_online = fields.Nested(Peak, required=True)
    alerts = fields.List(
        fields.Nested(AlertSchema),
        required=True,
        metadata={"description": "every alert but incidents (listed on their own)"},
    )
    incidents = fields.List(fields.Nested(ReviewIncident), required=True)
    traffic_sources = fields.Dict(
        keys=fields.String(), values=fields.Nested(TrafficSourceSchema), required=True
    )
