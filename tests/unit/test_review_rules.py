"""The review's pure rules: medians, benchmarks against earlier sessions, the funnel."""

from __future__ import annotations

import pytest

from projections.review import benchmarks, funnel, median


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([], None),
        ([None, None], None),
        ([5], 5),
        ([4, 8], 6),
        ([3, None, 1, 2], 2),
        ([1, 2, 3, 10], 2.5),
    ],
)
def test_median_skips_nulls_and_takes_the_mean_of_the_middle_two(
    values: list, expected: object
) -> None:
    assert median(values) == expected


def test_benchmarks_take_at_most_ten_earlier_sessions_most_recent_first() -> None:
    # 11 earlier sessions, most recent first: gmv 100, 200, ..., 1100. The oldest (1100) is
    # left out: the median of 100..1000 is (500 + 600) / 2 = 550.
    history = [{"gmv": 100.0 * (i + 1)} for i in range(11)]
    b = benchmarks({"gmv": 1100.0}, history, history[:2])
    assert b["gmv"]["host_median"] == 550 and b["gmv"]["host_sessions"] == 10
    assert b["gmv"]["vs_host"] == pytest.approx(1100 / 550 - 1)
    assert b["gmv"]["room_median"] == 150  # (100 + 200) / 2


def test_vs_host_is_null_without_a_usable_median() -> None:
    assert benchmarks({"gmv": 10.0}, [], [])["gmv"] == {
        "value": 10.0,
        "host_median": None,
        "room_median": None,
        "vs_host": None,
        "host_sessions": 0,
        "room_sessions": 0,
    }
    assert benchmarks({"gmv": 10.0}, [{"gmv": 0.0}], [])["gmv"]["vs_host"] is None
    assert benchmarks({"aov": None}, [{"aov": 5.0}], [])["aov"]["vs_host"] is None
    one = benchmarks({"views": 30}, [{"views": 20}], [])["views"]
    assert (one["host_median"], one["vs_host"]) == (20, 0.5)


def test_the_funnel_keeps_its_stage_order_when_buyers_outnumber_clickers() -> None:
    stages = funnel(
        {
            "unique_viewers": 10,
            "clicking_viewers": 1,
            "buyers": 3,
            "click_rate": 0.1,
            "click_to_order_rate": 3.0,
            "conversion_rate": 0.3,
        }
    )["stages"]
    assert [(s["stage"], s["value"], s["rate"]) for s in stages] == [
        ("unique_viewers", 10, None),
        ("clicking_viewers", 1, 0.1),
        ("buyers", 3, 3.0),
    ]
