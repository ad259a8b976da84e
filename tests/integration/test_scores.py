"""Scorecards for every role on a hand-made month; each figure is worked out in the comments."""

from __future__ import annotations

import csv as csv_module
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.builders import Broadcast, event
from tests.integration.conftest import Api

NOV2 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
NOV3 = datetime(2026, 11, 3, 10, 0, tzinfo=UTC)
OCT5 = datetime(2026, 10, 5, 12, 0, tzinfo=UTC)


def person(pid: str, t: float, base: datetime = NOV2, **data: Any) -> dict[str, Any]:
    return {**event("person.registered", 0, data, person=pid), "occurred_at": _at(base, t)}


def _at(base: datetime, t: float) -> str:
    from tests.builders import at

    return at(t, base)


def p_event(
    pid: str, type_: str, data: dict[str, Any], base: datetime = NOV2, t: float = 0
) -> dict[str, Any]:
    body = event(type_, 0, data, person=pid)
    body["occurred_at"] = _at(base, t)
    return body


def target(pid: str, kpi: str, value: float, period: str = "2026-11") -> dict[str, Any]:
    return p_event(pid, "target.set", {"period": period, "kpi": kpi, "value": value})


def recorded(pid: str, kpi: str, value: float) -> dict[str, Any]:
    return p_event(pid, "metric.recorded", {"period": "2026-11", "kpi": kpi, "value": value})


def rating(pid: str, kind: str, value: float, base: datetime = NOV2) -> dict[str, Any]:
    return p_event(pid, "rating.recorded", {"kind": kind, "value": value}, base)


