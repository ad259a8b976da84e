"""The session projection: `fold_session(state, event) -> state` and the metrics derived from it.

Every number follows the Session metrics table of docs/contract.md. Events are taken in stream order
(version), but anything whose meaning depends on time (presence pairing, first-join attribution,
latest audience sample) is ordered by occurred_at, so late or out-of-order arrival lands where it
belongs. The fold owns the state it is given and returns it (mutated): copying it per event would
cost more than the fold itself. It reads no clock, database or broker.
"""

from __future__ import annotations

from bisect import insort
from collections.abc import Callable
from typing import Any, TypeVar

from events.catalogue import INTERACTION_KINDS, TEXT_KINDS, TRAFFIC_SOURCES
from events.recorder import StoredEvent
from projections.alerts import SILENCE_US, silence_alert
from projections.clock import US_PER_SECOND, minute_of
from projections.orders import Orders
from projections.presence import JOIN, LEAVE, Presence, Viewer
from projections.products import Product
from projections.reported import Reported
from projections.shapes import Incident, MinuteBucket

SNAPSHOT_FORMAT = 6  # bump when SessionState's shape changes: older snapshots are refolded

ENGAGING_KINDS = frozenset({"like", "comment", "share", "follow", "question", "gift"})
DEFAULT_SOURCE = "other"  # a join that names no source
DROP_WINDOW_US = 5 * 60 * US_PER_SECOND
DROP_FRACTION = 0.30
# A drop lasts until online is back to 85% of its 5-minute high: online hovering about the
# 70% line is the same drop, not a new one each time it crosses it.
DROP_RECOVERY = 0.85
DROP_MIN_BASELINE = 10  # below this many viewers a "drop" is noise, not an alert


T = TypeVar("T")
UNKNOWN_SOURCE = "unknown"  # the traffic source of buyers who never joined
NOT_DUMPED = frozenset(
    {"derived", "buyers_by_source", "comments_taken", "alerts_changed", "moved_from"}
)


