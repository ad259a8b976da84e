"""Settings are read once, at the entry point, and passed down; nothing reads the env later."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///./livetally.db"


@dataclass(frozen=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    api_host: str = "127.0.0.1"
    api_port: int = 8000
    feed_host: str = "127.0.0.1"
    feed_port: int = 8765
    # A YAML file of scorecards replacing the shipped defaults.
    scorecards_path: str | None = None
    # In-process worker threads on the embedded default; per process with Redis.
    worker_threads: int = 2
    # How often the sweep looks for streams whose projection is behind their head.
    sweep_seconds: float = 1.0
    # Redis broker idle poll cap: short, so an idle worker picks up a message quickly.
    worker_timeout_ms: int = 100
    # Embedded default only: a stream-moved message waits until this long after the in-process
    # worker's last run, so that under load one run folds many appends (see docs/architecture.md).
    embedded_pace_ms: int = 100
    # ... and waits this many times the last run's duration, up to embedded_pace_ms.
    embedded_pace_factor: float = 3.0
    max_body_bytes: int = 10 * 1024 * 1024
    # Updates per second a feed client receives at most (coalesced beyond that).
    feed_max_rate: float = 10.0
    # The studio's time zone (IANA): periods, days, and the times pages and the CLI show.
    timezone: str = "Asia/Shanghai"
    # Connectors (docs/connectors.md): each platform's app (a platform with neither an app
    # here nor a connection with its own app has no endpoint: 404). Shops are connections.
    doudian_app_key: str | None = None
    doudian_app_secret: str | None = None
    doudian_service_id: str | None = None  # the app's service id, for OAuth authorisation
    tiktok_shop_app_key: str | None = None
    tiktok_shop_app_secret: str | None = None
    tiktok_shop_service_id: str | None = None
    # 巨量千川 (Qianchuan): the Marketing API app whose advertiser accounts are connected.
    qianchuan_app_id: str | None = None
    qianchuan_app_secret: str | None = None
    # TikTok API for Business: the developer app whose advertiser accounts are connected (their
    # GMV Max report gives the TikTok LIVE rooms' ad spend).
    tiktok_business_app_id: str | None = None
    tiktok_business_app_secret: str | None = None
    # Douyin live-room data: the default data secret and each message type's own
    # ("live_comment=SECRET,live_gift=SECRET"), as the platform's console sets them.
    douyin_live_secret: str | None = None
    douyin_live_secrets: str | None = None
    # Connection secrets at rest: the Fernet key itself, or the file holding it (the embedded
    # default creates the file, mode 0600, on first start).
    secret_key: str | None = None
    secret_key_file: str | None = None  # default: beside the SQLite file (`<file>.key`)
    # Signs staff login sessions and CSRF tokens; default: derived from the secret key above.
    session_secret: str | None = None
    # Failed staff logins allowed per name and per address, per minute.
    login_failures_per_minute: int = 5
    # The address the platforms redirect an admin's browser back to (OAuth callbacks are
    # {public_url}/api/v1/connections/callback/{platform}); fixed here, never from a request.
    public_url: str | None = None
    # Reconciliation: each order connection pulls its orders this often, with this overlap.
    sync_seconds: float = 300.0
    sync_overlap_seconds: float = 600.0
    # Live-room pollers: each connection's rooms are read this often, this many at a time.
    poll_seconds: float = 60.0
    poll_threads: int = 4
    # Threads that finish queued connector messages with the platforms' APIs (per process).
    connector_threads: int = 4
    # A token is refreshed when it has less than this left.
    refresh_lead_seconds: float = 3000.0
    # Base URLs of the platforms' APIs (a proxy, or the test setup's fake platform server).
    doudian_api_url: str | None = None
    tiktok_shop_api_url: str | None = None
    tiktok_shop_auth_url: str | None = None
    wechat_shop_api_url: str | None = None
    kuaishou_shop_api_url: str | None = None
    qianchuan_api_url: str | None = None
    tiktok_business_api_url: str | None = None

    @property
    def embedded(self) -> bool:
        return self.redis_url is None

    @property
    def key_file(self) -> str | None:
        """Where the connection secrets' key is kept when LIVETALLY_SECRET_KEY is not set."""
        if self.secret_key_file:
            return self.secret_key_file
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and ":memory:" not in self.database_url:
            return self.database_url[len(prefix) :].split("?")[0] + ".key"
        return None

    def with_overrides(self, **overrides: Any) -> Settings:
        return replace(self, **{k: v for k, v in overrides.items() if v is not None})

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        env = os.environ if env is None else env
        names = {
            "database_url": "LIVETALLY_DATABASE_URL",
            "redis_url": "LIVETALLY_REDIS_URL",
            "api_host": "LIVETALLY_API_HOST",
            "api_port": "LIVETALLY_API_PORT",
            "feed_host": "LIVETALLY_FEED_HOST",
            "feed_port": "LIVETALLY_FEED_PORT",
            "scorecards_path": "LIVETALLY_SCORECARDS",
            "timezone": "LIVETALLY_TIMEZONE",
            "worker_threads": "LIVETALLY_WORKER_THREADS",
            "sweep_seconds": "LIVETALLY_SWEEP_SECONDS",
            "embedded_pace_ms": "LIVETALLY_EMBEDDED_PACE_MS",
            "embedded_pace_factor": "LIVETALLY_EMBEDDED_PACE_FACTOR",
            "feed_max_rate": "LIVETALLY_FEED_MAX_RATE",
            "doudian_app_key": "LIVETALLY_DOUDIAN_APP_KEY",
            "doudian_app_secret": "LIVETALLY_DOUDIAN_APP_SECRET",
            "doudian_service_id": "LIVETALLY_DOUDIAN_SERVICE_ID",
            "tiktok_shop_app_key": "LIVETALLY_TIKTOK_SHOP_APP_KEY",
            "tiktok_shop_app_secret": "LIVETALLY_TIKTOK_SHOP_APP_SECRET",
            "tiktok_shop_service_id": "LIVETALLY_TIKTOK_SHOP_SERVICE_ID",
            "qianchuan_app_id": "LIVETALLY_QIANCHUAN_APP_ID",
            "qianchuan_app_secret": "LIVETALLY_QIANCHUAN_APP_SECRET",
            "qianchuan_api_url": "LIVETALLY_QIANCHUAN_API_URL",
            "tiktok_business_app_id": "LIVETALLY_TIKTOK_BUSINESS_APP_ID",
            "tiktok_business_app_secret": "LIVETALLY_TIKTOK_BUSINESS_APP_SECRET",
            "tiktok_business_api_url": "LIVETALLY_TIKTOK_BUSINESS_API_URL",
            "douyin_live_secret": "LIVETALLY_DOUYIN_LIVE_SECRET",
            "douyin_live_secrets": "LIVETALLY_DOUYIN_LIVE_SECRETS",
            "secret_key": "LIVETALLY_SECRET_KEY",
            "secret_key_file": "LIVETALLY_SECRET_KEY_FILE",
            "public_url": "LIVETALLY_PUBLIC_URL",
            "session_secret": "LIVETALLY_SESSION_SECRET",
            "sync_seconds": "LIVETALLY_SYNC_SECONDS",
            "sync_overlap_seconds": "LIVETALLY_SYNC_OVERLAP_SECONDS",
            "refresh_lead_seconds": "LIVETALLY_REFRESH_LEAD_SECONDS",
            "connector_threads": "LIVETALLY_CONNECTOR_THREADS",
            "poll_seconds": "LIVETALLY_POLL_SECONDS",
            "poll_threads": "LIVETALLY_POLL_THREADS",
            "doudian_api_url": "LIVETALLY_DOUDIAN_API_URL",
            "tiktok_shop_api_url": "LIVETALLY_TIKTOK_SHOP_API_URL",
            "tiktok_shop_auth_url": "LIVETALLY_TIKTOK_SHOP_AUTH_URL",
            "wechat_shop_api_url": "LIVETALLY_WECHAT_SHOP_API_URL",
            "kuaishou_shop_api_url": "LIVETALLY_KUAISHOU_SHOP_API_URL",
        }
        types = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, var in names.items():
            raw = env.get(var)
            if raw:
                kind = types[name]
                values[name] = int(raw) if kind == "int" else float(raw) if kind == "float" else raw
        return cls(**values).with_overrides(**overrides)
