"""Connections end to end against the local fake platforms (real HTTP, the recorded public
shapes, signatures checked as the platforms document): secrets at rest, the OAuth flow and its
browser binding, token refresh, reconciliation that recovers a dropped push exactly once, and
any number of shops on one platform. On both backends.

Hand-computed figures: shop 95250's session (from 07:30Z on 2021-04-21) sells order ...001
(29.90, paid) and order ...021 (100.00 + 58.00, paid); order ...021's pushes are dropped, so
only the sync can bring it: three SKU orders (one catalogue order each), placed 3, paid 3,
GMV 29.90 + 100.00 + 58.00 = 187.90, buyers 2 once synced. Shop 95251,
live at the same time, sells order ...041 (45.00): its own session has GMV 45.00.
"""

from __future__ import annotations

import copy
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from click.testing import CliRunner

from events.clock import now_micros
from service.cli import main
from service.ingest.connections.vault import VaultError
from service.process.runtime import build_runtime
from service.process.settings import Settings
from tests.connector_support import (
    doudian_request,
    figures,
    fixture,
    push,
    start,
    tiktok_request,
)
from tests.fake_platforms import FakePlatforms
from tests.integration.conftest import Api

DD_SHOP, DD_OTHER_SHOP, TT_SHOP = "95250", "95251", "7494049642642441621"
LIVE_AT = datetime(2021, 4, 21, 7, 30, tzinfo=UTC)


def shop_order(order_id: str, shop: str) -> dict[str, Any]:
    """A recorded order detail as the order list shows it (with its update time)."""
    answers = fixture("doudian", "order_details.json")["answers"]
    order = copy.deepcopy(answers[order_id]["data"]["shop_order_detail"])
    order["shop_id"] = int(shop)
    order["update_time"] = order.get("pay_time") or order["create_time"]
    return dict(order)


def connect_shop(api: Api, platforms: FakePlatforms, shop: str, **extra: str) -> str:
    access, refresh = platforms.issue(shop)
    response = api.client.post(
        "/api/v1/connections",
        json={
            "platform": extra.pop("platform", "doudian"),
            "account_id": shop,
            "name": f"店铺 {shop}",
            "secrets": {"access_token": access, "refresh_token": refresh, **extra},
        },
        headers=api.headers("admin"),
    )
    assert response.status_code == 201, response.json
    return access


def test_secrets_are_sealed_at_rest_and_never_answered(
    api_live: Api, platforms: FakePlatforms, tmp_path: Path
) -> None:
    access = connect_shop(api_live, platforms, DD_SHOP)
    listed = api_live.get("/api/v1/connections", "admin").json["connections"]
    assert [(c["connection_id"], c["state"], c["secrets_set"]) for c in listed] == [
        ("doudian:95250", "ok", ["access_token", "refresh_token"])
    ]
    assert access not in str(listed)
    with api_live.runtime.engine.connect() as conn:
        rows = conn.execute(sa.text("SELECT * FROM connection")).all()
    assert rows and access not in str(rows)
    url = api_live.runtime.settings.database_url
    if url.startswith("sqlite"):
        api_live.runtime.engine.dispose()
        raw = b"".join(
            Path(p).read_bytes()
            for p in (url.removeprefix("sqlite:///"), url.removeprefix("sqlite:///") + "-wal")
            if Path(p).exists()
        )
        assert access.encode() not in raw
    key_file = tmp_path / "livetally.key"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    # only admins see or change connections
    assert api_live.get("/api/v1/connections", "read").status_code == 403


def test_a_lost_key_is_a_clear_error_never_a_new_key(
    api_live: Api, platforms: FakePlatforms, tmp_path: Path
) -> None:
    connect_shop(api_live, platforms, DD_SHOP)
    (tmp_path / "livetally.key").unlink()
    again = build_runtime(api_live.runtime.settings, create_key=True)
    try:
        with pytest.raises(VaultError, match="missing but connection secrets are stored"):
            again.connectors.book.all()
        assert not (tmp_path / "livetally.key").exists()
    finally:
        again.close()
    other = tmp_path / "other.key"
    from cryptography.fernet import Fernet

    other.write_bytes(Fernet.generate_key())
    wrong = build_runtime(
        Settings(database_url=api_live.runtime.settings.database_url, secret_key_file=str(other))
    )
    try:
        with pytest.raises(VaultError, match="not the one the secrets were stored with"):
            wrong.connectors.book.all()
    finally:
        wrong.close()


