"""An API on a fresh database, driven through Flask's test client, with a token per scope."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from flask.testing import FlaskClient

from service.auth.tokens import create_token
from service.process.app import create_app
from service.process.runtime import Runtime, build_runtime
from service.process.settings import Settings


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
