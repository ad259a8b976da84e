"""The event catalogue (docs/contract.md): one marshmallow schema per event type and version.

Schemas load the wire shape into the stored shape (money in fen under `*_fen` keys) and dump it
back. Each type belongs to one stream family: session, person or period.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from events.fields import FullMatch, Identifier, Money, Period, StrictInteger, StrictNumber

StreamFamily = Literal["session", "person", "period"]

TRAFFIC_SOURCES = ("recommend", "follow", "short_video", "ad", "search", "share", "other")
INTERACTION_KINDS = (
    "like",
    "comment",
    "share",
    "follow",
    "question",
    "gift",
    "lottery",
    "vote",
    "red_packet",
    "fan_club_join",
)
TEXT_KINDS = frozenset({"comment", "question"})  # the kinds that may carry `text`
MAX_COUNT = 1_000_000  # per event: counts, quantities
INCIDENT_KINDS = (
    "stream_interruption",
    "technical_failure",
    "product_info_error",
    "compliance",
    "other",
)
ROLES = ("host", "live_ops", "supervisor", "department_head", "short_video", "ecommerce_ops")
LEVELS = ("probation", "regular", "competent", "expert", "enabler")
PLATFORMS_HINT = "douyin, kuaishou, taobao_live, tiktok_shop, ... (free text)"

# Studio rule book (docs/scoring.md): the fine in yuan for each rule, per occurrence.
RULE_BOOK_FINES_YUAN: dict[str, int] = {
    "smoking": 50,
    "appliance_left_on": 20,
    "air_conditioning_left_on": 50,
    "rubbish_left": 20,
    "register_not_filled": 10,
    "equipment_mess": 20,
    "preparing_with_appliances_on": 50,
}


def _one_of(choices: tuple[str, ...]) -> validate.OneOf:
    return validate.OneOf(choices, error="must be one of: {choices}")


class _Data(Schema):
    """Base of every event's data: unknown fields are refused (marshmallow's RAISE)."""


class SessionStarted(_Data):
    host_id = Identifier(required=True)
    ops_id = Identifier(load_default=None, allow_none=True)
    room_id = Identifier(required=True)
    platform = fields.String(
        required=True, validate=validate.Length(1, 64), metadata={"description": PLATFORMS_HINT}
    )
    title = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))
    planned_minutes = StrictInteger(
        load_default=None, allow_none=True, validate=validate.Range(1, 24 * 60)
    )
    # Fields added after events were stored have no load_default: an event without them keeps
    # its stored shape, so a producer's retry of an old event is still a duplicate.
    shop_id = Identifier(
        allow_none=True,
        metadata={
            "description": "the platform shop whose orders belong to "
            "this room (connectors attribute by it)"
        },
    )
    gmv_target_fen = Money(data_key="gmv_target", allow_none=True)


class SessionEnded(_Data):
    reason = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=500))


class ViewerJoined(_Data):
    viewer_id = Identifier(required=True)
    source = fields.String(load_default=None, allow_none=True, validate=_one_of(TRAFFIC_SOURCES))


class ViewerLeft(_Data):
    viewer_id = Identifier(required=True)


class AudienceSampled(_Data):
    online = StrictInteger(required=True, validate=validate.Range(0, 100_000_000))
    impressions = StrictInteger(
        allow_none=True,
        validate=validate.Range(0, 10**12),
        metadata={"description": "the platform's cumulative count of times the room was shown"},
    )


MAX_REPORTED = 10**10  # a platform's cumulative count, per figure
REPORTED_COUNTS = (
    "online",
    "views",
    "unique_viewers",
    "impressions",
    "interacting_viewers",
    "watch_seconds",
    "product_clicks",
    "clicking_viewers",
    "comments",
    "likes",
    "shares",
    "gifts",
    "new_followers",
    "fan_club_joins",
    "orders_paid",
    "buyers",
)
REPORTED_MONEY = ("ad_spend_fen", "gmv_fen")
MAX_REPORTED_ITEMS = 1000  # products or sources in one reading


def _reported_count(**kwargs: Any) -> StrictInteger:
    return StrictInteger(allow_none=True, validate=validate.Range(0, MAX_REPORTED), **kwargs)


class SourceReading(_Data):
    source = fields.String(required=True, validate=_one_of(TRAFFIC_SOURCES))
    views = _reported_count()
    viewers = _reported_count()
    gmv_fen = Money(data_key="gmv", allow_none=True)


class ProductReading(_Data):
    product_id = Identifier(required=True)
    impressions = _reported_count()
    clicks = _reported_count()
    clicking_viewers = _reported_count()


class RoomStatsReported(_Data):
    """The platform's own cumulative counts for the room, at one reading (docs/contract.md
    "Platform-reported figures"): every figure optional, at least one."""

    source = fields.String(
        required=True,
        validate=FullMatch(
            r"^[a-z][a-z0-9_]{0,63}$",
            error="must be a reading's key (qianchuan, tiktok_shop_analytics, channels_live, "
            "manual or another: lower-case letters, digits, _)",
        ),
    )
    online = _reported_count()
    views = _reported_count(metadata={"description": "PV"})
    unique_viewers = _reported_count(metadata={"description": "UV"})
    impressions = _reported_count()
    interacting_viewers = _reported_count()
    watch_seconds = _reported_count(metadata={"description": "total, all viewers"})
    product_clicks = _reported_count()
    clicking_viewers = _reported_count()
    comments = _reported_count()
    likes = _reported_count()
    shares = _reported_count()
    gifts = _reported_count()
    new_followers = _reported_count()
    fan_club_joins = _reported_count()
    ad_spend_fen = Money(
        data_key="ad_spend", allow_none=True, metadata={"description": "cumulative yuan"}
    )
    gmv_fen = Money(data_key="gmv", allow_none=True, metadata={"description": "the platform's own"})
    orders_paid = _reported_count(metadata={"description": "the platform's own"})
    buyers = _reported_count(metadata={"description": "the platform's own"})
    sources = fields.List(
        fields.Nested(SourceReading),
        allow_none=True,
        validate=validate.Length(max=MAX_REPORTED_ITEMS),
    )
    products = fields.List(
        fields.Nested(ProductReading),
        allow_none=True,
        validate=validate.Length(max=MAX_REPORTED_ITEMS),
    )

    @validates_schema
    def _at_least_one(self, data: dict[str, Any], **kwargs: Any) -> None:
        figures = (*REPORTED_COUNTS, *REPORTED_MONEY, "sources", "products")
        if all(data.get(name) is None for name in figures):
            raise ValidationError(
                "a reading must carry at least one figure (online, views, unique_viewers, "
                "..., sources or products)",
                "source",
            )


class InteractionRecorded(_Data):
    kind = fields.String(required=True, validate=_one_of(INTERACTION_KINDS))
    viewer_id = Identifier(load_default=None, allow_none=True)
    count = StrictInteger(load_default=1, validate=validate.Range(1, MAX_COUNT))
    text = fields.String(
        allow_none=True,
        validate=validate.Length(max=500),
        metadata={"description": "comment or question text"},
    )


class ProductPinned(_Data):
    product_id = Identifier(required=True)
    price_fen = Money(data_key="price", load_default=None, allow_none=True)
    name = fields.String(allow_none=True, validate=validate.Length(max=200))


class ProductUnpinned(_Data):
    product_id = Identifier(required=True)


class ProductClicked(_Data):
    product_id = Identifier(required=True)
    viewer_id = Identifier(load_default=None, allow_none=True)


class OrderPlaced(_Data):
    order_id = Identifier(required=True)
    buyer_id = Identifier(required=True)
    product_id = Identifier(required=True)
    quantity = StrictInteger(required=True, validate=validate.Range(1, MAX_COUNT))
    amount_fen = Money(data_key="amount", required=True)


class OrderPaid(_Data):
    order_id = Identifier(required=True)
    amount_fen = Money(data_key="amount", load_default=None, allow_none=True)


class OrderCancelled(_Data):
    order_id = Identifier(required=True)


class OrderRefunded(_Data):
    order_id = Identifier(required=True)
    amount_fen = Money(data_key="amount", required=True)


class IncidentOpened(_Data):
    incident_id = Identifier(required=True)
    kind = fields.String(required=True, validate=_one_of(INCIDENT_KINDS))
    severity = StrictInteger(required=True, validate=validate.Range(1, 3))
    description = fields.String(
        load_default=None, allow_none=True, validate=validate.Length(max=2000)
    )


class IncidentResolved(_Data):
    incident_id = Identifier(required=True)


class AdSpendRecorded(_Data):
    amount_fen = Money(data_key="amount", required=True)
    channel = fields.String(load_default=None, allow_none=True, validate=validate.Length(max=64))


class PersonRegistered(_Data):
    name = fields.String(required=True, validate=validate.Length(1, 200))
    role = fields.String(required=True, validate=_one_of(ROLES))
    level = fields.String(load_default=None, allow_none=True, validate=_one_of(LEVELS))
    team_id = Identifier(load_default=None, allow_none=True)
    manager_id = Identifier(load_default=None, allow_none=True)
    on_air_since = fields.Date(load_default=None, allow_none=True)


class TargetSet(_Data):
    period = Period(required=True)
    kpi = fields.String(
        required=True,
        validate=FullMatch(
            r"^[a-z][a-z0-9_]{0,63}$", error="must be a KPI key (lower-case letters, digits, _)"
        ),
    )
    value = StrictNumber(required=True, validate=validate.Range(min=0))


class RatingRecorded(_Data):
    kind = fields.String(
        required=True,
        validate=FullMatch(
            r"^[a-z][a-z0-9_]{0,63}$", error="must be a rating kind (lower-case letters, digits, _)"
        ),
    )
    value = StrictNumber(required=True, validate=validate.Range(0, 100))
    rater_id = Identifier(load_default=None, allow_none=True)


class MetricRecorded(_Data):
    kpi = fields.String(
        required=True,
        validate=FullMatch(
            r"^[a-z][a-z0-9_]{0,63}$", error="must be a KPI key (lower-case letters, digits, _)"
        ),
    )
    period = Period(required=True)
    value = StrictNumber(required=True, validate=validate.Range(min=0))


class ClipPublished(_Data):
    clip_id = Identifier(required=True)
    viral = fields.Boolean(load_default=False, truthy={True}, falsy={False})


class ViolationRecorded(_Data):
    rule = fields.String(
        required=True,
        validate=FullMatch(
            r"^[a-z][a-z0-9_]{0,63}$", error="must be a rule key (lower-case letters, digits, _)"
        ),
    )
    fine_fen = Money(data_key="fine", load_default=None, allow_none=True)


class PeriodClosed(_Data):
    period = Period(required=True)
    scorecards = fields.List(fields.Dict(), required=True)


@dataclass(frozen=True)
class EventType:
    name: str
    family: StreamFamily
    schema: type[Schema]
    version: int = 1
    # Producers may post it to /events; period.closed only comes from POST /periods/{p}/close.
    ingestible: bool = True


CATALOGUE: dict[str, EventType] = {
    t.name: t
    for t in (
        EventType("session.started", "session", SessionStarted),
        EventType("session.ended", "session", SessionEnded),
        EventType("viewer.joined", "session", ViewerJoined),
        EventType("viewer.left", "session", ViewerLeft),
        EventType("audience.sampled", "session", AudienceSampled),
        EventType("room.stats_reported", "session", RoomStatsReported),
        EventType("interaction.recorded", "session", InteractionRecorded),
        EventType("product.pinned", "session", ProductPinned),
        EventType("product.unpinned", "session", ProductUnpinned),
        EventType("product.clicked", "session", ProductClicked),
        EventType("order.placed", "session", OrderPlaced),
        EventType("order.paid", "session", OrderPaid),
        EventType("order.cancelled", "session", OrderCancelled),
        EventType("order.refunded", "session", OrderRefunded),
        EventType("incident.opened", "session", IncidentOpened),
        EventType("incident.resolved", "session", IncidentResolved),
        EventType("ad.spend_recorded", "session", AdSpendRecorded),
        EventType("person.registered", "person", PersonRegistered),
        EventType("target.set", "person", TargetSet),
        EventType("rating.recorded", "person", RatingRecorded),
        EventType("metric.recorded", "person", MetricRecorded),
        EventType("clip.published", "person", ClipPublished),
        EventType("violation.recorded", "person", ViolationRecorded),
        EventType("period.closed", "period", PeriodClosed, ingestible=False),
    )
}

INGESTIBLE_TYPES = tuple(name for name, t in CATALOGUE.items() if t.ingestible)


def stream_id_for(family: StreamFamily, key: str) -> str:
    return f"{family}-{key}"
