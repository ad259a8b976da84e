"""Downloads: the review and the scorecards as xlsx workbooks (openpyxl), scores as CSV.

Money goes into cells as numbers with a two-decimal format, never as text; producer strings go in
as text, and a CSV cell that starts with = + - @ (or a tab or carriage return) is prefixed with
an apostrophe so that a spreadsheet does not run it as a formula.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from openpyxl import Workbook
from openpyxl.worksheet.worksheet import Worksheet

from projections.review import PRODUCT_COLUMNS, SEGMENT_COLUMNS

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_KEYS = frozenset(
    {
        "gmv",
        "net_gmv",
        "refunds",
        "price",
        "amount",
        "ad_spend",
        "uv_value",
        "aov",
        "gpm",
        "fines_total",
    }
)
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A cell a spreadsheet will show as text, not run."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _cell(value: Any) -> Any:
    if isinstance(value, dict | list):
        return None
    return neutralise(value)


def _sheet(
    book: Workbook, title: str, rows: list[dict[str, Any]], columns: list[str] | None = None
) -> Worksheet:
    sheet = book.create_sheet(title)
    keys = columns or (list(rows[0]) if rows else [])
    sheet.append(keys)
    for row in rows:
        sheet.append([_cell(row.get(key)) for key in keys])
    for index, key in enumerate(keys, start=1):
        if key.split(".")[-1] in MONEY_KEYS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "0.00"
    return sheet


def _save(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def review_workbook(review: dict[str, Any], timeline: dict[str, Any] | None) -> bytes:
    """Sheets: summary (each metric, its benchmarks), products, segments, minutes."""
    book = Workbook()
    book.remove(book.active)
    metrics = review["metrics"]
    summary = [
        {"field": key, "value": review.get(key)}
        for key in ("session_id", "title", "host_id", "room_id", "status", "started_at", "ended_at")
    ]
    for key, value in metrics.items():
        if not isinstance(value, dict):
            bench = review.get("benchmarks", {}).get(key, {})
            summary.append(
                {
                    "field": key,
                    "value": value,
                    "host_median": bench.get("host_median"),
                    "room_median": bench.get("room_median"),
                    "vs_host": bench.get("vs_host"),
                }
            )
    summary.append({"field": "peak_online_minute", "value": review["peak_online"]["minute"]})
    sheet = _sheet(
        book, "summary", summary, ["field", "value", "host_median", "room_median", "vs_host"]
    )
    for row in sheet.iter_rows(min_row=2):
        if row[0].value in MONEY_KEYS:
            for cell in row[1:4]:
                cell.number_format = "0.00"
    _sheet(book, "products", review["products"], list(PRODUCT_COLUMNS))
    _sheet(book, "segments", review["segments"], list(SEGMENT_COLUMNS))
    minutes = (timeline or {}).get("minutes", [])
    _sheet(
        book,
        "minutes",
        minutes,
        [
            "minute",
            "joins",
            "leaves",
            "online",
            "interactions",
            "clicks",
            "paid_orders",
            "gmv",
            "incidents",
        ],
    )
    return _save(book)


def _score_rows(body: dict[str, Any]) -> tuple[list[str], list[list[Any]]]:
    cards = body["scorecards"]
    keys: list[str] = []
    for card in cards:
        for kpi in card["kpis"]:
            if kpi["key"] not in keys:
                keys.append(kpi["key"])
    header = [
        "period",
        "person_id",
        "name",
        "role",
        "score",
        "grade",
        "graded",
        "rank",
        "complete",
        "fines_total",
        *(f"{k}.{part}" for k in keys for part in ("actual", "target", "points", "status")),
    ]
    rows = []
    for card in cards:
        by_key = {k["key"]: k for k in card["kpis"]}
        row = [
            body["period"],
            card["person_id"],
            card.get("name") or "",
            card["role"],
            card["score"],
            card["grade"] or "",
            card.get("graded", True),
            card["rank"],
            card["complete"],
            (card.get("fines") or {}).get("total", 0),
        ]
        for key in keys:
            kpi = by_key.get(key)
            row += (
                ["", "", "", ""]
                if kpi is None
                else [
                    _blank(kpi["actual"]),
                    _blank(kpi["target"]),
                    _blank(kpi["points"]),
                    kpi["status"],
                ]
            )
        rows.append([neutralise(v) for v in row])
    return header, rows


def _blank(value: Any) -> Any:
    return "" if value is None else value


def scores_csv(body: dict[str, Any]) -> bytes:
    """UTF-8 with a BOM, so that Excel opens Chinese names as Chinese."""
    header, rows = _score_rows(body)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8-sig")


def scores_workbook(body: dict[str, Any]) -> bytes:
    header, rows = _score_rows(body)
    book = Workbook()
    sheet = book.active
    sheet.title = "scores"
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    return _save(book)
