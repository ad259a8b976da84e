"""Hypothesis strategies: messy but valid broadcasts (out of order, repeats, late events)."""

from __future__ import annotations

from typing import Any

from hypothesis import strategies as st

from tests.builders import Broadcast

VIEWERS = [f"v{i}" for i in range(6)]
ORDERS = [f"o{i}" for i in range(4)]
INCIDENTS = ["i0", "i1"]
SOURCES = [None, "ad", "follow", "short_video", "recommend"]
PRODUCTS = ["p-1", "p-2", "p-3"]

seconds = st.integers(min_value=0, max_value=900)
money = st.sampled_from(["0.01", "9.90", "19.9", 25, "100.00", 3])

# Steps that other strategies mix in their own proportions.
a_join = st.tuples(st.just("join"), seconds, st.sampled_from(VIEWERS), st.sampled_from(SOURCES))
an_incident = st.tuples(
    st.just("incident"),
    seconds,
    st.sampled_from(INCIDENTS),
    st.sampled_from(["stream_interruption", "other"]),
)
a_resolve = st.tuples(st.just("resolve"), seconds, st.sampled_from(INCIDENTS))

step = st.one_of(
    a_join,
    st.tuples(st.just("leave"), seconds, st.sampled_from(VIEWERS)),
    st.tuples(
        st.just("interact"),
        seconds,
        st.sampled_from(["like", "follow", "gift", "vote"]),
        st.sampled_from([None, *VIEWERS]),
        st.integers(1, 5),
    ),
    st.tuples(
        st.just("click"), seconds, st.sampled_from([None, *VIEWERS]), st.sampled_from(PRODUCTS)
    ),
    st.tuples(
        st.just("place"),
        seconds,
        st.sampled_from(ORDERS),
        st.sampled_from([*VIEWERS, "never-joined"]),
        money,
        st.sampled_from(PRODUCTS),
    ),
    st.tuples(
        st.just("pin"),
        seconds,
        st.sampled_from(PRODUCTS),
        st.sampled_from([None, "面霜", "<b>x</b>"]),
    ),
    st.tuples(st.just("unpin"), seconds, st.sampled_from(PRODUCTS)),
    st.tuples(
        st.just("comment"),
        seconds,
        st.sampled_from(VIEWERS),
        st.sampled_from(["好", "多少钱", "<i>hi</i>"]),
    ),
    st.tuples(st.just("pay"), seconds, st.sampled_from(ORDERS), st.sampled_from([None, "5.00"])),
    st.tuples(st.just("cancel"), seconds, st.sampled_from(ORDERS)),
    st.tuples(st.just("refund"), seconds, st.sampled_from(ORDERS), money),
    an_incident,
    a_resolve,
    st.tuples(st.just("sample"), seconds, st.integers(0, 50), st.sampled_from([None, 100, 5000])),
    st.tuples(st.just("end"), seconds),
)


def build(steps: list[tuple[Any, ...]], session_id: str = "s-1") -> Broadcast:
    b = Broadcast(session_id).start(0)
    for kind, t, *args in steps:
        if kind == "join":
            b.join(t, args[0], args[1])
        elif kind == "leave":
            b.leave(t, args[0])
        elif kind == "interact":
            b.interact(t, args[0], args[1], args[2])
        elif kind == "click":
            b.click(t, args[0], args[1])
        elif kind == "place":
            b.place(t, args[0], args[1], args[2], args[3])
        elif kind == "pin":
            b.pin(t, args[0], name=args[1])
        elif kind == "unpin":
            b.unpin(t, args[0])
        elif kind == "comment":
            b.interact(t, "comment", args[0], text=args[1])
        elif kind == "pay":
            b.pay(t, args[0], args[1])
        elif kind == "cancel":
            b.cancel(t, args[0])
        elif kind == "refund":
            b.refund(t, args[0], args[1])
        elif kind == "incident":
            b.incident(t, args[0], kind=args[1])
        elif kind == "resolve":
            b.resolve(t, args[0])
        elif kind == "sample":
            b.sample(t, args[0], args[1])
        elif kind == "end":
            b.end(t)
        elif kind == "report":
            b.report(t, **args[0])
    return b


broadcasts = st.lists(step, min_size=0, max_size=60).map(build)

# A platform reading (room.stats_reported) carrying some of the figures a poller maps.
a_report = st.tuples(
    st.just("report"),
    seconds,
    st.fixed_dictionaries(
        {},
        optional={
            "views": st.integers(0, 900),
            "product_clicks": st.integers(0, 300),
            "online": st.integers(0, 400),
            "comments": st.integers(0, 400),
            "likes": st.integers(0, 900),
        },
    ).filter(bool),
)
