"""Each platform's shop API behind one interface (`ShopApi`): what the queued look-ups, the
reconciliation and the token refresh ask, whatever the platform. `ShopApis` builds the right
one for a connection, with its app's credentials (the connection's own, or the platform's app
from settings)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from service.ingest.connections.store import Connection, ConnectionBook
from service.ingest.connectors.base import App
from service.ingest.connectors.details import PlatformOrder, PlatformRefund
from service.ingest.connectors.errors import DetailUnavailable
from service.ingest.platform_apis.doudian import DoudianApi
from service.ingest.platform_apis.http import TokenGrant
from service.ingest.platform_apis.tiktok_shop import TikTokShopApi

MAX_PAGES = 500  # a sync window of more than 50,000 changed orders is split by the next run


class ShopApi(Protocol):
    def order(self, connection: Connection, order_ref: str) -> PlatformOrder:
        """Raises PlatformApiError."""

    def refund(self, connection: Connection, order_ref: str, refund_ref: str) -> PlatformRefund:
        """Raises PlatformApiError (or DetailUnavailable where the platform has no such API)."""

    def orders_updated(
        self, connection: Connection, start_s: int, end_s: int
    ) -> Iterator[PlatformOrder]:
        """Every order updated in the window, page by page. Raises PlatformApiError."""

    def authorize_url(self, state: str) -> str:
        """Where an admin's browser goes to authorise the app for a shop."""

    def exchange_code(self, code: str) -> TokenGrant:
        """The tokens for an authorisation code (the OAuth callback)."""

    def refresh(self, connection: Connection) -> TokenGrant:
        """New tokens from the connection's refresh token."""


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


ShopFactory = Callable[[App, Mapping[str, str]], ShopApi]


def _doudian(app: App, options: Mapping[str, str]) -> ShopApi:
    return DoudianShop(
        DoudianApi(
            app.app_key,
            app.app_secret,
            base_url=options.get("doudian_api_url") or "https://openapi-fxg.jinritemai.com",
        ),
        options.get("doudian_service_id"),
    )


def _tiktok(app: App, options: Mapping[str, str]) -> ShopApi:
    api = TikTokShopApi(app.app_key, app.app_secret)
    if options.get("tiktok_shop_api_url"):
        api.base_url = options["tiktok_shop_api_url"]
    if options.get("tiktok_shop_auth_url"):
        api.auth_url = options["tiktok_shop_auth_url"]
    return TikTokShop(api, options.get("tiktok_shop_service_id"))


# One entry per platform whose orders livetally reads through a connection.
SHOP_FACTORIES: dict[str, ShopFactory] = {"doudian": _doudian, "tiktok_shop": _tiktok}


@dataclass
class ShopApis:
    """The shop API of each connection: its own app credentials, else the platform's app."""

    book: ConnectionBook
    apps: Mapping[str, App]  # the platforms' apps from settings
    options: Mapping[str, str] = field(default_factory=dict)  # base URLs, service ids

    def app_of(self, connection: Connection) -> App:
        secret = connection.secrets.get("app_secret")
        if connection.app_key and secret:
            extra = {k: v for k, v in connection.secrets.items() if k not in ("app_secret",)}
            return App(connection.platform, connection.app_key, secret, extra)
        app = self.apps.get(connection.platform)
        if app is None:
            raise DetailUnavailable(
                f"connection {connection.connection_id} has no app credentials and no "
                f"{connection.platform} app is configured"
            )
        return app

    def for_connection(self, connection: Connection) -> ShopApi:
        factory = SHOP_FACTORIES.get(connection.platform)
        if factory is None:
            raise DetailUnavailable(f"{connection.platform} has no shop API")
        return factory(self.app_of(connection), self.options)

    def for_platform(self, platform: str) -> ShopApi:
        """The platform's app from settings (authorising a shop that is not connected yet)."""
        factory, app = SHOP_FACTORIES.get(platform), self.apps.get(platform)
        if factory is None or app is None:
            raise DetailUnavailable(f"no {platform} app is configured")
        return factory(app, self.options)

    def known_apps(self, platform: str) -> list[App]:
        """Every app a push of this platform may be signed by: the configured one and each
        connection's own."""
        found: dict[str, App] = {}
        if platform in self.apps:
            found[self.apps[platform].app_key] = self.apps[platform]
        for connection in self.book.all(platform):
            if connection.app_key and connection.secrets.get("app_secret"):
                found.setdefault(connection.app_key, self.app_of(connection))
        return list(found.values())


@dataclass
class ConnectedDetails:
    """OrderDetails through the connection of the shop a message names."""

    shops: ShopApis

    def _connection(self, platform: str, shop_id: str) -> Connection:
        connection = self.shops.book.of_account(platform, shop_id)
        if connection is None:
            raise DetailUnavailable(f"no {platform} connection for shop {shop_id}")
        return connection

    def order(self, platform: str, shop_id: str, order_ref: str) -> PlatformOrder:
        connection = self._connection(platform, shop_id)
        return self.shops.for_connection(connection).order(connection, order_ref)

    def refund(
        self, platform: str, shop_id: str, order_ref: str, refund_ref: str
    ) -> PlatformRefund:
        connection = self._connection(platform, shop_id)
        return self.shops.for_connection(connection).refund(connection, order_ref, refund_ref)
