"""The platform's own counts (room.stats_reported) against the event-derived ones: each
precedence rule of docs/contract.md on a small broadcast worked out by hand, and a property:
any arrival order of the same events gives the same document.

The broadcast starts at 12:00:00 (T0). Readings are at whole seconds after it."""

from __future__ import annotations

import random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from projections.session import SessionState, fold_all
from projections.session_metrics import session_metrics
from projections.session_rows import session_document_of
from projections.timeline import session_timeline
from tests.builders import Broadcast


def fold(b: Broadcast) -> SessionState:
    return fold_all(SessionState(b.session_id), b.stored())


def metrics(b: Broadcast) -> dict[str, Any]:
    return session_metrics(fold(b))


def events_only() -> Broadcast:
    """3 joins by 2 viewers, a like, 2 clicks by 1 viewer, one paid order of 100.00."""
    return (
        Broadcast()
        .start(0)
        .join(10, "v1", "recommend")
        .join(20, "v2", "follow")
        .join(30, "v1", "recommend")
        .interact(40, "like", "v1", count=5)
        .click(50, "v1")
        .click(55, "v1")
        .place(60, "o1", "v1", "100.00")
        .pay(61, "o1")
    )


def test_a_reported_figure_wins_over_events_and_every_ratio_uses_the_winner() -> None:
    b = events_only().report(
        120, views=1000, unique_viewers=400, product_clicks=90, clicking_viewers=40
    )
    m = metrics(b)
    assert (m["views"], m["unique_viewers"], m["product_clicks"], m["clicking_viewers"]) == (
        1000,
        400,
        90,
        40,
    )
    # orders stay the events' truth: 1 buyer, 100.00
    assert (m["buyers"], m["gmv"]) == (1, 100.0)
    assert m["conversion_rate"] == 1 / 400
    assert m["click_rate"] == 40 / 400
    assert m["click_to_order_rate"] == 1 / 40
    assert m["gpm"] == 100.0 / 1000 * 1000
    assert m["uv_value"] == 100.0 / 400
    # a figure no report carries stays the events': 1 interacting viewer (v1's like)
    assert m["interacting_viewers"] == 1
    assert m["figure_sources"]["views"] == {
        "from": "reported",
        "source": "qianchuan",
        "as_of": "2026-11-02T12:02:00.000Z",
    }
    assert m["figure_sources"]["interacting_viewers"] == {"from": "events"}


def test_the_latest_report_carrying_a_figure_wins_even_if_a_later_one_omits_it() -> None:
    b = (
        events_only()
        .report(120, views=1000, unique_viewers=400)
        .report(180, views=1500)  # a partial report: no unique_viewers
    )
    m = metrics(b)
    assert (m["views"], m["unique_viewers"]) == (1500, 400)
    assert m["figure_sources"]["unique_viewers"]["as_of"] == "2026-11-02T12:02:00.000Z"
    assert m["figure_sources"]["views"]["as_of"] == "2026-11-02T12:03:00.000Z"


def test_latest_is_by_occurred_at_so_a_late_old_report_changes_nothing() -> None:
    in_order = events_only().report(120, views=1000).report(180, views=1500)
    late = events_only().report(180, views=1500).report(120, views=1000)
    assert metrics(in_order)["views"] == metrics(late)["views"] == 1500


def test_a_report_older_than_an_event_still_wins_for_its_figure() -> None:
    # The report at 5 s says 7 views; joins at 10-30 s come later in time. The report carries
    # the figure, so its value is the session's (the platform's count supersedes the events').
    b = events_only().report(5, views=7)
    assert metrics(b)["views"] == 7


def test_online_is_the_latest_reading_of_reports_and_samples() -> None:
    b = events_only().sample(100, online=50).report(90, online=70)
    assert metrics(b)["online"] == 50  # the sample at 100 s is the latest reading
    b = events_only().sample(100, online=50).report(110, online=70)
    m = metrics(b)
    assert m["online"] == 70
    assert m["figure_sources"]["online"]["from"] == "reported"
    assert m["peak_online"] == 70


def test_interaction_kinds_and_new_followers_follow_their_reported_figures() -> None:
    b = (
        events_only()
        .interact(45, "comment", "v2", text="hi")
        .interact(46, "follow", "v2")
        .report(120, likes=300, new_followers=12)
    )
    m = metrics(b)
    assert m["interactions"]["like"] == 300  # reported
    assert m["interactions"]["comment"] == 1  # not reported: the event
    assert m["interactions"]["follow"] == 12 and m["new_followers"] == 12
    assert m["figure_sources"]["interactions.like"]["from"] == "reported"
    assert m["figure_sources"]["new_followers"]["from"] == "reported"