def test_oauth_state_is_bound_to_the_admins_browser_and_used_once(
    api_live: Api, platforms: FakePlatforms
) -> None:
    response = api_live.client.post(
        "/api/v1/connections/authorize",
        json={"platform": "doudian", "name": "美妆旗舰店"},
        headers=api_live.headers("admin"),
    )
    assert response.status_code == 200, response.json
    url = response.json["authorize_url"]
    assert url.startswith("https://fuwu.jinritemai.com/authorize?service_id=svc-1&state=")
    state = url.split("state=")[1]
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" in cookie
    code = platforms.code_for(DD_SHOP)
    callback = f"/api/v1/connections/callback/doudian?code={code}&state={state}"
    # another browser (no binding cookie), or a forged state: refused, nothing stored
    stranger = api_live.client.application.test_client()
    assert stranger.get(callback).status_code == 400
    forged = f"/api/v1/connections/callback/doudian?code={code}&state=forged"
    assert api_live.client.get(forged).status_code == 400
    answer = api_live.client.get(callback)
    assert answer.status_code == 200, answer.json
    assert answer.json == {"connection_id": "doudian:95250", "name": "美妆旗舰店", "state": "ok"}
    assert api_live.client.get(callback).status_code == 400  # a state is used once
    (connection,) = api_live.runtime.connectors.book.all()
    assert connection.access_token and connection.secrets.get("refresh_token")
    assert connection.access_expires_at is not None
    # pasted before the flow, a connection of another platform needs its service id
    refused = api_live.client.post(
        "/api/v1/connections/authorize",
        json={"platform": "kuaishou_shop", "name": "x"},
        headers=api_live.headers("admin"),
    )
    assert refused.status_code == 400 and refused.json["errors"]["platform"]


def test_tiktok_authorisation_keeps_the_shops_cipher(
    api_live: Api, platforms: FakePlatforms
) -> None:
    platforms.tiktok_shops["GCP_cipher_1"] = {
        "id": TT_SHOP,
        "name": "Maomao beauty shop",
        "region": "GB",
        "seller_type": "CROSS_BORDER",
        "cipher": "GCP_cipher_1",
        "code": "CNGBCBA4LLU8",
        "seller": "seller-1",
    }
    response = api_live.client.post(
        "/api/v1/connections/authorize",
        json={"platform": "tiktok_shop", "name": "TT UK"},
        headers=api_live.headers("admin"),
    )
    state = response.json["authorize_url"].split("state=")[1]
    code = platforms.code_for("seller-1")
    answer = api_live.client.get(
        f"/api/v1/connections/callback/tiktok_shop?code={code}&state={state}"
    )
    assert answer.status_code == 200, answer.json
    connection = api_live.runtime.connectors.book.get(f"tiktok_shop:{TT_SHOP}")
    assert connection is not None and connection.secrets["shop_cipher"] == "GCP_cipher_1"


def test_a_dropped_push_is_recovered_by_the_next_sync_exactly_once(
    api_live: Api, platforms: FakePlatforms
) -> None:
    start(api_live, "dd-live", LIVE_AT, shop=DD_SHOP)
    connect_shop(api_live, platforms, DD_SHOP)
    platforms.doudian_orders[DD_SHOP] = {
        o: shop_order(o, DD_SHOP) for o in ("4810000000000000001", "4810000000000000021")
    }
    messages = [m["message"] for m in fixture("doudian", "pushes.json")["messages"]]
    order_1 = messages[:3]  # created, amount changed, paid
    for message in order_1:  # order ...021's pushes never arrive
        assert push(api_live, "doudian", *doudian_request([message])).status_code == 200
    assert platforms.requests_to("/order/orderDetail")  # the queued look-up, over HTTP
    assert figures(api_live, "dd-live")["gmv"] == 29.9
    jobs = api_live.runtime.connectors.jobs()
    # a sync that starts at the connection's creation, less the overlap, would miss 2021:
    # the first pull of an existing shop is a backfill
    line = jobs.run("doudian:95250", since_us=int(LIVE_AT.timestamp() * 1e6))
    assert "2 orders read, 4 events appended" in line, line
    expected = {
        "orders_placed": 3,
        "orders_paid": 3,
        "gmv": 187.9,
        "refunds": 0.0,
        "net_gmv": 187.9,
        "buyers": 2,
    }
    assert figures(api_live, "dd-live") == expected
    stored = api_live.stored_count()
    line = jobs.run("doudian:95250", since_us=int(LIVE_AT.timestamp() * 1e6))
    assert "0 events appended" in line
    assert api_live.stored_count() == stored
    assert figures(api_live, "dd-live") == expected
    health = api_live.get("/api/v1/health").json
    (connection,) = health["connections"]
    assert connection["last_sync"] is not None and connection["last_sync_error"] is None


