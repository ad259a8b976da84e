"""GET /sessions/{id}/review on both backends: the figures, the benchmarks, the workbook."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from projections.tables import session_review, session_timeline
from service.cli import main
from tests.builders import Broadcast
from tests.integration.conftest import Api
from tests.review_support import SHEETS

DAY1 = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def earlier(api: Api, count: int, host: str = "h-1") -> None:
    """`count` ended sessions of the host, one a day before DAY1 + 20 days: session k sells
    one order of 10 * (k + 1) yuan."""
    events = []
    for k in range(count):
        b = Broadcast(f"past-{k}", DAY1 + timedelta(days=k))
        b.start(0, host_id=host).join(1, "v1").place(2, f"o{k}", "v1", 10 * (k + 1)).pay(3, f"o{k}")
        b.end(60)
        events += b.events
    if events:
        assert api.post({"events": events}).status_code == 201


def current(api: Api) -> None:
    b = (
        Broadcast("now", DAY1 + timedelta(days=20))
        .start(0)
        .join(1, "v1", "ad")
        .join(2, "v2")
        .pin(5, "p-A", name="口红")
        .click(6, "v1", "p-A")
        .place(7, "oN", "v1", 300, "p-A")
        .pay(8, "oN")
    )
    assert api.post({"events": b.events}).status_code == 201


@pytest.mark.parametrize(("count", "median"), [(0, None), (1, 10.0), (2, 15.0), (11, 65.0)])
def test_review_benchmarks_the_host_median_over_earlier_sessions(
    api_any: Api, count: int, median: float | None
) -> None:
    # 11 earlier: the 10 most recent sell 20..110, median (60 + 70) / 2 = 65.
    earlier(api_any, count)
    current(api_any)
    api_any.project_all()
    review = api_any.get("/api/v1/sessions/now/review").json
    gmv = review["benchmarks"]["gmv"]
    assert (gmv["value"], gmv["host_median"], gmv["room_median"]) == (300.0, median, median)
    assert gmv["vs_host"] == (None if median is None else pytest.approx(300 / median - 1))
    assert review["funnel"]["stages"][2] == {"stage": "buyers", "value": 1, "rate": 1.0}
    assert review["products"][0]["name"] == "口红"
    assert review["segments"][0]["ended_at"] is None  # live: still open
    assert review["traffic_sources"]["ad"]["gmv"] == 300.0


def test_review_as_xlsx_holds_the_json_figures(api_any: Api) -> None:
    earlier(api_any, 2)
    current(api_any)
    api_any.project_all()
    review = api_any.get("/api/v1/sessions/now/review").json
    response = api_any.get("/api/v1/sessions/now/review?format=xlsx")
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.data))
    assert book.sheetnames == SHEETS["zh"]
    summary = {row[0]: row[1:] for row in book["概要"].iter_rows(min_row=2, values_only=True)}
    assert summary["成交额"][0] == 300.0 and summary["成交额"][1] == 15.0
    products = list(book["商品榜"].iter_rows(values_only=True))
    assert products[1][:2] == ("p-A", "口红")
    gmv_column = products[0].index("成交额")
    assert products[1][gmv_column] == review["products"][0]["gmv"]
    assert isinstance(products[1][gmv_column], float | int)  # a number, not text
    minutes = list(book["分钟趋势"].iter_rows(values_only=True))
    assert len(minutes) - 1 == len(api_any.get("/api/v1/sessions/now/timeline").json["minutes"])


def test_review_workbook_follows_lang_and_refuses_an_unknown_one(api: Api) -> None:
    current(api)
    api.project_all()
    response = api.get("/api/v1/sessions/now/review?format=xlsx&lang=en")
    assert response.status_code == 200
    assert load_workbook(io.BytesIO(response.data)).sheetnames == SHEETS["en"]
    refused = api.get("/api/v1/sessions/now/review?format=xlsx&lang=fr")
    assert refused.status_code == 422 and "lang" in refused.get_data(as_text=True)


def test_review_of_an_unknown_session_is_404(api: Api) -> None:
    assert api.get("/api/v1/sessions/nope/review").status_code == 404


def test_the_review_command_prints_tables_and_writes_the_workbook(api: Api, tmp_path: Path) -> None:
    current(api)
    b = Broadcast("now", DAY1 + timedelta(days=20)).pin(9, "p-B", name="[bold]面霜[/bold]")
    assert api.post({"events": b.events}).status_code == 201
    api.project_all()
    out = tmp_path / "review.xlsx"
    result = CliRunner().invoke(
        main,
        ["review", "now", "--xlsx", str(out), "--db", api.runtime.settings.database_url],
        env={"COLUMNS": "300"},
    )
    assert result.exit_code == 0, result.output
    assert "口红" in result.output and "[bold]面霜[/bold]" in result.output  # text, not markup
    assert load_workbook(out).sheetnames == SHEETS["zh"]


def test_a_live_review_counts_the_open_explanation_to_the_clock_its_rows_left_alone(
    api_any: Api,
) -> None:
    # p-A explained 5 -> 20 s (15 s), p-B from 20 s, still open; then likes only move the
    # clock: at 30 s B has 10 s, at 50 s 30 s. The run of the 50 s like leaves the stored
    # review and timeline rows as the 30 s run wrote them (nothing in them moves with the
    # clock); the review, the timeline and the session count B's seconds to the clock.
    b = Broadcast("exp", DAY1).start(0).pin(5, "p-A").pin(20, "p-B").interact(30, "like", "v1")
    assert api_any.post({"events": b.events}).status_code == 201
    api_any.project_all()
    review = api_any.get("/api/v1/sessions/exp/review").json
    assert [s["seconds"] for s in review["segments"]] == [15, 10]
    rows = select(session_review.c.body, session_timeline.c.body).join_from(
        session_review,
        session_timeline,
        session_review.c.session_id == session_timeline.c.session_id,
    )
    with api_any.runtime.engine.connect() as conn:
        before = conn.execute(rows).one()
    later = Broadcast("exp", DAY1).interact(50, "like", "v2")
    assert api_any.post({"events": later.events}).status_code == 201
    api_any.project_all()
    review = api_any.get("/api/v1/sessions/exp/review").json
    assert [(s["product_id"], s["seconds"]) for s in review["segments"]] == [
        ("p-A", 15),
        ("p-B", 30),
    ]
    seconds = {p["product_id"]: p["explanation_seconds"] for p in review["products"]}
    assert seconds == {"p-A": 15, "p-B": 30}
    document = api_any.get("/api/v1/sessions/exp").json
    assert {p["product_id"]: p["explanation_seconds"] for p in document["products"]} == seconds
    timeline = api_any.get("/api/v1/sessions/exp/timeline").json
    assert timeline["segments"] == review["segments"]
    assert "explaining_since" not in timeline and "explaining_since" not in review
    with api_any.runtime.engine.connect() as conn:
        assert conn.execute(rows).one() == before