def test_reported_ad_spend_replaces_the_spend_events_sum() -> None:
    b = events_only().add("ad.spend_recorded", 70, amount="30.00").report(120, ad_spend="50.00")
    m = metrics(b)
    assert (m["ad_spend"], m["roi"]) == (50.0, 100.0 / 50.0)


def test_reported_sources_replace_the_join_derived_ones_as_reported() -> None:
    b = events_only().report(
        120,
        sources=[
            {"source": "recommend", "views": 800, "viewers": 300, "gmv": "60.00"},
            {"source": "ad", "views": 200},
        ],
    )
    sources = metrics(b)["traffic_sources"]
    assert sources == {
        "recommend": {
            "views": 800,
            "viewers": 300,
            "buyers": None,
            "gmv": 60.0,
            "conversion_rate": None,
        },
        "ad": {"views": 200, "viewers": None, "buyers": None, "gmv": None, "conversion_rate": None},
    }
    # a later report without sources keeps the latest list
    b.report(180, views=2000)
    assert set(metrics(b)["traffic_sources"]) == {"recommend", "ad"}


def test_a_reported_products_clicks_replace_that_products_events() -> None:
    b = (
        events_only()
        .click(56, "v2", product="p-2")
        .report(
            120,
            products=[
                {"product_id": "p-1", "clicks": 70, "clicking_viewers": 30, "impressions": 900}
            ],
        )
    )
    document = session_document_of(fold(b))
    by_id = {p["product_id"]: p for p in document["products"]}
    assert (
        by_id["p-1"]["clicks"],
        by_id["p-1"]["clicking_viewers"],
        by_id["p-1"]["impressions"],
    ) == (
        70,
        30,
        900,
    )
    assert by_id["p-1"]["click_to_pay_rate"] == 1 / 30
    assert (by_id["p-2"]["clicks"], by_id["p-2"]["impressions"]) == (1, None)  # events


def test_platform_sales_and_the_gap_never_replace_order_events() -> None:
    b = events_only().report(120, gmv="130.00", orders_paid=2, buyers=2)
    m = metrics(b)
    assert (m["gmv"], m["orders_paid"], m["buyers"]) == (100.0, 1, 1)
    assert m["platform"] == {
        "gmv": 130.0,
        "orders_paid": 2,
        "buyers": 2,
        "as_of": "2026-11-02T12:02:00.000Z",
    }
    assert m["gmv_gap"] == -30.0
    assert metrics(events_only())["platform"] is None and metrics(events_only())["gmv_gap"] is None


def test_the_gap_alert_needs_two_reports_in_a_row_and_clears_on_one_under() -> None:
    # ours 100.00; threshold max(100.00, 2% of the platform's): 300.00 is 200 over -> over
    b = events_only().report(120, gmv="300.00")
    state = fold(b)
    assert not any(a["kind"] == "platform_gap" for a in state.alert_log)
    b.report(180, gmv="310.00")  # second in a row over: raised
    state = fold(b)
    assert [a["kind"] for a in state.alert_log if a["kind"].startswith("platform_gap")] == [
        "platform_gap"
    ]
    assert session_metrics(state)["platform_gap_alert"] is True
    b.report(240, gmv="150.00")  # |100 - 150| = 50 <= 100: cleared
    state = fold(b)
    kinds = [a["kind"] for a in state.alert_log if a["kind"].startswith("platform_gap")]
    assert kinds == ["platform_gap", "platform_gap_cleared"]
    assert session_metrics(state)["platform_gap_alert"] is False


def test_the_gap_threshold_is_two_percent_above_five_thousand_yuan() -> None:
    # platform 10,000.00, ours 100.00: gap 9,900 > max(100, 200) -> over; 2 in a row raise
    b = events_only().report(120, gmv="10000.00").report(180, gmv="10000.00")
    assert any(a["kind"] == "platform_gap" for a in fold(b).alert_log)
    # platform 101.00 vs ours 100.00 twice: 1.00 <= 100: never
    b = events_only().report(120, gmv="101.00").report(180, gmv="101.00")
    assert not any(a["kind"] == "platform_gap" for a in fold(b).alert_log)


