"""Session metrics on small hand-made broadcasts; every expected number is worked out by hand."""

from __future__ import annotations

from typing import Any

import pytest

from projections.session import SessionState, fold_all
from projections.session_metrics import session_metrics
from projections.timeline import session_timeline
from tests.builders import Broadcast


def metrics(b: Broadcast) -> dict[str, Any]:
    return session_metrics(fold_all(SessionState(b.session_id), b.stored()))


def presence_broadcast() -> Broadcast:
    return (
        Broadcast()
        .start(0)
        .join(10, "v1", "ad")
        .join(20, "v2", "follow")
        .leave(70, "v1")
        .join(100, "v1", "recommend")  # re-entry: another view, same viewer
        .leave(110, "v3")  # no open presence: ignored
        .interact(130, "like", "v2")
    )


def test_views_count_every_join_and_unique_viewers_count_people() -> None:
    m = metrics(presence_broadcast())
    assert m["views"] == 3
    assert m["unique_viewers"] == 2


def test_watch_time_counts_open_presences_up_to_the_latest_event_while_live() -> None:
    m = metrics(presence_broadcast())
    # v1: 10..70 = 60, then 100..130 = 30; v2: 20..130 = 110
    assert m["watch_seconds"] == 200
    assert m["avg_watch_seconds"] == 100
    assert m["online"] == 2 and m["peak_online"] == 2


def test_watch_time_counts_open_presences_up_to_the_end_once_ended() -> None:
    m = metrics(presence_broadcast().end(200))
    # v1: 60 + (200 - 100) = 160; v2: 200 - 20 = 180
    assert m["watch_seconds"] == 340
    assert m["online"] == 0 and m["peak_online"] == 2


def test_a_leave_that_arrives_before_its_join_pairs_with_it() -> None:
    b = Broadcast().start(0).leave(50, "v1").join(10, "v1")
    m = metrics(b)
    assert m["watch_seconds"] == 40
    assert m["online"] == 0 and m["unique_viewers"] == 1


def test_a_leave_with_no_join_at_all_counts_nothing() -> None:
    m = metrics(Broadcast().start(0).leave(50, "ghost").join(60, "v1").interact(90, "like"))
    assert m["unique_viewers"] == 1 and m["views"] == 1
    assert m["watch_seconds"] == 30 and m["online"] == 1


def test_a_second_join_without_a_leave_does_not_double_presence() -> None:
    m = metrics(Broadcast().start(0).join(10, "v1").join(40, "v1").leave(70, "v1"))
    assert m["views"] == 2 and m["unique_viewers"] == 1
    assert m["watch_seconds"] == 60 and m["online"] == 0


def test_traffic_sources_attribute_viewers_to_their_first_join() -> None:
    b = presence_broadcast().place(120, "o1", "v1", 10).pay(121, "o1")
    m = metrics(b)
    sources = m["traffic_sources"]
    assert sources["ad"] == {
        "views": 1,
        "viewers": 1,
        "buyers": 1,
        "gmv": 10.0,
        "conversion_rate": 1.0,
    }
    assert sources["follow"] == {
        "views": 1,
        "viewers": 1,
        "buyers": 0,
        "gmv": 0.0,
        "conversion_rate": 0.0,
    }
    assert sources["recommend"] == {
        "views": 1,
        "viewers": 0,
        "buyers": 0,
        "gmv": 0.0,
        "conversion_rate": None,
    }
    assert sum(s["viewers"] for s in sources.values()) == m["unique_viewers"]


def test_an_earlier_join_arriving_late_takes_over_the_attribution() -> None:
    b = Broadcast().start(0).join(50, "v1", "search").join(5, "v1", "share")
    sources = metrics(b)["traffic_sources"]
    assert sources["share"]["viewers"] == 1 and sources["search"]["viewers"] == 0
    assert sources["search"]["views"] == 1 and sources["share"]["views"] == 1


def test_a_join_without_source_counts_as_other() -> None:
    assert metrics(Broadcast().start(0).join(1, "v1"))["traffic_sources"]["other"]["viewers"] == 1


def order_broadcast() -> Broadcast:
    return (
        Broadcast()
        .start(0)
        .join(1, "b1")
        .join(2, "b2")
        .join(3, "b3")
        .join(4, "v4")
        .click(5, "b1")
        .click(6, "b1")
        .click(7, "b2")
        .click(8, None)
        .place(10, "o1", "b1", "100")
        .pay(11, "o1")
        .pay(12, "o2")
        .place(13, "o2", "b2", "50.00")  # paid arrives before placed
        .place(14, "o3", "b3", 30)
        .pay(15, "o3")
        .cancel(16, "o3")  # paid, then cancelled
        .place(17, "o4", "b1", "200")
        .pay(18, "o4")
        .refund(19, "o4", 50)
        .refund(20, "o4", "200")  # capped at 200 paid
        .place(21, "o5", "v4", 999)
    )  # never paid