def month() -> list[dict[str, Any]]:
    s1 = (
        Broadcast("s-1", NOV2)
        .start(0, host_id="h-1", ops_id="o-1")
        .join(10, "b1", "ad")
        .join(11, "b2", "short_video")
        .join(12, "b3", "follow")
        .join(13, "v4")
        .interact(20, "like", "b1")
        .interact(21, "comment", "b2")
        .interact(22, "follow", "b3", count=3)
        .place(30, "o1", "b1", 1000)
        .pay(31, "o1")
        .place(32, "o2", "b2", 2000)
        .pay(33, "o2")
        .refund(34, "o2", 500)
        .add("ad.spend_recorded", 40, amount=900)
        .incident(50, "i1", kind="technical_failure")
        .resolve(60, "i1")
        .end(4 * 3600)
    )
    s2 = (
        Broadcast("s-2", NOV3)
        .start(0, host_id="h-1", ops_id="o-1")
        .join(5, "c1", "ad")
        .join(6, "c2", "recommend")
        .place(10, "o3", "c1", 1500)
        .pay(11, "o3")
        .incident(20, "i2", kind="other")
        .end(3600)
    )
    s0 = (
        Broadcast("s-0", OCT5)
        .start(0, host_id="h-1", ops_id="o-1")
        .join(1, "x1")
        .join(2, "x2")
        .join(3, "x3")
        .join(4, "x4")
        .end(600)
    )
    people = [
        person("h-1", 0, name="Li Na", role="host", on_air_since="2026-10-10", manager_id="sup-1"),
        person("h-2", 0, name="Wang Fang", role="host", on_air_since="2026-11-01"),
        person("o-1", 0, name="Zhao Lei", role="live_ops", manager_id="sup-1"),
        person("sup-1", 0, name="Chen Jie", role="supervisor", manager_id="d-1"),
        person("d-1", 0, name="Sun Yu", role="department_head", team_id="t1"),
        person("sv-1", 0, name="Zhou Min", role="short_video"),
        person("e-1", 0, name="Wu Hao", role="ecommerce_ops"),
        # host h-1: gmv target from tenure (month 2 on air: 5,000 yuan)
        target("h-1", "interaction_rate", 0.6),
        target("h-1", "new_followers", 10),
        target("h-1", "conversion_rate", 0.4),
        target("h-2", "new_followers", 5),
        # live-ops o-1: views_growth target defaults to October's views (4)
        target("o-1", "promoted_viewers", 5),
        target("o-1", "promoted_conversion", 0.5),
        target("o-1", "host_satisfaction", 100),
        rating("o-1", "host_satisfaction", 80),
        rating("o-1", "host_satisfaction", 90),
        rating("o-1", "host_satisfaction", 60, OCT5),  # October: not this period
        # supervisor
        target("sup-1", "gmv", 8000),
        target("sup-1", "roi", 4),
        target("sup-1", "gpm", 500000),
        target("sup-1", "viral_clips", 6),
        target("sup-1", "dsr", 4.8),
        recorded("sup-1", "viral_clips", 3),
        recorded("sup-1", "dsr", 4.8),
        # department head
        target("d-1", "team_gmv", 10000),
        target("d-1", "process_improvements", 2),
        target("d-1", "team_satisfaction", 80),
        recorded("d-1", "process_improvements", 2),
        # short video
        target("sv-1", "video_plays", 10000),
        target("sv-1", "video_conversion", 0.04),
        target("sv-1", "creative_quality", 80),
        target("sv-1", "production_efficiency", 1),
        recorded("sv-1", "video_plays", 12000),
        recorded("sv-1", "video_conversion", 0.02),
        rating("sv-1", "creative_quality", 70),
        recorded("sv-1", "production_efficiency", 0.9),
        # e-commerce ops: only recorded metrics, service_rating has no target
        target("e-1", "shop_sales", 40000),
        target("e-1", "product_rating", 4.8),
        recorded("e-1", "shop_sales", 50000),
        recorded("e-1", "product_rating", 4.5),
        recorded("e-1", "service_rating", 4.9),
        # host h-1's clips and fines
        p_event("h-1", "clip.published", {"clip_id": "c-a"}, NOV2, 100),
        p_event("h-1", "clip.published", {"clip_id": "c-b"}, NOV2, 200),
        p_event("h-1", "clip.published", {"clip_id": "c-c"}, NOV3, 100),
        p_event("h-1", "clip.published", {"clip_id": "c-d"}, datetime(2026, 11, 5, tzinfo=UTC)),
        p_event("h-1", "violation.recorded", {"rule": "smoking"}),
        p_event("h-1", "violation.recorded", {"rule": "register_not_filled"}),
        p_event("h-1", "violation.recorded", {"rule": "rubbish_left"}, OCT5),
    ]
    return s0.events + s1.events + s2.events + people


@pytest.fixture
def scored(api: Api) -> Api:
    assert api.post({"events": month()}).status_code == 201
    api.project_all()
    return api


def card(api: Api, pid: str, period: str = "2026-11") -> dict[str, Any]:
    response = api.get(f"/api/v1/scores/{pid}?period={period}")
    assert response.status_code == 200, response.json
    return response.json


def kpis(c: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k["key"]: k for k in c["kpis"]}


def test_host_scorecard(scored: Api) -> None:
    c = card(scored, "h-1")
    k = kpis(c)
    # net GMV 1000 + 2000 - 500 + 1500 = 4000 against the month-2 tenure target 5000
    assert (k["gmv"]["actual"], k["gmv"]["target"], k["gmv"]["target_source"]) == (
        4000.0,
        5000.0,
        "tenure",
    )
    assert k["gmv"]["points"] == pytest.approx(32)
    # interacting b1, b2, b3 over 6 unique viewers = 0.5; 0.5 / 0.6 * 20
    assert k["interaction_rate"]["actual"] == 0.5
    assert k["interaction_rate"]["points"] == pytest.approx(16.666667)
    assert k["new_followers"]["actual"] == 3 and k["new_followers"]["points"] == pytest.approx(6)
    # buyers b1, b2, c1 over 6 = 0.5 against 0.4: 1.25, capped at 1.2
    assert k["conversion_rate"]["attainment"] == 1.25
    assert k["conversion_rate"]["points"] == pytest.approx(24)
    assert c["score"] == pytest.approx(78.666667)
    assert (c["grade"], c["rank"], c["complete"]) == ("B", 1, True)


