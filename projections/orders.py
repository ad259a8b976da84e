"""The order life cycle: placed, paid, cancelled, refunded, in any arrival order.

Each order's contribution to the totals (paid count, GMV, refunds, its buyer, its paid minute) is
a function of the order alone. When an event changes an order, its old contribution is taken out
and the new one put in, so the totals stay exact whatever order events arrive in.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from dataclasses import dataclass, field
from typing import Any

from projections.clock import minute_of


class Order:
    __slots__ = (
        "amount_fen",
        "buyer_id",
        "cancelled",
        "paid_amount_fen",
        "paid_at",
        "placed",
        "placed_at",
        "placed_seq",
        "product_id",
        "quantity",
        "refunded_fen",
    )

    def __init__(self) -> None:
        self.placed = False
        self.buyer_id: str | None = None
        self.product_id: str | None = None
        self.quantity = 0
        self.amount_fen = 0
        self.placed_at: int | None = None
        # 0, 1, 2, ... in the order orders were first placed in this session (arrival order):
        # session_order is written from the ones numbered at or above what it already holds.
        self.placed_seq: int | None = None
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
        """Paid and not cancelled: what docs/contract.md calls a paid order."""
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
class ProductTotals:
    """One product's share of the order totals (orders carry their product_id when placed)."""

    placed: int = 0
    paid: int = 0
    items: int = 0
    gmv_fen: int = 0
    refunds_fen: int = 0
    buyer_orders: dict[str, int] = field(default_factory=dict)


def _count(counts: dict[str, int], key: str, sign: int) -> None:
    count = counts.get(key, 0) + sign
    if count:
        counts[key] = count
    else:
        counts.pop(key, None)


@dataclass
class OrderTotals:
    placed: int = 0
    paid: int = 0
    gmv_fen: int = 0
    refunds_fen: int = 0
    # buyer_id -> number of paid orders; a buyer counts while this is above zero
    buyer_orders: dict[str, int] = field(default_factory=dict)
    # buyer_id -> GMV fen of their paid orders (traffic sources' GMV by the buyer's first join)
    buyer_gmv_fen: dict[str, int] = field(default_factory=dict)
    # minute -> [paid orders, gmv fen] by the minute the order was paid
    by_minute: dict[int, list[int]] = field(default_factory=dict)
    by_product: dict[str, ProductTotals] = field(default_factory=dict)
    # the earliest minute of by_minute moved since the timeline last drew (take_moved)
    moved_from: int | None = None

    def take_moved(self) -> int | None:
        """The earliest minute of by_minute that moved since the last call (None: none)."""
        moved, self.moved_from = self.moved_from, None
        return moved

    def product(self, product_id: str) -> ProductTotals:
        totals = self.by_product.get(product_id)
        if totals is None:
            totals = self.by_product[product_id] = ProductTotals()
        return totals

    @property
    def buyers(self) -> int:
        return len(self.buyer_orders)

    def add(self, order: Order, sign: int) -> None:
        self.placed += sign * order.placed
        product = None if order.product_id is None else self.product(order.product_id)
        if product is not None:
            product.placed += sign * order.placed
        if not order.counts:
            return
        gmv = order.gmv_fen
        refund = order.refund_fen
        self.paid += sign
        self.gmv_fen += sign * gmv
        self.refunds_fen += sign * refund
        if order.buyer_id is not None:
            _count(self.buyer_orders, order.buyer_id, sign)
            spent = self.buyer_gmv_fen.get(order.buyer_id, 0) + sign * gmv
            if order.buyer_id in self.buyer_orders:
                self.buyer_gmv_fen[order.buyer_id] = spent
            else:
                self.buyer_gmv_fen.pop(order.buyer_id, None)
        if product is not None:
            product.paid += sign
            product.items += sign * order.quantity
            product.gmv_fen += sign * gmv
            product.refunds_fen += sign * refund
            if order.buyer_id is not None:
                _count(product.buyer_orders, order.buyer_id, sign)
        assert order.paid_at is not None
        at = minute_of(order.paid_at)
        minute = self.by_minute.setdefault(at, [0, 0])
        minute[0] += sign
        minute[1] += sign * gmv
        if self.moved_from is None or at < self.moved_from:
            self.moved_from = at


RECENT_PAID = 100  # paid orders kept for the ticker (it shows 20 that still count)