def test_the_order_life_cycle_gives_gmv_refunds_and_buyers() -> None:
    m = metrics(order_broadcast())
    assert m["orders_placed"] == 5
    assert m["orders_paid"] == 3  # o1, o2, o4; o3 was cancelled
    assert m["buyers"] == 2  # b1 (o1, o4), b2 (o2)
    assert m["gmv"] == 350.0  # 100 + 50 + 200
    assert m["refunds"] == 200.0  # 50 + 200, capped at o4's 200
    assert m["net_gmv"] == 150.0


def test_funnel_ratios() -> None:
    m = metrics(order_broadcast())
    assert m["product_clicks"] == 4 and m["clicking_viewers"] == 2
    assert m["click_rate"] == 2 / 4
    assert m["conversion_rate"] == 2 / 4
    assert m["click_to_order_rate"] == 2 / 2
    assert m["gpm"] == pytest.approx(350 / 4 * 1000)
    assert m["uv_value"] == pytest.approx(350 / 4)
    assert m["aov"] == pytest.approx(350 / 2)


def test_a_paid_amount_overrides_the_placed_amount() -> None:
    m = metrics(Broadcast().start(0).place(1, "o1", "b1", "80").pay(2, "o1", "72.50"))
    assert m["gmv"] == 72.5


def test_a_refund_days_after_the_end_lowers_net_gmv_and_nothing_else() -> None:
    b = Broadcast().start(0).join(1, "b1").place(2, "o1", "b1", 100).pay(3, "o1").end(3600)
    before = metrics(b)
    after = metrics(b.refund(7 * 86400, "o1", "30.5"))
    assert after["net_gmv"] == 69.5 and after["refunds"] == 30.5
    assert after["gmv"] == before["gmv"] == 100.0
    assert after["watch_seconds"] == before["watch_seconds"] == 3599


def test_a_paid_order_later_cancelled_leaves_gmv_and_buyers() -> None:
    b = Broadcast().start(0).join(1, "b1").place(2, "o1", "b1", 100).pay(3, "o1")
    assert metrics(b)["buyers"] == 1
    m = metrics(b.cancel(500, "o1"))
    assert (m["gmv"], m["buyers"], m["orders_paid"], m["conversion_rate"]) == (0.0, 0, 0, 0.0)


def test_zero_denominators_give_null_ratios() -> None:
    m = metrics(Broadcast().start(0))
    for name in (
        "avg_watch_seconds",
        "interaction_rate",
        "click_rate",
        "conversion_rate",
        "click_to_order_rate",
        "gpm",
        "uv_value",
        "aov",
        "roi",
    ):
        assert m[name] is None, name
    assert m["gmv"] == 0.0 and m["views"] == 0


def test_interactions_sum_counts_and_only_engaging_kinds_make_interacting_viewers() -> None:
    b = (
        Broadcast()
        .start(0)
        .join(1, "v1")
        .join(2, "v2")
        .join(3, "v3")
        .join(4, "v4")
        .interact(5, "like", "v1", count=10)
        .interact(6, "follow", "v2")
        .interact(7, "follow", None, count=2)
        .interact(8, "lottery", "v3")
        .interact(9, "comment", "v1")
    )
    m = metrics(b)
    assert m["interactions"]["like"] == 10 and m["interactions"]["follow"] == 3
    assert m["interactions"]["lottery"] == 1 and m["interactions"]["gift"] == 0
    assert m["new_followers"] == 3
    assert m["interacting_viewers"] == 2  # v1, v2; v3 only entered a lottery
    assert m["interaction_rate"] == 0.5


def test_ad_spend_and_roi() -> None:
    b = (
        order_broadcast()
        .add("ad.spend_recorded", 30, amount="60")
        .add("ad.spend_recorded", 31, amount=40)
    )
    m = metrics(b)
    assert m["ad_spend"] == 100.0
    assert m["roi"] == pytest.approx(3.5)