def test_an_expiring_token_is_refreshed_and_no_message_is_lost(
    api_live: Api, platforms: FakePlatforms
) -> None:
    start(api_live, "dd-live", LIVE_AT, shop=DD_SHOP)
    access, refresh = platforms.issue(DD_SHOP, seconds=60)  # expires within the lead
    api_live.client.post(
        "/api/v1/connections",
        json={
            "platform": "doudian",
            "account_id": DD_SHOP,
            "name": "x",
            "secrets": {"access_token": access, "refresh_token": refresh},
            "access_expires_at": datetime.fromtimestamp(
                platforms.access[access].access_expires_at, UTC
            ).isoformat(),
        },
        headers=api_live.headers("admin"),
    )
    platforms.doudian_orders[DD_SHOP] = {
        "4810000000000000001": shop_order("4810000000000000001", DD_SHOP)
    }
    jobs = api_live.runtime.connectors.jobs()
    jobs.connections_pass()  # refresh due: new tokens, then the sync
    connection = api_live.runtime.connectors.book.get("doudian:95250")
    assert connection is not None and connection.access_token != access
    assert connection.access_expires_at is not None
    assert connection.access_expires_at > now_micros() + 6 * 86400 * 1_000_000
    platforms.access.pop(access)  # the old token is gone at the platform
    messages = [m["message"] for m in fixture("doudian", "pushes.json")["messages"]][:3]
    for message in messages:
        assert push(api_live, "doudian", *doudian_request([message])).status_code == 200
    assert figures(api_live, "dd-live")["gmv"] == 29.9
    assert api_live.get("/api/v1/connectors/dead-letters", "admin").json["dead_letters"] == []


def test_a_failed_refresh_turns_the_connection_failed_and_health_degraded(
    api_live: Api, platforms: FakePlatforms
) -> None:
    access, refresh = platforms.issue(DD_SHOP, seconds=60)
    api_live.client.post(
        "/api/v1/connections",
        json={
            "platform": "doudian",
            "account_id": DD_SHOP,
            "name": "x",
            "secrets": {"access_token": access, "refresh_token": refresh},
            "access_expires_at": "2021-01-01T00:00:00Z",
        },
        headers=api_live.headers("admin"),
    )
    start(api_live, "dd-live", datetime.now(UTC) - timedelta(minutes=5), shop=DD_SHOP)
    heard: list[dict[str, Any]] = []
    hub = api_live.runtime.worker.hub
    assert hub is not None
    hub.subscribe(heard.append)
    platforms.fail_refresh = True
    api_live.runtime.connectors.jobs().connections_pass()
    # the shop's live screens hear it as an alert
    (alert,) = [m for m in heard if m["type"] == "alert"]
    assert alert["session_id"] == "dd-live"
    assert alert["alert"]["kind"] == "connection_failed"
    assert alert["alert"]["reason"].startswith("token refresh failed")
    (listed,) = api_live.get("/api/v1/connections", "admin").json["connections"]
    assert listed["state"].startswith("failed: token refresh failed"), listed
    health = api_live.get("/api/v1/health").json
    assert health["status"] == "degraded"
    assert health["connections"][0]["state"].startswith("failed")
    assert refresh not in str(health) and access not in str(health)


