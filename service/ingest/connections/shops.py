"""Each platform's shop API behind one interface (`ShopApi`): what the queued look-ups, the
reconciliation and the token refresh ask, whatever the platform. `ShopApis` builds the right
one for a connection, with its app's credentials (the connection's own, or the platform's app
from settings)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from service.ingest.connections import adapters
from service.ingest.connections.store import Connection, ConnectionBook
from service.ingest.connectors.base import App
from service.ingest.connectors.details import PlatformOrder, PlatformRefund
from service.ingest.connectors.errors import DetailUnavailable
from service.ingest.platform_apis.http import TokenGrant


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


ShopFactory = Callable[[App, Mapping[str, str]], ShopApi]


# One entry per platform whose orders livetally reads through a connection.
SHOP_FACTORIES: dict[str, ShopFactory] = {
    "doudian": adapters.doudian_shop,
    "tiktok_shop": adapters.tiktok_shop,
    "wechat_shop": adapters.wechat_shop,
    "kuaishou_shop": adapters.kuaishou_shop,
    "qianchuan": adapters.qianchuan_account,
    "tiktok_business": adapters.tiktok_business_account,
}


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