def test_incidents_and_downtime() -> None:
    b = (
        Broadcast()
        .start(0)
        .incident(100, "i1")
        .resolve(160, "i1")  # 60 s down
        .incident(200, "i2", kind="technical_failure")
        .resolve(250, "i2")  # not downtime
        .resolve(320, "i3")
        .incident(300, "i3")  # resolved arrives first: 20 s
        .incident(350, "i4")
        .end(400)
    )  # open until the end: 50 s
    inc = metrics(b)["incidents"]
    assert inc["total"] == 4 and inc["open"] == 1
    assert inc["by_kind"]["stream_interruption"] == 3
    assert inc["by_kind"]["technical_failure"] == 1
    assert inc["downtime_seconds"] == 130


def test_an_open_interruption_counts_to_the_latest_event_while_live() -> None:
    b = Broadcast().start(0).incident(100, "i1").join(130, "v1")
    assert metrics(b)["incidents"]["downtime_seconds"] == 30


def test_platform_samples_replace_presence_counts_while_live() -> None:
    b = (
        Broadcast()
        .start(0)
        .join(1, "v1")
        .add("audience.sampled", 60, online=500)
        .add("audience.sampled", 30, online=900)  # older sample arriving late
        .join(61, "v2")
    )
    m = metrics(b)
    assert m["online"] == 500  # the latest reading
    # the late sample was the online of its moment: the peak is the same in any arrival order
    assert m["peak_online"] == 900
    assert metrics(b.end(100))["online"] == 0


def test_online_drop_alert_fires_once() -> None:
    b = Broadcast().start(0)
    for i in range(20):
        b.join(i, f"v{i}")
    for i in range(7):
        b.leave(100 + i, f"v{i}")  # 20 -> 13: a 35% drop within 5 minutes
    state = fold_all(SessionState("s-1"), b.stored())
    drops = [a for a in state.alerts if a["kind"] == "online_drop"]
    assert len(drops) == 1 and drops[0]["from"] == 20 and drops[0]["to"] == 14


def test_timeline_buckets_by_minute() -> None:
    b = (
        Broadcast()
        .start(0)
        .join(5, "v1")
        .join(65, "v2")
        .interact(70, "like", "v1", count=3)
        .place(80, "o1", "v1", 10)
        .pay(125, "o1")
        .incident(130, "i1", kind="other")
        .add("product.pinned", 2, product_id="p-1", price="9.90")
    )
    timeline = session_timeline(fold_all(SessionState("s-1"), b.stored()))
    minutes = timeline["minutes"]
    assert [m["joins"] for m in minutes] == [1, 1, 0]
    assert [m["online"] for m in minutes] == [1, 2, 2]
    assert [m["interactions"] for m in minutes] == [0, 3, 0]
    assert [m["paid_orders"] for m in minutes] == [0, 0, 1]
    assert [m["gmv"] for m in minutes] == [0.0, 0.0, 10.0]
    assert [m["incidents"] for m in minutes] == [0, 0, 1]
    assert [mk["type"] for mk in timeline["markers"]] == ["product_pin", "incident"]
    assert timeline["markers"][0]["price"] == 9.9


def test_a_big_audience_folds_and_snapshots_without_overflow() -> None:
    import orjson

    b = Broadcast().start(0)
    for i in range(20_000):
        b.join(1 + i / 100, f"v{i}")
    state = fold_all(SessionState("s-1"), b.stored())
    restored = SessionState.load(orjson.loads(orjson.dumps(state.dump())))
    assert restored is not None
    assert session_metrics(restored) == session_metrics(state)
    # every viewer watched from their join to the clock at 1 + 19999/100 s
    clock = 1 + 19_999 / 100
    expected = sum(clock - (1 + i / 100) for i in range(20_000))
    assert state.watch_us() / 1e6 == pytest.approx(expected)


def test_the_timelines_online_is_presence_by_event_time_whatever_the_arrival_order() -> None:
    import random

    b = Broadcast().start(0)
    # minute 12:00: v1..v5 join; 12:01: v1, v2 leave, v6 joins; 12:02: v3 leaves
    for i in range(1, 6):
        b.join(i, f"v{i}")
    b.leave(70, "v1").leave(75, "v2").join(80, "v6").leave(130, "v3").join(131, "v7")
    expected = [("12:00", 5), ("12:01", 4), ("12:02", 4)]

    def online(events: list[dict[str, Any]]) -> list[tuple[str, int]]:
        copy = Broadcast()
        copy.events = events
        rows = session_timeline(fold_all(SessionState("s-1"), copy.stored()))["minutes"]
        return [(r["minute"][11:16], r["online"]) for r in rows]

    assert online(b.events) == expected
    for seed in range(20):
        shuffled = b.events[:1] + random.Random(seed).sample(b.events[1:], len(b.events) - 1)
        assert online(shuffled) == expected, seed
