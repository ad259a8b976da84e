"""The connector side of a process, built once from Settings: the connection book (its vault
opened on first use), each platform's shop API, the connectors, the intake, and the dramatiq
actor that hands queued messages to a worker."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import dramatiq
from sqlalchemy.engine import Engine

from events import Recorder
from events.clock import now_micros
from events.fields import format_timestamp
from service.ingest.connections.adapters import TikTokBusinessAccount, TikTokShop, WeChatShop
from service.ingest.connections.jobs import ConnectionTimes, ConnectorJobs
from service.ingest.connections.shops import ConnectedDetails, ShopApis
from service.ingest.connections.store import Connection, ConnectionBook
from service.ingest.connections.vault import Vault, load_vault
from service.ingest.connectors.base import App, Connector
from service.ingest.connectors.doudian import DoudianConnector
from service.ingest.connectors.douyin_live import DouyinLiveConnector
from service.ingest.connectors.intake import Intake
from service.ingest.connectors.kuaishou_shop import KuaishouShopConnector
from service.ingest.connectors.tiktok_shop import TikTokShopConnector
from service.ingest.connectors.wechat_shop import WeChatShopConnector
from service.ingest.platform_apis.qianchuan import API_URL as QIANCHUAN_URL
from service.ingest.platform_apis.tiktok_business import TikTokBusinessApi
from service.ingest.pollers.base import RoomPoller, SpendReader
from service.ingest.pollers.channels_live import ChannelsLive
from service.ingest.pollers.gmv_max import GmvMaxSpend
from service.ingest.pollers.qianchuan import QianchuanRooms
from service.ingest.pollers.runner import PollerFactory, PollerJobs
from service.ingest.pollers.tiktok_analytics import TikTokLives
from service.process.settings import Settings
from service.reads import views
from worker.publish import Publisher


def settings_apps(settings: Settings) -> dict[str, App]:
    """The platforms' apps configured in settings."""
    apps: dict[str, App] = {}
    if settings.doudian_app_key and settings.doudian_app_secret:
        apps["doudian"] = App("doudian", settings.doudian_app_key, settings.doudian_app_secret)
    if settings.qianchuan_app_id and settings.qianchuan_app_secret:
        apps["qianchuan"] = App(
            "qianchuan", settings.qianchuan_app_id, settings.qianchuan_app_secret
        )
    if settings.tiktok_shop_app_key and settings.tiktok_shop_app_secret:
        apps["tiktok_shop"] = App(
            "tiktok_shop", settings.tiktok_shop_app_key, settings.tiktok_shop_app_secret
        )
    if settings.tiktok_business_app_id and settings.tiktok_business_app_secret:
        apps["tiktok_business"] = App(
            "tiktok_business", settings.tiktok_business_app_id, settings.tiktok_business_app_secret
        )
    return apps


def shop_options(settings: Settings) -> dict[str, str]:
    names = (
        "doudian_api_url",
        "doudian_service_id",
        "tiktok_shop_api_url",
        "tiktok_shop_auth_url",
        "tiktok_shop_service_id",
        "wechat_shop_api_url",
        "kuaishou_shop_api_url",
        "qianchuan_api_url",
        "tiktok_business_api_url",
    )
    options = {name: str(getattr(settings, name)) for name in names if getattr(settings, name)}
    if settings.public_url:
        base = settings.public_url.rstrip("/")
        options["kuaishou_redirect_uri"] = f"{base}/api/v1/connections/callback/kuaishou_shop"
        options["qianchuan_redirect_uri"] = f"{base}/api/v1/connections/callback/qianchuan"
        options["tiktok_business_redirect_uri"] = (
            f"{base}/api/v1/connections/callback/tiktok_business"
        )
    return options


def douyin_secrets_by_type(text: str | None) -> dict[str, str]:
    """ "live_comment=S1,live_gift=S2" -> {"live_comment": "S1", "live_gift": "S2"}."""
    pairs = [item.split("=", 1) for item in (text or "").split(",") if "=" in item]
    return {kind.strip(): secret.strip() for kind, secret in pairs if kind.strip()}


def build_connectors(
    settings: Settings, shops: ShopApis
) -> tuple[dict[str, Connector], dict[str, Callable[[], bool]]]:
    """Every connector, and for each whether it is configured now (connections change while
    the process runs, so this is asked per push)."""
    douyin_by_type = douyin_secrets_by_type(settings.douyin_live_secrets)

    def apps_of(platform: str) -> Callable[[], list[App]]:
        return lambda: shops.known_apps(platform)

    connectors: dict[str, Connector] = {
        "doudian": DoudianConnector(apps_of("doudian")),
        "tiktok_shop": TikTokShopConnector(apps_of("tiktok_shop")),
        "douyin_live": DouyinLiveConnector(settings.douyin_live_secret, douyin_by_type),
        "wechat_shop": WeChatShopConnector(apps_of("wechat_shop")),
        "kuaishou_shop": KuaishouShopConnector(apps_of("kuaishou_shop")),
    }
    configured: dict[str, Callable[[], bool]] = {
        "doudian": lambda: bool(shops.known_apps("doudian")),
        "tiktok_shop": lambda: bool(shops.known_apps("tiktok_shop")),
        "douyin_live": lambda: bool(settings.douyin_live_secret or douyin_by_type),
        "wechat_shop": lambda: bool(shops.known_apps("wechat_shop")),
        "kuaishou_shop": lambda: bool(shops.known_apps("kuaishou_shop")),
    }
    return connectors, configured


