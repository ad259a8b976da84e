"""A realistic broadcast, generated from a seed: the same seed gives the same events and ids.

Viewers arrive by traffic source at a rate that ramps up, holds and fades; they watch for a
lognormal time and some come back; likes come in bursts, comments, shares, follows, questions
and gifts at their own rates; products are pinned in turn, clicked, ordered and paid (some
cancelled, some refunded later, after the broadcast); ad spend is recorded; incidents open and
resolve.
"""

from __future__ import annotations

import math
import random
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

SOURCES = (
    ("recommend", 0.45),
    ("follow", 0.20),
    ("ad", 0.12),
    ("short_video", 0.10),
    ("search", 0.08),
    ("share", 0.05),
)
PRODUCTS = (
    ("lipstick-07", "129.00"),
    ("serum-30ml", "299.00"),
    ("mask-10", "59.90"),
    ("cleanser", "89.00"),
    ("tea-gift", "168.00"),
    ("socks-5", "19.90"),
)
PRODUCT_NAMES = {
    "lipstick-07": "丝绒口红 07",
    "serum-30ml": "修护精华 30ml",
    "mask-10": "补水面膜 10片",
    "cleanser": "氨基酸洁面",
    "tea-gift": "龙井礼盒",
    "socks-5": "棉袜 5双装",
}
DEMO_TITLES = (
    "双十二美妆专场",
    "护肤新品首发夜",
    "茶礼年货节",
    "冬季好物限时购",
)  # what PRODUCTS sell


@dataclass(frozen=True)
class Plan:
    session_id: str
    host_id: str
    ops_id: str
    start: float  # epoch seconds
    minutes: float
    peak_arrivals_per_minute: float = 60.0
    # The demo's broadcasts show everything early: a sale in the first minute, an incident in
    # the first five, a refund soon after, a Chinese title and a sales target.
    demo: bool = False


