"""The review's response shape, for the OpenAPI document (the body is built in
projections/review.py and served as it is)."""

from __future__ import annotations

from marshmallow import Schema, fields


class _Open(Schema):
    class Meta:
        unknown = "include"


class ProductRow(_Open):
    product_id = fields.String()
    name = fields.String(allow_none=True)
    price = fields.Float(allow_none=True)
    explanations = fields.Integer()
    explanation_seconds = fields.Float()
    clicks = fields.Integer()
    clicking_viewers = fields.Integer()
    orders_placed = fields.Integer()
    orders_paid = fields.Integer()
    items_sold = fields.Integer()
    buyers = fields.Integer()
    gmv = fields.Float()
    refunds = fields.Float()
    net_gmv = fields.Float()
    refund_rate = fields.Float(allow_none=True)
    click_to_pay_rate = fields.Float(allow_none=True)


class SegmentRow(_Open):
    product_id = fields.String()
    name = fields.String(allow_none=True)
    started_at = fields.String()
    ended_at = fields.String(allow_none=True, metadata={"description": "null: open while live"})
    seconds = fields.Float()
    views = fields.Integer()
    clicks = fields.Integer()
    orders_paid = fields.Integer()
    gmv = fields.Float()
    gpm = fields.Float(allow_none=True)


class Benchmark(_Open):
    value = fields.Float(allow_none=True)
    host_median = fields.Float(allow_none=True)
    room_median = fields.Float(allow_none=True)
    vs_host = fields.Float(allow_none=True, metadata={"description": "value / host_median - 1"})
    host_sessions = fields.Integer()
    room_sessions = fields.Integer()


class FunnelStage(_Open):
    stage = fields.String()
    value = fields.Integer()
    rate = fields.Float(allow_none=True)


class Funnel(_Open):
    stages = fields.List(fields.Nested(FunnelStage))
    click_rate = fields.Float(allow_none=True)
    click_to_order_rate = fields.Float(allow_none=True)
    conversion_rate = fields.Float(allow_none=True)


class Peak(_Open):
    value = fields.Integer()
    minute = fields.String(allow_none=True)


class ReviewIncident(_Open):
    incident_id = fields.String()
    kind = fields.String()
    severity = fields.Integer()
    description = fields.String(allow_none=True)
    opened_at = fields.String()
    resolved_at = fields.String(allow_none=True)
    downtime_seconds = fields.Float()


class ReviewSchema(_Open):
    session_id = fields.String()
    status = fields.String()
    host_id = fields.String(allow_none=True)
    room_id = fields.String(allow_none=True)
    title = fields.String(allow_none=True)
    started_at = fields.String(allow_none=True)
    ended_at = fields.String(allow_none=True)
    metrics = fields.Dict()
    funnel = fields.Nested(Funnel)
    benchmarks = fields.Dict(keys=fields.String(), values=fields.Nested(Benchmark))
    products = fields.List(fields.Nested(ProductRow))
    segments = fields.List(fields.Nested(SegmentRow))
    peak_online = fields.Nested(Peak)
    alerts = fields.List(fields.Dict())
    incidents = fields.List(fields.Nested(ReviewIncident))
    traffic_sources = fields.Dict()