def test_host_compliance_and_fines_do_not_change_the_score(scored: Api) -> None:
    c = card(scored, "h-1")
    # Nov 2: 4 h on air, 2 clips; Nov 3: 1 h, 1 clip; Nov 5: no broadcast, 1 clip
    assert c["compliance"]["days_on_air"] == 2
    assert c["compliance"]["days_under_3_hours"] == 1
    assert c["compliance"]["days_under_2_clips"] == 2
    assert c["fines"]["total"] == 60.0 and c["fines"]["count"] == 2  # October's is not counted


def test_a_host_with_no_sessions_is_not_graded_and_ranks_after_the_graded(scored: Api) -> None:
    c = card(scored, "h-2")
    k = kpis(c)
    # Every host KPI is derived from broadcasts and h-2 had none: nothing was measured.
    assert {v["status"] for v in k.values()} == {"no_sessions"}
    assert all(v["weight"] == 0 and v["points"] == 0 for v in k.values())
    assert (c["score"], c["grade"], c["graded"], c["complete"], c["rank"]) == (
        0,
        None,
        False,
        False,
        2,
    )
    assert c["sessions"] == 0


def test_live_ops_scorecard(scored: Api) -> None:
    c = card(scored, "o-1")
    k = kpis(c)
    # views 4 + 2 = 6 against October's 4: 1.5, capped: 0.3 * 1.2 * 100
    assert (k["views_growth"]["actual"], k["views_growth"]["target"]) == (6, 4)
    assert k["views_growth"]["points"] == pytest.approx(36)
    # promoted (ad, short_video) viewers b1, b2, c1 = 3 of target 5; all three bought
    assert k["promoted_viewers"]["points"] == pytest.approx(9)
    assert k["promoted_conversion"]["actual"] == 1.0
    assert k["promoted_conversion"]["points"] == pytest.approx(18)
    # two incidents: 1 - 0.25 * 2 = 0.5
    assert k["incidents"]["actual"] == 2 and k["incidents"]["points"] == pytest.approx(10)
    # November ratings 80 and 90: 85 of 100
    assert k["host_satisfaction"]["actual"] == 85
    assert k["host_satisfaction"]["points"] == pytest.approx(17)
    assert c["score"] == pytest.approx(90) and c["grade"] == "A"


def test_supervisor_scorecard(scored: Api) -> None:
    c = card(scored, "sup-1")
    k = kpis(c)
    assert k["gmv"]["actual"] == 4000 and k["gmv"]["points"] == pytest.approx(10)
    assert k["roi"]["actual"] == 5.0 and k["roi"]["points"] == pytest.approx(24)  # 4500 / 900
    assert k["gpm"]["actual"] == 750000 and k["gpm"]["points"] == pytest.approx(24)
    assert k["viral_clips"]["points"] == pytest.approx(10)
    assert k["dsr"]["points"] == pytest.approx(20)
    assert c["score"] == pytest.approx(88) and c["grade"] == "B"


def test_department_head_scorecard(scored: Api) -> None:
    c = card(scored, "d-1")
    k = kpis(c)
    assert k["team_gmv"]["actual"] == 4000 and k["team_gmv"]["points"] == pytest.approx(16)
    assert k["process_improvements"]["points"] == pytest.approx(20)
    assert k["team_satisfaction"]["status"] == "no_data" and k["team_satisfaction"]["points"] == 0
    assert k["views_growth"]["points"] == pytest.approx(24)
    assert c["score"] == pytest.approx(60) and c["grade"] == "C" and c["complete"] is True


def test_short_video_scorecard(scored: Api) -> None:
    c = card(scored, "sv-1")
    assert c["score"] == pytest.approx(36 + 15 + 17.5 + 18) and c["grade"] == "B"