class Broadcast:
    def __init__(self, plan: Plan, rng: random.Random) -> None:
        self.plan = plan
        self.rng = rng
        self.events: list[tuple[float, dict[str, Any]]] = []

    def add(self, at: float, type_: str, **data: Any) -> None:
        event = {
            "event_id": str(uuid.UUID(int=self.rng.getrandbits(128), version=4)),
            "type": type_,
            "occurred_at": iso(at),
            "session_id": self.plan.session_id,
            "data": data,
            "metadata": {"source": "simulator"},
        }
        self.events.append((at, event))

    def arrival_rate(self, minute: float) -> float:
        """Arrivals per minute: from 30% (followers waiting for the start) up to the peak over
        10 minutes, hold, fade over the last 20%."""
        total = self.plan.minutes
        ramp = 0.3 + 0.7 * min(1.0, minute / 10)
        fade = min(1.0, max(0.0, (total - minute) / (0.2 * total)))
        return self.plan.peak_arrivals_per_minute * ramp * max(fade, 0.15)

    def generate(self) -> list[tuple[float, dict[str, Any]]]:
        plan, rng = self.plan, self.rng
        start, end = plan.start, plan.start + plan.minutes * 60
        extra: dict[str, Any] = {}
        if plan.demo:
            extra = {
                "gmv_target": f"{int(plan.peak_arrivals_per_minute * plan.minutes * 8)}",
                "shop_id": f"shop-{plan.host_id}",
            }
        self.add(
            start,
            "session.started",
            host_id=plan.host_id,
            ops_id=plan.ops_id,
            room_id=f"room-{plan.session_id}",
            platform="douyin",
            title=(rng.choice(DEMO_TITLES) if plan.demo else f"{plan.host_id} live"),
            planned_minutes=int(plan.minutes),
            **extra,
        )
        pins = self._pins(start, end)
        self._viewers(start, end, pins)
        self._incidents(start, end)
        if plan.demo:
            self._opening(start, pins)
        for minute in range(10, int(plan.minutes), 10):
            self.add(
                start + minute * 60,
                "ad.spend_recorded",
                amount=f"{rng.randint(200, 800)}.00",
                channel="qianchuan",
            )
        self.add(end, "session.ended", reason="planned end")
        self.events.sort(key=lambda pair: pair[0])
        return self.events

    def _pins(self, start: float, end: float) -> list[tuple[float, str, str]]:
        pins, at, turn = [], start + 30, 0
        while at < end:
            product, price = PRODUCTS[turn % len(PRODUCTS)]
            pins.append((at, product, price))
            self.add(
                at, "product.pinned", product_id=product, price=price, name=PRODUCT_NAMES[product]
            )
            at += self.rng.uniform(300, 480)
            turn += 1
        return pins

    def _current_product(self, pins: list[tuple[float, str, str]], at: float) -> tuple[str, str]:
        current = pins[0]
        for pin in pins:
            if pin[0] <= at:
                current = pin
        return current[1], current[2]

    def _viewers(self, start: float, end: float, pins: list[tuple[float, str, str]]) -> None:
        rng = self.rng
        at, n, orders = start, 0, 0
        while True:
            at += rng.expovariate(max(self.arrival_rate((at - start) / 60), 0.5) / 60)
            if at >= end:
                return
            n += 1
            viewer = f"u{rng.getrandbits(40):010x}"
            source = rng.choices([s for s, _ in SOURCES], [w for _, w in SOURCES])[0]
            stay_from = at
            for visit in range(3):
                stay = min(rng.lognormvariate(math.log(90), 1.0), end - stay_from)
                self.add(stay_from, "viewer.joined", viewer_id=viewer, source=source)
                orders += self._activity(viewer, stay_from, stay_from + stay, pins, orders)
                if stay_from + stay < end:
                    self.add(stay_from + stay, "viewer.left", viewer_id=viewer)
                if visit == 2 or rng.random() > 0.15:  # 15% come back
                    break
                stay_from += stay + rng.uniform(30, 600)
                if stay_from >= end:
                    break

    def _activity(
        self,
        viewer: str,
        since: float,
        until: float,
        pins: list[tuple[float, str, str]],
        orders: int,
    ) -> int:
        rng, placed = self.rng, 0

        def moment() -> float:
            return rng.uniform(since, max(since, until))

        for _ in range(rng.choices((0, 1, 2, 4), (0.5, 0.25, 0.15, 0.1))[0]):
            self.add(
                moment(),
                "interaction.recorded",
                kind="like",
                viewer_id=viewer,
                count=rng.randint(1, 20),
            )
        for kind, chance in (
            ("comment", 0.12),
            ("share", 0.03),
            ("follow", 0.05),
            ("question", 0.03),
            ("gift", 0.01),
        ):
            if rng.random() < chance:
                self.add(moment(), "interaction.recorded", kind=kind, viewer_id=viewer)
        if rng.random() < 0.14:
            click_at = moment()
            product, price = self._current_product(pins, click_at)
            self.add(click_at, "product.clicked", product_id=product, viewer_id=viewer)
            if rng.random() < 0.3:
                placed = 1
                self._order(
                    f"o-{self.plan.session_id}-{orders + 1}",
                    viewer,
                    product,
                    price,
                    click_at + rng.uniform(5, 60),
                )
        return placed

    def _order(self, order_id: str, buyer: str, product: str, price: str, at: float) -> None:
        rng = self.rng
        quantity = rng.choices((1, 2, 3), (0.8, 0.15, 0.05))[0]
        amount = f"{float(price) * quantity:.2f}"
        self.add(
            at,
            "order.placed",
            order_id=order_id,
            buyer_id=buyer,
            product_id=product,
            quantity=quantity,
            amount=amount,
        )
        fate = rng.random()
        if fate < 0.05:
            return  # never paid
        paid_at = at + rng.uniform(3, 90)
        self.add(paid_at, "order.paid", order_id=order_id)
        if fate < 0.10:
            self.add(paid_at + rng.uniform(60, 900), "order.cancelled", order_id=order_id)
        elif fate < 0.14:
            # refunds come later, often after the broadcast, sometimes in two parts
            refund_at = paid_at + rng.uniform(600, 1800)
            half = f"{float(amount) / 2:.2f}"
            self.add(refund_at, "order.refunded", order_id=order_id, amount=half)
            if rng.random() < 0.5:
                self.add(refund_at + 120, "order.refunded", order_id=order_id, amount=half)

    def _opening(self, start: float, pins: list[tuple[float, str, str]]) -> None:
        """Followers waiting for the start buy the opening deal within the first minute; one
        of them asks for a refund three minutes in; the console freezes within five."""
        rng = self.rng
        product, price = pins[0][1], pins[0][2]
        for k in range(rng.randint(3, 6)):
            viewer = f"{self.plan.session_id}-fan{k}"
            at = start + 5 + k * 6
            self.add(at, "viewer.joined", viewer_id=viewer, source="follow")
            self.add(
                at + 2,
                "interaction.recorded",
                kind="comment",
                viewer_id=viewer,
                text=rng.choice(("开场福利来了！", "已拍，主播快发货", "这个色号好看吗？")),
            )
            self.add(at + 20, "product.clicked", product_id=product, viewer_id=viewer)
            order_id = f"o-{self.plan.session_id}-open{k}"
            self.add(
                at + 25,
                "order.placed",
                order_id=order_id,
                buyer_id=viewer,
                product_id=product,
                quantity=1,
                amount=price,
            )
            self.add(at + 28, "order.paid", order_id=order_id)
            if k == 0:
                self.add(start + 180, "order.refunded", order_id=order_id, amount=price)
        at = start + rng.uniform(90, 240)
        incident_id = f"inc-{self.plan.session_id}-open"
        self.add(
            at,
            "incident.opened",
            incident_id=incident_id,
            kind="technical_failure",
            severity=2,
            description="中控台卡顿",
        )
        self.add(at + rng.uniform(40, 90), "incident.resolved", incident_id=incident_id)

    def _incidents(self, start: float, end: float) -> None:
        rng = self.rng
        for i in range(rng.choices((0, 1, 2), (0.5, 0.35, 0.15))[0]):
            at = rng.uniform(start + 60, end - 300)
            kind = rng.choice(("stream_interruption", "product_info_error", "technical_failure"))
            self.add(
                at,
                "incident.opened",
                incident_id=f"inc-{self.plan.session_id}-{i}",
                kind=kind,
                severity=rng.randint(1, 3),
                # what a studio's console operator types, in the studio's language
                description={
                    "stream_interruption": "推流中断",
                    "product_info_error": "商品卡价格错误",
                    "technical_failure": "中控台卡顿",
                }[kind],
            )
            self.add(
                at + rng.uniform(20, 180),
                "incident.resolved",
                incident_id=f"inc-{self.plan.session_id}-{i}",
            )