class SessionState:
    __slots__ = (
        "ad_spend_fen",
        "alert_log",
        "alerts",
        "alerts_changed",
        "buckets",
        "buyers_by_source",
        "clickers",
        "clock",
        "comments",
        "comments_taken",
        "derived",
        "drop_active",
        "ended_at",
        "gmv_target_fen",
        "host_id",
        "impressions",
        "incidents",
        "interacting",
        "interactions",
        "join_times",
        "last_recorded_at",
        "moved_from",
        "ops_id",
        "orders",
        "peak_minute",
        "peak_online",
        "pin_marks",
        "planned_minutes",
        "platform",
        "presence",
        "product_clicks",
        "products",
        "reason",
        "recent_online",
        "reported",
        "room_id",
        "sample",
        "session_id",
        "shop_id",
        "started_at",
        "title",
        "version",
        "viewers",
        "viewers_by_source",
        "views",
        "views_by_source",
    )

    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.version = 0
        self.host_id: str | None = None
        self.ops_id: str | None = None
        self.room_id: str | None = None
        self.platform: str | None = None
        self.title: str | None = None
        self.planned_minutes: int | None = None
        self.shop_id: str | None = None
        self.gmv_target_fen: int | None = None
        self.started_at: int | None = None
        self.ended_at: int | None = None
        self.reason: str | None = None
        self.clock: int | None = None  # latest occurred_at seen
        self.last_recorded_at: int | None = None
        self.views = 0
        self.views_by_source: dict[str, int] = dict.fromkeys(TRAFFIC_SOURCES, 0)
        self.viewers_by_source: dict[str, int] = dict.fromkeys(TRAFFIC_SOURCES, 0)
        self.viewers: dict[str, Viewer] = {}
        self.presence = Presence()
        self.sample: tuple[int, int, int] | None = None  # (occurred_at, version, online)
        # the latest sample that carried impressions: (occurred_at, version, impressions)
        self.impressions: tuple[int, int, int] | None = None
        self.peak_online = 0
        self.peak_minute: int | None = None  # the minute online first reached its peak
        self.join_times: list[int] = []  # sorted occurred_at of every join: segment views
        self.interactions: dict[str, int] = dict.fromkeys(INTERACTION_KINDS, 0)
        self.interacting: set[str] = set()
        self.product_clicks = 0
        self.clickers: set[str] = set()
        self.orders = Orders()
        self.ad_spend_fen = 0
        self.incidents: dict[str, Incident] = {}
        # product.pinned / unpinned, sorted: (occurred_at, version, PIN|UNPIN, product_id)
        self.pin_marks: list[tuple[int, int, int, str]] = []
        self.products: dict[str, Product] = {}
        # the latest comments and questions with text: (occurred_at, version, viewer, text)
        self.comments: list[tuple[int, int, str | None, str]] = []
        self.comments_taken = 0  # comments taken into `comments` since loaded (not dumped)
        # minute -> its bucket; orders and incidents are bucketed when the timeline is drawn,
        # from their own state.
        self.buckets: dict[int, MinuteBucket] = {}
        # the earliest minute an event folded since the timeline was last drawn falls in: no
        # minute before it moved (projections/timeline.py; not dumped)
        self.moved_from: int | None = None
        self.recent_online: list[tuple[int, int]] = []  # (second, online), values decreasing
        self.drop_active = False  # a drop is on: raised, online not back (see _watch_for_drop)
        self.alerts: list[dict[str, Any]] = []  # raised since the worker last took them
        self.alert_log: list[dict[str, Any]] = []  # every alert raised, for the review
        # moves when a logged alert or an incident does: a key for the review (not dumped)
        self.alerts_changed = 0
        self.reported = Reported()  # the platforms' own counts (room.stats_reported)
        # Values derived from the state, each with the key it was derived at (see remembered);
        # never dumped: a restored state derives them anew.
        self.derived: dict[str, tuple[Any, Any]] = {}
        # source -> [buyers, their GMV fen], each buyer under the source of their first join
        # (UNKNOWN_SOURCE if they never joined): kept in step by the order and join handlers,
        # so a run need not walk every buyer of a long broadcast. Worked out anew on load.
        self.buyers_by_source: dict[str, list[int]] = {}

    # -- snapshots (the worker stores these so a run does not refold from version 1) --------

    def dump(self) -> dict[str, Any]:
        raw = {name: getattr(self, name) for name in self.__slots__ if name not in NOT_DUMPED}
        raw["viewers"] = {k: v.dump() for k, v in self.viewers.items()}
        raw["presence"] = [
            self.presence.closed_total,
            self.presence.open_count,
            self.presence.open_sum,
            self.presence.base,
            [[k, v] for k, v in self.presence.deltas.items()],
        ]
        raw["interacting"] = sorted(self.interacting)
        raw["clickers"] = sorted(self.clickers)
        raw["orders"] = self.orders.dump()
        raw["buckets"] = [[k, *v.dump()] for k, v in self.buckets.items()]
        raw["incidents"] = {k: v.dump() for k, v in self.incidents.items()}
        raw["products"] = {k: v.dump() for k, v in self.products.items()}
        raw["alerts"] = []
        raw["reported"] = self.reported.dump()
        raw["format"] = SNAPSHOT_FORMAT
        return raw

    @classmethod
    def load(cls, raw: dict[str, Any]) -> SessionState | None:
        """The state a snapshot holds, or None for a snapshot of an older shape (the worker
        then folds the stream from its start)."""
        if raw.get("format") != SNAPSHOT_FORMAT:
            return None
        state = cls(raw["session_id"])
        for name in cls.__slots__:
            if name in raw:
                setattr(state, name, raw[name])
        state.viewers = {k: Viewer.load(v) for k, v in raw["viewers"].items()}
        state.presence = Presence()
        (
            state.presence.closed_total,
            state.presence.open_count,
            state.presence.open_sum,
            state.presence.base,
            deltas,
        ) = raw["presence"]
        state.presence.deltas = {int(k): int(v) for k, v in deltas}
        state.interacting = set(raw["interacting"])
        state.clickers = set(raw["clickers"])
        state.orders = Orders.load(raw["orders"])
        state.buckets = {row[0]: MinuteBucket.load(row[1:]) for row in raw["buckets"]}
        state.incidents = {k: Incident.load(v) for k, v in raw["incidents"].items()}
        state.sample = tuple(raw["sample"]) if raw["sample"] else None
        state.impressions = tuple(raw["impressions"]) if raw["impressions"] else None
        state.pin_marks = [tuple(p) for p in raw["pin_marks"]]
        state.comments = [tuple(c) for c in raw["comments"]]
        state.products = {k: Product.load(v) for k, v in raw["products"].items()}
        state.recent_online = [tuple(p) for p in raw["recent_online"]]
        state.reported = Reported.load(raw["reported"])
        for buyer in state.orders.totals.buyer_orders:
            _shift_buyer(state, _buyer_share(state, buyer), 1)
        return state

    # -- derived values ----------------------------------------------------------------------

    def remembered(self, name: str, key: Any, derive: Callable[[SessionState], T]) -> T:
        """`derive(self)`, or what it gave when last asked with an equal `key`: a key that
        changes whenever anything `derive` reads does. A busy session's run derives the same
        ticker and tables from a state most of which did not move since the last run."""
        found = self.derived.get(name)
        if found is not None and found[0] == key:
            value: T = found[1]
            return value
        value = derive(self)
        self.derived[name] = (key, value)
        return value

    @property
    def status(self) -> str:
        if self.ended_at is not None:
            return "ended"
        return "live" if self.started_at is not None else "pending"

    @property
    def session_clock(self) -> int | None:
        """Where open presences and open incidents are counted up to."""
        return self.ended_at if self.ended_at is not None else self.clock

    @property
    def online(self) -> int:
        if self.ended_at is not None:
            return 0
        reading = self.latest_online_reading()
        if reading is not None:
            return reading[2]
        return self.presence.open_count

    def latest_online_reading(self) -> tuple[int, int, int] | None:
        """The latest of the audience samples and the platform's reports carrying online."""
        reported = self.reported.latest.get("online")
        if reported is None:
            return self.sample
        if self.sample is None or reported[:2] > self.sample[:2]:
            return (reported[0], reported[1], reported[2])
        return self.sample

    def watch_us(self) -> int:
        until = self.session_clock
        if until is None:
            return self.presence.closed_total
        exact = self.ended_at is not None
        return self.presence.closed_total + self.presence.open_watch_us(until, self.viewers, exact)

    def bucket(self, occurred_at: int) -> MinuteBucket:
        minute = minute_of(occurred_at)
        row = self.buckets.get(minute)
        if row is None:
            row = self.buckets[minute] = MinuteBucket()
        return row


