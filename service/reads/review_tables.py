"""The review (复盘) as the tables of `livetally review SESSION`, in the words of
review_words.py. The tables fit 100 columns with the longest real values (a 50-character title,
20-character names, ¥9,999,999,999.99): a section that would be wider is split into several
tables, each led by the product's name, and a narrower terminal folds cells instead of cutting
them short.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from rich.markup import escape
from rich.table import Table
from rich.text import Text

from projections.review import BENCHMARKED
from service.reads.review_words import (
    DEFAULT_ZONE,
    EXTRA,
    NONE,
    count,
    duration,
    group_label,
    host_of,
    label,
    local_time,
    money,
    percent,
    shown,
    source_rows,
    words,
)

WIDTH = 100  # columns every table fits in
NAME_WIDTH = 40  # a 20-character Chinese name; longer ones (or ids under them) fold
FLEX_LEAST = 10  # a name, title or detail column is never narrower (numbers fold instead)

# -- the tables -----------------------------------------------------------------------------------


class _Clock:
    """Times of one review: in the studio's zone, the date only when it is not the day the
    broadcast started."""

    def __init__(self, review: dict[str, Any], zone: str) -> None:
        self.zone = zone
        start = local_time(review.get("started_at"), zone)
        self.day = None if start is None else start.date()

    def full(self, iso: str | None) -> str:
        moment = local_time(iso, self.zone)
        return NONE if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} ({self.zone})"

    def short(self, iso: str | None) -> str:
        moment = local_time(iso, self.zone)
        if moment is None:
            return NONE
        return f"{moment:%H:%M:%S}" if moment.date() == self.day else f"{moment:%m-%d %H:%M:%S}"


def _text(value: Any) -> str:
    # Titles, names, ids and descriptions come from producers: text, never rich markup.
    return escape(NONE if value is None else str(value))


def _table(title: str, caption: str | None = None) -> Table:
    return Table(title=_text(title), caption=None if caption is None else _text(caption))


def _column(table: Table, header: str, *, number: bool = False, width: int | None = None) -> None:
    # Folded, not cut short with "…", when the terminal is narrower than the table.
    table.add_column(
        _text(header),
        justify="right" if number else "left",
        overflow="fold",
        max_width=width,
    )


def _part(lang: str, section: str, part: str) -> str:
    return f"{label(section, lang)} · {label(part, lang)}"


def _name(row: dict[str, Any]) -> str:
    return _text(row.get("name") or row.get("product_id"))


def _empty(table: Table, rows: list[Any], lang: str) -> Table:
    if not rows:
        table.caption = _text(label("no_rows", lang))
    return table


def _header(review: dict[str, Any], clock: _Clock, lang: str) -> Table:
    table = _table(f"{label('review', lang)} {review.get('session_id') or ''}".strip())
    table.show_header = False  # a list of the session's facts, each named in its row
    _column(table, label("metric", lang))
    _column(table, label("value", lang), width=WIDTH - 24)  # beside "在线峰值出现于"
    peak = review.get("peak_online") or {}
    rows: list[tuple[str, str]] = [
        ("session_id", _text(review.get("session_id"))),
        ("title", _text(review.get("title"))),
        ("host", _text(host_of(review))),
        ("room_id", _text(review.get("room_id"))),
        ("status", _text(group_label("statuses", review.get("status"), lang))),
        ("started_at", clock.full(review.get("started_at"))),
        ("ended_at", clock.full(review.get("ended_at"))),
        ("peak_online", count(peak.get("value"))),
        ("peak_minute", clock.full(peak.get("minute"))),
    ]
    metrics = review.get("metrics") or {}
    platform = metrics.get("platform") or {}
    if platform.get("gmv") is not None:
        rows += [
            ("gmv", money(metrics.get("gmv"))),
            ("platform_gmv", money(platform["gmv"])),
            ("platform_as_of", clock.full(platform.get("as_of"))),
            ("gmv_gap", money(metrics.get("gmv_gap"))),
        ]
    for key, value in rows:
        table.add_row(_text(label(key, lang)), value)
    return table


def _benchmarks(review: dict[str, Any], lang: str) -> Table:
    marks: dict[str, dict[str, Any]] = review.get("benchmarks") or {}
    first = next(iter(marks.values()), {})
    table = _table(
        label("benchmarks", lang),
        EXTRA[lang]["medians_over"].format(
            host=first.get("host_sessions", 0), room=first.get("room_sessions", 0)
        ),
    )
    _column(table, label("metric", lang))
    for key in ("value", "host_median", "room_median", "vs_host"):
        _column(table, label(key, lang), number=True)
    for key in (k for k in BENCHMARKED if k in marks):
        mark = marks[key]
        values = [mark.get(part) for part in ("value", "host_median", "room_median")]
        if key == "avg_watch_seconds":  # as the pages show a watch time, h:mm:ss
            cells = [duration(v) for v in values]
            name = label("avg_watch", lang)
        else:
            cells = [shown(key, v) for v in values]
            name = label(key, lang)
        table.add_row(_text(name), *cells, shown("vs_host", mark.get("vs_host")))
    return _empty(table, list(marks), lang)


def _funnel(review: dict[str, Any], lang: str) -> Table:
    stages = (review.get("funnel") or {}).get("stages") or []
    table = _table(label("funnel", lang))
    _column(table, label("metric", lang))
    _column(table, label("value", lang), number=True)
    _column(table, label("stage_rate", lang), number=True)
    for stage in stages:
        table.add_row(
            _text(label(str(stage.get("stage")), lang)),
            count(stage.get("value")),
            percent(stage.get("rate")),
        )
    return _empty(table, stages, lang)


def _rows_table(
    title: str,
    lead: list[tuple[str, Callable[[int, dict[str, Any]], str], int | None]],
    keys: Iterable[str],
    rows: list[dict[str, Any]],
    lang: str,
    caption: str | None = None,
) -> Table:
    """A table of rows: leading text columns (header, cell of (number, row), max width),
    then number columns by key."""
    table = _table(title, caption)
    keys = list(keys)
    for header, _, width in lead:
        _column(table, header, width=width)
    for key in keys:
        _column(table, label(key, lang), number=True)
    for number, row in enumerate(rows, start=1):
        table.add_row(
            *(cell(number, row) for _, cell, _ in lead),
            *(shown(key, row.get(key)) for key in keys),
        )
    return _empty(table, rows, lang)


def _products(review: dict[str, Any], lang: str) -> list[Table]:
    rows = review.get("products") or []

    def identity(_: int, row: dict[str, Any]) -> str:
        # The id under a name, so that two products with one name stay apart.
        name, product_id = row.get("name"), row.get("product_id")
        if name and product_id and name != product_id:
            return f"{_text(name)}\n[dim]{_text(product_id)}[/dim]"
        return _name(row)

    def named(_: int, row: dict[str, Any]) -> str:
        return _name(row)

    name = label("name", lang)
    parts = (
        ("sales", identity, ("orders_paid", "items_sold", "buyers", "gmv")),
        ("refunds_part", named, ("refunds", "net_gmv", "refund_rate")),
        (
            "clicks_part",
            named,
            ("clicks", "clicking_viewers", "orders_placed", "click_to_pay_rate"),
        ),
        ("explaining_part", named, ("price", "explanations", "explanation_seconds")),
    )
    return [
        _rows_table(_part(lang, "products", part), [(name, cell, NAME_WIDTH)], keys, rows, lang)
        for part, cell, keys in parts
    ]


def _segments(review: dict[str, Any], clock: _Clock, lang: str) -> list[Table]:
    rows = review.get("segments") or []
    live = group_label("statuses", "live", lang)
    lead: list[tuple[str, Callable[[int, dict[str, Any]], str], int | None]] = [
        (label("segment", lang), lambda n, _: str(n), None),
        (label("name", lang), lambda _, r: _name(r), NAME_WIDTH),
    ]
    times = _rows_table(
        _part(lang, "segments", "times_part"),
        [
            *lead,
            (label("started_at", lang), lambda _, r: clock.short(r.get("started_at")), None),
            (
                label("ended_at", lang),
                # An open segment: the product is still being presented.
                lambda _, r: clock.short(r["ended_at"]) if r.get("ended_at") else _text(live),
                None,
            ),
        ],
        ("seconds",),
        rows,
        lang,
        EXTRA[lang]["times_in"].format(zone=clock.zone),
    )
    return [
        times,
        _rows_table(
            _part(lang, "segments", "figures_part"),
            lead,
            ("views", "clicks", "orders_paid"),
            rows,
            lang,
        ),
        _rows_table(_part(lang, "segments", "money_part"), lead, ("gmv", "gpm"), rows, lang),
    ]


def _sources(review: dict[str, Any], lang: str) -> Table:
    return _rows_table(
        label("sources", lang),
        [
            (
                label("source", lang),
                lambda _, r: _text(group_label("sources", r["source"], lang)),
                None,
            )
        ],
        ("views", "viewers", "buyers", "gmv", "conversion_rate"),
        source_rows(review),
        lang,
    )


def _events(review: dict[str, Any], clock: _Clock, lang: str) -> Table:
    """Incidents and alerts in time order, as the page lists them."""
    found: list[tuple[str, str, str]] = []
    for incident in review.get("incidents") or []:
        resolved = incident.get("resolved_at")
        parts = [
            f"{label('severity', lang)} {incident.get('severity')}",
            f"{label('downtime_seconds', lang)} {count(incident.get('downtime_seconds'))}",
            f"{label('ended_at', lang)} {clock.short(resolved)}"
            if resolved
            else EXTRA[lang]["not_resolved"],
        ]
        if incident.get("description"):
            parts.append(str(incident["description"]))
        found.append(
            (
                incident.get("opened_at") or "",
                group_label("incident_kinds", incident.get("kind"), lang),
                " · ".join(parts),
            )
        )
    for alert in review.get("alerts") or []:
        parts = []
        if alert.get("from") is not None:  # an online drop: from its high to the low
            parts.append(f"{count(alert.get('from'))} → {count(alert.get('to'))}")
        # where it stands, in the pages' words: still on, cleared 10:03, resolved 10:03
        state = alert.get("state")
        ended = alert.get("cleared_at") or alert.get("resolved_at")
        if state:
            when = f" {clock.short(ended)}" if ended else ""
            parts.append(group_label("alert_states", state, lang) + when)
        elif ended:
            parts.append(f"{label('ended_at', lang)} {clock.short(ended)}")
        found.append(
            (
                alert.get("at") or "",
                group_label("alerts", alert.get("kind"), lang),
                " · ".join(parts),
            )
        )
    found.sort(key=lambda event: event[0])
    table = _table(EXTRA[lang]["events"], EXTRA[lang]["times_in"].format(zone=clock.zone))
    _column(table, label("at", lang))
    _column(table, label("kind", lang))
    _column(table, label("detail", lang), width=WIDTH - 50)
    for at, kind, detail in found:
        table.add_row(clock.short(at or None), _text(kind), _text(detail))
    if not found:
        table.caption = _text(group_label("ui", "no_alerts", lang))
    return table


def _cell_width(cell: Any) -> int:
    """The widest line of a cell (the tables hold markup strings only)."""
    if not isinstance(cell, str):
        return 0
    return max((line.cell_len for line in Text.from_markup(cell).split()), default=0)


def fit(table: Table, width: int) -> Table:
    """The table's text column (the one with a max width: names, the title, details) as wide
    as `width` leaves it beside the other columns, so that on a terminal narrower than 100
    columns the names wrap and the numbers stay whole (as far as they can)."""
    columns = table.columns
    others = sum(
        max([_cell_width(column.header), *(_cell_width(cell) for cell in column.cells)])
        for column in columns
        if column.max_width is None
    )
    room = width - others - 3 * len(columns) - 1  # a border and two spaces a column, one more
    for column in columns:
        if column.max_width is not None:
            column.max_width = min(column.max_width, max(FLEX_LEAST, room))
    return table


def review_tables(
    review: dict[str, Any], zone: str = DEFAULT_ZONE, lang: str = "zh", width: int = WIDTH
) -> list[Table]:
    """The review as tables of at most 100 columns: the session, the benchmarks, the funnel,
    the products (four tables: sales, refunds, clicks, explaining), the segments (three), the
    traffic sources, the incidents and alerts. `zone`: the studio's time zone (the settings'
    timezone), which every time is shown in; `width`: the terminal's, when under 100."""
    lang = words(lang)
    clock = _Clock(review, zone)
    tables = [
        _header(review, clock, lang),
        _benchmarks(review, lang),
        _funnel(review, lang),
        *_products(review, lang),
        *_segments(review, clock, lang),
        _sources(review, lang),
        _events(review, clock, lang),
    ]
    return [fit(table, min(width, WIDTH)) for table in tables]
