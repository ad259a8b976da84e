"""The review as a reader gets it: the CLI's tables (service/reads/review_tables.py) and the
workbook (service/reads/exports.py), built from a review folded from real events, in both
languages, with the longest real values."""

from __future__ import annotations

import copy
import io
import re
from datetime import datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from openpyxl.workbook.workbook import Workbook
from rich.cells import cell_len
from rich.console import Console

from projections.review import benchmarks, session_review
from projections.segments import products_and_segments
from projections.session import SessionState, fold_session
from projections.session_metrics import session_metrics
from projections.timeline import session_timeline
from service.reads.exports import review_workbook
from service.reads.review_tables import review_tables
from tests.builders import Broadcast
from tests.review_support import SHEETS, column_text

# 20 Chinese characters (40 columns), 50 Chinese characters (100 columns): the longest real ones.
NAME = "修护精华液三十毫升限定礼盒装大容量版本"[:19] + "装"
TITLE = ("家居好物限时购直播间年终大促第一场全场五折起" * 3)[:50]
BIG = 9_999_999_999.99
BIG_SHOWN = "¥9,999,999,999.99"
DEFAULT_WIDTH = 8.43  # Excel's column width when none is set

# Hand-picked moments (UTC, session start 2026-11-02 12:00:00Z) and what Shanghai reads.
SHANGHAI = {
    "start": datetime(2026, 11, 2, 20, 0, 0),
    "pin": datetime(2026, 11, 2, 20, 0, 5),
    "unpin": datetime(2026, 11, 2, 20, 3, 20),
    "incident": datetime(2026, 11, 2, 20, 1, 30),
    "resolved": datetime(2026, 11, 2, 20, 2, 30),
    "drop": datetime(2026, 11, 2, 20, 4, 0),
    "end": datetime(2026, 11, 2, 21, 0, 0),
}

MONEY_KEYS = ("gmv", "net_gmv", "refunds", "price", "gpm", "uv_value", "aov")


def folded(
    title: str = TITLE, name: str = NAME, description: str = "推流中断"
) -> tuple[dict[str, Any], dict[str, Any]]:
    """The review (with benchmarks against one earlier session) and the timeline of an ended
    broadcast: two viewers, one order of ¥1,234.50, a product presented from 20:00:05 to
    20:03:20, an interruption 20:01:30-20:02:30, an online drop at 20:04:00 (Shanghai)."""
    b = (
        Broadcast("s-1")
        .start(0, title=title)
        .join(1, "v1", "ad")
        .join(2, "v2", "recommend")
        .pin(5, "p-A", name=name, price="1234.50")
        .click(6, "v1", "p-A")
        .place(7, "o1", "v1", "1234.50", "p-A")
        .pay(8, "o1")
        .sample(60, 100)
        .add(
            "incident.opened",
            90,
            incident_id="i-1",
            kind="stream_interruption",
            severity=2,
            description=description,
        )
        .resolve(150, "i-1")
        .unpin(200, "p-A")
        .sample(240, 20)
        .end(3600)
    )
    state = SessionState("s-1")
    for event in b.stored():
        state = fold_session(state, event)
    metrics = session_metrics(state)
    products, segments = products_and_segments(state)
    review = session_review(state, metrics, products, segments)
    earlier = {**metrics, "gmv": 1000.0, "conversion_rate": 0.25}
    review["benchmarks"] = benchmarks(metrics, [earlier], [earlier])
    return review, session_timeline(state, segments)


def longest(review: dict[str, Any]) -> dict[str, Any]:
    """The review with every amount at ¥9,999,999,999.99 and every count in the millions."""
    big = copy.deepcopy(review)
    rows = [*big["products"], *big["segments"], *big["traffic_sources"].values()]
    for row in rows:
        for key, value in row.items():
            if key in MONEY_KEYS:
                row[key] = BIG
            elif isinstance(value, int) and not isinstance(value, bool):
                row[key] = 9_999_999
    for key, mark in big["benchmarks"].items():
        if key in MONEY_KEYS:
            mark.update(value=BIG, host_median=BIG, room_median=BIG, vs_host=-0.9999)
    big["host_name"] = "主播名字最长可以有二十个字符这么长的名字"
    return big


def printed(
    review: dict[str, Any], lang: str = "zh", width: int = 200, zone: str = "Asia/Shanghai"
) -> str:
    console = Console(width=width, file=io.StringIO(), record=True)
    for table in review_tables(review, zone=zone, lang=lang, width=width):
        console.print(table)
    return console.export_text()


def book_of(review: dict[str, Any], timeline: dict[str, Any], **kw: Any) -> Workbook:
    return load_workbook(io.BytesIO(review_workbook(review, timeline, **kw)))


def rows_of(book: Workbook, index: int) -> list[tuple[Any, ...]]:
    return list(book.worksheets[index].iter_rows(values_only=True))


def column(book: Workbook, index: int, header: str) -> list[Any]:
    """The cells (not values) under a header of a sheet."""
    sheet = book.worksheets[index]
    headers = [c.value for c in sheet[1]]
    return [row[headers.index(header)] for row in sheet.iter_rows(min_row=2)]


