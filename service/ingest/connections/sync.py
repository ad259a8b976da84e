"""Reconciliation: pull a connection's orders updated since its last sync (with an overlap)
and map them through the same order facts as the pushes, with the same event ids: a missed
push is recovered, a pushed order is a no-op (docs/connectors.md).

An order placed while none of the shop's sessions was live belongs to no broadcast and is
skipped (counted); one that is already attributed goes to its session, however late.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from service.ingest.connections.shops import ShopApis
from service.ingest.connections.store import Connection
from service.ingest.connectors import doudian, kuaishou_shop, order_facts, tiktok_shop, wechat_shop
from service.ingest.connectors.details import PlatformOrder
from service.ingest.connectors.errors import DeadLetter
from service.ingest.connectors.intake import Intake, SqlContext

WINDOW_SECONDS = 86_400  # one list query spans at most a day (WeChat's and Kuaishou's: 7)

# platform -> (catalogue order id of a line, the buyer id's name): as the pushes map them.
LISTED: dict[str, tuple[order_facts.OrderIdOf, str]] = {
    "doudian": (doudian._line_order_id, "doudian_open_id"),
    "tiktok_shop": (tiktok_shop._line_order_id, "user_id"),
    "wechat_shop": (wechat_shop._line_order_id, "openid"),
    "kuaishou_shop": (kuaishou_shop._line_order_id, "buyerOpenId"),
}


@dataclass
class SyncResult:
    orders: int = 0
    appended: int = 0
    outside_sessions: int = 0
    already_told: int = 0
    unreadable: list[str] = field(default_factory=list)


def order_platforms() -> frozenset[str]:
    return frozenset(LISTED)


def sync_connection(
    intake: Intake,
    shops: ShopApis,
    connection: Connection,
    start_us: int,
    end_us: int,
    progress: Callable[[int], None] | None = None,
) -> SyncResult:
    """Pull and map every order updated in [start, end). Raises PlatformApiError (nothing of
    the failed window is marked synced; orders already appended stay, and are no-ops next
    time)."""
    order_id_of, buyer_what = LISTED[connection.platform]
    api = shops.for_connection(connection)
    context = SqlContext(intake.engine, intake.details)
    result = SyncResult()
    start_s, end_s = start_us // 1_000_000, -(-end_us // 1_000_000)
    for window_start in range(start_s, end_s, WINDOW_SECONDS):
        window_end = min(window_start + WINDOW_SECONDS, end_s)
        for order in api.orders_updated(connection, window_start, window_end):
            result.orders += 1
            _take(intake, context, connection, order, order_id_of, buyer_what, result)
            if progress is not None:
                progress(result.orders)
    return result


def _take(
    intake: Intake,
    context: SqlContext,
    connection: Connection,
    order: PlatformOrder,
    order_id_of: order_facts.OrderIdOf,
    buyer_what: str,
    result: SyncResult,
) -> None:
    shop = order.shop_ref or connection.account_id
    reading = f"sync:{connection.connection_id}:{order.order_ref}"
    try:
        session = order_facts.session_of_order(context, shop, order, order_id_of)
    except DeadLetter as exc:
        if exc.reason == "no_live_session":
            result.outside_sessions += 1
            return
        raise
    events = order_facts.order_events(
        connection.platform, reading, session, order, order_id_of, buyer_what
    )
    try:
        appended, dropped = intake.append_facts(events)
    except Exception as exc:  # a value the catalogue refuses: reported, the others go on
        result.unreadable.append(f"{order.order_ref}: {exc}"[:300])
        return
    result.appended += appended
    result.already_told += len(dropped)