class Orders:
    def __init__(self) -> None:
        self.orders: dict[str, Order] = {}
        self.totals = OrderTotals()
        # product_id -> sorted (placed_at, order_id): the orders placed in a segment's window
        self.placed_index: dict[str, list[tuple[int, str]]] = {}
        # the latest paid orders by (paid_at, order_id), oldest first
        self.recent_paid: list[tuple[int, str]] = []
        # order ids by placed_seq
        self.placed_ids: list[str] = []
        # keys for what is derived from the orders (not dumped): `revision` moves with every
        # order event, `paid_revision` with those that can change a paid order's ticker line,
        # `product_revisions[p]` with those of product p's orders, `placed_revisions[(p, m)]`
        # with those of its orders placed in minute m (an explanation's figures count the
        # orders of its product placed in its window)
        self.revision = 0
        self.paid_revision = 0
        self.product_revisions: dict[str, int] = {}
        self.placed_revisions: dict[tuple[str, int], int] = {}

    def _index_placed(self, order_id: str, order: Order, old: tuple[str, int] | None) -> None:
        if old is not None:  # an earlier order.placed arrived late: move the entry
            index = self.placed_index.get(old[0], [])
            entry = (old[1], order_id)
            at = bisect_left(index, entry)
            if at < len(index) and index[at] == entry:
                del index[at]
        if order.product_id is not None and order.placed_at is not None:
            insort(self.placed_index.setdefault(order.product_id, []), (order.placed_at, order_id))

    def _note_paid(self, order_id: str, paid_at: int, old: int | None) -> None:
        recent = self.recent_paid
        if old is not None:
            at = bisect_left(recent, (old, order_id))
            if at < len(recent) and recent[at] == (old, order_id):
                del recent[at]
        entry = (paid_at, order_id)
        if len(recent) >= RECENT_PAID and entry < recent[0]:
            return
        insort(recent, entry)
        if len(recent) > RECENT_PAID:
            del recent[0]

    def placed_between(self, product_id: str, start: int, end: int | None) -> list[Order]:
        """Orders of the product placed in [start, end) (end None: from start on)."""
        index = self.placed_index.get(product_id)
        if not index:
            return []
        low = bisect_left(index, (start, ""))
        high = len(index) if end is None else bisect_left(index, (end, ""))
        return [self.orders[order_id] for _, order_id in index[low:high]]

    def apply(self, event_type: str, data: dict[str, Any], occurred_at: int) -> None:
        self.revision += 1
        order_id = data["order_id"]
        order = self.orders.get(order_id)
        if order is None:
            order = self.orders[order_id] = Order()
        else:
            self.totals.add(order, -1)
        placed_before = (order.product_id, order.placed_at)
        if order.paid_at is not None or event_type in ("order.paid", "order.cancelled"):
            self.paid_revision += 1
        if event_type == "order.placed":
            if order.placed_seq is None:
                order.placed_seq = len(self.placed_ids)
                self.placed_ids.append(order_id)
            if not order.placed or occurred_at < (order.placed_at or occurred_at):
                old = (
                    None
                    if order.placed_at is None or order.product_id is None
                    else (order.product_id, order.placed_at)
                )
                order.placed = True
                order.buyer_id = data["buyer_id"]
                order.product_id = data["product_id"]
                order.quantity = data["quantity"]
                order.amount_fen = data["amount_fen"]
                order.placed_at = occurred_at
                self._index_placed(order_id, order, old)
        elif event_type == "order.paid":
            if order.paid_at is None or occurred_at < order.paid_at:
                self._note_paid(order_id, occurred_at, order.paid_at)
                order.paid_at = occurred_at
            if data.get("amount_fen") is not None:
                order.paid_amount_fen = data["amount_fen"]
        elif event_type == "order.cancelled":
            order.cancelled = True
        elif event_type == "order.refunded":
            order.refunded_fen += data["amount_fen"]
        self.totals.add(order, +1)
        products, placed = self.product_revisions, self.placed_revisions
        for product_id, placed_at in {placed_before, (order.product_id, order.placed_at)}:
            if product_id is not None:
                products[product_id] = products.get(product_id, 0) + 1
                if placed_at is not None:
                    key = (product_id, minute_of(placed_at))
                    placed[key] = placed.get(key, 0) + 1

    def dump(self) -> dict[str, Any]:
        return {key: order.dump() for key, order in self.orders.items()}

    @classmethod
    def load(cls, raw: dict[str, Any]) -> Orders:
        orders = cls()
        for key, value in raw.items():
            order = orders.orders[key] = Order.load(value)
            orders.totals.add(order, +1)
            orders._index_placed(key, order, None)
            if order.paid_at is not None:
                orders._note_paid(key, order.paid_at, None)
        numbered = [
            (o.placed_seq, key) for key, o in orders.orders.items() if o.placed_seq is not None
        ]
        orders.placed_ids = [key for _, key in sorted(numbered)]
        return orders
