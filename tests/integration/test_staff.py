"""Staff accounts end to end: the CLI, the login page (its CSRF token, throttling, cookies),
sessions that end when an account is disabled, and the people API's scopes (a manager's own
team, a viewer changes nothing), every write carrying its actor."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from flask.testing import FlaskClient

from service.auth.accounts import AccountBook
from service.auth.tokens import create_token
from service.cli import main
from service.process.app import create_app
from service.process.runtime import build_runtime
from service.process.settings import Settings
from tests.integration.conftest import Api

PASSWORD = "correct horse battery"


@pytest.fixture
def site(sqlite_url: str) -> Iterator[Api]:
    runtime = build_runtime(Settings(database_url=sqlite_url, session_secret="s" * 32))
    app = create_app(runtime=runtime)
    tokens = {s: create_token(runtime.engine, [s]) for s in ("ingest", "read", "admin")}
    yield Api(app.test_client(), runtime, tokens)
    runtime.close()


def csrf_of(client: FlaskClient) -> str:
    page = client.get("/login").get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


def log_in(client: FlaskClient, name: str, password: str = PASSWORD) -> Any:
    return client.post(
        "/login", data={"name": name, "password": password, "csrf_token": csrf_of(client)}
    )


def roster(site: Api) -> None:
    """m1 manages h1 and h2 (h2 through h1); m2 manages h3."""
    admin = site.headers("admin")
    for person in (
        {"person_id": "m1", "name": "经理一", "role": "supervisor"},
        {"person_id": "m2", "name": "经理二", "role": "supervisor"},
        {"person_id": "h1", "name": "主播一", "role": "host", "manager_id": "m1"},
        {"person_id": "h2", "name": "主播二", "role": "host", "manager_id": "h1"},
        {"person_id": "h3", "name": "主播三", "role": "host", "manager_id": "m2"},
    ):
        assert site.client.post("/api/v1/people", json=person, headers=admin).status_code == 201
    site.project_all()
    accounts = AccountBook(site.runtime.engine)
    accounts.create("anna", PASSWORD, "manager", "m1")
    accounts.create("vic", PASSWORD, "viewer", None)


def test_the_cli_creates_lists_and_disables_accounts_reading_passwords_from_stdin(
    sqlite_url: str,
) -> None:
    runner = CliRunner()
    db = ["--db", sqlite_url]
    made = runner.invoke(
        main, ["users", "create", "boss", "--role", "admin", *db], input=PASSWORD + "\n"
    )
    assert made.exit_code == 0, made.output
    short = runner.invoke(main, ["users", "create", "x", "--role", "admin", *db], input="short\n")
    assert short.exit_code == 2 and "password" in short.output
    manager = runner.invoke(
        main, ["users", "create", "m", "--role", "manager", *db], input=PASSWORD + "\n"
    )
    assert manager.exit_code == 2 and "person" in manager.output
    listed = runner.invoke(main, ["users", "list", *db])
    assert "boss" in listed.output and PASSWORD not in listed.output
    assert runner.invoke(main, ["users", "disable", "boss", *db]).exit_code == 0
    assert "disabled" in runner.invoke(main, ["users", "list", *db]).output


def test_login_needs_its_csrf_token_sets_a_safe_cookie_and_throttles_failures(site: Api) -> None:
    AccountBook(site.runtime.engine).create("anna", PASSWORD, "admin", None)
    client = site.client
    page = client.get("/login")
    assert page.status_code == 200 and 'name="csrf_token"' in page.get_data(as_text=True)
    no_token = client.post("/login", data={"name": "anna", "password": PASSWORD})
    assert no_token.status_code == 400
    wrong = log_in(client, "anna", "wrong password!")
    assert wrong.status_code == 401 and 'id="password-error"' in wrong.get_data(as_text=True)
    ok = log_in(client, "anna")
    assert ok.status_code == 303 and ok.headers["Location"] == "/people"
    cookie = ok.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie
    other = site.client.application.test_client()
    for _ in range(4):  # with the failure above: 5 in the minute, the limit
        assert log_in(other, "anna", "wrong password!").status_code == 401
    # the next try within the minute is refused, even with the right password
    assert log_in(other, "anna").status_code == 429


def test_an_open_redirect_is_not_followed(site: Api) -> None:
    AccountBook(site.runtime.engine).create("anna", PASSWORD, "admin", None)
    token = csrf_of(site.client)
    answer = site.client.post(
        "/login?next=//evil.example/x",
        data={"name": "anna", "password": PASSWORD, "csrf_token": token},
    )
    assert answer.headers["Location"] == "/people"


def test_a_manager_changes_only_their_team_and_every_write_names_its_actor(site: Api) -> None:
    roster(site)
    client = site.client
    assert log_in(client, "anna").status_code == 303
    token = csrf_of(client)
    seen = client.get("/api/v1/people").json["people"]
    assert [p["person_id"] for p in seen] == ["h1", "h2", "m1"]
    headers = {"X-CSRFToken": token}
    mine = client.put(
        "/api/v1/targets/2026-11",
        json={"targets": {"h1": {"gmv": 5000}, "h2": {"gmv": 3000}}},
        headers=headers,
    )
    assert mine.status_code == 201 and mine.json["appended"] == 2
    theirs = client.put(
        "/api/v1/targets/2026-11", json={"targets": {"h3": {"gmv": 1}}}, headers=headers
    )
    assert theirs.status_code == 403 and theirs.json["errors"]["h3"]
    assert (
        client.post(
            "/api/v1/people/h3/ratings", json={"kind": "teamwork", "value": 80}, headers=headers
        ).status_code
        == 403
    )
    rated = client.post(
        "/api/v1/people/h2/ratings", json={"kind": "teamwork", "value": 80}, headers=headers
    )
    assert rated.status_code == 201
    # no CSRF header: a cookie alone changes nothing
    assert (
        client.post("/api/v1/people/h2/ratings", json={"kind": "teamwork", "value": 90}).status_code
        == 403
    )
    site.project_all()
    events = site.get("/api/v1/events?stream=person-h2").json["events"]
    rating = next(e for e in events if e["type"] == "rating.recorded")
    assert rating["metadata"]["actor"] == "account:anna" and rating["data"]["rater_id"] == "m1"


def test_bad_input_names_the_field_and_stores_nothing(site: Api) -> None:
    roster(site)
    before = site.stored_count()
    admin = site.headers("admin")
    bad = site.client.put(
        "/api/v1/targets/2026-11",
        json={"targets": {"h1": {"gmv": 5000, "Bad KPI": 1}}},
        headers=admin,
    )
    assert bad.status_code == 422 or bad.status_code == 400
    assert "targets" in str(bad.json["errors"])
    assert (
        site.client.put(
            "/api/v1/targets/2026-13", json={"targets": {"h1": {"gmv": 1}}}, headers=admin
        ).status_code
        == 400
    )
    assert (
        site.client.post(
            "/api/v1/people/h1/ratings", json={"kind": "teamwork", "value": 101}, headers=admin
        ).status_code
        == 422
    )
    assert site.stored_count() == before


def test_a_viewer_changes_nothing_and_a_disabled_account_is_out_at_once(site: Api) -> None:
    roster(site)
    viewer = site.client.application.test_client()
    assert log_in(viewer, "vic").status_code == 303
    token = csrf_of(viewer)
    assert viewer.get("/api/v1/people").status_code == 200
    answer = viewer.post(
        "/api/v1/people/h1/ratings",
        json={"kind": "teamwork", "value": 50},
        headers={"X-CSRFToken": token},
    )
    assert answer.status_code == 403
    manager = site.client
    assert log_in(manager, "anna").status_code == 303
    assert manager.get("/api/v1/people").status_code == 200
    AccountBook(site.runtime.engine).disable("anna")
    assert manager.get("/api/v1/people").status_code == 401
    assert log_in(manager, "anna").status_code == 401


def test_logins_without_a_secret_say_what_to_set(sqlite_url: str, tmp_path: Path) -> None:
    runtime = build_runtime(
        Settings(database_url=sqlite_url, secret_key_file=str(tmp_path / "none.key"))
    )
    client = create_app(runtime=runtime).test_client()
    try:
        page = client.get("/login")
        assert page.status_code == 503 and "LIVETALLY_SECRET_KEY" in page.get_data(as_text=True)
    finally:
        runtime.close()