def iso(epoch: float) -> str:
    moment = datetime.fromtimestamp(round(epoch, 3), tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def people(rng: random.Random, sessions: int, at: float, period: str) -> list[dict[str, Any]]:
    """A team: a department head, a supervisor, hosts and live-ops people, with targets."""

    def person_event(pid: str, type_: str, **data: Any) -> dict[str, Any]:
        return {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "type": type_,
            "occurred_at": iso(at),
            "person_id": pid,
            "data": data,
            "metadata": {"source": "simulator"},
        }

    events = [
        person_event(
            "sim-head",
            "person.registered",
            name="Sun Yu",
            role="department_head",
            team_id="sim-team",
        ),
        person_event(
            "sim-sup",
            "person.registered",
            name="Chen Jie",
            role="supervisor",
            manager_id="sim-head",
            team_id="sim-team",
        ),
    ]
    names = ["Li Na", "Wang Fang", "Zhang Wei", "Liu Yang", "Huang Min", "Zhao Lei"]
    for i in range(sessions):
        host, ops = f"sim-host-{i}", f"sim-ops-{i}"
        events += [
            person_event(
                host,
                "person.registered",
                name=names[i % len(names)],
                role="host",
                manager_id="sim-sup",
                team_id="sim-team",
                level="regular",
                on_air_since="2026-06-01",
            ),
            person_event(
                ops,
                "person.registered",
                name=f"Ops {i}",
                role="live_ops",
                manager_id="sim-sup",
                team_id="sim-team",
            ),
            person_event(host, "target.set", period=period, kpi="gmv", value=20000),
            person_event(host, "target.set", period=period, kpi="interaction_rate", value=0.3),
            person_event(host, "target.set", period=period, kpi="new_followers", value=50),
            person_event(host, "target.set", period=period, kpi="conversion_rate", value=0.04),
            person_event(ops, "target.set", period=period, kpi="promoted_viewers", value=100),
            person_event(ops, "target.set", period=period, kpi="promoted_conversion", value=0.04),
            person_event(ops, "target.set", period=period, kpi="host_satisfaction", value=90),
            person_event(
                ops,
                "rating.recorded",
                kind="host_satisfaction",
                value=rng.randint(70, 100),
                rater_id=host,
            ),
            person_event(host, "clip.published", clip_id=f"clip-{i}-a", viral=False),
            person_event(host, "clip.published", clip_id=f"clip-{i}-b", viral=rng.random() < 0.2),
        ]
    return events


def simulation(
    seed: int,
    sessions: int,
    minutes: float,
    start: float,
    peak_arrivals_per_minute: float = 60.0,
    demo: bool = False,
    stagger_seconds: float = 20,
    platform_rooms: frozenset[int] = frozenset(),
) -> list[tuple[float, dict[str, Any]]]:
    """Every event of `sessions` concurrent broadcasts, in time order. The broadcasts whose
    index is in `platform_rooms` are sent as a studio connected only through the platforms'
    official sources receives them (simulator/platform_view.py).

    The same (seed, start) gives the same events, ids included, so a re-run is idempotent; a
    different start is a different broadcast (session ids carry it). The team's registration
    and targets depend on the seed and the month only, dated at the month's start.
    """
    begins = datetime.fromtimestamp(start, tz=UTC)
    month_start = begins.replace(day=1, hour=0, minute=0, second=0, microsecond=0).timestamp()
    timeline = [
        (month_start, e)
        for e in people(random.Random(seed), sessions, month_start, begins.strftime("%Y-%m"))
    ]
    rng = random.Random(f"{seed}:{round(start, 3)}")
    for i in range(sessions):
        plan = Plan(
            f"sim{seed}-{begins:%m%d%H%M}-{i}",
            f"sim-host-{i}",
            f"sim-ops-{i}",
            start + i * stagger_seconds,
            minutes,
            peak_arrivals_per_minute,
            demo,
        )
        broadcast = Broadcast(plan, random.Random(rng.getrandbits(64))).generate()
        if i in platform_rooms:
            from service.ingest.simulator.platform_view import platform_view

            broadcast = platform_view(broadcast)
        timeline += broadcast
    timeline.sort(key=lambda pair: pair[0])
    return timeline
