"""The review as rich tables, for `livetally review SESSION`."""

from __future__ import annotations

from typing import Any

from rich.markup import escape
from rich.table import Table

from projections.review import PRODUCT_COLUMNS, SEGMENT_COLUMNS


def _show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.4f}".rstrip("0").rstrip(".")
    return escape(str(value))  # producer strings are text, never rich markup


def review_tables(review: dict[str, Any]) -> list[Table]:
    summary = Table(
        title=escape(f"复盘 {review['session_id']} {review.get('title') or ''}".strip())
    )
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
    return [
        summary,
        _rows("products", PRODUCT_COLUMNS, review["products"]),
        _rows("segments", SEGMENT_COLUMNS, review["segments"]),
    ]


def _rows(title: str, columns: tuple[str, ...], rows: list[dict[str, Any]]) -> Table:
    table = Table(title=title)
    for column in columns:
        table.add_column(column)
    for row in rows:
        table.add_row(*(_show(row[c]) for c in columns))
    return table
