"""Downloads: the review and the scorecards as xlsx workbooks (openpyxl), scores as CSV.

Money goes into cells as numbers with a two-decimal format, never as text; producer strings go in
as text, and a cell that starts with = + - @ (or a tab or carriage return) is prefixed with an
apostrophe so that a spreadsheet does not run it as a formula.

The review workbook reads as the review page does: a sheet per section, headers in the pages'
labels (service/reads/review_tables.py), money in ¥ and rates in % number formats, times as
Excel times in the studio's zone, header rows frozen and columns as wide as their contents.
"""

from __future__ import annotations

import csv
import io
import unicodedata
from collections.abc import Callable
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from projections.review import BENCHMARKED, PRODUCT_COLUMNS, SEGMENT_COLUMNS
from service.reads.review_words import (
    DEFAULT_ZONE,
    count,
    group_label,
    host_of,
    kind_of,
    label,
    local_time,
    money,
    percent,
    ratio,
    signed_percent,
    source_rows,
    words,
)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def file_responses(
    json_schema: Any, example: Any, description: str, *content_types: str
) -> dict[str, Any]:
    """A 200's bodies for the OpenAPI document: the JSON one with its example, and the files
    format=csv and format=xlsx give instead (a manual response replaces the generated one
    whole)."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        "200": {
            "description": description,
            "content": {
                "application/json": {"schema": json_schema, "example": example},
                **dict.fromkeys(content_types, binary),
            },
        }
    }


FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Number formats by a value's kind (service/reads/review_tables.py kind_of).
FORMATS = {
    "money": "¥#,##0.00",
    "rate": "0.00%",
    "signed_rate": "+0.00%;-0.00%;0.00%",
    "ratio": "0.00",
    "seconds": "#,##0",
    "count": "#,##0",
    "time": "yyyy-mm-dd hh:mm:ss",
}
MIN_WIDTH, MAX_WIDTH = 10, 60  # columns in characters; a long description wraps past the last
MINUTE_COLUMNS = (
    "minute",
    "joins",
    "leaves",
    "online_minute",
    "interactions",
    "clicks",
    "paid_orders",
    "gmv",
    "incidents",
)


def neutralise(value: Any) -> Any:
    """A cell a spreadsheet will show as text, not run."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def _save(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# -- the review workbook ------------------------------------------------------------------------

Cell = tuple[Any, str]  # a value and its kind: money, rate, signed_rate, ratio, seconds, count,
# time (an ISO 8601 time of the review), or text


def _cells_width(text: str) -> int:
    """Characters as a spreadsheet draws them: a Chinese (wide) character takes two."""
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _value(cell: Cell, zone: str) -> tuple[Any, str | None, str]:
    """What goes into the cell, its number format, and the text it shows (for the width)."""
    value, kind = cell
    if value is None:
        return None, None, ""
    if kind == "time":
        moment = local_time(value, zone)
        # Excel has no time zones: the studio's wall-clock time, as a naive datetime.
        naive = None if moment is None else moment.replace(tzinfo=None)
        return naive, FORMATS["time"], "2026-11-02 20:00:00"  # as wide as any shown
    if kind in FORMATS and isinstance(value, int | float) and not isinstance(value, bool):
        shown_as = {
            "money": money,
            "rate": percent,
            "signed_rate": signed_percent,
            "ratio": ratio,
        }.get(kind, count)(value)
        return value, FORMATS[kind], shown_as
    text = str(value)
    return neutralise(text), None, text


def _sheet(
    book: Workbook, title: str, headers: list[str], rows: list[list[Cell]], zone: str
) -> Worksheet:
    """A sheet with a bold, frozen header row and columns as wide as their widest cell."""
    sheet = book.create_sheet(title[:31])  # Excel's limit on a sheet's name
    sheet.append([neutralise(h) for h in headers])
    widths = [_cells_width(h) for h in headers]
    for number, row in enumerate(rows, start=2):
        for column, cell in enumerate(row, start=1):
            value, number_format, text = _value(cell, zone)
            target = sheet.cell(row=number, column=column, value=value)
            if number_format is not None:
                target.number_format = number_format
            elif _cells_width(text) > MAX_WIDTH:  # a long title or description wraps in its cell
                target.alignment = Alignment(wrap_text=True, vertical="top")
            widths[column - 1] = max(widths[column - 1], _cells_width(text))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for column, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(column)].width = min(
            MAX_WIDTH, max(MIN_WIDTH, width + 2)
        )
    return sheet


def _kind(key: str) -> str:
    return "signed_rate" if key == "vs_host" else kind_of(key)


def _table(
    book: Workbook,
    title: str,
    keys: tuple[str, ...] | list[str],
    rows: list[dict[str, Any]],
    lang: str,
    zone: str,
    text: dict[str, Callable[[Any], str]] | None = None,
) -> Worksheet:
    """A sheet of rows by key; `text` maps a key to how its value reads (a catalogue label)."""
    shown = text or {}
    cells = [
        [
            (shown[key](row.get(key)), "text") if key in shown else (row.get(key), _kind(key))
            for key in keys
        ]
        for row in rows
    ]
    return _sheet(book, title, [label(key, lang) for key in keys], cells, zone)


