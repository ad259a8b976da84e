"""The review as rich tables, for `livetally review SESSION`."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return escape(str(value))  # producer strings are text, never rich markup


def review_tables(review: dict[str, Any]) -> list[Table]:
    summary = Table(title=f"复盘 {review['session_id']} {review.get('title') or ''}".strip())
    for column in ("metric", "value", "host median", "room median", "vs host"):
        summary.add_column(column)
    for key, bench in review["benchmarks"].items():
        vs = bench["vs_host"]
        summary.add_row(
            key,
            _show(bench["value"]),
            _show(bench["host_median"]),
            _show(bench["room_median"]),
            "-" if vs is None else f"{vs:+.1%}",
        )
    peak = review["peak_online"]
    summary.add_row("peak_online", _show(peak["value"]), "", "", _show(peak["minute"]))
    products = Table(title="products")
    columns = (
        "product_id",
        "name",
        "explanations",
        "explanation_seconds",
        "clicks",
        "orders_paid",
        "items_sold",
        "gmv",
        "refunds",
        "net_gmv",
        "click_to_pay_rate",
    )
    for column in columns:
        products.add_column(column)
    for row in review["products"]:
        products.add_row(*(_show(row[c]) for c in columns))
    segments = Table(title="segments")
    seg_columns = (
        "product_id",
        "started_at",
        "ended_at",
        "seconds",
        "views",
        "clicks",
        "orders_paid",
        "gmv",
        "gpm",
    )
    for column in seg_columns:
        segments.add_column(column)
    for row in review["segments"]:
        segments.add_row(*(_show(row[c]) for c in seg_columns))
    return [summary, products, segments]
