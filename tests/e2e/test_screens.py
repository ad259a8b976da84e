"""The screens in headless Chromium, driven by Playwright; each test saves a screenshot."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from service.auth.tokens import create_token
from service.process.embedded import Embedded
from service.process.settings import Settings
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
        response = self.http.post(
            "/api/v1/events",
            json={"events": events},
            headers={"Authorization": f"Bearer {self.ingest}"},
        )
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
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, request: pytest.FixtureRequest) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1920, "height": 1080})
    opened = context.new_page()
    errors: list[str] = []
    opened.on("pageerror", lambda e: errors.append(str(e)))
    opened.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    opened.on("dialog", lambda d: errors.append("dialog: " + d.message))
    yield opened
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    name = request.node.name.replace("/", "_").replace("?", "_")
    opened.screenshot(path=str(ARTIFACTS / f"{name}.png"))
    context.close()
    # Refused tokens make the API answer 401/403 on purpose, and a stopped feed refuses
    # connections; nothing else may fail.
    assert not [
        e for e in errors if "status of 40" not in e and "ERR_CONNECTION_REFUSED" not in e
    ], errors


XSS = '<img src=x onerror="window.__xss=1"><script>window.__xss=1</script>'
CATALOGUE_KEYS = {
    "recommend",
    "short_video",
    "stream_interruption",
    "product_info_error",
    "technical_failure",
    "live_ops",
    "no_target",
    "no_sessions",
    "no_data",
    "interaction_rate",
    "new_followers",
    "conversion_rate",
    "online_drop",
    "incident_opened",
    "live",
    "ended",
    "pending",
}
SIZES = [(1366, 768), (1920, 1080), (3840, 2160)]


# Every text the trend chart draws, with its box on the canvas (zrender's display list).
CHART_TEXTS = """(id) => {
  const chart = echarts.getInstanceByDom(document.getElementById(id));
  const out = [];
  for (const el of chart.getZr().storage.getDisplayList(true)) {
    if (el.type !== 'tspan' || el.invisible || el.ignore || !el.style || !el.style.text) continue;
    const r = el.getBoundingRect().clone();
    r.applyTransform(el.getComputedTransform());
    out.push({ text: String(el.style.text), x: r.x, y: r.y, w: r.width, h: r.height,
               size: el.style.fontSize, fill: el.style.fill });
  }
  return out;
}"""


def overlap(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return (
        a["x"] < b["x"] + b["w"]
        and b["x"] < a["x"] + a["w"]
        and a["y"] < b["y"] + b["h"]
        and b["y"] < a["y"] + a["h"]
    )


def no_script_ran(page: Page) -> None:
    assert page.evaluate("window.__xss") is None


def visible_texts(page: Page) -> list[str]:
    return list(
        page.evaluate("""() => {
        const out = [];
        const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
        while (walk.nextNode()) {
            const node = walk.currentNode, el = node.parentElement;
            if (!node.textContent.trim() || !el || el.closest('script')) continue;
            const style = getComputedStyle(el);
            if (style.display === 'none' || style.visibility === 'hidden') continue;
            out.push(node.textContent.trim());
        }
        return out;
    }""")
    )


def big_broadcast(session_id: str) -> Broadcast:
    b = Broadcast(session_id).start(
        0, host_id="h-big", title="双十一专场 " + XSS, gmv_target="100000000"
    )
    for i in range(6):
        b.join(1 + i, f"v{i}", ["recommend", "short_video", "ad", "follow", "search", None][i])
    b.pin(10, "p-1", name="面霜 " + XSS, price="299").click(11, "v1", "p-1")
    b.place(12, "o1", "v1", "99999999.99", "p-1").pay(13, "o1")
    for k in range(99):
        b.place(14, f"o-big-{k}", f"b{k}", "99999999.99", "p-1").pay(14, f"o-big-{k}")
    b.interact(20, "comment", "v2", text="评论 " + XSS)
    b.add("audience.sampled", 21, online=99_999_999, impressions=10**9)
    b.add(
        "incident.opened",
        22,
        incident_id="inc-x",
        kind="product_info_error",
        severity=2,
        description="描述 " + XSS,
    )
    return b


def test_the_screen_shows_the_api_numbers_as_they_move(site: Site, page: Page) -> None:
    b = (
        Broadcast("wall-1")
        .start(0)
        .join(1, "v1", "ad")
        .join(2, "v2", "follow")
        .place(3, "o1", "v1", "128.50")
        .pay(4, "o1")
        .interact(5, "follow", "v2")
    )
    site.post(b.events)
    site.wait_version("wall-1", 6)
    page.goto(site.url("/screen/wall-1?lang=en"))
    expect(page.locator("#v-uv")).to_have_text("2")
    expect(page.locator("#gmv")).to_have_text("¥128.50")
    site.post(Broadcast("wall-1").join(6, "v3", "search").events)
    expect(page.locator("#v-uv")).to_have_text("3", timeout=1000)  # pushed, no reload
    body = site.api("/api/v1/sessions/wall-1")["metrics"]
    expect(page.locator("#v-online")).to_have_text(str(body["online"]))
    expect(page.locator("#v-followers")).to_have_text(str(body["new_followers"]))
    expect(page.locator("#v-conversion")).to_have_text(f"{body['conversion_rate'] * 100:.2f}%")
    expect(page.locator("#v-gpm")).to_have_text(f"¥{body['gpm']:,.2f}")
    assert page.evaluate("Object.keys(localStorage).length") == 0  # no token kept


def test_the_incident_banner_shows_kind_and_severity_and_never_hides_the_header(
    site: Site, page: Page
) -> None:
    site.post(Broadcast("wall-2").start(0).join(1, "v1").events)
    site.wait_version("wall-2", 2)
    page.goto(site.url("/screen/wall-2"))  # Chinese labels by default
    expect(page.locator("#status")).to_have_text("直播中")
    site.post(Broadcast("wall-2").incident(10, "i-9", kind="stream_interruption").events)
    expect(page.locator("#strip")).to_have_class("strip incident")
    expect(page.locator("#banner")).to_contain_text("直播中断")
    expect(page.locator("#banner")).to_contain_text("级别 2")
    header = page.locator(".bar").bounding_box()
    banner = page.locator("#strip").bounding_box()
    assert header is not None and banner is not None
    assert banner["y"] >= header["y"] + header["height"]  # below the header, not over it
    expect(page.locator("#title")).to_be_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "incident-banner-open.png"))
    site.post(Broadcast("wall-2").resolve(40, "i-9").events)
    expect(page.locator("#strip")).not_to_have_class("strip incident")


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_wall_screen_fits_every_display_with_the_largest_numbers(
    site: Site, browser: Browser, width: int, height: int
) -> None:
    site.post(big_broadcast("huge").events)
    site.wait_version("huge", 100)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(site.url("/screen/huge"))
    expect(page.locator("#gmv")).to_contain_text("亿")
    page.wait_for_timeout(500)
    size = page.evaluate(
        "[document.documentElement.scrollWidth, innerWidth, "
        "document.documentElement.scrollHeight, innerHeight]"
    )
    assert size[0] <= size[1] and size[2] <= size[3], size
    overflowing = page.evaluate("""() => [...document.querySelectorAll('.tile .value')]
        .filter((v) => v.scrollWidth > v.clientWidth + 1).map((v) => v.id)""")
    assert overflowing == []
    hero = page.locator("#gmv").evaluate("(v) => parseFloat(getComputedStyle(v).fontSize)")
    assert hero >= 0.06 * height
    assert page.evaluate("document.fonts.check('20px \"Noto Sans SC\"', '成交额')")
    no_script_ran(page)
    raw = [t for t in visible_texts(page) if t in CATALOGUE_KEYS]
    assert raw == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"wall-{width}x{height}.png"))
    context.close()


@pytest.mark.parametrize(
    "path", ["/screen/huge", "/review/huge", "/console", "/scores?period=2026-11"]
)
def test_producer_strings_are_text_on_every_page(site: Site, page: Page, path: str) -> None:
    site.post(
        [
            event("person.registered", 0, {"name": "主播 " + XSS, "role": "host"}, person="h-big"),
            *big_broadcast("huge").events,
        ]
    )
    site.wait_version("huge", 100)
    response = page.goto(site.url(path))
    assert response is not None
    csp = response.headers["content-security-policy"]
    script_src = csp.split("script-src")[1].split(";")[0]
    assert script_src.strip() == "'self'"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in csp
    page.wait_for_timeout(1500)
    no_script_ran(page)
    assert page.locator("img[src=x]").count() == 0
    if path != "/scores?period=2026-11":
        expect(page.locator("body")).to_contain_text("<img src=x")  # shown, as characters


def test_the_pages_refuse_a_bad_or_writable_token_with_a_clear_message(
    site: Site, page: Page
) -> None:
    site.post(Broadcast("wall-3").start(0).events)
    page.goto(f"{site.embedded.api_url}/screen/wall-3?token=lt_not-a-token")
    expect(page.locator("#lt-notice")).to_contain_text("令牌无效")
    page.goto(f"{site.embedded.api_url}/console?token={site.ingest}")
    expect(page.locator("#lt-notice")).to_contain_text("令牌权限过大")
    page.goto(site.url("/screen/never-was"))
    expect(page.locator("#lt-notice")).to_contain_text("找不到该直播")


def test_the_screen_says_when_the_connection_is_lost(site: Site, page: Page) -> None:
    site.post(Broadcast("wall-4").start(0).join(1, "v1").events)
    site.wait_version("wall-4", 2)
    page.goto(site.url("/screen/wall-4?lang=en"))
    expect(page.locator("#v-uv")).to_have_text("1")
    site.embedded.feed.stop()
    expect(page.locator("#conn")).to_contain_text("Connection lost")


def test_the_console_lists_live_and_recently_ended_sessions(site: Site, page: Page) -> None:
    site.post(
        [
            event("person.registered", 0, {"name": "Li Na", "role": "host"}, person="h-a"),
            *Broadcast("room-a").start(0, host_id="h-a", title="Spring sale").join(1, "v").events,
            *Broadcast("room-b").start(0, host_id="h-b").events,
            *Broadcast("room-c").start(0).end(9).events,
        ]
    )
    site.wait_version("room-c", 2)
    site.wait_version("room-a", 2)
    page.goto(site.url("/console?lang=en"))
    live = page.locator("#live tbody[data-session=room-a]")
    expect(live).to_contain_text("Spring sale")
    expect(live).to_contain_text("Li Na")
    expect(page.locator("#live tbody[data-session=room-b]")).to_be_visible()
    expect(page.locator("#live tbody[data-session=room-c]")).to_have_count(0)
    href = live.locator("a").get_attribute("href")
    assert href is not None and href.startswith("/screen/room-a?")
    site.post(Broadcast("room-b").incident(20, "i-1", kind="other").events)
    expect(page.locator("#live tbody[data-session=room-b]")).to_contain_text("Other")


def test_the_console_has_an_empty_state(site: Site, page: Page) -> None:
    page.goto(site.url("/console"))
    expect(page.locator("#live .empty")).to_contain_text("当前没有直播")


def test_the_scores_page_shows_labelled_scorecards_and_downloads_without_the_token(
    site: Site, page: Page
) -> None:
    broadcast = Broadcast("sc-1").start(0, host_id="h-1").join(1, "v")
    site.post(
        [
            event(
                "person.registered",
                0,
                {"name": "Li Na", "role": "host", "on_air_since": "2026-09-01"},
                person="h-1",
            ),
            event(
                "target.set",
                0,
                {"period": "2026-11", "kpi": "new_followers", "value": 4},
                person="h-1",
            ),
            *broadcast.interact(2, "follow", "v", count=2).events,
        ]
    )
    site.wait_version("sc-1", 3)
    deadline = time.monotonic() + 5
    while not site.api("/api/v1/scores?period=2026-11&role=host")["scorecards"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    page.goto(site.url("/scores?period=2026-11&role=host&lang=en"))
    expect(page.locator("h2")).to_contain_text("Host")
    row = page.locator("tbody[data-person=h-1]")
    expect(row).to_contain_text("Li Na")
    expect(row).to_contain_text("New followers")
    with page.expect_download() as download:
        page.locator("#csv").click()
    assert "token" not in download.value.url
    assert download.value.suggested_filename.endswith(".csv")
    page.fill("#period", "2026-13")
    page.locator("#query button[type=submit]").click()
    expect(page.locator("#lt-notice")).to_contain_text("Invalid period")


def test_the_review_page_shows_benchmarks_products_and_segments(site: Site, page: Page) -> None:
    site.post(big_broadcast("huge").end(60).events)
    site.wait_version("huge", 101)
    page.goto(site.url("/review/huge"))
    expect(page.locator("#benchmarks")).to_contain_text("主播中位数")
    expect(page.locator("#products")).to_contain_text("面霜")
    expect(page.locator("#segments tbody tr")).to_have_count(1)
    no_script_ran(page)


def test_the_screen_says_no_data_yet_and_broadcast_ended(site: Site, page: Page) -> None:
    site.post(Broadcast("wall-5").start(0).events)
    site.wait_version("wall-5", 1)
    page.goto(site.url("/screen/wall-5"))
    expect(page.locator("#strip")).to_have_class("strip quiet")
    expect(page.locator("#banner")).to_contain_text("暂无数据")
    site.post(Broadcast("wall-5").join(1, "v1").end(30).events)
    expect(page.locator("#strip")).to_have_class("strip ended")
    expect(page.locator("#banner")).to_contain_text("直播已结束")
    expect(page.locator("#status")).to_have_text("已结束")


def test_platform_figures_carry_a_stamp_and_the_gap_alert_is_labelled(
    site: Site, page: Page
) -> None:
    now = time.time()
    from datetime import UTC, datetime

    base = datetime.fromtimestamp(now - 600, UTC)
    b = (
        Broadcast("wall-p", base)
        .start(0)
        .place(10, "o1", "b1", "100.00")
        .pay(11, "o1")
        .report(120, online=340, views=5000, unique_viewers=2000, gmv="900.00")
        .report(180, online=360, gmv="950.00")  # two reports in a row 850 over: the gap alert
    )
    site.post(b.events)
    site.wait_version("wall-p", 5)
    page.goto(site.url("/screen/wall-p"))
    expect(page.locator("#v-online")).to_have_text("360")
    expect(page.locator("#p-online")).to_be_visible()
    expect(page.locator("#p-online")).to_contain_text("平台数据")
    expect(page.locator("#p-uv")).to_contain_text("平台数据")
    expect(page.locator("#p-aov")).to_have_count(1)
    expect(page.locator("#p-aov")).to_be_hidden()  # from orders: no stamp
    expect(page.locator("#alerts")).to_contain_text("平台成交差异")
    page.goto(site.url("/screen/wall-p?lang=en"))
    expect(page.locator("#alerts")).to_contain_text("Platform GMV gap")
    expect(page.locator("#p-online")).to_contain_text("Platform")


def test_a_resolved_incident_says_so_and_the_funnel_starts_from_unique_viewers(
    site: Site, page: Page
) -> None:
    b = (
        Broadcast("wall-r")
        .start(0)
        .join(1, "v1")
        .join(2, "v2")
        .join(3, "v1")
        .click(4, "v1")
        .incident(5, "i1", kind="technical_failure", severity=2)
    )
    site.post(b.events)
    site.wait_version("wall-r", len(b.events))
    page.goto(site.url("/screen/wall-r"))
    expect(page.locator("#alerts li.alert.incident_opened")).to_have_count(1)
    expect(page.locator("#alerts li.alert.resolved")).to_have_count(0)
    site.post(Broadcast("wall-r").resolve(65, "i1").events)  # pushed: no reload
    expect(page.locator("#alerts li.alert.resolved")).to_have_count(1, timeout=3000)
    expect(page.locator("#alerts")).to_contain_text("已解决")
    funnel = page.evaluate(
        "echarts.getInstanceByDom(document.getElementById('funnel')).getOption().series[0].data"
        ".map(d => [d.name, d.value])"
    )
    assert funnel[0] == ["观看人数", 2]  # unique viewers, not the 3 views


@pytest.mark.parametrize(("width", "height"), [(1366, 768), (3840, 2160)])
def test_english_tile_labels_fit_without_truncation(
    site: Site, browser: Browser, width: int, height: int
) -> None:
    site.post(big_broadcast("huge-en").events)
    site.wait_version("huge-en", 100)
    context = browser.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    page.goto(site.url("/screen/huge-en?lang=en"))
    expect(page.locator("#gmv")).to_contain_text("¥")
    page.wait_for_timeout(300)
    cut = page.evaluate("""() => [...document.querySelectorAll('.tile .label')]
        .filter((v) => v.scrollWidth > v.clientWidth + 1).map((v) => v.textContent)""")
    assert cut == []
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"wall-en-{width}x{height}.png"))
    context.close()


S = 1_000_000


def one_line_and_whole(page: Page, selector: str) -> None:
    """Every element matched is on one line (its text's boxes share one top) and nothing in it
    is cut (no content wider than its box)."""
    found = page.eval_on_selector_all(
        selector,
        """(els) => els.map((el) => {
            const range = document.createRange();
            range.selectNodeContents(el);
            const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0)
              .map((r) => Math.round(r.top)));
            const cut = [el, ...el.querySelectorAll('*')]
              .filter((e) => e.clientWidth && e.scrollWidth > e.clientWidth + 1)
              .map((e) => e.className);
            return [el.textContent, tops.size, cut];
        })""",
    )
    assert found, f"nothing matched {selector}"
    for text, lines, cut in found:
        assert lines == 1 and cut == [], (text, lines, cut)


# An alert on the wall screen is two lines: time, kind and state; then its detail's parts.
ALERT_LINES = "#alerts li .head, #alerts li .part"


def alert_broadcast(session_id: str) -> Broadcast:
    """Online 100, then hovering about the 70% line (69, 72, 69, 72, 69): one drop, still on;
    an incident opened and resolved; two reports in a row 850 over ours: the gap, still on."""
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    b = Broadcast(session_id, base).start(0).join(1, "v1").place(2, "o1", "v1", "100.00")
    b.pay(3, "o1").sample(10, 100)
    for k, online in enumerate((69, 72, 69, 72, 69)):
        b.sample(20 + k, online)
    b.incident(30, "i-1", kind="technical_failure", severity=2).resolve(40, "i-1")
    return b.report(50, gmv="950.00").report(55, gmv="950.00")


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_alerts_show_where_they_stand_on_the_screen_the_console_and_the_review(
    site: Site, browser: Browser, width: int, height: int
) -> None:
    b = alert_broadcast("wall-a")
    site.post(b.events)
    site.wait_version("wall-a", len(b.events))
    body = site.api("/api/v1/sessions/wall-a")
    drops = [a for a in body["alerts"] if a["kind"] == "online_drop"]
    assert len(drops) == 1 and drops[0]["state"] == "on"  # once per drop, not once per dip
    words = {
        "zh": {"on": "持续中", "cleared": "已解除", "resolved": "已解决"},
        "en": {"on": "still on", "cleared": "cleared", "resolved": "resolved"},
    }
    pages: dict[str, Page] = {}
    for lang in ("zh", "en"):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = pages[lang] = context.new_page()
        page.goto(site.url(f"/screen/wall-a?lang={lang}"))
        drop = page.locator("#alerts li.alert.online_drop")
        expect(drop).to_have_count(1)
        expect(drop).to_have_class(re.compile(r"\bon\b"))
        expect(drop.locator(".state")).to_have_text(words[lang]["on"])
        expect(page.locator("#alerts li.alert.incident_opened.resolved .state")).to_contain_text(
            words[lang]["resolved"]
        )
        expect(page.locator("#alerts li.alert.platform_gap.on .state")).to_have_text(
            words[lang]["on"]
        )
    # online back to 90 (85% of the high of 100 or more): the drop is over, pushed live
    site.post(Broadcast("wall-a", b.base).sample(60, 90).events)
    for lang, page in pages.items():
        drop = page.locator("#alerts li.alert.online_drop")
        expect(drop).to_have_class(re.compile(r"\bcleared\b"), timeout=5000)
        expect(drop).to_have_count(1)
        expect(drop.locator(".state")).to_contain_text(words[lang]["cleared"])
        one_line_and_whole(page, ALERT_LINES)
        page.screenshot(path=str(ARTIFACTS / f"alerts-screen-{lang}-{width}x{height}.png"))
        page.context.close()
    for lang in ("zh", "en"):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.goto(site.url(f"/console?lang={lang}"))
        row = page.locator("#live tbody[data-session=wall-a]")
        # those still on first, then the latest over
        expect(row.locator(".chip.alert").first).to_have_class(re.compile(r"platform_gap on"))
        expect(row.locator(".chip.alert.online_drop.cleared .state")).to_contain_text(
            words[lang]["cleared"]
        )
        expect(row.locator(".chip.alert.incident_opened.resolved")).to_have_count(1)
        one_line_and_whole(page, "#live .chip")
        page.screenshot(path=str(ARTIFACTS / f"alerts-console-{lang}-{width}x{height}.png"))
        page.goto(site.url(f"/review/wall-a?lang={lang}"))
        rows = page.locator("#incidents tbody tr")
        expect(rows).to_have_count(3)  # the incident, the drop (once), the gap
        expect(page.locator("#incidents .alert-state.resolved")).to_contain_text(
            words[lang]["resolved"]
        )
        expect(page.locator("#incidents .alert-state.cleared")).to_contain_text(
            words[lang]["cleared"]
        )
        expect(page.locator("#incidents .alert-state.on")).to_have_text(words[lang]["on"])
        one_line_and_whole(page, "#incidents .alert-state")
        context.close()


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_silent_room_shows_on_a_screen_opened_late_counting_then_cleared(
    site: Site, browser: Browser, monkeypatch: pytest.MonkeyPatch, width: int, height: int
) -> None:
    import events.sql

    real = events.sql.now_micros
    # The store records this broadcast as if two minutes ago: the room has been silent since.
    monkeypatch.setattr(events.sql, "now_micros", lambda: real() - 120 * S)
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    b = Broadcast("wall-s", base).start(0).join(1, "v1").join(2, "v2")
    site.post(b.events)
    site.wait_version("wall-s", 3)
    monkeypatch.undo()
    deadline = time.monotonic() + 10  # the sweep, every second, marks it silent
    while not [
        a for a in site.api("/api/v1/sessions/wall-s")["alerts"] if a["kind"] == "no_events"
    ]:
        assert time.monotonic() < deadline, "the sweep did not mark the silence"
        time.sleep(0.1)
    words = {
        "zh": ("持续中 0:02:", "已解除", "60秒无数据"),
        "en": ("still on 0:02:", "cleared", "No events"),
    }
    pages: dict[str, Page] = {}
    for lang in ("zh", "en"):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = pages[lang] = context.new_page()
        page.goto(site.url(f"/screen/wall-s?lang={lang}"))
        silence = page.locator("#alerts li.alert.no_events.on")
        expect(silence).to_have_count(1)  # from the snapshot: it was raised before the page
        expect(silence.locator(".state")).to_contain_text(words[lang][0])
        expect(page.locator("#strip")).to_have_class("strip silent")
        expect(page.locator("#banner")).to_contain_text(words[lang][2])
        before = silence.locator(".state").inner_text()
        # the duration counts on, once a second
        expect(silence.locator(".state")).not_to_have_text(before, timeout=5000)
        one_line_and_whole(page, ALERT_LINES)
        page.screenshot(path=str(ARTIFACTS / f"silence-on-{lang}-{width}x{height}.png"))
    context = browser.new_context(viewport={"width": width, "height": height})
    console = context.new_page()
    console.goto(site.url("/console"))
    expect(console.locator("#live .chip.no_events.on .state")).to_contain_text("持续中 0:02:")
    # events again: the fold logs the silence cleared and the update carries it
    site.post(Broadcast("wall-s", base).join(200, "v3").events)
    for lang, page in pages.items():
        cleared = page.locator("#alerts li.alert.no_events.cleared")
        expect(cleared).to_have_count(1, timeout=5000)
        expect(page.locator("#alerts li.alert.no_events")).to_have_count(1)
        expect(cleared.locator(".state")).to_contain_text(words[lang][1])
        expect(page.locator("#strip")).not_to_have_class("strip silent")
        page.screenshot(path=str(ARTIFACTS / f"silence-cleared-{lang}-{width}x{height}.png"))
        page.context.close()
    expect(console.locator("#live .chip.no_events.cleared")).to_have_count(1, timeout=5000)
    console.goto(site.url("/review/wall-s"))
    expect(console.locator("#incidents")).to_contain_text("60秒无数据")
    expect(console.locator("#incidents .alert-state.cleared")).to_contain_text("已解除")
    context.close()


def hms(text: str) -> int:
    h, m, s = (int(part) for part in text.split(":"))
    return h * 3600 + m * 60 + s


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_time_on_air_counts_every_second_while_live_and_stops_at_the_end(
    site: Site, browser: Browser, width: int, height: int
) -> None:
    # On air for ten minutes, the last event nine and a half minutes ago: the fold's own figure
    # is 30 s (start to last event); the screen and the console count from the start.
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=10)
    b = Broadcast("air-1", base).start(0).join(30, "v1")
    site.post(b.events)
    assert site.wait_version("air-1", 2)["duration_seconds"] == 30
    pages = []
    for lang in ("zh", "en"):
        context = browser.new_context(viewport={"width": width, "height": height})
        screen = context.new_page()
        screen.goto(site.url(f"/screen/air-1?lang={lang}"))
        console = context.new_page()
        console.goto(site.url(f"/console?lang={lang}"))
        cell = console.locator("#live tbody[data-session=air-1] td.duration")
        for node in (screen.locator("#v-duration"), cell):
            expect(node).to_have_text(re.compile(r"^0:1\d:\d\d$"))
            before = node.inner_text()
            assert 600 <= hms(before) < 660, before
            expect(node).not_to_have_text(before, timeout=3000)  # counting, no event needed
            assert hms(node.inner_text()) > hms(before)
        overflowing = screen.evaluate("""() => [...document.querySelectorAll('.tile .value')]
            .filter((v) => v.scrollWidth > v.clientWidth + 1).map((v) => v.id)""")
        assert overflowing == []
        pages.append((screen, console))
    # ended two minutes in: start to end, and no more counting
    site.post(Broadcast("air-1", base).end(120).events)
    for screen, console in pages:
        expect(screen.locator("#v-duration")).to_have_text("0:02:00", timeout=5000)
        ended = console.locator("#ended tbody[data-session=air-1] td.duration")
        expect(ended).to_have_text("0:02:00", timeout=5000)
        expect(console.locator("#live tbody[data-session=air-1]")).to_have_count(0)
        screen.wait_for_timeout(1500)
        expect(screen.locator("#v-duration")).to_have_text("0:02:00")
        expect(ended).to_have_text("0:02:00")
        screen.screenshot(path=str(ARTIFACTS / f"on-air-ended-{width}x{height}.png"))
        screen.context.close()


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_wall_screen_shows_the_newest_alerts_that_fit_whole_and_counts_the_rest(
    site: Site, browser: Browser, width: int, height: int
) -> None:
    """Ten alerts, the platform gap's figures as long as they come (¥9,999,999,999.99 ours,
    ¥100,000,000.00 the platform's): those shown are whole, inside their panel, the detail of
    each on a line of its own; a line says how many earlier ones are not shown."""
    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=10)
    b = Broadcast("wall-many", base).start(0).join(1, "v1").sample(2, 100)
    for k in range(100):
        b.place(3, f"o{k}", f"b{k}", "99999999.99").pay(3, f"o{k}")
    b.place(3, "ox", "bx", "0.99").pay(3, "ox")
    kinds = ["stream_interruption", "product_info_error", "technical_failure", "other"]
    for k in range(8):
        b.incident(10 + k * 5, f"i-{k}", kind=kinds[k % 4], severity=1 + k % 3)
        b.resolve(12 + k * 5, f"i-{k}")
    b.sample(60, 50).report(70, gmv="100000000.00").report(75, gmv="100000000.00")
    site.post(b.events)
    site.wait_version("wall-many", len(b.events))
    total = len(site.api("/api/v1/sessions/wall-many")["alerts"])
    assert total == 10
    for lang in ("zh", "en"):
        context = browser.new_context(viewport={"width": width, "height": height})
        page = context.new_page()
        page.goto(site.url(f"/screen/wall-many?lang={lang}"))
        gap = page.locator("#alerts li.alert.platform_gap.on .detail .part")
        expect(gap).to_have_count(2)
        expect(gap.first).to_have_text(
            "成交额 ¥100.00亿" if lang == "zh" else "GMV ¥9,999,999,999.99"
        )
        expect(gap.last).to_have_text(
            "平台成交 ¥1.00亿" if lang == "zh" else "Platform GMV ¥100,000,000.00"
        )
        page.wait_for_timeout(300)
        one_line_and_whole(page, ALERT_LINES + ", #alerts li.more")
        found = page.evaluate("""() => {
            const list = document.getElementById('alerts'), box = list.getBoundingClientRect();
            const items = [...list.querySelectorAll('li')];
            return { outside: items.filter((li) => {
                       const r = li.getBoundingClientRect();
                       return r.top < box.top - 1 || r.bottom > box.bottom + 1
                         || r.right > box.right + 1; }).map((li) => li.innerText),
                     shown: list.querySelectorAll('li.alert').length,
                     more: (list.querySelector('li.more') || {}).innerText || '' };
        }""")
        assert found["outside"] == [], found
        earlier = int(re.sub(r"\D", "", found["more"]) or 0)
        assert found["shown"] >= 2 and found["shown"] + earlier == total, found
        if (width, height) == (1366, 768):
            assert earlier > 0, found  # not all ten fit: counted, not cut
        # the newest first: the gap, then the drop
        kinds_shown = page.eval_on_selector_all(
            "#alerts li.alert", "(els) => els.map((e) => e.classList[1])"
        )
        assert kinds_shown[:2] == ["platform_gap", "online_drop"], kinds_shown
        # eight incidents in one minute: one label per kind, counted; three rows of them, none
        # on another
        texts = page.evaluate(CHART_TEXTS, "trend")
        markers = [t for t in texts if t["text"].startswith("⚠")]
        assert len(markers) == 3 and all(t["text"].endswith("×2") for t in markers), texts
        for a in markers:
            for other in texts:
                assert a is other or not overlap(a, other), (a, other)
        page.screenshot(path=str(ARTIFACTS / f"alerts-many-{lang}-{width}x{height}.png"))
        context.close()