SUMMARY_SKIPPED = frozenset(
    # shown elsewhere (their own sheets, the header rows) or of the live screen only
    {
        "traffic_sources",
        "figure_sources",
        "interactions",
        "incidents",
        "platform",
        "peak_online",
        "online",
        "interactions_last_minute",
        "gmv_gap",
    }
)


def _summary_rows(review: dict[str, Any], lang: str, zone: str) -> list[list[Cell]]:
    """The session's header, each benchmarked metric with its medians, then the rest of the
    metrics, the platform's own figures and the incidents' totals."""
    peak = review.get("peak_online") or {}
    rows: list[list[Cell]] = [
        [(label(key, lang), "text"), cell]
        for key, cell in (
            ("session_id", (review.get("session_id"), "text")),
            ("title", (review.get("title"), "text")),
            ("host", (host_of(review), "text")),
            ("room_id", (review.get("room_id"), "text")),
            ("status", (group_label("statuses", review.get("status"), lang), "text")),
            ("started_at", (review.get("started_at"), "time")),
            ("ended_at", (review.get("ended_at"), "time")),
            ("time_zone", (zone, "text")),
            ("peak_online", (peak.get("value"), "count")),
            ("peak_minute", (peak.get("minute"), "time")),
        )
    ]
    marks = review.get("benchmarks") or {}
    for key in (k for k in BENCHMARKED if k in marks):
        mark = marks[key]
        kind = _kind(key)
        rows.append(
            [
                (label(key, lang), "text"),
                (mark.get("value"), kind),
                (mark.get("host_median"), kind),
                (mark.get("room_median"), kind),
                (mark.get("vs_host"), "signed_rate"),
                (mark.get("host_sessions"), "count"),
                (mark.get("room_sessions"), "count"),
            ]
        )
    metrics = review.get("metrics") or {}
    for key, value in metrics.items():
        if key in marks or key in SUMMARY_SKIPPED or isinstance(value, dict | list | bool):
            continue
        rows.append([(label(key, lang), "text"), (value, _kind(key))])
    platform = metrics.get("platform")
    if platform:  # the platform's own figures, when a report carried them
        rows += [
            [(label("platform_gmv", lang), "text"), (platform.get("gmv"), "money")],
            [(label("platform_orders", lang), "text"), (platform.get("orders_paid"), "count")],
            [(label("platform_buyers", lang), "text"), (platform.get("buyers"), "count")],
            [(label("platform_as_of", lang), "text"), (platform.get("as_of"), "time")],
            [(label("gmv_gap", lang), "text"), (metrics.get("gmv_gap"), "money")],
        ]
    incidents = metrics.get("incidents")
    if incidents:
        rows += [
            [(label("incidents_total", lang), "text"), (incidents.get("total"), "count")],
            [(label("incidents_open", lang), "text"), (incidents.get("open"), "count")],
            [
                (label("downtime_seconds", lang), "text"),
                (incidents.get("downtime_seconds"), "seconds"),
            ],
        ]
    return rows


def review_workbook(
    review: dict[str, Any],
    timeline: dict[str, Any] | None,
    lang: str = "zh",
    zone: str = DEFAULT_ZONE,
) -> bytes:
    """A sheet for each section of the review page: summary (the session, each metric with its
    benchmarks), products, segments, minutes, traffic sources, incidents, alerts. Headers and
    sheet names in Chinese, or English with lang "en"; every header row frozen; money and
    rates as numbers in ¥ and % formats; times as Excel times in `zone`, the studio's."""
    lang = words(lang)
    book = Workbook()
    book.remove(book.active)
    summary_headers = [
        label(key, lang)
        for key in (
            "metric",
            "value",
            "host_median",
            "room_median",
            "vs_host",
            "host_sessions",
            "room_sessions",
        )
    ]
    _sheet(book, label("summary", lang), summary_headers, _summary_rows(review, lang, zone), zone)
    _table(book, label("products", lang), PRODUCT_COLUMNS, review.get("products") or [], lang, zone)
    _table(book, label("segments", lang), SEGMENT_COLUMNS, review.get("segments") or [], lang, zone)
    minutes = [
        {**minute, "online_minute": minute.get("online")}
        for minute in (timeline or {}).get("minutes", [])
    ]
    _table(book, label("trend", lang), MINUTE_COLUMNS, minutes, lang, zone)
    _table(
        book,
        label("sources", lang),
        ("source", "views", "viewers", "buyers", "gmv", "conversion_rate"),
        source_rows(review),
        lang,
        zone,
        {"source": lambda key: group_label("sources", key, lang)},
    )
    _table(
        book,
        label("incident", lang),
        (
            "incident_id",
            "kind",
            "severity",
            "opened_at",
            "resolved_at",
            "downtime_seconds",
            "description",
        ),
        review.get("incidents") or [],
        lang,
        zone,
        {"kind": lambda key: group_label("incident_kinds", key, lang)},
    )
    alerts = review.get("alerts") or []
    alert_keys = ["at", "kind", "from", "to"]
    if any(alert.get("state") for alert in alerts):  # where each stands, as the page says
        alert_keys.append("state")
    if any(alert.get("cleared_at") for alert in alerts):  # alerts that say when they ended
        alert_keys.append("cleared_at")
    _table(
        book,
        label("alerts", lang),
        alert_keys,
        alerts,
        lang,
        zone,
        {
            "kind": lambda key: group_label("alerts", key, lang),
            "state": lambda key: group_label("alert_states", key, lang),
        },
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