def test_the_timeline_draws_reported_cumulative_figures_from_differences() -> None:
    b = (
        Broadcast()
        .start(0)
        .report(50, views=100, online=40, likes=10)  # minute 12:00: first reading counts whole
        .report(110, views=160, online=55, likes=25)  # 12:01: +60 views, +15 likes
        .report(130, views=150, online=50)  # 12:02: a correction, -10; online 50
        .report(170, online=45)  # 12:02: the minute's last online reading
        .interact(175, "comment", "v9", text="x")  # a kind not reported: counted by its event
    )
    rows = session_timeline(fold(b))["minutes"]
    got = [(r["minute"][11:16], r["joins"], r["online"], r["interactions"]) for r in rows]
    assert got == [
        ("12:00", 100, 40, 10),
        ("12:01", 60, 55, 15),
        ("12:02", -10, 45, 1),
    ]


def test_a_session_fed_only_reports_and_orders_shows_every_figure() -> None:
    b = (
        Broadcast()
        .start(0)
        .report(
            60,
            online=120,
            views=900,
            unique_viewers=500,
            impressions=5000,
            interacting_viewers=80,
            watch_seconds=45000,
            product_clicks=150,
            clicking_viewers=60,
            comments=200,
            likes=3000,
            shares=10,
            new_followers=25,
            ad_spend="40.00",
            sources=[{"source": "recommend", "views": 600, "viewers": 350}],
        )
        .place(70, "o1", "b1", "59.90")
        .pay(71, "o1")
        .place(80, "o2", "b2", "40.10")
        .pay(81, "o2")
    )
    m = metrics(b)
    assert m["conversion_rate"] == 2 / 500
    assert m["avg_watch_seconds"] == 45000 / 500
    assert m["interaction_rate"] == 80 / 500
    assert m["impression_view_rate"] == 900 / 5000
    assert m["roi"] == 100.0 / 40.0
    assert m["online"] == 120 and m["interactions"]["comment"] == 200


def arrival_orders() -> st.SearchStrategy[int]:
    return st.integers(0, 10_000)


@settings(max_examples=40, deadline=None)
@given(seed=arrival_orders())
def test_any_arrival_order_of_the_same_events_gives_the_same_document(seed: int) -> None:
    b = (
        events_only()
        .sample(65, online=30)
        .report(70, views=1000, online=25, likes=40, products=[{"product_id": "p-1", "clicks": 9}])
        .report(130, views=1200, gmv="400.00", sources=[{"source": "ad", "views": 3}])
        .report(190, online=28, gmv="420.00", likes=55)
        .report(130, unique_viewers=700)
    )
    ordered = b.events[:1] + sorted(b.events[1:], key=lambda e: e["occurred_at"])
    shuffled = b.events[:1] + random.Random(seed).sample(b.events[1:], len(b.events) - 1)

    def document(events: list[dict[str, Any]]) -> dict[str, Any]:
        copy = Broadcast()
        copy.events = events
        state = fold(copy)
        body = session_document_of(state)
        body.pop("version")
        body.pop("alerts")  # alerts are raised as events arrive, by design
        body["metrics"].pop("platform_gap_alert")
        return body

    assert document(shuffled) == document(ordered)


def test_a_platform_mode_broadcast_shows_the_figures_of_its_events_mode_twin() -> None:
    from projections.session_metrics import session_metrics
    from service.ingest.simulator.model import simulation
    from tests.builders import stored

    start = 1_795_000_000.0
    full = simulation(7, 1, 20, start)
    official = simulation(7, 1, 20, start, platform_rooms=frozenset({0}))
    (session_id,) = {e["session_id"] for _, e in full if e["type"] == "session.started"}

    def figures(timeline: list[tuple[float, dict[str, Any]]]) -> dict[str, Any]:
        events = [e for _, e in timeline if e.get("session_id") == session_id]
        return session_metrics(fold_all(SessionState(session_id), stored(events)))

    sent_full, sent_official = figures(full), figures(official)
    types = {e["type"] for _, e in official if e.get("session_id") == session_id}
    # no viewer events, clicks or spend events: readings, orders and the console's entries
    assert "viewer.joined" not in types and "product.clicked" not in types
    assert "room.stats_reported" in types and "ad.spend_recorded" not in types
    for name in (
        "views",
        "unique_viewers",
        "product_clicks",
        "clicking_viewers",
        "gmv",
        "buyers",
        "conversion_rate",
        "ad_spend",
        "roi",
        "new_followers",
        "interacting_viewers",
    ):
        assert sent_official[name] == sent_full[name], name
    assert sent_official["watch_seconds"] == int(sent_full["watch_seconds"])
    assert sent_official["figure_sources"]["views"]["from"] == "reported"
