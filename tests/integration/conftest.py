"""An API on a fresh database, driven through Flask's test client, with a token per scope."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.auth.tokens import create_token
from service.process.app import create_app
from service.process.runtime import Runtime, build_runtime
from service.process.settings import Settings
from tests.connector_support import DOUDIAN_KEY, DOUDIAN_SECRET, TIKTOK_KEY, TIKTOK_SECRET
from tests.fake_platforms import FakePlatforms, serve


@dataclass
class Api:
    client: FlaskClient
    runtime: Runtime
    tokens: dict[str, str]

    def headers(self, scope: str = "admin") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[scope]}"}

    def post(self, body: Any, scope: str = "ingest") -> Any:
        return self.client.post("/api/v1/events", json=body, headers=self.headers(scope))

    def get(self, path: str, scope: str = "read") -> Any:
        return self.client.get(path, headers=self.headers(scope))

    def stored_count(self) -> int:
        return len(self.runtime.recorder.read_all(0, 100_000))

    def project_all(self) -> None:
        for stream_id in self.runtime.recorder.heads():
            self.runtime.worker.projector.project(stream_id)


def make_api(database_url: str) -> Api:
    runtime = build_runtime(Settings(database_url=database_url))
    app = create_app(runtime=runtime)
    tokens = {scope: create_token(runtime.engine, [scope]) for scope in ("ingest", "read", "admin")}
    return Api(app.test_client(), runtime, tokens)


@pytest.fixture
def api(sqlite_url: str) -> Iterator[Api]:
    made = make_api(sqlite_url)
    yield made
    made.runtime.close()


@pytest.fixture
def api_any(database_url: str) -> Iterator[Api]:
    """The API on each backend in turn."""
    made = make_api(database_url)
    yield made
    made.runtime.close()


# -- the connectors' fake platforms and an API wired to them ---------------------------------


@pytest.fixture
def platforms() -> Iterator[FakePlatforms]:
    fake = FakePlatforms((DOUDIAN_KEY, DOUDIAN_SECRET), (TIKTOK_KEY, TIKTOK_SECRET))
    httpd, url = serve(fake)
    fake.url = url  # type: ignore[attr-defined]
    yield fake
    httpd.shutdown()


def settings_for(database_url: str, url: str, tmp_path: Path) -> Settings:
    return Settings(
        database_url=database_url,
        doudian_app_key=DOUDIAN_KEY,
        doudian_app_secret=DOUDIAN_SECRET,
        doudian_service_id="svc-1",
        tiktok_shop_app_key=TIKTOK_KEY,
        tiktok_shop_app_secret=TIKTOK_SECRET,
        tiktok_shop_service_id="svc-2",
        doudian_api_url=url,
        tiktok_shop_api_url=url,
        tiktok_shop_auth_url=url,
        secret_key_file=str(tmp_path / "livetally.key"),
        public_url="https://livetally.example",
        qianchuan_app_id="1700000000000000",
        qianchuan_app_secret="qc-secret",
        qianchuan_api_url=url,
        wechat_shop_api_url=url,
        tiktok_business_app_id="tb-app",
        tiktok_business_app_secret="tb-secret",
        tiktok_business_api_url=url,
    )


@pytest.fixture
def api_live(database_url: str, platforms: FakePlatforms, tmp_path: Path) -> Iterator[Api]:
    settings = settings_for(database_url, platforms.url, tmp_path)  # type: ignore[attr-defined]
    runtime = build_runtime(settings, create_key=True)
    app = create_app(runtime=runtime)
    tokens = {scope: create_token(runtime.engine, [scope]) for scope in ("ingest", "read", "admin")}
    yield Api(app.test_client(), runtime, tokens)
    runtime.close()
