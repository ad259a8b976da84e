"""Each platform's shop API behind the `ShopApi` interface of shops.py, and the factories
`SHOP_FACTORIES` there registers (nothing here imports shops.py).

- Doudian and TikTok Shop: OAuth code authorisation; tokens refreshed with the refresh token.
  A TikTok token is the seller's; each shop of it is addressed by its cipher.
- WeChat 小店: no OAuth. The connection is the shop's own app (account id = appid, app key =
  appid, app secret = appsecret); its access token comes from the stable-token endpoint and
  there is no refresh token, so a connection without a valid stored token gets one on demand.
- Kuaishou: OAuth code authorisation. The token answer names no seller, so the seller id every
  message carries (`userId`) is read with open.user.seller.get and becomes the account id.
  Each refresh returns a new refresh token, which must replace the old one.
- 巨量千川 and the TikTok API for Business: advertiser accounts (no orders), whose readings are
  the pollers'. A TikTok Business token is long-term and has no refresh call: a refused one
  means authorise again.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from events.clock import now_micros
from service.ingest.connections.store import Connection
from service.ingest.connectors.base import App
from service.ingest.connectors.details import PlatformOrder, PlatformRefund
from service.ingest.connectors.errors import DetailUnavailable
from service.ingest.platform_apis.doudian import DoudianApi
from service.ingest.platform_apis.http import TokenGrant
from service.ingest.platform_apis.kuaishou_shop import MAX_WINDOW_MS as KUAISHOU_WINDOW_MS
from service.ingest.platform_apis.kuaishou_shop import KuaishouShopApi
from service.ingest.platform_apis.qianchuan import QianchuanApi
from service.ingest.platform_apis.tiktok_business import TikTokBusinessApi
from service.ingest.platform_apis.tiktok_shop import TikTokShopApi
from service.ingest.platform_apis.wechat_shop import MAX_WINDOW_SECONDS as WECHAT_WINDOW_S
from service.ingest.platform_apis.wechat_shop import WeChatShopApi

MAX_PAGES = 500  # a sync window of more than 50,000 changed orders is finished by the next run
TOKEN_MARGIN_US = 120 * 1_000_000  # a stored token this close to expiry is not used
WECHAT_NOT_OAUTH = (
    "WeChat 小店 uses the app's own credentials: add the connection with its appid and secret"
)


def _windows(start: int, end: int, span: int) -> Iterator[tuple[int, int]]:
    """[start, end) cut into windows of at most `span` (the platforms' list limit)."""
    while start < end:
        yield start, min(start + span, end)
        start += span


def _secret(connection: Connection, name: str) -> str:
    value = connection.secrets.get(name)
    if not value:
        raise DetailUnavailable(f"connection {connection.connection_id} has no {name}")
    return value


@dataclass
class DoudianShop:
    api: DoudianApi
    service_id: str | None = None

    def order(self, connection: Connection, order_ref: str) -> PlatformOrder:
        return self.api.order(_secret(connection, "access_token"), order_ref)

    def refund(self, connection: Connection, order_ref: str, refund_ref: str) -> PlatformRefund:
        raise DetailUnavailable("doudian refund messages carry their amount; no API is asked")

    def orders_updated(
        self, connection: Connection, start_s: int, end_s: int
    ) -> Iterator[PlatformOrder]:
        token = _secret(connection, "access_token")
        for page in range(MAX_PAGES):
            orders, more = self.api.orders_updated(token, start_s, end_s, page)
            yield from orders
            if not more:
                return

    def authorize_url(self, state: str) -> str:
        if not self.service_id:
            raise DetailUnavailable("LIVETALLY_DOUDIAN_SERVICE_ID is not set")
        return self.api.authorize_url(self.service_id, state)

    def exchange_code(self, code: str) -> TokenGrant:
        return self.api.create_token(code)

    def refresh(self, connection: Connection) -> TokenGrant:
        return self.api.refresh_token(_secret(connection, "refresh_token"))


@dataclass
class TikTokShop:
    api: TikTokShopApi
    service_id: str | None = None

    def order(self, connection: Connection, order_ref: str) -> PlatformOrder:
        return self.api.order(
            _secret(connection, "access_token"), connection.secrets.get("shop_cipher"), order_ref
        )

    def refund(self, connection: Connection, order_ref: str, refund_ref: str) -> PlatformRefund:
        return self.api.refund(
            _secret(connection, "access_token"), connection.secrets.get("shop_cipher"), refund_ref
        )

    def orders_updated(
        self, connection: Connection, start_s: int, end_s: int
    ) -> Iterator[PlatformOrder]:
        token = _secret(connection, "access_token")
        page_token: str | None = None
        for _ in range(MAX_PAGES):
            orders, page_token = self.api.orders_updated(
                token, connection.secrets.get("shop_cipher"), start_s, end_s, page_token
            )
            yield from orders
            if not page_token:
                return

    def authorize_url(self, state: str) -> str:
        if not self.service_id:
            raise DetailUnavailable("LIVETALLY_TIKTOK_SHOP_SERVICE_ID is not set")
        return self.api.authorize_url(self.service_id, state)

    def exchange_code(self, code: str) -> TokenGrant:
        grant = self.api.create_token(code)
        # The token is the seller's; each shop of it is addressed by its cipher.
        shops = self.api.shops(grant.access_token)
        if shops:
            shop = shops[0]
            return TokenGrant(
                grant.access_token,
                grant.refresh_token,
                grant.access_expires_at,
                grant.refresh_expires_at,
                account_id=str(shop.get("id")),
                name=str(shop.get("name") or grant.name or ""),
                extra={"shop_cipher": str(shop.get("cipher") or "")},
            )
        return grant

    def refresh(self, connection: Connection) -> TokenGrant:
        return self.api.refresh_token(_secret(connection, "refresh_token"))


@dataclass
class WeChatShop:
    api: WeChatShopApi

    def token(self, connection: Connection) -> str:
        """The stored access token while it is valid; else a stable token from the app's
        credentials (it is the same token until the platform renews it, so this never
        invalidates one another worker holds)."""
        token = connection.secrets.get("access_token")
        expires = connection.access_expires_at
        if token and (expires is None or expires - now_micros() > TOKEN_MARGIN_US):
            return token
        return self.api.access_token().access_token

    def order(self, connection: Connection, order_ref: str) -> PlatformOrder:
        return self.api.order(self.token(connection), order_ref)

    def refund(self, connection: Connection, order_ref: str, refund_ref: str) -> PlatformRefund:
        return self.api.refund(self.token(connection), refund_ref)

    def orders_updated(
        self, connection: Connection, start_s: int, end_s: int
    ) -> Iterator[PlatformOrder]:
        """The list gives order ids only: each is read with the order detail."""
        token = self.token(connection)
        for window_start, window_end in _windows(start_s, end_s, WECHAT_WINDOW_S):
            next_key: str | None = None
            for _ in range(MAX_PAGES):
                ids, next_key, more = self.api.orders_updated(
                    token, window_start, window_end, next_key
                )
                for order_id in ids:
                    yield self.api.order(token, order_id)
                if not more or not next_key:
                    break

    def authorize_url(self, state: str) -> str:
        raise DetailUnavailable(WECHAT_NOT_OAUTH)

    def exchange_code(self, code: str) -> TokenGrant:
        raise DetailUnavailable(WECHAT_NOT_OAUTH)

    def refresh(self, connection: Connection) -> TokenGrant:
        """No refresh token: a stable token from the app's own credentials."""
        return self.api.access_token()


@dataclass
class KuaishouShop:
    api: KuaishouShopApi
    redirect_uri: str | None = None

    def order(self, connection: Connection, order_ref: str) -> PlatformOrder:
        return self.api.order(_secret(connection, "access_token"), order_ref)

    def refund(self, connection: Connection, order_ref: str, refund_ref: str) -> PlatformRefund:
        raise DetailUnavailable("kuaishou_shop refunds are not read: see docs/connectors.md")

    def orders_updated(
        self, connection: Connection, start_s: int, end_s: int
    ) -> Iterator[PlatformOrder]:
        token = _secret(connection, "access_token")
        for start_ms, end_ms in _windows(start_s * 1000, end_s * 1000, KUAISHOU_WINDOW_MS):
            cursor: str | None = ""  # "" asks for the first page
            for _ in range(MAX_PAGES):
                orders, cursor = self.api.orders_updated(token, start_ms, end_ms, cursor or "")
                yield from orders
                if cursor is None:
                    break

    def authorize_url(self, state: str) -> str:
        if not self.redirect_uri:
            raise DetailUnavailable(
                "no Kuaishou redirect URI (kuaishou_redirect_uri, from LIVETALLY_PUBLIC_URL)"
            )
        return self.api.authorize_url(self.redirect_uri, state)

    def exchange_code(self, code: str) -> TokenGrant:
        grant = self.api.create_token(code)
        seller, name = self.api.seller(grant.access_token)
        return TokenGrant(
            grant.access_token,
            grant.refresh_token,
            grant.access_expires_at,
            grant.refresh_expires_at,
            account_id=seller,
            name=name,
        )

    def refresh(self, connection: Connection) -> TokenGrant:
        return self.api.refresh_token(_secret(connection, "refresh_token"))


def wechat_shop(app: App, options: Mapping[str, str]) -> WeChatShop:
    api = WeChatShopApi(app.app_key, app.app_secret)
    if options.get("wechat_shop_api_url"):
        api.base_url = options["wechat_shop_api_url"]
    return WeChatShop(api)


def kuaishou_shop(app: App, options: Mapping[str, str]) -> KuaishouShop:
    api = KuaishouShopApi(app.app_key, app.app_secret, app.extra.get("sign_secret", ""))
    if options.get("kuaishou_shop_api_url"):
        api.base_url = options["kuaishou_shop_api_url"]
    return KuaishouShop(api, options.get("kuaishou_redirect_uri"))


def doudian_shop(app: App, options: Mapping[str, str]) -> DoudianShop:
    return DoudianShop(
        DoudianApi(
            app.app_key,
            app.app_secret,
            base_url=options.get("doudian_api_url") or "https://openapi-fxg.jinritemai.com",
        ),
        options.get("doudian_service_id"),
    )


def tiktok_shop(app: App, options: Mapping[str, str]) -> TikTokShop:
    api = TikTokShopApi(app.app_key, app.app_secret)
    if options.get("tiktok_shop_api_url"):
        api.base_url = options["tiktok_shop_api_url"]
    if options.get("tiktok_shop_auth_url"):
        api.auth_url = options["tiktok_shop_auth_url"]
    return TikTokShop(api, options.get("tiktok_shop_service_id"))


class AdvertiserAccount:
    """An advertiser account (ad spend, live-room readings), not a shop: it has no orders or
    refunds of its own, those come from the shop's connection."""

    called = "an advertiser account"

    def order(self, connection: Connection, order_ref: str) -> PlatformOrder:
        raise DetailUnavailable(f"{self.called} has no orders: they come from the shop")

    def refund(self, connection: Connection, order_ref: str, refund_ref: str) -> PlatformRefund:
        raise DetailUnavailable(f"{self.called} has no refunds: they come from the shop")

    def orders_updated(
        self, connection: Connection, start_s: int, end_s: int
    ) -> Iterator[PlatformOrder]:
        return iter(())


@dataclass
class QianchuanAccount(AdvertiserAccount):
    """A 巨量千川 advertiser account: OAuth and refresh here; its readings are the pollers'."""

    api: QianchuanApi
    redirect_uri: str | None = None
    called = "a Qianchuan account"

    def authorize_url(self, state: str) -> str:
        return self.api.authorize_url(state, self.redirect_uri)

    def exchange_code(self, code: str) -> TokenGrant:
        return self.api.create_token(code)

    def refresh(self, connection: Connection) -> TokenGrant:
        return self.api.refresh_token(_secret(connection, "refresh_token"))


def qianchuan_account(app: App, options: Mapping[str, str]) -> QianchuanAccount:
    api = QianchuanApi(app.app_key, app.app_secret)
    if options.get("qianchuan_api_url"):
        api.base_url = options["qianchuan_api_url"]
    return QianchuanAccount(api, options.get("qianchuan_redirect_uri"))


@dataclass
class TikTokBusinessAccount(AdvertiserAccount):
    """A TikTok API for Business advertiser account: OAuth here; its GMV Max report gives the
    TikTok LIVE rooms' ad spend (service/ingest/pollers/gmv_max.py). Secrets: the long-term
    access token, `advertiser_ids`, and `shop_id`, the TikTok Shop whose LIVE GMV Max
    campaigns it runs."""

    api: TikTokBusinessApi
    redirect_uri: str | None = None
    called = "a TikTok Business account"

    def authorize_url(self, state: str) -> str:
        return self.api.authorize_url(state, self.redirect_uri)

    def exchange_code(self, code: str) -> TokenGrant:
        return self.api.create_token(code)

    def refresh(self, connection: Connection) -> TokenGrant:
        raise DetailUnavailable(
            "a TikTok Business token is long-term and has no refresh call: authorise again"
        )


def tiktok_business_account(app: App, options: Mapping[str, str]) -> TikTokBusinessAccount:
    api = TikTokBusinessApi(app.app_key, app.app_secret)
    if options.get("tiktok_business_api_url"):
        api.base_url = options["tiktok_business_api_url"]
    return TikTokBusinessAccount(api, options.get("tiktok_business_redirect_uri"))
