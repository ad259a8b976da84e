"""Products, explanation segments, traffic-source GMV, impressions, the last complete minute and
the ticker, on hand-made broadcasts; every expected number is worked out by hand in comments."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.segments import at_clock, products_and_segments
from projections.session import SessionState, fold_all, fold_session
from projections.session_metrics import session_metrics
from projections.session_rows import _products_key, _review_own, mask, products_now, recent
from tests.builders import Broadcast


def fold(b: Broadcast) -> SessionState:
    return fold_all(SessionState(b.session_id), b.stored())


def shop_floor() -> Broadcast:
    """12:00:00 start. v1 (recommend) joins at 10 s, v2 (follow) at 20, v3 (ad) at 70.
    A is presented 30-90, B 90-150 (unpinned), A again 200-300 (the end)."""
    return (
        Broadcast()
        .start(0)
        .join(10, "v1", "recommend")
        .join(20, "v2", "follow")
        .pin(30, "p-A", name="口红", price="99")
        .click(40, "v1", "p-A")
        .click(50, "v2", "p-A")
        .place(60, "o1", "v1", "198", "p-A", quantity=2)
        .pay(61, "o1")
        .join(70, "v3", "ad")
        .pin(90, "p-B", name="面霜", price=50)
        .place(100, "o2", "v2", "99", "p-A")
        .pay(101, "o2")  # A's order in B's segment
        .click(110, "v3", "p-B")
        .place(120, "o3", "v3", "50", "p-B")
        .pay(121, "o3")
        .place(130, "o5", "ghost", "20", "p-B")
        .pay(131, "o5")  # a buyer who never joined
        .unpin(150, "p-B")
        .pin(200, "p-A")
        .place(210, "o4", "v1", "99", "p-A")
        .pay(211, "o4")
        .cancel(212, "o4")
        .end(300)
        .refund(300 + 86_400, "o1", "50")
    )  # the next day


def test_segments_end_at_the_next_pin_the_unpin_of_their_product_or_the_end() -> None:
    _, segments = products_and_segments(fold(shop_floor()))
    assert [
        (s["product_id"], s["started_at"][11:19], s["ended_at"][11:19], s["seconds"])
        for s in segments
    ] == [
        ("p-A", "12:00:30", "12:01:30", 60),
        ("p-B", "12:01:30", "12:02:30", 60),
        ("p-A", "12:03:20", "12:05:00", 100),
    ]


def test_segment_windows_count_views_clicks_and_orders_placed_in_them() -> None:
    _, segments = products_and_segments(fold(shop_floor()))
    first, second, third = segments
    # A 30-90: v3's join at 70; clicks at 40 and 50; o1 placed at 60 (198 yuan).
    assert (first["views"], first["clicks"], first["orders_paid"], first["gmv"]) == (1, 2, 1, 198)
    assert first["gpm"] == pytest.approx(198 / 1 * 1000)
    # B 90-150: no join; one click; o3 and o5 placed in it (o2 is A's, not B's: 50 + 20).
    assert (second["views"], second["clicks"], second["orders_paid"], second["gmv"]) == (
        0,
        1,
        2,
        70,
    )
    assert second["gpm"] is None
    # A again 200-300: o4 was cancelled, so nothing counts.
    assert (third["orders_paid"], third["gmv"], third["gpm"]) == (0, 0, None)


def test_products_sum_their_orders_and_rank_by_gmv() -> None:
    products, _ = products_and_segments(fold(shop_floor()))
    a, b = products
    # A: o1 198 (2 items) + o2 99 paid; o4 placed, paid, cancelled; o1 refunded 50 next day.
    assert a == {
        "product_id": "p-A",
        "name": "口红",
        "price": 99.0,
        "explanations": 2,
        "explanation_seconds": 160,
        "impressions": None,
        "clicks": 2,
        "clicking_viewers": 2,
        "orders_placed": 3,
        "orders_paid": 2,
        "items_sold": 3,
        "buyers": 2,
        "gmv": 297.0,
        "refunds": 50.0,
        "net_gmv": 247.0,
        "refund_rate": pytest.approx(50 / 297),
        "click_to_pay_rate": 1.0,
    }
    # B: o3 50 + o5 20; two buyers, one clicker: click→pay may exceed 1.
    assert (
        b["product_id"],
        b["gmv"],
        b["buyers"],
        b["clicking_viewers"],
        b["click_to_pay_rate"],
        b["refund_rate"],
    ) == ("p-B", 70.0, 2, 1, 2.0, 0.0)


def test_a_late_refund_lowers_net_gmv_of_the_session_it_belongs_to() -> None:
    m = session_metrics(fold(shop_floor()))
    assert (m["gmv"], m["refunds"], m["net_gmv"]) == (367.0, 50.0, 317.0)  # 198+99+50+20


def test_traffic_sources_carry_gmv_and_a_buyer_who_never_joined_is_unknown() -> None:
    sources = session_metrics(fold(shop_floor()))["traffic_sources"]
    assert sources["recommend"] == {
        "views": 1,
        "viewers": 1,
        "buyers": 1,
        "gmv": 198.0,
        "conversion_rate": 1.0,
    }  # v1: o1 (o4 cancelled)
    assert sources["follow"]["gmv"] == 99.0 and sources["ad"]["gmv"] == 50.0
    assert sources["unknown"] == {
        "views": 0,
        "viewers": 0,
        "buyers": 1,
        "gmv": 20.0,
        "conversion_rate": None,
    }
    assert sum(s["gmv"] for s in sources.values()) == 367.0


def test_a_product_pinned_twice_with_an_unpin_between_has_two_segments() -> None:
    b = (
        Broadcast()
        .start(0)
        .unpin(5, "p-A")  # nothing open: ignored
        .pin(10, "p-A")
        .unpin(20, "p-A")
        .unpin(25, "p-A")
        .pin(40, "p-A")
        .end(70)
    )
    products, segments = products_and_segments(fold(b))
    assert [s["seconds"] for s in segments] == [10, 30]
    assert (products[0]["explanations"], products[0]["explanation_seconds"]) == (2, 40)


def test_an_open_segment_runs_to_the_session_clock_while_live() -> None:
    b = Broadcast().start(0).pin(10, "p-A").join(50, "v1").click(65, "v1", "p-A")
    _, segments = products_and_segments(fold(b))
    assert segments[0]["ended_at"] is None
    assert segments[0]["seconds"] == 55  # 10 -> 65, the latest event
    assert (segments[0]["views"], segments[0]["clicks"]) == (1, 1)


def test_a_session_with_no_pins_has_no_segments_but_lists_products_it_sold() -> None:
    b = Broadcast().start(0).place(5, "o1", "v1", 10, "p-X").pay(6, "o1")
    products, segments = products_and_segments(fold(b))
    assert segments == []
    assert [(p["product_id"], p["explanations"], p["name"], p["gmv"]) for p in products] == [
        ("p-X", 0, None, 10.0)
    ]


def test_name_and_price_come_from_the_latest_pin_that_carries_them() -> None:
    b = (
        Broadcast()
        .start(0)
        .pin(10, "p-A", name="旧名", price=10)
        .pin(20, "p-A", price=12)
        .pin(30, "p-A")
    )
    products, _ = products_and_segments(fold(b))
    assert (products[0]["name"], products[0]["price"]) == ("旧名", 12.0)


def test_impressions_are_the_latest_sample_carrying_them() -> None:
    b = (
        Broadcast()
        .start(0)
        .join(1, "v1")
        .join(2, "v2")
        .join(3, "v1")
        .sample(100, 10, impressions=1000)
        .sample(200, 12)
    )
    m = session_metrics(fold(b))
    assert m["impressions"] == 1000 and m["impression_view_rate"] == 3 / 1000
    assert session_metrics(fold(Broadcast().start(0)))["impression_view_rate"] is None


@pytest.mark.parametrize(
    ("clock", "expected"),
    [
        (125, 5),  # clock in 12:02: the minute 12:01 (61 s: 2, 119 s: 3)
        (120, 5),  # exactly 12:02:00: 12:01 is complete
        (119, 0),  # clock in 12:01: 12:00 had nothing
    ],
)
def test_interactions_last_minute_never_shows_a_partial_minute(clock: int, expected: int) -> None:
    b = (
        Broadcast()
        .start(0)
        .interact(61, "like", count=2)
        .interact(119, "comment", "v1")
        .interact(119, "share", "v1", count=2)
    )
    if clock > 119:
        b.interact(clock, "like", count=4)
    assert session_metrics(fold(b))["interactions_last_minute"] == expected


def test_interactions_last_minute_after_the_end_is_the_minute_before_it() -> None:
    b = (
        Broadcast()
        .start(0)
        .interact(130, "like", count=7)
        .interact(250, "like", count=5)
        .interact(245, "comment", "v1", text="好看")
        .end(300)
        .interact(300, "like", count=3)
    )
    assert session_metrics(fold(b))["interactions_last_minute"] == 6  # 12:04: 5 + 1


def test_the_ticker_shows_paid_orders_and_comments_newest_first_masked() -> None:
    state = fold(
        shop_floor()
        .interact(140, "comment", "viewer-42", text="<b>多少钱</b>")
        .interact(141, "like", "v1", text=None)
    )
    ticker: dict[str, Any] = recent(state)
    assert [(o["at"][11:19], o["amount"], o["buyer"]) for o in ticker["orders"]] == [
        ("12:02:11", 20.0, "g***t"),
        ("12:02:01", 50.0, "v*"),
        ("12:01:41", 99.0, "v*"),
        ("12:01:01", 198.0, "v*"),
    ]  # o4 was cancelled
    assert ticker["comments"] == [
        {"at": "2026-11-02T12:02:20.000Z", "viewer": "v***2", "text": "<b>多少钱</b>"}
    ]


def test_mask_keeps_only_first_and_last_character() -> None:
    assert [mask("buyer-9"), mask("ab"), mask("a"), mask(None)] == ["b***9", "a*", "a*", None]


def test_a_run_moving_only_the_clock_sets_the_open_explanation_s_seconds_as_worked_out_anew() -> (
    None
):
    # Folded an event at a time, as runs fold them: after each, what the run shows (worked out
    # once per move of orders, pins, clicks, joins or reports, and the open explanation's
    # seconds set from the clock) equals products and segments worked out from scratch.
    b = (
        Broadcast()
        .start(0)
        .pin(10, "p-A", name="口红", price="99")
        .interact(15, "like", "v1")  # only the clock moves: A open 5 s
        .interact(22, "like", "v2")
        .place(25, "o1", "v1", 99, "p-A")
        .pay(26, "o1")
        .interact(31, "like", "v3")
        .pin(40, "p-B", name="面霜")  # A closes at 40 (30 s), B opens
        .interact(47, "like", "v1")
        .place(33, "o2", "v3", 50, "p-A")  # late, in A's closed explanation
        .pay(48, "o2")  # moves it: 1 paid, 50 yuan
        .pin(60, "p-A")  # B 20 s; A again: its seconds are 30 + the open ones
        .interact(61, "like", "v2")
        .interact(75, "like", "v3")
        .pin(50, "p-C")  # late: B 10 s, C 10 s, A from 60 still open
        .interact(90, "like", "v1")
        .unpin(95, "p-A")  # nothing open
        .interact(99, "like", "v2")
        .pin(100, "p-B")
        .interact(130, "like", "v2")
        .end(140)
    )
    state = SessionState(b.session_id)
    seen_open = 0
    for event in b.stored():
        state = fold_session(state, event)
        products, segments, found = products_now(state, _products_key(state))
        assert (products, segments) == products_and_segments(state), event.type
        # the review row's parts, set at the clock as the read sets them, are the same
        own = _review_own(state, _products_key(state), found)
        assert (own["products"], own["segments"]) == (found[0], found[1])
        counted = at_clock(found[0], found[1], own["explaining_since"], state.clock)
        assert counted == (products, segments), event.type
        seen_open += own["explaining_since"] is not None
    assert seen_open >= 8
    products, segments = products_and_segments(state)
    assert [s["seconds"] for s in segments] == [30, 10, 10, 35, 40]
    # A's first explanation (10-40) holds o1 (99) and o2 (50, placed at 33, paid later)
    assert [(s["orders_paid"], s["gmv"]) for s in segments[:1]] == [(2, 149.0)]
    by_id = {p["product_id"]: p["explanation_seconds"] for p in products}
    assert by_id == {"p-A": 65, "p-B": 50, "p-C": 10}


_step = st.tuples(
    st.sampled_from(["pin", "unpin", "place", "pay", "cancel", "click", "join", "like"]),
    st.integers(0, 60),  # seconds into the broadcast: events arrive out of order
    st.sampled_from(["p-A", "p-B"]),
    st.integers(0, 3),  # which order
)


@settings(max_examples=400, deadline=None)
@given(steps=st.lists(_step, min_size=1, max_size=60), end=st.booleans())
def test_products_and_segments_remembered_run_to_run_equal_those_worked_out_anew(
    steps: list[tuple[str, int, str, int]], end: bool
) -> None:
    # Any pins, orders (late, paid, cancelled, placed again earlier), clicks and joins, folded
    # one at a time as runs fold them: what each run shows and what its review row holds,
    # counted to the clock, are what working them out from scratch gives.
    b = Broadcast().start(0)
    for kind, t, product, order in steps:
        if kind == "pin":
            b.pin(t, product, name=f"{product}-{t}")
        elif kind == "unpin":
            b.unpin(t, product)
        elif kind == "place":
            b.place(t, f"o{order}", "b1", 10 + order, product)
        elif kind == "pay":
            b.pay(t, f"o{order}")
        elif kind == "cancel":
            b.cancel(t, f"o{order}")
        elif kind == "click":
            b.click(t, "v1", product)
        else:
            b.join(t, f"v{t}") if kind == "join" else b.interact(t, "like", "v1")
    if end:
        b.end(61)
    state = SessionState(b.session_id)
    for event in b.stored():
        state = fold_session(state, event)
        products, segments, found = products_now(state, _products_key(state))
        assert (products, segments) == products_and_segments(state)
        own = _review_own(state, _products_key(state), found)
        assert at_clock(own["products"], own["segments"], own["explaining_since"], state.clock) == (
            products,
            segments,
        )