def test_two_shops_on_one_platform_go_to_their_own_sessions(
    api_live: Api, platforms: FakePlatforms
) -> None:
    start(api_live, "dd-a", LIVE_AT, shop=DD_SHOP)
    start(api_live, "dd-b", LIVE_AT, shop=DD_OTHER_SHOP)
    token_a = connect_shop(api_live, platforms, DD_SHOP)
    token_b = connect_shop(api_live, platforms, DD_OTHER_SHOP)
    platforms.doudian_orders[DD_SHOP] = {
        "4810000000000000001": shop_order("4810000000000000001", DD_SHOP)
    }
    other = shop_order("4810000000000000041", DD_OTHER_SHOP)
    other["create_time"], other["pay_time"] = 1618990700, 1618990710
    platforms.doudian_orders[DD_OTHER_SHOP] = {"4810000000000000041": other}
    messages = [m["message"] for m in fixture("doudian", "pushes.json")["messages"]][:1]
    messages.append(
        {"tag": 100, "msg_id": "b-1", "data": {"p_id": "4810000000000000041", "shop_id": 95251}}
    )
    assert push(api_live, "doudian", *doudian_request(messages)).status_code == 200
    assert figures(api_live, "dd-a")["gmv"] == 29.9
    assert figures(api_live, "dd-b")["gmv"] == 45.0
    used = {r["query"]["access_token"] for r in platforms.requests_to("/order/orderDetail")}
    assert used == {token_a, token_b}


def test_tiktok_sync_recovers_a_dropped_webhook(api_live: Api, platforms: FakePlatforms) -> None:
    start(api_live, "tt-live", datetime(2021, 4, 28, 12, 0, tzinfo=UTC), shop=TT_SHOP)
    platforms.tiktok_shops["c1"] = {"id": TT_SHOP, "name": "s", "cipher": "c1", "seller": TT_SHOP}
    connect_shop(api_live, platforms, TT_SHOP, platform="tiktok_shop", shop_cipher="c1")
    answers = fixture("tiktok_shop", "order_details.json")["answers"]
    order = copy.deepcopy(answers["576461413038785752"]["data"]["orders"][0])
    order["update_time"] = 1619611600
    platforms.tiktok_orders[TT_SHOP] = {order["id"]: order}
    hook = fixture("tiktok_shop", "webhooks.json")["webhooks"][0]
    assert push(api_live, "tiktok_shop", *tiktok_request(hook)).status_code == 200
    placed_only = figures(api_live, "tt-live")
    assert (placed_only["orders_placed"], placed_only["gmv"]) == (2, 59.9)  # detail shows paid
    since = int(datetime(2021, 4, 28, tzinfo=UTC).timestamp() * 1e6)
    line = api_live.runtime.connectors.jobs().run(f"tiktok_shop:{TT_SHOP}", since)
    assert "1 orders read, 0 events appended" in line, line


def test_cli_connections_add_list_remove_never_show_a_secret(
    api_live: Api, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    settings = api_live.runtime.settings
    monkeypatch.setenv("LIVETALLY_SECRET_KEY_FILE", str(settings.secret_key_file))
    runner = CliRunner()
    helped = runner.invoke(main, ["connections", "--help"])
    for command in ("add", "list", "remove", "authorize", "sync"):
        assert command in helped.output
    db = ["--db", settings.database_url]
    added = runner.invoke(
        main,
        ["connections", "add", "doudian", DD_SHOP, "--name", "[/]美妆", *db],
        input="access_token=AT-very-secret\nrefresh_token=RT-very-secret\n",
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(main, ["connections", "list", *db])
    assert listed.exit_code == 0, listed.output
    assert "doudian:95250" in listed.output and "[/]美妆" in listed.output
    assert "very-secret" not in added.output + listed.output
    bad = runner.invoke(
        main, ["connections", "add", "doudian", "bad id!", "--name", "x", *db], input=""
    )
    assert bad.exit_code == 2 and "account_id" in bad.output
    removed = runner.invoke(main, ["connections", "remove", "doudian:95250", *db])
    assert removed.exit_code == 0
    assert runner.invoke(main, ["connections", "remove", "doudian:95250", *db]).exit_code == 2


def test_adding_a_connection_without_a_secret_key_is_a_clear_409(api: Api) -> None:
    # `api`: a runtime that did not create the key file (as `livetally api` would not)
    response = api.client.post(
        "/api/v1/connections",
        json={
            "platform": "doudian",
            "account_id": DD_SHOP,
            "name": "x",
            "secrets": {"access_token": "t"},
        },
        headers=api.headers("admin"),
    )
    assert response.status_code == 409
    assert "secret key" in response.json["message"] and response.json["errors"]["secret_key"]
    assert api.get("/api/v1/connections", "admin").json == {"connections": []}
