"""The order life cycle: placed, paid, cancelled, refunded, in any arrival order.

Each order's contribution to the totals (paid count, GMV, refunds, its buyer, its paid minute) is
a function of the order alone. When an event changes an order, its old contribution is taken out
and the new one put in, so the totals stay exact whatever order events arrive in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from projections.clock import minute_of


class Order:
    __slots__ = ("amount_fen", "buyer_id", "cancelled", "paid_amount_fen", "paid_at", "placed",
                 "placed_at", "product_id", "quantity", "refunded_fen")

    def __init__(self) -> None:
        self.placed = False
        self.buyer_id: str | None = None
        self.product_id: str | None = None
        self.quantity = 0
        self.amount_fen = 0
        self.placed_at: int | None = None
        self.paid_at: int | None = None  # set once paid
        self.paid_amount_fen: int | None = None  # explicit amount on order.paid
        self.cancelled = False
        self.refunded_fen = 0  # sum of refunds asked for, before the cap

    def dump(self) -> list[Any]:
        return [getattr(self, name) for name in self.__slots__]

    @classmethod
    def load(cls, raw: list[Any]) -> Order:
        order = cls()
        for name, value in zip(cls.__slots__, raw, strict=True):
            setattr(order, name, value)
        return order

    @property
    def counts(self) -> bool:
        """Paid and not cancelled: what DESIGN.md calls a paid order."""
        return self.paid_at is not None and not self.cancelled

    @property
    def gmv_fen(self) -> int:
        if not self.counts:
            return 0
        if self.paid_amount_fen is not None:
            return self.paid_amount_fen
        return self.amount_fen if self.placed else 0

    @property
    def refund_fen(self) -> int:
        """Partial refunds add up, capped at the paid amount."""
        return min(self.refunded_fen, self.gmv_fen)


@dataclass
class OrderTotals:
    placed: int = 0
    paid: int = 0
    gmv_fen: int = 0
    refunds_fen: int = 0
    # buyer_id -> number of paid orders; a buyer counts while this is above zero
    buyer_orders: dict[str, int] = field(default_factory=dict)
    # minute -> [paid orders, gmv fen] by the minute the order was paid
    by_minute: dict[int, list[int]] = field(default_factory=dict)

    @property
    def buyers(self) -> int:
        return len(self.buyer_orders)

    def add(self, order: Order, sign: int) -> None:
        self.placed += sign * order.placed
        if not order.counts:
            return
        gmv = order.gmv_fen
        self.paid += sign
        self.gmv_fen += sign * gmv
        self.refunds_fen += sign * order.refund_fen
        if order.buyer_id is not None:
            count = self.buyer_orders.get(order.buyer_id, 0) + sign
            if count:
                self.buyer_orders[order.buyer_id] = count
            else:
                self.buyer_orders.pop(order.buyer_id, None)
        assert order.paid_at is not None
        minute = self.by_minute.setdefault(minute_of(order.paid_at), [0, 0])
        minute[0] += sign
        minute[1] += sign * gmv


class Orders:
    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.totals = OrderTotals()

    def apply(self, event_type: str, data: dict[str, Any], occurred_at: int) -> None:
        order_id = data["order_id"]
        order = self.orders.get(order_id)
        if order is None:
            order = self.orders[order_id] = Order()
        else:
            self.totals.add(order, -1)
        if event_type == "order.placed":
            if not order.placed or occurred_at < (order.placed_at or occurred_at):
                order.placed = True
                order.buyer_id = data["buyer_id"]
                order.product_id = data["product_id"]
                order.quantity = data["quantity"]
                order.amount_fen = data["amount_fen"]
                order.placed_at = occurred_at
        elif event_type == "order.paid":
            if order.paid_at is None or occurred_at < order.paid_at:
                order.paid_at = occurred_at
            if data.get("amount_fen") is not None:
                order.paid_amount_fen = data["amount_fen"]
        elif event_type == "order.cancelled":
            order.cancelled = True
        elif event_type == "order.refunded":
            order.refunded_fen += data["amount_fen"]
        self.totals.add(order, +1)

    def buyer_ids(self) -> list[str]:
        return list(self.totals.buyer_orders)

    def dump(self) -> dict[str, Any]:
        return {key: order.dump() for key, order in self.orders.items()}

    @classmethod
    def load(cls, raw: dict[str, Any]) -> Orders:
        orders = cls()
        for key, value in raw.items():
            order = orders.orders[key] = Order.load(value)
            orders.totals.add(order, +1)
        return orders
