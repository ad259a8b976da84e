"""Per product of a session: name and price from its latest pin, explanations, clicks.

Order figures per product live with the orders (projections/orders.py, `by_product`); the
explanation segments are drawn from the session's pin marks (projections/segments.py).
"""

from __future__ import annotations

from bisect import insort
from typing import Any

Key = tuple[int, int]  # (occurred_at, version): what "latest" means


class Product:
    __slots__ = (
        "click_times",
        "clickers",
        "clicks",
        "explanations",
        "name",
        "name_key",
        "price_fen",
        "price_key",
    )

    def __init__(self) -> None:
        self.name: str | None = None
        self.name_key: Key | None = None
        self.price_fen: int | None = None
        self.price_key: Key | None = None
        self.explanations = 0
        self.clicks = 0
        self.clickers: dict[str, int] = {}  # an ordered set, JSON-able as it is
        self.click_times: list[int] = []  # sorted: clicks inside a segment's window

    def pinned(self, key: Key, name: str | None, price_fen: int | None) -> None:
        self.explanations += 1
        if name is not None and (self.name_key is None or key > self.name_key):
            self.name, self.name_key = name, key
        if price_fen is not None and (self.price_key is None or key > self.price_key):
            self.price_fen, self.price_key = price_fen, key

    def clicked(self, occurred_at: int, viewer_id: str | None) -> None:
        self.clicks += 1
        if viewer_id is not None:
            self.clickers[viewer_id] = 1
        insort(self.click_times, occurred_at)

    def dump(self) -> list[Any]:
        return [getattr(self, name) for name in self.__slots__]

    @classmethod
    def load(cls, raw: list[Any]) -> Product:
        product = cls()
        for name, value in zip(cls.__slots__, raw, strict=True):
            setattr(product, name, value)
        product.name_key = (product.name_key[0], product.name_key[1]) if product.name_key else None
        product.price_key = (
            (product.price_key[0], product.price_key[1]) if product.price_key else None
        )
        return product