PIN, UNPIN = 1, 0
RECENT_COMMENTS = 20
ALERT_LOG = 200  # alerts kept for the review
READING_TYPES = frozenset({"audience.sampled", "room.stats_reported"})

Handler = Callable[[SessionState, StoredEvent], None]


def _session_started(state: SessionState, event: StoredEvent) -> None:
    data = event.data
    state.host_id = data["host_id"]
    state.ops_id = data.get("ops_id")
    state.room_id = data["room_id"]
    state.platform = data["platform"]
    state.title = data.get("title")
    state.planned_minutes = data.get("planned_minutes")
    state.shop_id = data.get("shop_id")
    state.gmv_target_fen = data.get("gmv_target_fen")
    if state.started_at is None or event.occurred_at < state.started_at:
        state.started_at = event.occurred_at


def _session_ended(state: SessionState, event: StoredEvent) -> None:
    if state.ended_at is None or event.occurred_at > state.ended_at:
        state.ended_at = event.occurred_at
        state.reason = event.data.get("reason")
    if state.drop_active:  # a drop still on when the broadcast ends ends with it
        _clear(state, "online_drop", state.ended_at)
        state.drop_active = False


def _viewer_joined(state: SessionState, event: StoredEvent) -> None:
    viewer_id = event.data["viewer_id"]
    source = event.data.get("source") or DEFAULT_SOURCE
    state.views += 1
    state.views_by_source[source] += 1
    insort(state.join_times, event.occurred_at)
    state.bucket(event.occurred_at).joins += 1
    viewer = state.viewers.get(viewer_id)
    if viewer is None:
        viewer = state.viewers[viewer_id] = Viewer()
    share = _buyer_share(state, viewer_id)  # a buyer's GMV follows their first join's source
    first = (event.occurred_at, event.version, source)
    if viewer.first is None:
        viewer.first = first
        state.viewers_by_source[source] += 1
    elif first < viewer.first:  # an earlier join arrived late: it is the first join
        state.viewers_by_source[viewer.first[2]] -= 1
        state.viewers_by_source[source] += 1
        viewer.first = first
    if share is not None:
        _moved_buyer(state, share, _buyer_share(state, viewer_id))
    state.presence.mark(viewer, event.occurred_at, event.version, JOIN)