# -- the CLI's tables ---------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_tables_fit_100_columns_with_the_longest_values(lang: str) -> None:
    review, _ = folded()
    text = printed(longest(review), lang, width=200)
    assert max(cell_len(line) for line in text.splitlines()) <= 100
    assert "…" not in text
    assert BIG_SHOWN in text
    # the name on one line, the title whole (it wraps, beside its label, at 100 columns)
    assert any(NAME in line for line in text.splitlines())
    assert TITLE in column_text(text, 1)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_on_an_80_column_terminal_names_wrap_and_nothing_is_cut_short(lang: str) -> None:
    review, _ = folded()
    text = printed(longest(review), lang, width=80)
    assert max(cell_len(line) for line in text.splitlines()) <= 80
    assert "…" not in text
    assert NAME in column_text(text, 0)  # the products' and segments' names, wrapped
    assert TITLE in column_text(text, 1)  # the title, beside its label
    assert BIG_SHOWN in text  # the products' amounts stay whole; names wrap beside them


def test_the_tables_show_the_pages_chinese_labels_not_keys() -> None:
    review, _ = folded()
    text = printed(review, "zh")
    for words in ("复盘", "对比本人历史", "成交额", "净成交额", "商品榜", "讲解片段", "流量来源"):
        assert words in text
    assert "直播中断" in text and "在线人数骤降" in text and "广告" in text and "推荐" in text
    assert not re.findall(r"\b[a-z]+_[a-z_]+\b", text)  # no snake_case key left


def test_the_tables_show_english_labels_with_lang_en() -> None:
    review, _ = folded(title="Winter sale, night one", description="encoder restarted")
    text = printed(review, "en")
    for words in ("Review", "Against earlier sessions", "Net GMV", "Stream interruption"):
        assert words in text
    assert "Online dropped" in text and "Ads" in text and "Recommended" in text
    assert not re.findall(r"[\u4e00-\u9fff]", text.replace(NAME, ""))  # but the producer's
    assert not re.findall(r"\b[a-z]+_[a-z_]+\b", text)


def test_rates_read_as_percentages_and_money_in_yuan_with_separators() -> None:
    review, _ = folded()
    review["benchmarks"]["conversion_rate"]["value"] = 0.5724
    text = printed(review)
    assert "57.24%" in text and "0.5724" not in text
    assert "¥1,234.50" in text  # the order, the product's GMV and price
    assert "+23.45%" in text  # GMV 1,234.50 against the host's median of 1,000


def test_times_are_the_studio_zone_and_the_zone_is_named() -> None:
    review, _ = folded()
    shanghai = printed(review)
    assert "2026-11-02 20:00:00 (Asia/Shanghai)" in shanghai
    assert "20:00:05" in shanghai and "20:03:20" in shanghai  # the segment
    assert "20:01:30" in shanghai and "20:04:00" in shanghai  # the incident, the drop
    assert "T12:" not in shanghai and "Z" not in shanghai.replace("Asia/Shanghai", "")
    utc = printed(review, zone="UTC")
    assert "2026-11-02 12:00:00 (UTC)" in utc and "12:00:05" in utc


def test_producer_strings_print_as_text_not_markup() -> None:
    review, _ = folded(title="[red]大促[/red]", name="[bold]面霜[/bold]", description="[blink]x")
    text = printed(review)
    assert "[red]大促[/red]" in text and "[bold]面霜[/bold]" in text and "[blink]x" in text


# -- the workbook -------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_workbook_has_a_sheet_for_every_section_of_the_page(lang: str) -> None:
    review, timeline = folded()
    assert book_of(review, timeline, lang=lang).sheetnames == SHEETS[lang]


def test_the_workbook_is_chinese_by_default_and_english_with_lang_en() -> None:
    review, timeline = folded()
    zh, en = book_of(review, timeline), book_of(review, timeline, lang="en")
    assert zh.sheetnames == SHEETS["zh"]
    assert rows_of(zh, 1)[0][:4] == ("商品编号", "名称", "价格", "讲解次数")
    assert rows_of(en, 1)[0][:4] == ("Product id", "Name", "Price", "Explanations")
    assert rows_of(zh, 0)[0][:5] == ("指标", "本场", "主播中位数", "直播间中位数", "对比主播")
    assert rows_of(en, 0)[0][:5] == (
        "Metric",
        "This session",
        "Host median",
        "Room median",
        "vs host",
    )
    assert [row[0] for row in rows_of(zh, 4)[1:]] == ["广告", "推荐"]  # sources by label
    assert [row[1] for row in rows_of(en, 5)[1:]] == ["Stream interruption"]
    # the drop, and the room's silence from 20:04:00 (its last event) until the end event
    assert [row[1] for row in rows_of(en, 6)[1:]] == ["Online dropped", "No events for 60 s"]
    for book in (zh, en):
        for sheet in book.worksheets:
            headers = [c.value for c in sheet[1]]
            assert not [h for h in headers if re.fullmatch(r"[a-z]+_[a-z_]+", str(h))]


