"""Platform connectors: the platforms push, livetally receives (docs/connectors.md).

Each connector verifies its platform's own signature, splits a push into messages and maps
each message to catalogue events (`handle`); the intake appends them and keeps every message's
fate in the ledger, dead letters included. `build_connectors` is the one registry: a platform
whose secret is not configured has no connector (its endpoint answers 404).
"""

from __future__ import annotations

from service.ingest.connectors.base import Connector
from service.ingest.connectors.details import HttpOrderDetails, NoOrderDetails, OrderDetails
from service.ingest.connectors.doudian import DoudianConnector
from service.ingest.connectors.douyin_live import DouyinLiveConnector
from service.ingest.connectors.tiktok_shop import TikTokShopConnector
from service.process.settings import Settings

PLATFORMS = ("doudian", "tiktok_shop", "douyin_live")


def build_connectors(settings: Settings) -> dict[str, Connector]:
    connectors: dict[str, Connector] = {}
    if settings.doudian_app_key and settings.doudian_app_secret:
        connectors["doudian"] = DoudianConnector(
            settings.doudian_app_key, settings.doudian_app_secret
        )
    if settings.tiktok_shop_app_key and settings.tiktok_shop_app_secret:
        connectors["tiktok_shop"] = TikTokShopConnector(
            settings.tiktok_shop_app_key, settings.tiktok_shop_app_secret
        )
    if settings.douyin_live_secret:
        connectors["douyin_live"] = DouyinLiveConnector(settings.douyin_live_secret)
    return connectors


def build_details(settings: Settings) -> OrderDetails:
    """The platforms' detail APIs where an access token is configured."""
    if not (settings.doudian_access_token or settings.tiktok_shop_access_token):
        return NoOrderDetails()
    return HttpOrderDetails(
        doudian_app_key=settings.doudian_app_key,
        doudian_app_secret=settings.doudian_app_secret,
        doudian_access_token=settings.doudian_access_token,
        tiktok_app_key=settings.tiktok_shop_app_key,
        tiktok_app_secret=settings.tiktok_shop_app_secret,
        tiktok_access_token=settings.tiktok_shop_access_token,
        tiktok_shop_cipher=settings.tiktok_shop_cipher,
    )


__all__ = ["PLATFORMS", "Connector", "build_connectors", "build_details"]
