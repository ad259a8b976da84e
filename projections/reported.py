"""The platforms' own counts (`room.stats_reported`) in a session's state, and the precedence
that lets them win over counts derived from events (docs/contract.md, "Platform-reported
figures").

"Latest" is by (occurred_at, version): a report that arrives late but names an older reading
changes nothing it should not, so the result does not depend on arrival order. Pure data: the
fold keeps a `Reported` in its state; the metrics, timeline and products read it.
"""

from __future__ import annotations

from bisect import insort
from typing import Any

from projections.clock import minute_of

Key = tuple[int, int]  # (occurred_at, version)
Latest = tuple[int, int, Any, str]  # (occurred_at, version, value, reading's source)

# Figures whose latest reported value replaces the event-derived one (online is handled with
# audience.sampled: the latest reading of either wins).
SCALARS = (
    "online",
    "views",
    "unique_viewers",
    "impressions",
    "interacting_viewers",
    "watch_seconds",
    "product_clicks",
    "clicking_viewers",
    "ad_spend_fen",
)
# Reported figure -> the interaction kind it replaces.
INTERACTION_FIGURES = {
    "comments": "comment",
    "likes": "like",
    "shares": "share",
    "gifts": "gift",
    "new_followers": "follow",
    "fan_club_joins": "fan_club_join",
}
PLATFORM_SALES = ("gmv_fen", "orders_paid", "buyers")
PRODUCT_FIGURES = ("impressions", "clicks", "clicking_viewers")
# Cumulative figures, whose per-minute value is the difference between readings.
CUMULATIVE = (*(f for f in SCALARS if f != "online"), *INTERACTION_FIGURES)
GAP_MIN_FEN = 100_00  # the platform_gap alert: |gmv - platform gmv| over max(¥100, 2%)
GAP_SHARE = 0.02


class Reported:
    __slots__ = ("changes", "gap", "latest", "products", "readings", "revision", "sources")

    def __init__(self) -> None:
        # figure -> the latest report carrying it
        self.latest: dict[str, Latest] = {}
        # every reading of the cumulative figures and online, sorted by key:
        # (occurred_at, version, {figure: value}); one a minute, so a broadcast holds hundreds
        self.readings: list[tuple[int, int, dict[str, int]]] = []
        # the latest report carrying `sources`: (occurred_at, version, list, source)
        self.sources: Latest | None = None
        # product_id -> figure -> the latest report carrying it for that product
        self.products: dict[str, dict[str, Latest]] = {}
        # platform_gap: [streak of reports over the threshold, active, key of the last judged]
        self.gap: list[Any] = [0, False, None]
        self.revision = 0  # moves with every report: a key for what is derived (not dumped)
        self.changes: dict[str, dict[int, int]] = {}  # minute_values, until the next report

    def add(self, occurred_at: int, version: int, data: dict[str, Any]) -> None:
        self.revision += 1
        self.changes = {}
        source = data["source"]
        key = (occurred_at, version)
        figures: dict[str, int] = {}
        for name in (*SCALARS, *INTERACTION_FIGURES, *PLATFORM_SALES):
            value = data.get(name)
            if value is None:
                continue
            if name in CUMULATIVE or name == "online":
                figures[name] = value
            _newer(self.latest, name, (occurred_at, version, value, source))
        if figures:
            insort(self.readings, (occurred_at, version, figures), key=lambda r: r[:2])
        if data.get("sources") is not None and (self.sources is None or key > self.sources[:2]):
            self.sources = (occurred_at, version, data["sources"], source)
        for item in data.get("products") or ():
            fields = self.products.setdefault(item["product_id"], {})
            for name in PRODUCT_FIGURES:
                if item.get(name) is not None:
                    _newer(fields, name, (occurred_at, version, item[name], source))

    def value(self, figure: str) -> Any:
        found = self.latest.get(figure)
        return None if found is None else found[2]

    def stamp(self, figure: str) -> Latest | None:
        return self.latest.get(figure)

    def minute_values(self, figure: str) -> dict[int, int]:
        """Per minute, the cumulative figure's change: the last reading in the minute less the
        last reading before it (a first reading counts whole; a correction may be negative).
        Remembered until the next report: every run asks, and readings come once a minute."""
        found = self.changes.get(figure)
        if found is None:
            found = self.changes[figure] = self._minute_values(figure)
        return found

    def _minute_values(self, figure: str) -> dict[int, int]:
        last_in: dict[int, int] = {}
        for occurred_at, _version, figures in self.readings:
            if figure in figures:
                last_in[minute_of(occurred_at)] = figures[figure]
        changes: dict[int, int] = {}
        before = 0
        for minute in sorted(last_in):
            changes[minute] = last_in[minute] - before
            before = last_in[minute]
        return changes

    def minute_online(self) -> dict[int, tuple[int, int, int]]:
        """Per minute, the last online reading in it: (occurred_at, version, online)."""
        found: dict[int, tuple[int, int, int]] = {}
        for occurred_at, version, figures in self.readings:
            if "online" in figures:
                found[minute_of(occurred_at)] = (occurred_at, version, figures["online"])
        return found

    def judge_gap(self, key: Key, gmv_fen: int) -> str | None:
        """At a report carrying the platform's GMV, newer than the last one judged: whether
        the gap alert is raised ("raised"), cleared ("cleared") or neither (None). Two reports
        in a row over the threshold raise it; one under it clears it."""
        found = self.latest.get("gmv_fen")
        if found is None or found[:2] != key:
            return None  # an older report (arrived late) does not move the alert
        streak, active, last = self.gap
        if last is not None and tuple(last) >= key:
            return None
        platform = found[2]
        over = abs(gmv_fen - platform) > max(GAP_MIN_FEN, GAP_SHARE * platform)
        streak = streak + 1 if over else 0
        outcome = None
        if over and streak >= 2 and not active:
            active, outcome = True, "raised"
        elif not over and active:
            active, outcome = False, "cleared"
        self.gap = [streak, active, list(key)]
        return outcome

    def dump(self) -> list[Any]:
        return [
            {k: list(v) for k, v in self.latest.items()},
            [list(r) for r in self.readings],
            None if self.sources is None else list(self.sources),
            {p: {k: list(v) for k, v in f.items()} for p, f in self.products.items()},
            self.gap,
        ]

    @classmethod
    def load(cls, raw: list[Any]) -> Reported:
        reported = cls()
        latest, readings, sources, products, gap = raw
        reported.latest = {k: (v[0], v[1], v[2], v[3]) for k, v in latest.items()}
        reported.readings = [(r[0], r[1], r[2]) for r in readings]
        reported.sources = None if sources is None else (*sources[:2], sources[2], sources[3])
        reported.products = {
            p: {k: (v[0], v[1], v[2], v[3]) for k, v in f.items()} for p, f in products.items()
        }
        reported.gap = gap
        return reported


def _newer(table: dict[str, Latest], name: str, entry: Latest) -> None:
    found = table.get(name)
    if found is None or entry[:2] > found[:2]:
        table[name] = entry


def figure_source(stamp: Latest | None, as_of: str | None) -> dict[str, Any]:
    if stamp is None:
        return {"from": "events"}
    return {"from": "reported", "source": stamp[3], "as_of": as_of}
