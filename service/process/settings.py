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
    # Connectors (docs/connectors.md): a platform without its secret has no endpoint (404).
    doudian_app_key: str | None = None
    doudian_app_secret: str | None = None
    doudian_access_token: str | None = None  # order.orderDetail, for created messages
    tiktok_shop_app_key: str | None = None
    tiktok_shop_app_secret: str | None = None
    tiktok_shop_access_token: str | None = None  # order and return details
    tiktok_shop_cipher: str | None = None
    douyin_live_secret: str | None = None

    @property
    def embedded(self) -> bool:
        return self.redis_url is None

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
            "worker_threads": "LIVETALLY_WORKER_THREADS",
            "sweep_seconds": "LIVETALLY_SWEEP_SECONDS",
            "embedded_pace_ms": "LIVETALLY_EMBEDDED_PACE_MS",
            "embedded_pace_factor": "LIVETALLY_EMBEDDED_PACE_FACTOR",
            "feed_max_rate": "LIVETALLY_FEED_MAX_RATE",
            "doudian_app_key": "LIVETALLY_DOUDIAN_APP_KEY",
            "doudian_app_secret": "LIVETALLY_DOUDIAN_APP_SECRET",
            "doudian_access_token": "LIVETALLY_DOUDIAN_ACCESS_TOKEN",
            "tiktok_shop_app_key": "LIVETALLY_TIKTOK_SHOP_APP_KEY",
            "tiktok_shop_app_secret": "LIVETALLY_TIKTOK_SHOP_APP_SECRET",
            "tiktok_shop_access_token": "LIVETALLY_TIKTOK_SHOP_ACCESS_TOKEN",
            "tiktok_shop_cipher": "LIVETALLY_TIKTOK_SHOP_CIPHER",
            "douyin_live_secret": "LIVETALLY_DOUYIN_LIVE_SECRET",
        }
        types = {f.name: f.type for f in fields(cls)}
        values: dict[str, Any] = {}
        for name, var in names.items():
            raw = env.get(var)
            if raw:
                kind = types[name]
                values[name] = int(raw) if kind == "int" else float(raw) if kind == "float" else raw
        return cls(**values).with_overrides(**overrides)