CONNECTORS_QUEUE = "connectors"


@dataclass
class ConnectorSide:
    book: ConnectionBook
    shops: ShopApis
    intake: Intake
    configured: dict[str, Callable[[], bool]]
    times: ConnectionTimes
    broker: dramatiq.Broker | None = None
    threads: int = 4
    publisher: Publisher | None = None

    poll_seconds: float = 60.0
    poll_threads: int = 4

    def jobs(self) -> ConnectorJobs:
        return ConnectorJobs(
            self.intake,
            self.shops,
            self.times,
            self.broker,
            CONNECTORS_QUEUE,
            self.threads,
            self._alert if self.publisher is not None else None,
            self.pollers(),
        )

    def pollers(self) -> PollerJobs:
        return PollerJobs(
            self.intake.engine,
            self.intake.recorder,
            self.shops,
            room_pollers(self.shops),
            self.intake.streams_moved,
            self.poll_seconds,
            self.poll_threads,
            self._alert if self.publisher is not None else None,
            spend=room_spend(self.shops),
        )

    def _alert(self, connection: Connection, reason: str) -> None:
        """A `connection_failed` alert to the shop's live session, if one is on air."""
        assert self.publisher is not None
        now = now_micros()
        shop = connection.secrets.get("shop_id") or connection.account_id
        session = views.live_session_at(self.intake.engine, "shop_id", shop, now)
        if session is None:
            return
        self.publisher.publish(
            {
                "type": "alert",
                "session_id": session,
                "alert": {
                    "kind": "connection_failed",
                    "connection_id": connection.connection_id,
                    "name": connection.name,
                    "reason": reason[:300],
                    "at": format_timestamp(now),
                },
            }
        )


def vault_opener(settings: Settings, create: bool) -> Callable[[bool], Vault]:
    def open_vault(secrets_stored: bool) -> Vault:
        return load_vault(settings.secret_key, settings.key_file, create, secrets_stored)

    return open_vault


def declare_take_messages(broker: dramatiq.Broker, intake: Intake) -> dramatiq.Actor:
    def take_connector_messages(platform: str, message_ids: list[str]) -> None:
        for message_id in message_ids:
            intake.take_queued(platform, message_id)

    return dramatiq.Actor(
        take_connector_messages,
        broker=broker,
        actor_name="take_connector_messages",
        queue_name=CONNECTORS_QUEUE,
        priority=10,
        # A failed look-up stays queued in the ledger with its backoff; the queued pass
        # (ConnectorJobs) tries it again, so dramatiq itself does not retry.
        options={"max_retries": 0, "time_limit": 300_000, "max_age": 3_600_000},
    )


def build_connector_side(
    settings: Settings,
    engine: Engine,
    recorder: Recorder,
    streams_moved: Callable[[Iterable[str]], object],
    broker: dramatiq.Broker | None,
    create_key: bool = False,
    publisher: Publisher | None = None,
) -> ConnectorSide:
    book = ConnectionBook(engine, vault_opener(settings, create_key))
    shops = ShopApis(book, settings_apps(settings), shop_options(settings))
    connectors, configured = build_connectors(settings, shops)
    intake = Intake(engine, recorder, connectors, ConnectedDetails(shops), streams_moved)
    if broker is not None:
        actor = declare_take_messages(broker, intake)

        def queue_messages(platform: str, message_ids: list[str]) -> None:
            # One dramatiq message each: the connector threads take them side by side.
            for message_id in message_ids:
                actor.send(platform, [message_id])

        intake.queue_messages = queue_messages
    return ConnectorSide(
        book,
        shops,
        intake,
        configured,
        ConnectionTimes(
            sync_us=int(settings.sync_seconds * 1e6),
            overlap_us=int(settings.sync_overlap_seconds * 1e6),
            refresh_lead_us=int(settings.refresh_lead_seconds * 1e6),
        ),
        broker,
        settings.connector_threads,
        publisher,
        settings.poll_seconds,
        settings.poll_threads,
    )


def room_pollers(shops: ShopApis) -> dict[str, PollerFactory]:
    """Each connection platform that has a live-room poller, and how to make it."""

    def qianchuan(connection: Connection) -> RoomPoller:
        return QianchuanRooms(base_url=shops.options.get("qianchuan_api_url") or QIANCHUAN_URL)

    def tiktok(connection: Connection) -> RoomPoller:
        shop = shops.for_connection(connection)
        assert isinstance(shop, TikTokShop)
        return TikTokLives(shop.api)

    def channels(connection: Connection) -> RoomPoller:
        shop = shops.for_connection(connection)
        assert isinstance(shop, WeChatShop)
        return ChannelsLive(shop.api, shop.token)

    return {"qianchuan": qianchuan, "tiktok_shop": tiktok, "wechat_shop": channels}


def room_spend(shops: ShopApis) -> dict[str, SpendReader]:
    """Each shop platform whose rooms' ad spend comes from connected advertiser accounts."""

    def business_api(account: Connection) -> TikTokBusinessApi:
        found = shops.for_connection(account)
        assert isinstance(found, TikTokBusinessAccount)
        return found.api

    return {"tiktok_shop": GmvMaxSpend(business_api)}