def test_money_and_rates_are_numbers_in_yuan_and_percent_formats() -> None:
    review, timeline = folded()
    book = book_of(review, timeline)
    (gmv,) = column(book, 1, "成交额")
    (refund_rate,) = column(book, 1, "退款率")
    (click_to_pay,) = column(book, 1, "点击支付率")
    assert (gmv.value, gmv.number_format) == (1234.5, "¥#,##0.00")
    assert (refund_rate.value, refund_rate.number_format) == (0, "0.00%")
    assert (click_to_pay.value, click_to_pay.number_format) == (1, "0.00%")
    summary = {row[0].value: row[1:] for row in book.worksheets[0].iter_rows(min_row=2)}
    conversion = summary["转化率"][0]
    assert (conversion.value, conversion.number_format) == (0.5, "0.00%")
    assert summary["成交额"][0].number_format == "¥#,##0.00"
    assert summary["成交额"][3].value == pytest.approx(0.2345)  # vs host, a rate
    assert summary["成交额"][3].number_format.startswith("+0.00%")
    ad = next(row for row in book.worksheets[4].iter_rows(min_row=2) if row[0].value == "广告")
    assert (ad[4].value, ad[4].number_format) == (1234.5, "¥#,##0.00")
    assert (ad[5].value, ad[5].number_format) == (1, "0.00%")


def test_every_sheet_freezes_its_header_row_and_sizes_its_columns() -> None:
    review, timeline = folded()
    book = book_of(longest(review), timeline)
    for sheet in book.worksheets:
        assert sheet.freeze_panes == "A2"
        assert all(cell.font.bold for cell in sheet[1])
        widths = [sheet.column_dimensions[c.column_letter].width for c in sheet[1]]
        assert all(width > DEFAULT_WIDTH for width in widths), sheet.title
    names = book.worksheets[1]
    assert names.column_dimensions["B"].width >= 40 + 2  # 20 Chinese characters count double
    assert names.column_dimensions["C"].width >= len(BIG_SHOWN)


def test_times_are_excel_times_in_the_studio_zone() -> None:
    review, timeline = folded()
    book = book_of(review, timeline)
    summary = {row[0]: row[1] for row in rows_of(book, 0)[1:]}
    assert (summary["开始"], summary["结束"]) == (SHANGHAI["start"], SHANGHAI["end"])
    assert summary["时区"] == "Asia/Shanghai"
    (started,) = column(book, 2, "开始")
    (ended,) = column(book, 2, "结束")
    assert (started.value, ended.value) == (SHANGHAI["pin"], SHANGHAI["unpin"])
    assert started.is_date and started.number_format == "yyyy-mm-dd hh:mm:ss"
    assert column(book, 3, "时间")[0].value == SHANGHAI["start"]  # the first minute
    assert [c.value for c in column(book, 5, "开始")] == [SHANGHAI["incident"]]
    assert [c.value for c in column(book, 5, "结束")] == [SHANGHAI["resolved"]]
    # the drop, and the silence raised 60 s after the last event at 20:04:00; both over at
    # the end (the drop ends with the broadcast, the end event ends the silence)
    assert [c.value for c in column(book, 6, "时间")] == [
        SHANGHAI["drop"],
        SHANGHAI["drop"] + timedelta(minutes=1),
    ]
    assert [c.value for c in column(book, 6, "结束")] == [SHANGHAI["end"], SHANGHAI["end"]]
    new_york = book_of(review, timeline, zone="America/New_York")
    assert column(new_york, 2, "开始")[0].value == datetime(2026, 11, 2, 7, 0, 5)  # EST


def test_cells_a_spreadsheet_would_run_are_neutralised() -> None:
    review, timeline = folded(
        title='=HYPERLINK("http://evil.example")', name="+cmd|' /C calc'!A0", description="@SUM(1)"
    )
    book = book_of(review, timeline)
    summary = {row[0]: row[1] for row in rows_of(book, 0)[1:]}
    assert summary["标题"] == '\'=HYPERLINK("http://evil.example")'
    assert column(book, 1, "名称")[0].value == "'+cmd|' /C calc'!A0"
    assert column(book, 5, "详情")[0].value == "'@SUM(1)"
    for sheet in book.worksheets:
        assert not [c for row in sheet.iter_rows() for c in row if c.data_type == "f"]


def test_alerts_say_where_they_stand_in_the_pages_words() -> None:
    # the drop (20:04) and the silence after the last event (20:05) both ended at 21:00: the
    # broadcast's end ends the drop, the end event ends the silence
    review, timeline = folded()
    assert [(a["kind"], a["state"]) for a in review["alerts"]] == [
        ("online_drop", "cleared"),
        ("no_events", "cleared"),
    ]
    assert printed(review, "zh").count("已解除 21:00") == 2
    assert printed(review, "en").count("cleared 21:00") == 2
    book = book_of(review, timeline)
    assert [c.value for c in column(book, 6, "状态")] == ["已解除", "已解除"]
    english = book_of(review, timeline, lang="en")
    assert [c.value for c in column(english, 6, "Status")] == ["cleared", "cleared"]