def test_a_role_with_only_recorded_metrics_and_a_missing_target(scored: Api) -> None:
    c = card(scored, "e-1")
    k = kpis(c)
    assert k["service_rating"]["status"] == "no_target"
    assert k["shop_sales"]["weight"] == pytest.approx(0.4 / 0.7, abs=1e-6)
    # shop sales 1.25 capped at 1.2; product rating 4.5 / 4.8 = 0.9375
    assert c["score"] == pytest.approx(0.4 / 0.7 * 120 + 0.3 / 0.7 * 93.75, abs=1e-4)
    assert c["complete"] is False and c["grade"] == "A"


def test_scores_list_a_role_in_rank_order_and_as_csv(scored: Api) -> None:
    body = scored.get("/api/v1/scores?period=2026-11&role=host").json
    assert [c["person_id"] for c in body["scorecards"]] == ["h-1", "h-2"]
    csv = scored.get("/api/v1/scores?period=2026-11&role=host&format=csv")
    assert csv.mimetype == "text/csv"
    assert csv.data.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel opens Chinese names
    lines = csv.data.decode("utf-8-sig").strip().splitlines()
    assert lines[0].startswith("period,person_id,name,role,score,grade,graded,rank")
    assert "gmv.actual" in lines[0] and lines[1].split(",")[1] == "h-1"


def test_scores_as_xlsx_hold_the_same_figures_as_the_json(scored: Api) -> None:
    body = scored.get("/api/v1/scores?period=2026-11&role=host").json
    response = scored.get("/api/v1/scores?period=2026-11&role=host&format=xlsx")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    header = rows[0]
    for card_, row in zip(body["scorecards"], rows[1:], strict=True):
        values = dict(zip(header, row, strict=True))
        assert values["person_id"] == card_["person_id"]
        assert values["score"] == card_["score"]
        assert values["grade"] == (card_["grade"] or None)


def test_csv_cells_that_would_run_as_formulas_are_neutralised(scored: Api) -> None:
    evil = event(
        "person.registered", 0, {"name": '=HYPERLINK("http://x")', "role": "host"}, person="h-evil"
    )
    assert scored.post(evil).status_code == 201
    scored.project_all()
    text = scored.get("/api/v1/scores?period=2026-11&role=host&format=csv").data.decode("utf-8-sig")
    row = next(csv_module.reader(line for line in text.splitlines() if "h-evil" in line))
    assert row[2] == '\'=HYPERLINK("http://x")'


def test_closing_freezes_the_period_and_a_late_refund_shows_as_a_correction(scored: Api) -> None:
    closed = scored.client.post("/api/v1/periods/2026-11/close", headers=scored.headers("admin"))
    assert closed.status_code == 201
    again = scored.client.post("/api/v1/periods/2026-11/close", headers=scored.headers("admin"))
    assert again.status_code == 409
    late = Broadcast("s-1", NOV2).refund(15 * 86400, "o1", 500).events
    assert scored.post({"events": late}).status_code == 201
    scored.project_all()
    c = card(scored, "h-1")
    assert c["closed"] is True and c["frozen"] is True
    assert c["score"] == pytest.approx(78.666667)  # the frozen figure
    # net GMV now 3500: 0.7 * 40 = 28 instead of 32
    assert c["corrections"]["score"] == pytest.approx(-4)
    assert c["corrections"]["kpis"]["gmv"]["actual"] == 3500


def test_closing_needs_the_admin_scope(scored: Api) -> None:
    response = scored.client.post("/api/v1/periods/2026-11/close", headers=scored.headers("read"))
    assert response.status_code == 403


def test_bad_score_queries_name_the_parameter(scored: Api) -> None:
    assert "period" in scored.get("/api/v1/scores").json["errors"]["query"]
    assert "period" in scored.get("/api/v1/scores?period=2026-13").json["errors"]["query"]
    assert "role" in scored.get("/api/v1/scores?period=2026-11&role=chef").json["errors"]["query"]
    assert scored.get("/api/v1/scores/nobody?period=2026-11").status_code == 404


