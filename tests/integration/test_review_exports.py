"""`livetally review SESSION` and the review download on a real database: the tables fit the
terminal with the longest real values, in the studio's zone and the chosen language; the
workbook is Chinese and in the studio's zone by default."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from openpyxl import load_workbook
from rich.cells import cell_len

from service.cli import main
from tests.builders import Broadcast
from tests.integration.conftest import Api
from tests.review_support import SHEETS, column_text

START = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)  # 20:00 in Shanghai
TITLE = ("冬季护肤新品首发夜年终大促第一场全场五折起" * 3)[:50]
NAME = "修护精华液三十毫升限定礼盒装大容量版本装"
BIG_SHOWN = "¥9,999,999,999.99"


def longest(api: Api) -> None:
    """A session "big" with a 50-character title, a 20-character name, and ¥9,999,999,999.99
    of sales (99 orders of the largest amount an order may carry and one of ¥99,999,999.99)."""
    b = (
        Broadcast("big", START)
        .start(0, title=TITLE)
        .join(1, "v1", "ad")
        .pin(5, "p-A", name=NAME, price="99999999.99")
        .click(6, "v1", "p-A")
    )
    for k in range(100):
        amount = "99999999.99" if k == 99 else "100000000"
        b.place(10 + k, f"o{k}", "v1", amount, "p-A").pay(10 + k, f"o{k}")
    b.incident(150, "i-1").resolve(210, "i-1").end(3600)
    assert api.post({"events": b.events}).status_code == 201
    api.project_all()


def review(api: Api, *args: str, columns: int = 100, **env: str) -> Result:
    result = CliRunner().invoke(
        main,
        ["review", "big", *args, "--db", api.runtime.settings.database_url],
        env={"COLUMNS": str(columns), **env},
    )
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("columns", [80, 100])
def test_the_review_command_fits_the_terminal_and_cuts_nothing(
    api: Api, columns: int, lang: str
) -> None:
    longest(api)
    text = review(api, "--lang", lang, columns=columns).output
    assert max(cell_len(line) for line in text.splitlines()) <= min(columns, 100)
    assert "…" not in text
    assert BIG_SHOWN in text  # the products' and segments' sales, whole
    assert NAME in column_text(text, 0) and TITLE in column_text(text, 1)


def test_a_wide_terminal_still_gets_tables_of_100_columns_at_most(api: Api) -> None:
    longest(api)
    text = review(api, columns=200).output
    assert max(cell_len(line) for line in text.splitlines()) <= 100
    assert any(NAME in line for line in text.splitlines())  # a name on one line


def test_the_review_command_shows_local_times_with_their_zone(api: Api) -> None:
    longest(api)
    shanghai = review(api).output
    assert "2026-11-21 20:00:00 (Asia/Shanghai)" in shanghai
    assert "20:02:30" in shanghai  # the incident
    utc = review(api, LIVETALLY_TIMEZONE="UTC").output
    assert "2026-11-21 12:00:00 (UTC)" in utc and "12:02:30" in utc


def test_the_review_command_writes_the_workbook_in_its_language_and_zone(
    api: Api, tmp_path: Path
) -> None:
    longest(api)
    zh, en = tmp_path / "zh.xlsx", tmp_path / "en.xlsx"
    review(api, "--xlsx", str(zh))
    review(api, "--xlsx", str(en), "--lang", "en", LIVETALLY_TIMEZONE="UTC")
    chinese, english = load_workbook(zh), load_workbook(en)
    assert (chinese.sheetnames, english.sheetnames) == (SHEETS["zh"], SHEETS["en"])
    assert chinese["概要"]["B7"].value == datetime(2026, 11, 21, 20, 0)  # the start
    assert english["Summary"]["B7"].value == datetime(2026, 11, 21, 12, 0)
    assert chinese["概要"]["A7"].value == "开始" and english["Summary"]["A7"].value == "Start"


def test_the_review_download_is_chinese_and_in_the_studio_zone(api: Api) -> None:
    longest(api)
    response = api.get("/api/v1/sessions/big/review?format=xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == SHEETS["zh"]
    products = book["商品榜"]
    headers = [c.value for c in products[1]]
    gmv = products.cell(row=2, column=headers.index("成交额") + 1)
    assert (gmv.value, gmv.number_format) == (pytest.approx(9_999_999_999.99), "¥#,##0.00")
    incidents = book["直播事故"]
    assert incidents["D2"].value == START.replace(tzinfo=None) + timedelta(hours=8, seconds=150)
    assert all(sheet.freeze_panes == "A2" for sheet in book.worksheets)
