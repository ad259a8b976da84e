"""An order's facts as catalogue events, named by the fact (base.fact_id), not the message:
whichever push or order-list reading tells that an order line was placed, paid or cancelled, or
that a refund succeeded, the event is the same one, so the store keeps it once.

Shared by every order connector and by the reconciliation.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from events.fields import format_timestamp
from service.ingest.connectors.base import Context, wire_event
from service.ingest.connectors.details import OrderLine, PlatformOrder
from service.ingest.connectors.errors import DeadLetter
from service.ingest.connectors.values import identifier, yuan_text

OrderIdOf = Callable[[PlatformOrder, OrderLine], str]


def placed(
    platform: str,
    message_id: str,
    session: str,
    order: PlatformOrder,
    line: OrderLine,
    order_id: str,
    buyer_what: str,
) -> dict[str, Any]:
    return wire_event(
        platform,
        message_id,
        "",
        "order.placed",
        session,
        order.created_at_us,
        {
            "order_id": order_id,
            "buyer_id": identifier(order.buyer_ref, buyer_what),
            "product_id": identifier(line.product_ref, "product_id"),
            "quantity": line.quantity,
            "amount": yuan_text(line.amount_fen),
        },
        fact=f"placed:{order_id}",
    )


def paid(
    platform: str, message_id: str, session: str, order_id: str, at: int, fen: int | None
) -> dict[str, Any]:
    data: dict[str, Any] = {"order_id": order_id}
    if fen is not None:
        data["amount"] = yuan_text(fen)
    return wire_event(
        platform, message_id, "", "order.paid", session, at, data, fact=f"paid:{order_id}"
    )


def cancelled(
    platform: str, message_id: str, session: str, order_id: str, at: int
) -> dict[str, Any]:
    return wire_event(
        platform,
        message_id,
        "",
        "order.cancelled",
        session,
        at,
        {"order_id": order_id},
        fact=f"cancelled:{order_id}",
    )


def refunded(
    platform: str, message_id: str, session: str, order_id: str, refund_ref: str, at: int, fen: int
) -> dict[str, Any]:
    return wire_event(
        platform,
        message_id,
        "",
        "order.refunded",
        session,
        at,
        {"order_id": order_id, "amount": yuan_text(fen)},
        fact=f"refunded:{refund_ref}:{order_id}",
    )


def order_events(
    platform: str,
    message_id: str,
    session: str,
    order: PlatformOrder,
    order_id_of: OrderIdOf,
    buyer_what: str,
) -> list[dict[str, Any]]:
    """Everything the platform's view of the order says: each line placed, paid when it has a
    pay time (at the line's own paid amount), cancelled when it says so."""
    events: list[dict[str, Any]] = []
    for line in order.lines:
        order_id = order_id_of(order, line)
        events.append(placed(platform, message_id, session, order, line, order_id, buyer_what))
        if order.paid_at_us is not None:
            events.append(
                paid(platform, message_id, session, order_id, order.paid_at_us, line.amount_fen)
            )
        if order.cancelled_at_us is not None:
            events.append(cancelled(platform, message_id, session, order_id, order.cancelled_at_us))
    return events


def session_of_order(
    context: Context, shop: str, order: PlatformOrder, order_id_of: OrderIdOf
) -> str:
    """The session any line of the order went to; for an order not seen yet, the shop's
    session live when the platform says it was created (the latest started, if several)."""
    for line in order.lines:
        known = context.order_session(order_id_of(order, line))
        if known is not None:
            return known
    session = context.live_session("shop_id", shop, order.created_at_us)
    if session is None:
        raise DeadLetter(
            "no_live_session",
            f"no session of shop {shop} was live at {format_timestamp(order.created_at_us)}",
        )
    return session