def test_a_custom_range_scores_sessions_started_in_it(scored: Api) -> None:
    body = scored.get("/api/v1/scores?from=2026-11-03&to=2026-11-03&role=host").json
    h1 = next(c for c in body["scorecards"] if c["person_id"] == "h-1")
    assert kpis(h1)["gmv"]["actual"] == 1500  # only s-2 started on Nov 3


def test_scorecards_show_the_definitions_in_force(scored: Api) -> None:
    body = scored.get("/api/v1/scorecards").json
    assert body["cap"] == 1.2
    assert [k["key"] for k in body["roles"]["host"]] == [
        "gmv",
        "interaction_rate",
        "new_followers",
        "conversion_rate",
    ]


@pytest.mark.parametrize(
    ("zone", "counted_in", "not_in", "day"),
    [
        ("Asia/Shanghai", "2026-11", "2026-10", "2026-11-01"),
        ("UTC", "2026-10", "2026-11", "2026-10-31"),
    ],
)
def test_a_session_at_2330_utc_on_the_last_day_counts_in_the_studios_month(
    sqlite_url: str, zone: str, counted_in: str, not_in: str, day: str
) -> None:
    from service.auth.tokens import create_token
    from service.process.app import create_app
    from service.process.runtime import build_runtime
    from service.process.settings import Settings

    runtime = build_runtime(Settings(database_url=sqlite_url, timezone=zone))
    api = Api(
        create_app(runtime=runtime).test_client(),
        runtime,
        {s: create_token(runtime.engine, [s]) for s in ("ingest", "read", "admin")},
    )
    try:
        late = datetime(2026, 10, 31, 23, 30, tzinfo=UTC)  # 07:30 on 1 November in Beijing
        b = (
            Broadcast("s-late", late)
            .start(0, host_id="h-9")
            .place(60, "o1", "b1", "300.00")
            .pay(61, "o1")
            .end(4 * 3600)
        )
        events = [
            person(
                "h-9",
                0,
                datetime(2026, 10, 1, tzinfo=UTC),
                name="九号",
                role="host",
                on_air_since="2026-09-01",
            )
        ]
        assert api.post({"events": events + b.events}).status_code == 201
        api.project_all()
        inside = kpis(card(api, "h-9", counted_in))
        assert inside["gmv"]["actual"] == 300.0
        assert card(api, "h-9", counted_in)["compliance"]["days_on_air"] == 1
        assert kpis(card(api, "h-9", not_in))["gmv"]["actual"] in (0.0, None)
        listed = api.get(f"/api/v1/sessions?from={day}&to={day}").json
        assert [s["session_id"] for s in listed["sessions"]] == ["s-late"]
    finally:
        runtime.close()


def test_a_session_fed_only_reports_and_orders_scores_on_the_reported_figures(api: Api) -> None:
    # h-r: reported UV 400, interacting 100, followers 12; 2 buyers from order events (300.00)
    b = (
        Broadcast("s-rep", NOV2)
        .start(0, host_id="h-r")
        .report(60, unique_viewers=400, interacting_viewers=100, new_followers=12)
        .place(70, "o1", "b1", "100.00")
        .pay(71, "o1")
        .place(80, "o2", "b2", "200.00")
        .pay(81, "o2")
        .end(3600)
    )
    people = [person("h-r", 0, name="报数主播", role="host", on_air_since="2026-09-01")]
    targets = [target("h-r", "interaction_rate", 0.5), target("h-r", "conversion_rate", 0.01)]
    assert api.post({"events": people + targets + b.events}).status_code == 201
    api.project_all()
    k = kpis(card(api, "h-r"))
    assert k["interaction_rate"]["actual"] == 100 / 400  # reported interacting / reported UV
    assert k["conversion_rate"]["actual"] == 2 / 400  # buyers from orders / reported UV
    assert k["new_followers"]["actual"] == 12
    assert k["gmv"]["actual"] == 300.0
    review = api.get("/api/v1/sessions/s-rep/review").json
    assert review["metrics"]["unique_viewers"] == 400
