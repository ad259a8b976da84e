"""The pure parts of the TikTok ad spend and per-minute readings, hand-computed: money summed
exactly from decimal strings and rounded once, the report's pages and campaign batches, the
report window, the per-minute intervals made cumulative, and the check that keeps a figure
only when the fold keeps its final value and draws no new negative minute."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from events.recorder import StoredEvent
from service.ingest.connections.store import Connection
from service.ingest.platform_apis.http import PlatformApiError
from service.ingest.platform_apis.tiktok_business import _data
from service.ingest.pollers.base import MinuteFigures, RoomReading, amount, fen_rounded, yuan
from service.ingest.pollers.gmv_max import GmvMaxSpend, report_window
from service.ingest.pollers.minutes import MinuteReading, cumulative, verified
from service.ingest.pollers.runner import PollerJobs
from service.ingest.pollers.tiktok_analytics import minute_figures

MIN = 60_000_000
T0 = int(datetime(2026, 12, 6, 12, 28, tzinfo=UTC).timestamp() * 1e6)  # 12:28:00 UTC


def test_money_is_exact_to_the_fen_from_its_decimal_string() -> None:
    # as floats, 100.105 + 100.35 is 200.45499999999998 and rounds to 200.45
    total = amount("100.105") + amount("100.35")  # type: ignore[operator]
    assert fen_rounded(total) == "200.46"
    assert fen_rounded(amount("0.1") + amount("0.2")) == "0.30"  # type: ignore[operator]
    assert yuan(2599.5) == "2599.50" and yuan("57.75") == "57.75"
    assert [amount(v) for v in ("-1", "NaN", "x", True, None)] == [None] * 5


class Report:
    """The GMV Max report as a stub: campaign rows, then room rows page by page."""

    def __init__(self, campaigns: int, rooms: list[list[dict[str, Any]]]) -> None:
        self.campaigns, self.rooms, self.asked = campaigns, rooms, []  # type: ignore[var-annotated]

    def report(
        self, token: str, advertiser: str, store: str, dimensions: list[str], *rest: Any
    ) -> Any:
        filtering, page = rest[3], rest[4]
        self.asked.append((dimensions, filtering, page))
        if dimensions == ["campaign_id"]:
            rows = [{"dimensions": {"campaign_id": f"c{i:03}"}} for i in range(self.campaigns)]
            return {"list": rows, "page_info": {"page": 1, "total_page": 1}}
        return {
            "list": self.rooms[page - 1],
            "page_info": {"page": page, "total_page": len(self.rooms)},
        }


def room(room_id: str, cost: Any) -> dict[str, Any]:
    return {"dimensions": {"room_id": room_id}, "metrics": {"cost": cost}}


def test_spend_sums_a_rooms_rows_exactly_across_pages_and_batches() -> None:
    stub = Report(
        campaigns=150,  # two batches of campaign_ids: 100 and 50
        rooms=[
            [room("R1", "0.10"), room("R2", "5.00"), room("other", "9.99")],
            [room("R1", "0.20"), room("R3", "1.00"), room("R3", "oops")],
        ],
    )
    reader = GmvMaxSpend(lambda account: stub)  # type: ignore[arg-type, return-value]
    account = Connection(
        "tiktok_business:A", "tiktok_business", "A", "ads", secrets={"access_token": "t"}
    )
    shop = Connection("tiktok_shop:S", "tiktok_shop", "S", "shop")
    rooms = [RoomReading(r, True, started_at_us=T0) for r in ("R1", "R2", "R3")]
    found = reader.spend(account, shop, rooms, T0 + MIN)
    # each batch's two pages: R1 0.10 + 0.20 twice; R3 has an unreadable part: left out
    assert found == {"R1": Decimal("0.60"), "R2": Decimal("10.00")}
    batches = [f["campaign_ids"] for d, f, page in stub.asked if d == ["room_id"] and page == 1]
    assert [len(b) for b in batches] == [100, 50]
    with pytest.raises(PlatformApiError, match="no access_token"):
        reader.spend(Connection("x", "tiktok_business", "A", "ads"), shop, rooms, T0)


def test_the_report_window_holds_every_zones_days_of_the_broadcast() -> None:
    rooms = [RoomReading("R", False, started_at_us=T0 - 86_400_000_000)]
    assert report_window(rooms, T0) == ("2026-12-04", "2026-12-07")
    assert report_window([], T0) == ("2026-12-05", "2026-12-07")


def test_business_api_codes_rate_limits_and_refused_tokens() -> None:
    for code, limited, auth in (
        (40100, True, False),
        (40132, True, False),
        (61000, True, False),
        (40102, False, True),
        (40105, False, True),
        (40002, False, False),
    ):
        with pytest.raises(PlatformApiError) as caught:
            _data("/x", {"code": code, "message": "m", "data": {}})
        assert (caught.value.rate_limited, caught.value.auth) == (limited, auth), code
    assert _data("/x", {"code": 0, "data": {"list": []}}) == {"list": []}


def test_an_interval_of_the_official_sample_gives_its_additive_counts() -> None:
    interval = {
        "start_time": 1789477200,
        "end_time": 1789477260,
        "sales": {"gmv": {"amount": "150000.00", "currency": "VND"}, "customers": 1},
        "traffic": {"viewers": 40, "views": 55, "product_clicks": 12, "ctr": "0.1200"},
        "interactions": {"new_followers": 1, "shares": 0, "comments": 5, "likes": 30},
    }
    assert minute_figures(interval) == MinuteFigures(
        1789477200_000_000,
        {
            "views": 55,
            "product_clicks": 12,
            "comments": 5,
            "likes": 30,
            "shares": 0,
            "new_followers": 1,
        },
    )
    assert minute_figures({"traffic": {"views": 1}}) is None


def figures(start: int, **changes: int | None) -> MinuteFigures:
    return MinuteFigures(start, dict(changes))


def test_minutes_become_cumulative_readings_at_each_minutes_end() -> None:
    ended = T0 + 3 * MIN + 30_000_000  # 12:31:30
    found = cumulative(
        [
            figures(T0 + MIN, views=5, likes=1),
            figures(T0, views=3, likes=None),  # likes not given in one minute: left out
            figures(T0, views=3, likes=None),  # told twice, the same: once
            figures(T0 + 3 * MIN, views=2, likes=0),  # the end's minute: a µs before the end
            figures(T0 + 4 * MIN, views=7, likes=0),  # after the end: no reading of its own
        ],
        ended,
    )
    assert found == [
        MinuteReading(T0 + MIN - 1, T0 // MIN, {"views": 3}),
        MinuteReading(T0 + 2 * MIN - 1, T0 // MIN + 1, {"views": 8}),
        MinuteReading(ended - 1, T0 // MIN + 3, {"views": 10}),
    ]
    assert (
        cumulative([figures(T0, views=1), figures(T0, views=2)], ended) == []
    )  # told twice, differently
    assert cumulative([], ended) == []


def stored(version: int, at: int, kind: str = "room.stats_reported", **data: Any) -> StoredEvent:
    return StoredEvent(version, f"e{version}", "session-s", version, kind, 1, data, {}, at, at)


def test_a_figure_is_kept_only_if_its_final_value_and_minutes_stay_sound() -> None:
    existing = [
        stored(1, T0 - MIN, "session.started"),
        stored(2, T0 + 2 * MIN, source="tiktok_shop_analytics", views=100, likes=50, comments=9),
        stored(3, T0 + 5 * MIN, source="tiktok_shop_analytics", views=100, likes=40, comments=9),
    ]
    proposed = [
        MinuteReading(
            T0 + MIN - 1, T0 // MIN, {"views": 60, "likes": 45, "comments": 4, "shares": 1}
        ),
        MinuteReading(
            T0 + 3 * MIN - 1, T0 // MIN + 2, {"views": 90, "likes": 48, "comments": 10, "shares": 2}
        ),
    ]
    kept = verified(existing, proposed, "tiktok_shop_minutes")
    # views: 60, 30 (90-60 at 12:30, the per-minute reading is the minute's last), 10 at 12:33
    # likes: 45, 3, then 40-48 = -8 at 12:33: a new negative minute (the stored -10 was there)
    # comments: 10 over the final 9 -> -1; shares: no reading carried it, the final would change
    assert kept == [
        MinuteReading(T0 + MIN - 1, T0 // MIN, {"views": 60}),
        MinuteReading(T0 + 3 * MIN - 1, T0 // MIN + 2, {"views": 90}),
    ]
    # a per-minute reading later than the final reading would take the final value: refused
    late = [MinuteReading(T0 + 6 * MIN - 1, T0 // MIN + 5, {"views": 100})]
    assert verified(existing, late, "tiktok_shop_minutes") == []


@pytest.mark.parametrize(
    ("live", "minutes_after_end", "due"),
    [
        (True, 60, False),
        (False, 0, False),
        (False, 1, False),
        (False, 60, True),
        (False, 61, False),
        (False, 120, True),
        (False, 48 * 60, True),
        (False, 49 * 60, False),
    ],
)
def test_per_minute_figures_are_asked_again_each_hour_for_two_days(
    live: bool, minutes_after_end: int, due: bool
) -> None:
    reading = RoomReading("R", live, ended_at_us=None if live else T0 + 20_000_000)
    assert PollerJobs._minutes_due(reading, T0 + minutes_after_end * MIN + 5_000_000) is due
