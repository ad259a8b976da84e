"""Token lifecycle: names, expiry, list and revoke, and how fast every process notices."""

from __future__ import annotations

import time

from click.testing import CliRunner

from service.auth.tokens import TokenChecker, create_token, list_tokens, parse_lifetime
from service.cli import main
from tests.integration.conftest import Api


def wait_refused(api: Api, token: str, within: float) -> float:
    started = time.monotonic()
    while (
        api.client.get("/api/v1/sessions", headers={"Authorization": f"Bearer {token}"}).status_code
        != 401
    ):
        assert time.monotonic() - started < within, "the token still works"
        time.sleep(0.05)
    return time.monotonic() - started


def test_a_revoked_token_stops_working_within_a_second(api: Api) -> None:
    token = create_token(api.runtime.engine, ["read"], "wall-3")
    assert (
        api.client.get("/api/v1/sessions", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    result = CliRunner().invoke(
        main, ["tokens", "revoke", "wall-3", "--db", api.runtime.settings.database_url]
    )
    assert result.exit_code == 0, result.output
    wait_refused(api, token, within=1.5)
    listed = {t.name: t for t in list_tokens(api.runtime.engine)}
    assert listed["wall-3"].revoked_at is not None


def test_an_expired_token_stops_working(api: Api) -> None:
    token = create_token(api.runtime.engine, ["read"], "brief", expires_in_seconds=1)
    assert (
        api.client.get("/api/v1/sessions", headers={"Authorization": f"Bearer {token}"}).status_code
        == 200
    )
    wait_refused(api, token, within=3)


def test_lifetimes_are_a_number_and_a_unit() -> None:
    assert [parse_lifetime(t) for t in ("30d", "12h", "90m", "45s")] == [
        2_592_000,
        43_200,
        5_400,
        45,
    ]
    result = CliRunner().invoke(main, ["tokens", "create", "--scope", "read", "--expires", "soon"])
    assert result.exit_code != 0 and "--expires" in result.output


def test_a_flood_of_unknown_tokens_does_not_evict_the_valid_ones(api: Api) -> None:
    checker = TokenChecker(api.runtime.engine, ttl_seconds=60, entries=100)
    token = create_token(api.runtime.engine, ["read"])
    assert checker.scopes(token) == frozenset({"read"})
    looked_up = []
    real = checker.engine.connect

    def counting() -> object:
        looked_up.append(1)
        return real()

    for i in range(500):
        checker.scopes(f"lt_made-up-{i}")
        checker.scopes(token)  # in use: kept as the most recently used
    checker.engine.connect = counting  # type: ignore[method-assign, assignment]
    try:
        assert checker.scopes(token) == frozenset({"read"})
        assert looked_up == []  # still cached: the flood evicted only the made-up ones
    finally:
        checker.engine.connect = real  # type: ignore[method-assign]
    assert len(checker._cache) == 100


def test_the_list_shows_ids_and_names_never_tokens(api: Api) -> None:
    token = create_token(api.runtime.engine, ["ingest"], "relay")
    result = CliRunner().invoke(
        main, ["tokens", "list", "--db", api.runtime.settings.database_url], env={"COLUMNS": "200"}
    )
    assert result.exit_code == 0
    assert "relay" in result.output and token not in result.output


def test_tokens_list_shows_whole_times_in_the_studio_zone_at_80_columns(sqlite_url: str) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from events import create_engine

    engine = create_engine(sqlite_url)
    create_token(engine, ["read"], "a rather long token name for the wall screens of room 7")
    (info,) = list_tokens(engine)
    engine.dispose()
    created = datetime.fromtimestamp(info.created_at / 1e6, ZoneInfo("Asia/Shanghai"))
    result = CliRunner().invoke(main, ["tokens", "list", "--db", sqlite_url], env={"COLUMNS": "80"})
    assert result.exit_code == 0, result.output
    assert created.strftime("%Y-%m-%d %H:%M") in result.output  # whole, on one line
    assert "times in Asia/Shanghai" in result.output
    assert "…" not in result.output