def _viewer_left(state: SessionState, event: StoredEvent) -> None:
    state.bucket(event.occurred_at).leaves += 1
    viewer_id = event.data["viewer_id"]
    viewer = state.viewers.get(viewer_id)
    if viewer is None:
        # Keep the mark: its join may still arrive and pair with it. The viewer is not a
        # unique viewer until a join does arrive.
        viewer = state.viewers[viewer_id] = Viewer()
    state.presence.mark(viewer, event.occurred_at, event.version, LEAVE)


def _audience_sampled(state: SessionState, event: StoredEvent) -> None:
    sample = (event.occurred_at, event.version, event.data["online"])
    if state.sample is None or sample[:2] > state.sample[:2]:
        state.sample = sample
    impressions = event.data.get("impressions")
    if impressions is not None:
        seen = (event.occurred_at, event.version, impressions)
        if state.impressions is None or seen[:2] > state.impressions[:2]:
            state.impressions = seen


def _room_stats_reported(state: SessionState, event: StoredEvent) -> None:
    data = event.data
    state.reported.add(event.occurred_at, event.version, data)
    for item in data.get("products") or ():
        _product(state, item["product_id"])
    if data.get("gmv_fen") is not None and state.ended_at is None:
        key = (event.occurred_at, event.version)
        gmv = state.orders.totals.gmv_fen
        outcome = state.reported.judge_gap(key, gmv)
        if outcome is not None:
            platform = data["gmv_fen"]
            alert: dict[str, Any] = {
                "kind": "platform_gap" if outcome == "raised" else "platform_gap_cleared",
                "gmv": gmv / 100,
                "platform_gmv": platform / 100,
                "gap": (gmv - platform) / 100,
                "at": event.occurred_at,
            }
            if outcome == "raised":
                alert["cleared_at"] = None  # until a report shows it closed
            else:  # the gap raised before is over: it says when, and this notice says so too
                _clear(state, "platform_gap", event.occurred_at)
            _raise(state, alert)


def _interaction_recorded(state: SessionState, event: StoredEvent) -> None:
    data = event.data
    kind, count = data["kind"], data.get("count", 1)
    state.interactions[kind] += count
    bucket = state.bucket(event.occurred_at)
    bucket.interactions += count
    bucket.kinds[kind] = bucket.kinds.get(kind, 0) + count
    viewer_id = data.get("viewer_id")
    if viewer_id is not None and kind in ENGAGING_KINDS:
        state.interacting.add(viewer_id)
    text = data.get("text")
    if text and kind in TEXT_KINDS:
        entry = (event.occurred_at, event.version, viewer_id, text)
        comments = state.comments
        if len(comments) < RECENT_COMMENTS or entry[:2] > comments[0][:2]:
            insort(comments, entry, key=lambda c: c[:2])
            if len(comments) > RECENT_COMMENTS:
                del comments[0]
            state.comments_taken += 1


def _product(state: SessionState, product_id: str) -> Product:
    product = state.products.get(product_id)
    if product is None:
        product = state.products[product_id] = Product()
    return product


def _product_pinned(state: SessionState, event: StoredEvent) -> None:
    data = event.data
    product_id = data["product_id"]
    insort(state.pin_marks, (event.occurred_at, event.version, PIN, product_id))
    _product(state, product_id).pinned(
        (event.occurred_at, event.version), data.get("name"), data.get("price_fen")
    )


