"""Fixtures: real SQLite files, and real PostgreSQL and Redis servers started for the run."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import Engine

from events import create_engine
from service.process.migrate import upgrade
from tests.servers import PostgresServer, RedisServer, start_postgres, start_redis

TEMPLATE = "livetally_template"


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    server = start_postgres()
    server.execute(f"CREATE DATABASE {TEMPLATE}")
    template = create_engine(server.url(TEMPLATE))
    upgrade(template)
    template.dispose()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    server = start_redis()
    yield server
    server.stop()


def fresh_postgres_url(server: PostgresServer) -> str:
    """A new, migrated database (copied from a migrated template: fast)."""
    name = "t_" + uuid.uuid4().hex[:12]
    server.execute(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return server.url(name)


def fresh_sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'livetally.db'}"
    engine = create_engine(url)
    upgrade(engine)
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Runs the test once on each backend, on a fresh migrated database."""
    if request.param == "sqlite":
        return fresh_sqlite_url(tmp_path)
    return fresh_postgres_url(request.getfixturevalue("postgres"))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return fresh_sqlite_url(tmp_path)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


_SERVER_MARKS = {
    "postgres": "postgres",
    "database_url": "postgres",
    "engine": "postgres",
    "api_any": "postgres",
    "redis_server": "redis",
    "browser": "browser",
    "page": "browser",
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Marks each test with the servers its fixtures start, so `-m "not postgres"` and
    `make unit` select exactly the tests that need none."""
    for item in items:
        for fixture, mark in _SERVER_MARKS.items():
            if fixture in getattr(item, "fixturenames", ()):
                item.add_marker(getattr(pytest.mark, mark))
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.redis)
