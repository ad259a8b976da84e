"""Builders for events in the wire shape, and their stored form for fold tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from events.envelope import parse_event
from events.recorder import StoredEvent, numbered_as_stored

T0 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
FAR_FUTURE_NOW = 10**18  # "now" for parse_event in fold tests: nothing is in the future


def at(seconds: float, base: datetime = T0) -> str:
    return (base + timedelta(seconds=seconds)).isoformat().replace("+00:00", "Z")


def event(
    type_: str,
    seconds: float,
    data: dict[str, Any] | None = None,
    *,
    session: str | None = "s-1",
    person: str | None = None,
    **envelope: Any,
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "type": type_,
        "occurred_at": at(seconds),
        "data": data or {},
    }
    if person is not None:
        body["person_id"] = person
        session = None
    if session is not None:
        body["session_id"] = session
    body.update(envelope)
    return body


class Broadcast:
    """One session's events, written the way a producer would send them."""

    def __init__(self, session_id: str = "s-1", base: datetime = T0) -> None:
        self.session_id = session_id
        self.base = base
        self.events: list[dict[str, Any]] = []

    def add(self, type_: str, seconds: float, **data: Any) -> Broadcast:
        body = event(type_, 0, data, session=self.session_id)
        body["occurred_at"] = at(seconds, self.base)
        self.events.append(body)
        return self

    def start(
        self, t: float = 0, host_id: str = "h-1", room_id: str = "room-1", **extra: Any
    ) -> Broadcast:
        return self.add(
            "session.started", t, host_id=host_id, room_id=room_id, platform="douyin", **extra
        )

    def end(self, t: float) -> Broadcast:
        return self.add("session.ended", t)

    def join(self, t: float, viewer: str, source: str | None = None) -> Broadcast:
        return self.add(
            "viewer.joined", t, viewer_id=viewer, **({"source": source} if source else {})
        )

    def leave(self, t: float, viewer: str) -> Broadcast:
        return self.add("viewer.left", t, viewer_id=viewer)

    def interact(
        self,
        t: float,
        kind: str,
        viewer: str | None = None,
        count: int | None = None,
        text: str | None = None,
    ) -> Broadcast:
        data: dict[str, Any] = {"kind": kind}
        if viewer:
            data["viewer_id"] = viewer
        if count is not None:
            data["count"] = count
        if text is not None:
            data["text"] = text
        return self.add("interaction.recorded", t, **data)

    def pin(self, t: float, product: str, name: str | None = None, price: Any = None) -> Broadcast:
        data: dict[str, Any] = {"product_id": product}
        if name is not None:
            data["name"] = name
        if price is not None:
            data["price"] = price
        return self.add("product.pinned", t, **data)

    def unpin(self, t: float, product: str) -> Broadcast:
        return self.add("product.unpinned", t, product_id=product)

    def sample(self, t: float, online: int, impressions: int | None = None) -> Broadcast:
        return self.add(
            "audience.sampled",
            t,
            online=online,
            **({"impressions": impressions} if impressions is not None else {}),
        )

    def report(self, t: float, source: str = "qianchuan", **figures: Any) -> Broadcast:
        """A platform reading (room.stats_reported) with the given figures."""
        return self.add("room.stats_reported", t, source=source, **figures)

    def click(self, t: float, viewer: str | None, product: str = "p-1") -> Broadcast:
        data: dict[str, Any] = {"product_id": product}
        if viewer:
            data["viewer_id"] = viewer
        return self.add("product.clicked", t, **data)

    def place(
        self, t: float, order: str, buyer: str, amount: Any, product: str = "p-1", quantity: int = 1
    ) -> Broadcast:
        return self.add(
            "order.placed",
            t,
            order_id=order,
            buyer_id=buyer,
            product_id=product,
            quantity=quantity,
            amount=amount,
        )

    def pay(self, t: float, order: str, amount: Any = None) -> Broadcast:
        return self.add(
            "order.paid", t, order_id=order, **({"amount": amount} if amount is not None else {})
        )

    def cancel(self, t: float, order: str) -> Broadcast:
        return self.add("order.cancelled", t, order_id=order)

    def refund(self, t: float, order: str, amount: Any) -> Broadcast:
        return self.add("order.refunded", t, order_id=order, amount=amount)

    def incident(
        self, t: float, incident: str, kind: str = "stream_interruption", severity: int = 2
    ) -> Broadcast:
        return self.add("incident.opened", t, incident_id=incident, kind=kind, severity=severity)

    def resolve(self, t: float, incident: str) -> Broadcast:
        return self.add("incident.resolved", t, incident_id=incident)

    def stored(self) -> list[StoredEvent]:
        return stored(self.events)


def stored(wire_events: list[dict[str, Any]]) -> list[StoredEvent]:
    """Validate wire events and number them as the store would, per stream."""
    return numbered_as_stored(parse_event(raw, FAR_FUTURE_NOW) for raw in wire_events)
