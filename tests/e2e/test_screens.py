"""The screens in headless Chromium, driven by Playwright; each test saves a screenshot."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from service.embedded import Embedded
from service.settings import Settings
from service.tokens import create_token
from tests.builders import Broadcast, event
from tests.conftest import fresh_sqlite_url

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screens"
CHROMIUM = "/usr/bin/chromium"


class Site:
    def __init__(self, embedded: Embedded) -> None:
        self.embedded = embedded
        self.http = embedded.app.test_client()
        self.read = create_token(embedded.runtime.engine, ["read"])
        self.ingest = create_token(embedded.runtime.engine, ["ingest"])

    def post(self, events: list[dict[str, Any]]) -> None:
        response = self.http.post("/api/v1/events", json={"events": events},
                                  headers={"Authorization": f"Bearer {self.ingest}"})
        assert response.status_code == 201, response.json

    def api(self, path: str) -> Any:
        return self.http.get(path, headers={"Authorization": f"Bearer {self.read}"}).json

    def wait_version(self, session_id: str, version: int) -> Any:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            body = self.api(f"/api/v1/sessions/{session_id}")
            if body and body.get("version", 0) >= version:
                return body
            time.sleep(0.02)
        raise AssertionError("not projected")

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.embedded.api_url}{path}{sep}token={self.read}"


@pytest.fixture
def site(tmp_path: Path) -> Iterator[Site]:
    settings = Settings(database_url=fresh_sqlite_url(tmp_path), api_port=0, feed_port=0)
    embedded = Embedded(settings)
    embedded.start()
    yield Site(embedded)
    embedded.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    opened = context.new_page()
    yield opened
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"))
    context.close()


def test_the_screen_shows_the_api_numbers_within_a_second(site: Site, page: Page) -> None:
    b = (Broadcast("wall-1").start(0).join(1, "v1", "ad").join(2, "v2", "follow")
         .place(3, "o1", "v1", "128.50").pay(4, "o1").interact(5, "follow", "v2"))
    site.post(b.events)
    site.wait_version("wall-1", 6)
    page.goto(site.url("/screen/wall-1?lang=en"))
    expect(page.locator("#uv")).to_have_text("2")
    expect(page.locator("#gmv")).to_have_text("¥128.50")
    site.post(Broadcast("wall-1").join(6, "v3", "search").events)
    started = time.monotonic()
    expect(page.locator("#uv")).to_have_text("3", timeout=1000)
    took = time.monotonic() - started
    assert took <= 1.0
    body = site.api("/api/v1/sessions/wall-1")["metrics"]
    expect(page.locator("#online")).to_have_text(str(body["online"]))
    expect(page.locator("#followers")).to_have_text(str(body["new_followers"]))
    expect(page.locator("#conversion")).to_have_text(f"{body['conversion_rate'] * 100:.2f}%")
    expect(page.locator("#gpm")).to_have_text(f"{body['gpm']:.2f}")


def test_the_incident_banner_appears_and_clears(site: Site, page: Page) -> None:
    site.post(Broadcast("wall-2").start(0).join(1, "v1").events)
    site.wait_version("wall-2", 2)
    page.goto(site.url("/screen/wall-2"))  # Chinese labels by default
    expect(page.locator("#status")).to_have_text("直播中")
    expect(page.locator("#banner")).to_be_hidden()
    site.post(Broadcast("wall-2").incident(10, "i-9", kind="stream_interruption").events)
    expect(page.locator("#banner")).to_be_visible(timeout=2000)
    expect(page.locator("#banner")).to_contain_text("stream_interruption")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "incident-banner-open.png"))
    site.post(Broadcast("wall-2").resolve(40, "i-9").events)
    expect(page.locator("#banner")).to_be_hidden(timeout=2000)


def test_the_console_lists_live_sessions(site: Site, page: Page) -> None:
    site.post(Broadcast("room-a").start(0, host_id="h-a").join(1, "v").events
              + Broadcast("room-b").start(0, host_id="h-b").events
              + Broadcast("room-c").start(0).end(9).events)
    site.wait_version("room-c", 2)
    site.wait_version("room-a", 2)
    page.goto(site.url("/console?lang=en"))
    expect(page.locator("tr[data-session=room-a]")).to_contain_text("h-a")
    expect(page.locator("tr[data-session=room-b]")).to_be_visible()
    expect(page.locator("tr[data-session=room-c]")).to_have_count(0)
    href = page.locator("tr[data-session=room-a] a").get_attribute("href")
    assert href == "/screen/room-a?lang=en"
    site.post(Broadcast("room-b").incident(20, "i-1", kind="other").events)
    expect(page.locator("tr[data-session=room-b]")).to_contain_text("Incident", timeout=2000)


def test_the_scores_page_shows_a_scorecard(site: Site, page: Page) -> None:
    broadcast = Broadcast("sc-1").start(0, host_id="h-1").join(1, "v")
    site.post([
        event("person.registered", 0, {"name": "Li Na", "role": "host",
                                       "on_air_since": "2026-09-01"}, person="h-1"),
        event("target.set", 0, {"period": "2026-11", "kpi": "new_followers", "value": 4},
              person="h-1"),
        *broadcast.interact(2, "follow", "v", count=2).events,
    ])
    site.wait_version("sc-1", 3)
    deadline = time.monotonic() + 5
    while not site.api("/api/v1/scores?period=2026-11&role=host")["scorecards"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    page.goto(site.url("/scores?period=2026-11&role=host&lang=en"))
    row = page.locator("tr[data-person=h-1]")
    expect(row).to_contain_text("Li Na")
    card = site.api("/api/v1/scores/h-1?period=2026-11")
    expect(row.locator(".score")).to_have_text(f"{card['score']:.2f}")
    expect(row).to_contain_text("new_followers")
    csv_href = page.locator("#csv").get_attribute("href")
    assert csv_href is not None and "format=csv" in csv_href
