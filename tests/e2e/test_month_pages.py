"""The month's pages in headless Chromium: an admin and a manager run a month through the pages
only (roster, targets, ratings, violations, close) and the host's scorecard is the hand-computed
one; a manager cannot see or change another team; a viewer changes nothing; a form without its
CSRF token is refused; a disabled account is out at once. Screenshots at 1920x1080.

Hand-computed host h1 (2026-11, one broadcast on 2 November, Beijing time): 4 viewers; b1 likes,
b2 comments, b3 follows (3 interacting: 0.75); b1 pays 300.00, b2 500.00 (net GMV 800.00, 2
buyers: conversion 0.5). Targets entered on /targets: gmv 1000, interaction_rate 0.5,
new_followers 10, conversion_rate 0.5. Points: gmv 0.4 x 0.8 x 100 = 32; interaction 0.2 x
min(1.5, 1.2) x 100 = 24; followers 0.2 x 0.1 x 100 = 2; conversion 0.2 x 1.0 x 100 = 20.
Score 78, grade B.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from service.auth.accounts import AccountBook
from service.process.embedded import Embedded
from service.process.settings import Settings
from tests.builders import Broadcast
from tests.conftest import fresh_sqlite_url
from tests.e2e.test_screens import ARTIFACTS, Site, browser  # noqa: F401 - the shared browser

PASSWORD = "correct horse battery"


@pytest.fixture
def staff_site(tmp_path: Path) -> Iterator[Site]:
    settings = Settings(database_url=fresh_sqlite_url(tmp_path), api_port=0, feed_port=0)
    embedded = Embedded(settings)
    embedded.start()
    accounts = AccountBook(embedded.runtime.engine)
    accounts.create("root", PASSWORD, "admin", None)
    accounts.create("anna", PASSWORD, "manager", "m1")
    accounts.create("vic", PASSWORD, "viewer", None)
    yield Site(embedded)
    embedded.stop()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:  # noqa: F811
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda e: errors.append(str(e)))
    yield opened
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not errors, errors


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"month-{name}.png"), full_page=True)


def log_in(page: Page, site: Site, name: str) -> None:
    page.goto(f"{site.embedded.api_url}/login")
    page.fill("#name", name)
    page.fill("#password", PASSWORD)
    page.click("#login button[type=submit]")
    expect(page).to_have_url(f"{site.embedded.api_url}/people")


def rows_become(page: Page, selector: str, count: int) -> None:
    """The pages read the folded roster, a moment behind a save: reload until it shows."""
    for _ in range(50):
        if page.locator(selector).count() == count:
            return
        page.wait_for_timeout(100)
        page.reload()
    expect(page.locator(selector)).to_have_count(count)


def add_person(page: Page, **fields: str) -> None:
    for name in ("person_id", "name", "team_id", "manager_id", "on_air_since"):
        page.fill(f"#f-{name}", fields.get(name, ""))
    page.select_option("#f-role", fields["role"])
    page.click("#person-form button[type=submit]")
    expect(page.locator("#saved")).to_be_visible()


def test_a_month_run_through_the_pages_gives_the_hand_computed_scorecard(
    staff_site: Site, page: Page
) -> None:
    site = staff_site
    base = site.embedded.api_url
    log_in(page, site, "root")
    add_person(page, person_id="m1", name="经理一", role="supervisor")
    add_person(page, person_id="m2", name="经理二", role="supervisor")
    add_person(
        page, person_id="h1", name="主播一", role="host", manager_id="m1", on_air_since="2026-06-01"
    )
    add_person(page, person_id="h3", name="主播三", role="host", manager_id="m2")
    add_person(page, person_id="o1", name="运营一", role="live_ops", manager_id="m1")
    rows_become(page, "#roster tbody tr", 5)
    shot(page, "people-admin")
    b = (
        Broadcast("nov-1", datetime(2026, 11, 2, 12, 0, tzinfo=UTC))
        .start(0, host_id="h1", ops_id="o1")
        .join(10, "b1", "ad")
        .join(11, "b2")
        .join(12, "b3")
        .join(13, "b4")
        .interact(20, "like", "b1")
        .interact(21, "comment", "b2")
        .interact(22, "follow", "b3")
        .place(30, "o-1", "b1", "300.00")
        .pay(31, "o-1")
        .place(40, "o-2", "b2", "500.00")
        .pay(41, "o-2")
        .end(3600)
    )
    site.post(b.events)
    site.wait_version("nov-1", len(b.events))
    # the manager enters the targets and a rating of their team
    page.click(".staff-nav button[type=submit]")  # log out
    log_in(page, site, "anna")
    rows_become(page, "#roster tbody tr", 3)  # m1, h1, o1: not m2's team
    expect(page.locator("#roster")).not_to_contain_text("主播三")
    page.goto(f"{base}/targets?period=2026-11")
    for kpi, value in (
        ("gmv", "1000"),
        ("interaction_rate", "0.5"),
        ("new_followers", "10"),
        ("conversion_rate", "0.5"),
    ):
        page.fill(f"input[name='t|h1|{kpi}']", value)
    expect(page.locator("input[name='t|h3|gmv']")).to_have_count(0)
    page.click("#targets-form button[type=submit]")
    expect(page.locator("#saved")).to_be_visible()
    shot(page, "targets-manager")
    page.goto(f"{base}/ratings?period=2026-11")
    page.fill("input[name='r|o1|host_satisfaction']", "90")
    page.click("#ratings-form button[type=submit]")
    expect(page.locator("#saved")).to_be_visible()
    shot(page, "ratings-manager")
    page.goto(f"{base}/violations?period=2026-11")
    page.select_option("#violation-form select[name=person_id]", "h1")
    page.select_option("#violation-form select[name=rule]", "smoking")
    page.fill("#violation-form input[name=day]", "2026-11-20")  # entered later, dated in November
    page.click("#violation-form button[type=submit]")
    expect(page.locator("#saved")).to_be_visible()
    page.fill("#violation-form input[name=fine]", "abc")
    page.click("#violation-form button[type=submit]")
    expect(page.locator("#e-fine")).to_be_visible()  # the message beside the field
    shot(page, "violations-manager")
    # the admin closes November, after a confirmation naming what freezes
    page.click(".staff-nav button[type=submit]")
    log_in(page, site, "root")
    page.goto(f"{base}/close?period=2026-11")
    expect(page.locator("#freeze")).to_contain_text("主播一")
    shot(page, "close-confirm")
    page.click("#close-form button[type=submit]")
    expect(page.locator("#closed")).to_be_visible()
    h1 = site.api("/api/v1/scores/h1?period=2026-11")
    assert (h1["score"], h1["grade"]) == (78.0, "B"), h1
    events = site.api("/api/v1/events?stream=person-h1")["events"]
    assert h1["fines"]["total"] == 50.0, [(e["type"], e["occurred_at"], e["data"]) for e in events]
    assert site.api("/api/v1/scores?period=2026-11&role=host")["closed"] is True


def test_a_viewer_changes_nothing_and_a_form_without_its_token_is_refused(
    staff_site: Site, page: Page
) -> None:
    site = staff_site
    log_in(page, site, "vic")
    expect(page.locator("#person-form")).to_have_count(0)
    answer = page.request.post(
        f"{site.embedded.api_url}/people", form={"person_id": "x1", "name": "x", "role": "host"}
    )
    assert answer.status == 403
    page.click(".staff-nav button[type=submit]")
    log_in(page, site, "root")
    no_token = page.request.post(
        f"{site.embedded.api_url}/people", form={"person_id": "x1", "name": "x", "role": "host"}
    )
    assert no_token.status == 400
    assert site.api("/api/v1/events?stream=person-x1")["events"] == []


def test_a_disabled_account_is_out_at_once(staff_site: Site, page: Page) -> None:
    site = staff_site
    log_in(page, site, "anna")
    AccountBook(site.embedded.runtime.engine).disable("anna")
    page.goto(f"{site.embedded.api_url}/targets")
    expect(page).to_have_url(f"{site.embedded.api_url}/login?next=/targets")