def _product_unpinned(state: SessionState, event: StoredEvent) -> None:
    insort(state.pin_marks, (event.occurred_at, event.version, UNPIN, event.data["product_id"]))


def _product_clicked(state: SessionState, event: StoredEvent) -> None:
    state.product_clicks += 1
    state.bucket(event.occurred_at).clicks += 1
    viewer_id = event.data.get("viewer_id")
    if viewer_id is not None:
        state.clickers.add(viewer_id)
    _product(state, event.data["product_id"]).clicked(event.occurred_at, viewer_id)


def _order_event(state: SessionState, event: StoredEvent) -> None:
    data = event.data
    order = state.orders.orders.get(data["order_id"])
    buyers = {None if order is None else order.buyer_id, data.get("buyer_id")}
    before = {b: _buyer_share(state, b) for b in buyers if b is not None}
    state.orders.apply(event.type, data, event.occurred_at)
    for buyer, share in before.items():
        _moved_buyer(state, share, _buyer_share(state, buyer))
    product_id = event.data.get("product_id")
    if product_id is not None:
        _product(state, product_id)


def _buyer_share(state: SessionState, buyer_id: str) -> tuple[str, int] | None:
    """A buyer's source and GMV fen, or None while they have no paid order."""
    totals = state.orders.totals
    if buyer_id not in totals.buyer_orders:
        return None
    viewer = state.viewers.get(buyer_id)
    first = None if viewer is None else viewer.first
    return (UNKNOWN_SOURCE if first is None else first[2], totals.buyer_gmv_fen[buyer_id])


def _shift_buyer(state: SessionState, share: tuple[str, int] | None, sign: int) -> None:
    if share is not None:
        sums = state.buyers_by_source.setdefault(share[0], [0, 0])
        sums[0] += sign
        sums[1] += sign * share[1]


def _moved_buyer(
    state: SessionState, before: tuple[str, int] | None, after: tuple[str, int] | None
) -> None:
    if before != after:
        _shift_buyer(state, before, -1)
        _shift_buyer(state, after, 1)


def _raise(state: SessionState, alert: dict[str, Any]) -> None:
    state.alerts.append(alert)
    _log(state, dict(alert))


def _log(state: SessionState, alert: dict[str, Any]) -> None:
    state.alerts_changed += 1
    state.alert_log.append(alert)
    if len(state.alert_log) > ALERT_LOG:
        del state.alert_log[0]


def _clear(state: SessionState, kind: str, at: int | None) -> None:
    """The latest alert of this kind that is still on is over: it says when."""
    for alert in reversed(state.alert_log):
        if alert["kind"] == kind:
            if alert.get("cleared_at") is None:  # (one logged before alerts said so: open)
                alert["cleared_at"] = at
                state.alerts_changed += 1
            return


def _incident_opened(state: SessionState, event: StoredEvent) -> None:
    state.alerts_changed += 1
    data = event.data
    incident = state.incidents.get(data["incident_id"])
    if incident is None:
        incident = state.incidents[data["incident_id"]] = Incident()
    if not incident.opened:
        incident.opened, incident.kind, incident.severity = True, data["kind"], data["severity"]
        incident.opened_at = event.occurred_at
        incident.description = data.get("description")
        if incident.resolved_at is None and state.ended_at is None:
            _raise(
                state,
                {
                    "kind": "incident_opened",
                    "incident_id": data["incident_id"],
                    "incident_kind": data["kind"],
                    "severity": data["severity"],
                    "description": data.get("description"),
                    "at": event.occurred_at,
                },
            )


def _incident_resolved(state: SessionState, event: StoredEvent) -> None:
    state.alerts_changed += 1
    incident_id = event.data["incident_id"]
    incident = state.incidents.get(incident_id)
    if incident is None:  # resolved arrived before opened: keep the time for when it does
        incident = state.incidents[incident_id] = Incident()
    if incident.resolved_at is None:
        incident.resolved_at = event.occurred_at


def _ad_spend_recorded(state: SessionState, event: StoredEvent) -> None:
    state.ad_spend_fen += event.data["amount_fen"]


HANDLERS: dict[str, Handler] = {
    "session.started": _session_started,
    "session.ended": _session_ended,
    "viewer.joined": _viewer_joined,
    "viewer.left": _viewer_left,
    "audience.sampled": _audience_sampled,
    "room.stats_reported": _room_stats_reported,
    "interaction.recorded": _interaction_recorded,
    "product.pinned": _product_pinned,
    "product.unpinned": _product_unpinned,
    "product.clicked": _product_clicked,
    "order.placed": _order_event,
    "order.paid": _order_event,
    "order.cancelled": _order_event,
    "order.refunded": _order_event,
    "incident.opened": _incident_opened,
    "incident.resolved": _incident_resolved,
    "ad.spend_recorded": _ad_spend_recorded,
}


def fold_session(state: SessionState, event: StoredEvent) -> SessionState:
    live = state.started_at is not None and state.ended_at is None
    handler = HANDLERS.get(event.type)
    if handler is not None:
        handler(state, event)
    if state.clock is None or event.occurred_at > state.clock:
        state.clock = event.occurred_at
    minute = minute_of(event.occurred_at)
    if state.moved_from is None or minute < state.moved_from:
        state.moved_from = minute
    last = state.last_recorded_at
    if live and last is not None and event.recorded_at - last > SILENCE_US:
        # The room was silent for over 60 s (as the sweep judges it: by our recorded_at) and
        # this event ends the silence: logged cleared, for the screens and the review. The
        # sweep raised it live; this is where it stands now, not news to publish again.
        _log(state, silence_alert(last, event.recorded_at))
    state.last_recorded_at = event.recorded_at
    state.version = event.version
    online = state.online
    if online > state.peak_online:
        state.peak_online = online
        state.peak_minute = minute
    if event.type in READING_TYPES:
        _minute_reading(state, event)
    _watch_for_drop(state, event.occurred_at, online)
    return state


def _minute_reading(state: SessionState, event: StoredEvent) -> None:
    """A minute's online is the last reading in it (by occurred_at, then version). Every
    reading was the online of its moment, so it counts towards the peak whenever it arrives
    (the first minute the peak was reached is the earliest reading of that value)."""
    value = event.data.get("online")
    if value is None:
        return
    minute = minute_of(event.occurred_at)
    if value > state.peak_online or (
        value == state.peak_online and state.peak_minute is not None and minute < state.peak_minute
    ):
        state.peak_online = value
        state.peak_minute = minute
    bucket = state.bucket(event.occurred_at)
    key = [event.occurred_at, event.version]
    if bucket.reading_at is None or key > bucket.reading_at:
        bucket.reading_at = key
        bucket.online = value


def _watch_for_drop(state: SessionState, occurred_at: int, online: int) -> None:
    """Alert when online falls 30% or more below its high of the last 5 minutes, once per drop:
    the drop is on until online is back to 85% or more of its 5-minute high (the audience came
    back, or the lower level has held for 5 minutes), then it is cleared; only then can online
    falling again raise another.

    `recent_online` is a monotonic queue: values strictly decrease from the front, so the front
    is the window's high and each event costs O(1) amortised.
    """
    if state.ended_at is not None:
        return
    second = occurred_at // US_PER_SECOND
    recent = state.recent_online
    while recent and recent[-1][1] <= online:
        recent.pop()
    recent.append((second, online))
    horizon = second - DROP_WINDOW_US // US_PER_SECOND
    while recent[0][0] < horizon:
        recent.pop(0)
    high = recent[0][1]
    if not state.drop_active:
        if high >= DROP_MIN_BASELINE and online <= high * (1 - DROP_FRACTION):
            state.drop_active = True
            _raise(
                state,
                {
                    "kind": "online_drop",
                    "from": high,
                    "to": online,
                    "at": occurred_at,
                    "cleared_at": None,
                },
            )
    elif online >= high * DROP_RECOVERY:
        state.drop_active = False
        _clear(state, "online_drop", occurred_at)


def fold_all(state: SessionState, events: list[StoredEvent]) -> SessionState:
    for event in events:
        state = fold_session(state, event)
    return state
