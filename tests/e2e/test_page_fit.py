"""The console, the scores page and the review with the longest real values (titles of 50
characters, names of 20, ¥9,999,999,999.99, 99,999,999 viewers), in headless Chromium at
1366x768, 1920x1080 and 3840x2160, in Chinese and English: nothing wraps, nothing is cut, the
page never scrolls sideways, units stay with their numbers, and the review's chart legend and
segment names never sit on each other. On the wall screen the alerts, the product ranking and
the ticker show every entry whole (wrapping where they must, those that fit shown), the trend's
marker labels name each product whole and apart, and a product's and an incident's lines in the
same minute are drawn apart; the traffic sources' figures stand apart from their bars, the
funnel's labels never lie on its pieces, and the strip takes no space without a banner. Every
measure comes from the elements' boxes.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect

from service.process.embedded import Embedded
from service.process.settings import Settings
from tests.builders import Broadcast, event
from tests.conftest import fresh_sqlite_url
from tests.e2e.test_screens import (  # noqa: F401 - the shared browser
    ARTIFACTS,
    CHART_TEXTS,
    SIZES,
    Site,
    browser,
    overlap,
)

TITLE_ZH = (
    "双十二美妆护肤专场大牌精华面霜口红限时秒杀福利夜第一场"
    "全场满三百减五十再送好礼惊喜不断多多今晚八点见"
)
TITLE_EN = "Winter beauty night one: serums, creams, lipsticks"
NAME_ZH = "主播名字最长可以有二十个字符这么长的名字"
NAME_EN = "Alexandra Konstantin"
PRODUCT_ZH = "修护精华液 30ml 限量礼盒装"
PRODUCT_EN = "Repair serum 30 ml gift box"
PRODUCT_LONG = "修护精华液三十毫升限量礼盒装加赠同款面霜"  # a name of 20, as wide as they come
COMMENT_ZH = (
    "请问这款精华液敏感肌可以用吗孕期能不能用一天用几次"
    "早晚都要用吗有没有赠品小样什么时候发货呀主播回复下"
)
COMMENT_EN = "Is this serum safe for sensitive skin, ships when?"
ROOM = "room-7312345678901234567"
BIGGEST = "99999999.99"  # the largest order: a hundred of them and ¥0.99 are ¥9,999,999,999.99
LANGS = ("zh", "en")

assert len(TITLE_ZH) == 50 and len(TITLE_EN) == 50
assert len(NAME_ZH) == 20 and len(NAME_EN) == 20 and len(PRODUCT_LONG) == 20
assert len(COMMENT_ZH) == 50 and len(COMMENT_EN) == 50


def richest(b: Broadcast, t: float, tag: str) -> Broadcast:
    """¥9,999,999,999.99 of paid orders, 99,999,999 online, at `t` seconds."""
    for k in range(100):
        b.place(t, f"o-{tag}-{k}", f"b{k}", BIGGEST, "p-1").pay(t, f"o-{tag}-{k}")
    return b.place(t, f"o-{tag}-x", "bx", "0.99", "p-1").pay(t, f"o-{tag}-x")


def longest_data(base: datetime) -> list[dict[str, Any]]:
    """Two live broadcasts (a Chinese and an English title) with every kind of alert, one that
    ended (for the ended list and the review), and the people of a month's scorecards: hosts
    with targets, an operator (the longest KPI labels) and someone not graded."""
    period = base.strftime("%Y-%m")
    people = [
        event("person.registered", 0, {"name": NAME_ZH, "role": "host"}, person="h-zh"),
        event("person.registered", 0, {"name": NAME_EN, "role": "host"}, person="h-en"),
        event("person.registered", 0, {"name": NAME_ZH, "role": "live_ops"}, person="o-zh"),
        event("person.registered", 0, {"name": NAME_EN, "role": "supervisor"}, person="s-en"),
    ]
    for person, kpi, value in (
        ("h-zh", "gmv", 9999999999.99),
        ("h-zh", "interaction_rate", 0.5),
        ("h-zh", "new_followers", 99999999),
        ("h-zh", "conversion_rate", 0.5),
        ("h-en", "gmv", 20000),
        ("h-en", "interaction_rate", 0.5),
        ("o-zh", "views_growth", 0.5),
        ("o-zh", "promoted_viewers", 99999999),
        ("o-zh", "promoted_conversion", 0.5),
        ("o-zh", "incidents", 1),
    ):
        people.append(
            event("target.set", 0, {"period": period, "kpi": kpi, "value": value}, person=person)
        )
    when = base.isoformat().replace("+00:00", "Z")  # in the period
    people.append(
        event(
            "violation.recorded",
            0,
            {"rule": "smoking", "fine": BIGGEST},
            person="h-zh",
            occurred_at=when,
        )
    )
    events: list[dict[str, Any]] = []
    for session, title, host in (("long-zh", TITLE_ZH, "h-zh"), ("long-en", TITLE_EN, "h-en")):
        b = Broadcast(session, base).start(
            0, host_id=host, ops_id="o-zh", room_id=ROOM, title=title, gmv_target="100000000"
        )
        # a product presented and an incident in the same minute (the base is a minute's
        # start): their markers' labels on the screen's trend, one above the other, their
        # lines side by side; the product's name of 20 whole on the trend, the ranking and the
        # ticker, with the largest sum
        b.pin(5, "p-1", name=PRODUCT_LONG, price="9999.99")
        b.join(6, "v1", "recommend").click(7, "v1")
        b.sample(10, 99_999_999)
        richest(b, 20, session)
        b.add(
            "incident.opened",
            30,
            incident_id=f"i-{session}",
            kind="product_info_error",
            severity=3,
            description="商品卡价格错误",
        )
        b.resolve(40, f"i-{session}")
        b.sample(50, 60_000_000)  # 40% under the high of 99,999,999: a drop, still on
        # a platform gap, still on, its figures as long as they come: ¥9,999,999,999.99 ours,
        # ¥100,000,000.00 the platform's (the most a report may carry)
        b.report(52, gmv="100000000.00").report(54, gmv="100000000.00")
        # another product the next minute, and the drop still on over four minutes of trend
        b.pin(65, "p-2", name=PRODUCT_EN, price="99.99").unpin(66, "p-1")
        for minute in (2, 3):
            b.sample(60 * minute + 10, 60_000_000)
        # the newest on the ticker: two comments of 50 characters, whole
        b.interact(190, "comment", "viewer-1234567890", text=COMMENT_EN)
        b.interact(191, "comment", "viewer-0987654321", text=COMMENT_ZH)
        events += b.events
    # 20 minutes: two products presented 8 minutes each, wide enough on the chart for their
    # names at 1366 px
    done = Broadcast("long-done", base).start(
        0, host_id="h-zh", ops_id="o-zh", room_id=ROOM, title=TITLE_ZH
    )
    done.pin(60, "p-1", name=PRODUCT_ZH, price="9999.99").unpin(540, "p-1")
    done.pin(540, "p-2", name=PRODUCT_EN, price="99.99").unpin(1020, "p-2")
    done.join(61, "v1", "short_video").click(62, "v1").sample(63, 99_999_999)
    richest(done, 300, "done")
    done.add(
        "incident.opened",
        600,
        incident_id="i-done",
        kind="stream_interruption",
        severity=2,
        description="推流中断",
    )
    done.resolve(660, "i-done").sample(700, 50_000_000).end(1200)
    return [*people, *events, *done.events, *shop(base).events]


# Ten products on the ranking, each named in 20 characters, presented a minute apart.
SHOP_NAMES = [PRODUCT_LONG[:-2] + "一二三四五六七八九十"[k] + "号" for k in range(10)]


def shop(base: datetime) -> Broadcast:
    b = Broadcast("long-shop", base).start(
        0, host_id="h-en", ops_id="o-zh", room_id=ROOM, title=TITLE_EN
    )
    b.join(1, "v1", "recommend").sample(2, 99_999_999)
    for k, name in enumerate(SHOP_NAMES):
        product = f"p-{k + 1}"
        b.pin(60 * k + 5, product, name=name, price="9999.99").click(60 * k + 6, "v1", product)
        for n in range(10 - k):  # the first sells most
            b.place(60 * k + 7, f"o-shop-{k}-{n}", f"buyer-{k}{n}", BIGGEST, product)
            b.pay(60 * k + 8, f"o-shop-{k}-{n}")
    return b


@pytest.fixture(scope="module")
def long_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    """One site with the longest values for every test here (read only)."""
    path: Path = tmp_path_factory.mktemp("fit")
    embedded = Embedded(Settings(database_url=fresh_sqlite_url(path), api_port=0, feed_port=0))
    embedded.start()
    site = Site(embedded)
    base = datetime.now(UTC).replace(second=0, microsecond=0) - timedelta(minutes=30)
    site.post(longest_data(base))
    for session in ("long-zh", "long-en", "long-done", "long-shop"):
        site.wait_version(session, 100)
    deadline = time.monotonic() + 10
    period = base.strftime("%Y-%m")
    while len(site.api(f"/api/v1/scores?period={period}")["scorecards"]) < 4:
        assert time.monotonic() < deadline, "the scorecards were not folded"
        time.sleep(0.05)
    site.period = period  # type: ignore[attr-defined]
    yield site
    embedded.stop()


# Text that takes more than one line, elements whose content is wider than their box (cut, or
# spilling over what is beside them), and how wide the page is against the window.
MEASURE = """(selector) => {
  const roots = [...document.querySelectorAll(selector)];
  const wrapped = [], cut = [];
  for (const root of roots) {
    const walk = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) {
      const node = walk.currentNode, el = node.parentElement;
      if (!node.textContent.trim() || !el) continue;
      const style = getComputedStyle(el);
      if (style.display === 'none' || style.visibility === 'hidden') continue;
      const range = document.createRange();
      range.selectNodeContents(node);
      const tops = new Set([...range.getClientRects()].filter((r) => r.width > 0)
        .map((r) => Math.round(r.top)));
      if (tops.size > 1) wrapped.push(node.textContent.trim());
    }
    for (const el of [root, ...root.querySelectorAll('*')]) {
      if (!el.clientWidth) continue;
      if (el.scrollWidth > el.clientWidth + 1) cut.push(`${el.tagName}.${el.className}: ` +
        `${el.textContent.trim().slice(0, 60)} (${el.scrollWidth} > ${el.clientWidth})`);
    }
  }
  const de = document.documentElement;
  return { wrapped, cut, page: [de.scrollWidth, window.innerWidth], roots: roots.length };
}"""


# The web fonts loaded and the page laid out again with them: what a viewer sees. Measured
# before (a loaded machine, the CJK font still coming), a table's cell was sized for one font
# and filled with the other.
SETTLED = """() => document.fonts.ready.then(
  () => new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done))))"""


def fits(page: Page, selector: str) -> None:
    page.evaluate(SETTLED)
    found = page.evaluate(MEASURE, selector)
    assert found["roots"], f"nothing matched {selector}"
    assert found["wrapped"] == [], found["wrapped"]
    assert found["cut"] == [], found["cut"]
    assert found["page"][0] <= found["page"][1], found["page"]  # no sideways scrolling


def one_line(page: Page, selector: str) -> None:
    """Each element is one line high: its content box is under twice as high as a line of its
    text (boxes as drawn, so a page zoomed on a large display measures the same)."""
    page.evaluate(SETTLED)
    heights = page.eval_on_selector_all(
        selector,
        """(els) => els.filter((el) => el.textContent.trim()).map((el) => {
            const box = el.getBoundingClientRect();
            const scale = el.offsetWidth ? box.width / el.offsetWidth : 1;
            const s = getComputedStyle(el);
            const frame = ['paddingTop', 'paddingBottom', 'borderTopWidth', 'borderBottomWidth']
              .reduce((sum, key) => sum + parseFloat(s[key]), 0);
            const range = document.createRange();
            range.selectNodeContents(el);
            const line = Math.max(...[...range.getClientRects()].map((r) => r.height));
            return [el.textContent.trim(), box.height - frame * scale, line];
        })""",
    )
    assert heights, f"nothing matched {selector}"
    for text, height, line in heights:
        assert height < 1.9 * line, (text, height, line)


@pytest.fixture(scope="module")
def chromium(browser: Browser) -> Browser:  # noqa: F811 - test_screens' browser, shared
    return browser


def open_page(chromium: Browser, site: Site, path: str, width: int, height: int) -> Page:
    context = chromium.new_context(viewport={"width": width, "height": height})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(site.url(path))
    page.errors = errors  # type: ignore[attr-defined]
    return page


def close(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)
    errors = page.errors  # type: ignore[attr-defined]
    page.context.close()
    assert errors == [], errors


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_console_fits_the_longest_values_on_one_line_each(
    long_site: Site, chromium: Browser, width: int, height: int
) -> None:
    for lang in LANGS:
        page = open_page(chromium, long_site, f"/console?lang={lang}", width, height)
        live = page.locator("#live tbody[data-session=long-zh]")
        expect(live).to_contain_text(TITLE_ZH)
        expect(page.locator("#live tbody[data-session=long-en]")).to_contain_text(TITLE_EN)
        expect(page.locator("#ended tbody[data-session=long-done]")).to_be_visible()
        expect(live).to_contain_text(NAME_ZH)
        money = "¥100.00亿" if lang == "zh" else "¥9,999,999,999.99"
        expect(live).to_contain_text(money)
        # the alerts as on the screen, on a line of their own: the drop and the gap still on
        # first, then the incident resolved (or "+1" if the room has gone silent meanwhile)
        expect(live.locator(".chip.alert.online_drop.on")).to_have_count(1)
        expect(live.locator(".chip.alert.platform_gap.on")).to_have_count(1)
        expect(live.locator(".chip.alert.on").first).to_contain_text(
            "持续中" if lang == "zh" else "still on"
        )
        expect(live.locator(".chip.alert.resolved, .chip.more")).to_have_count(1)
        fits(page, ".page")
        one_line(page, "#live .title, #live .pill, #live td, #live th, #ended td, .chip")
        # the title is whole: it fits its line at every size, no "…" needed
        cut_titles = page.eval_on_selector_all(
            "table.sessions .title",
            "(els) => els.filter((e) => e.scrollWidth > e.clientWidth).map((e) => e.textContent)",
        )
        assert cut_titles == []
        titles = page.eval_on_selector_all(
            "table.sessions .title", "(els) => els.map(e => e.title)"
        )
        assert TITLE_ZH in titles  # and the whole title in its tooltip all the same
        close(page, f"fit-console-{lang}-{width}x{height}")


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_scores_page_keeps_units_with_their_numbers(
    long_site: Site, chromium: Browser, width: int, height: int
) -> None:
    period = long_site.period  # type: ignore[attr-defined]
    for lang in LANGS:
        page = open_page(chromium, long_site, f"/scores?period={period}&lang={lang}", width, height)
        row = page.locator("tbody[data-person=h-zh]")
        expect(row).to_contain_text(NAME_ZH)
        expect(row).to_contain_text("¥99,999,999.99")  # the fine, exact
        expect(page.locator("tbody[data-person=s-en] .grade-none")).to_be_visible()
        expect(page.locator(".note")).to_contain_text("*")
        fits(page, "#cards")
        one_line(page, "#cards td.num, #cards th, .kpis td, .grade, table.scores td.name")
        if lang == "zh":
            # money with 万/亿 and the status words stay whole on one line
            expect(row).to_contain_text("¥100.00亿")
            expect(row).to_contain_text("计分")
        close(page, f"fit-scores-{lang}-{width}x{height}")


# The left edge and width of each header cell of each table matched, as drawn.
COLUMNS = """(selector) => [...document.querySelectorAll(selector)].map((table) =>
  [...table.tHead.rows[0].cells].map((cell) => {
    const r = cell.getBoundingClientRect();
    return [Math.round(r.left * 10) / 10, Math.round(r.width * 10) / 10];
  }))"""


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_scores_role_tables_columns_line_up(
    long_site: Site, chromium: Browser, width: int, height: int
) -> None:
    """Three roles' tables (host, live ops, supervisor) and a KPI table under each of four
    people: the same column is as wide, and starts at the same place, in every one of them."""
    period = long_site.period  # type: ignore[attr-defined]
    for lang in LANGS:
        page = open_page(chromium, long_site, f"/scores?period={period}&lang={lang}", width, height)
        expect(page.locator("table.scores")).to_have_count(3)
        expect(page.locator("table.kpis")).to_have_count(4)
        page.wait_for_timeout(300)
        for selector in ("table.scores", "table.kpis"):
            tables = page.evaluate(COLUMNS, selector)
            for table in tables[1:]:
                assert len(table) == len(tables[0])
                for (left, wide), (left0, wide0) in zip(table, tables[0], strict=True):
                    assert abs(left - left0) <= 1 and abs(wide - wide0) <= 1, (selector, tables)
        # and still every cell on one line, whole
        fits(page, "#cards")
        close(page, f"fit-scores-columns-{lang}-{width}x{height}")


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_review_chart_keeps_legend_segment_names_and_axes_apart(
    long_site: Site, chromium: Browser, width: int, height: int
) -> None:
    for lang in LANGS:
        page = open_page(chromium, long_site, f"/review/long-done?lang={lang}", width, height)
        expect(page.locator("#segments tbody tr")).to_have_count(2)
        page.wait_for_function(
            "echarts.getInstanceByDom(document.getElementById('trend')) !== undefined"
        )
        page.wait_for_timeout(300)
        texts = page.evaluate(CHART_TEXTS, "trend")
        legend_names = (
            {"在线人数", "每分钟成交额"} if lang == "zh" else {"Online", "GMV per minute"}
        )
        legend = [t for t in texts if t["text"] in legend_names]
        segments = [t for t in texts if t["text"] in (PRODUCT_ZH, PRODUCT_EN)]
        others = [t for t in texts if t not in legend and t not in segments]
        assert len(legend) == 2, texts
        assert segments, texts  # at least one segment named on the chart
        for a in legend + segments:
            for b in legend + segments + others:
                assert a is b or not overlap(a, b), (a, b)
        # axis labels as large as the page's small text, and light
        axis = [t for t in others if t["size"]]
        assert axis and min(t["size"] for t in axis) >= 14, axis
        assert {t["fill"] for t in axis} == {"#c9d2ec"}
        # the studio's own words for the incident, on a Chinese or English page alike
        expect(page.locator("#incidents")).to_contain_text("推流中断")
        expect(page.locator("#incidents .alert-state.resolved")).to_have_count(1)
        fits(page, "#incidents")
        close(page, f"fit-review-{lang}-{width}x{height}")


# Each element of the wall screen's alert list with whether it lies wholly inside the list's
# box (a list too long for its panel would be cut at its bottom edge).
ALERT_BOXES = """() => {
  const list = document.getElementById('alerts');
  const box = list.getBoundingClientRect();
  return [...list.querySelectorAll('li')].map((li) => {
    const r = li.getBoundingClientRect();
    return { text: li.innerText, more: li.classList.contains('more'),
             inside: r.top >= box.top - 1 && r.bottom <= box.bottom + 1 &&
                     r.left >= box.left - 1 && r.right <= box.right + 1 };
  });
}"""


def alert_count(site: Site, session: str) -> int:
    return len(site.api(f"/api/v1/sessions/{session}")["alerts"])


# A chart's shapes of a kind and colours as drawn (the sources' bars, the funnel's pieces), each
# with its bounding box.
CHART_SHAPES = """([id, type, fills]) => {
  const chart = echarts.getInstanceByDom(document.getElementById(id));
  const out = [];
  for (const el of chart.getZr().storage.getDisplayList(true)) {
    if (el.type !== type || !el.style || !fills.includes(el.style.fill)) continue;
    const r = el.getBoundingRect().clone();
    r.applyTransform(el.getComputedTransform());
    out.push({ x: r.x, y: r.y, w: r.width, h: r.height });
  }
  return out;
}"""

# The wall screen's strip as screen.js sets it with a banner (an incident's) and with none, each
# measured with the stage's boxes, then put back as it was (in one go: nothing redraws between).
STRIP_STATES = """() => {
  const strip = document.getElementById('strip'), banner = document.getElementById('banner');
  const stage = document.getElementById('stage');
  const measure = () => {
    const box = stage.getBoundingClientRect();
    const de = document.documentElement;
    return {
      strip: strip.getBoundingClientRect().height,
      inside: [...stage.children].every((el) => {
        const r = el.getBoundingClientRect();
        return r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5;
      }),
      page: [de.scrollWidth, de.scrollHeight, window.innerWidth, window.innerHeight],
      trend: document.querySelector('.panel.trend').getBoundingClientRect().top,
    };
  };
  const was = [strip.className, banner.textContent];
  strip.className = 'strip incident';
  banner.textContent = '⚠ incident';
  const shown = measure();
  strip.className = 'strip';
  banner.textContent = '';
  const none = measure();
  [strip.className, banner.textContent] = was;
  return { shown, none };
}"""

U = "parseFloat(getComputedStyle(document.documentElement).getPropertyValue('--u'))"


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_wall_screen_shows_every_alert_whole_and_keeps_marker_labels_apart(
    long_site: Site, chromium: Browser, width: int, height: int
) -> None:
    for lang, session in (("zh", "long-zh"), ("en", "long-en")):
        before = alert_count(long_site, session)
        page = open_page(chromium, long_site, f"/screen/{session}?lang={lang}", width, height)
        # the platform gap with both its figures at their longest, each with its label, whole
        detail = page.locator("#alerts li.alert.platform_gap.on .detail")
        figures = (
            ("成交额 ¥100.00亿", "平台成交 ¥1.00亿")
            if lang == "zh"
            else ("GMV ¥9,999,999,999.99", "Platform GMV ¥100,000,000.00")
        )
        for figure in figures:
            expect(detail.locator(".part", has_text=figure)).to_have_count(1)
        page.wait_for_function(
            "echarts.getInstanceByDom(document.getElementById('trend')) !== undefined"
        )
        page.wait_for_timeout(500)
        # every line of every alert on one line, nothing cut, nothing ending in "…", every
        # alert shown inside its panel; those that do not fit are counted, not clipped
        fits(page, "#alerts")
        one_line(page, "#alerts .head, #alerts .part, #alerts li.more")
        boxes = page.evaluate(ALERT_BOXES)
        assert all(b["inside"] for b in boxes), boxes
        assert not [b for b in boxes if "…" in b["text"]], boxes
        shown = len([b for b in boxes if not b["more"]])
        more = [b["text"] for b in boxes if b["more"]]
        earlier = int("".join(ch for ch in more[0] if ch.isdigit())) if more else 0
        assert shown >= 3 and shown + earlier in (before, alert_count(long_site, session)), boxes
        # the trend's marker labels: two products and an incident, the first product and the
        # incident in the same minute, one above the other; none on another text of the chart
        texts = page.evaluate(CHART_TEXTS, "trend")
        markers = [t for t in texts if t["text"].startswith(("▶", "⚠"))]
        assert len(markers) == 3, texts
        for a in markers:
            for b in texts:
                assert a is b or not overlap(a, b), (a, b)
        first_pin = next(t for t in markers if t["text"].startswith("▶ 修护"))
        incident = next(t for t in markers if t["text"].startswith("⚠"))
        assert first_pin["x"] < incident["x"] + incident["w"]
        assert incident["x"] < first_pin["x"] + first_pin["w"]  # the same minute: stacked
        chart_width = page.evaluate("document.getElementById('trend').clientWidth")
        assert all(t["x"] >= 0 and t["x"] + t["w"] <= chart_width for t in markers), markers
        # the traffic sources: each bar's figures apart from the bar's end, by a gap that grows
        # with the display (1 u; at least 0.8 u and 2 px)
        u = page.evaluate(U)
        bars = page.evaluate(CHART_SHAPES, ["sources", "rect", ["#3ddc97"]])
        source_figures = [t for t in page.evaluate(CHART_TEXTS, "sources") if "·" in t["text"]]
        assert len(source_figures) == 2 and len(bars) == 2, (source_figures, bars)
        for figure in source_figures:
            middle = figure["y"] + figure["h"] / 2
            (bar,) = [b for b in bars if b["y"] <= middle <= b["y"] + b["h"]]
            assert figure["x"] - (bar["x"] + bar["w"]) >= max(2, 0.8 * u), (figure, bar, u)
        # the funnel (1 viewer, 1 clicking, 101 buyers): no label on any piece, each whole
        pieces = page.evaluate(
            CHART_SHAPES, ["funnel", "polygon", ["#4f7cff", "#8a5cff", "#ff5c8a"]]
        )
        stages = page.evaluate(CHART_TEXTS, "funnel")
        assert len(pieces) == 3 and len(stages) == 5, (pieces, stages)
        for a in stages:
            for piece in pieces:
                assert not overlap(a, piece), (a, piece)
        funnel_width = page.evaluate("document.getElementById('funnel').clientWidth")
        assert all(t["x"] >= 0 and t["x"] + t["w"] <= funnel_width for t in stages), stages
        # the strip: as tall as its text with a banner, no height without one (the panels below
        # move up into its place); the stage fits the window either way, nothing scrolls
        strip = page.evaluate(STRIP_STATES)
        assert strip["none"]["strip"] == 0 and strip["shown"]["strip"] > 2 * u, strip
        assert strip["none"]["trend"] < strip["shown"]["trend"] - 4 * u, strip
        for state in (strip["shown"], strip["none"]):
            assert state["inside"], strip
            assert state["page"][:2] == [width, height] == state["page"][2:], strip
        close(page, f"fit-screen-{lang}-{width}x{height}")


# The wall screen's ranking and ticker: each list and everything in it, with whether its content
# is wider or taller than its box (cut), and each entry with its text and whether it lies
# wholly inside the list's box.
LIST_FIT = """(id) => {
  const list = document.getElementById(id);
  const box = list.getBoundingClientRect();
  const cut = [list, ...list.querySelectorAll('*')]
    .filter((el) => el.clientWidth && (el.scrollWidth > el.clientWidth
                                       || el.scrollHeight > el.clientHeight))
    .map((el) => `${el.tagName}.${el.className}: ${el.textContent.slice(0, 40)} ` +
                 `(${el.scrollWidth}x${el.scrollHeight} > ${el.clientWidth}x${el.clientHeight})`);
  const entries = [...list.children].map((li) => {
    const r = li.getBoundingClientRect();
    return { text: li.textContent, inside: r.top >= box.top - 0.5 && r.bottom <= box.bottom + 0.5
             && r.left >= box.left - 0.5 && r.right <= box.right + 0.5 };
  });
  return { cut, entries, clamped: list.querySelectorAll('.clamped').length };
}"""


# The wall screens of the longest values: a Chinese and an English broadcast, each in its
# language, and ten products of 20 characters in both.
SCREENS = (("zh", "long-zh"), ("en", "long-en"), ("zh", "long-shop"), ("en", "long-shop"))


def whole_entries(page: Page, list_id: str) -> list[str]:
    """The list's entries, each asserted whole and inside the list; nothing in it cut."""
    found = page.evaluate(LIST_FIT, list_id)
    assert found["cut"] == [], found
    assert found["clamped"] == 0, found
    assert found["entries"], found
    assert all(e["inside"] for e in found["entries"]), found
    texts = [e["text"] for e in found["entries"]]
    assert not [t for t in texts if "…" in t], texts
    return texts


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_wall_screen_ranking_and_ticker_show_every_entry_whole(
    long_site: Site, chromium: Browser, width: int, height: int
) -> None:
    """A product's name of 20, a comment of 50, an order of that product for ¥99,999,999.99:
    each whole, wrapping onto the lines it needs; the entries that fit whole are shown (the best
    sellers, the newest), none cut at the panel's edge."""
    for lang, session in SCREENS:
        page = open_page(chromium, long_site, f"/screen/{session}?lang={lang}", width, height)
        expect(page.locator("#products li").first).to_be_visible()
        expect(page.locator("#ticker li").first).to_be_visible()
        page.wait_for_timeout(500)
        products = whole_entries(page, "products")
        ticker = whole_entries(page, "ticker")
        if session == "long-shop":
            # the best sellers in order, as many as fit whole (at least three at every size)
            assert len(products) >= 3, products
            for rank, text in enumerate(products):
                assert text.startswith(str(rank + 1)) and SHOP_NAMES[rank] in text, products
            assert all("¥99,999,999.99" in t for t in ticker), ticker
            assert [n for n in SHOP_NAMES if n in ticker[0]] == [SHOP_NAMES[9]], ticker
        else:
            money = "¥100.00亿" if lang == "zh" else "¥9,999,999,999.99"
            assert PRODUCT_LONG in products[0] and money in products[0], products
            # the newest first: the two comments, then an order of the product, all whole
            assert COMMENT_ZH in ticker[0] and COMMENT_EN in ticker[1], ticker
            assert len(ticker) >= 3, ticker
            assert PRODUCT_LONG in ticker[2] and "¥99,999,999.99" in ticker[2], ticker
        # ranks, figures, times and amounts each on one line, never split
        one_line(page, "#products .rank, #products .num, #ticker .time, #ticker .amount")
        close(page, f"fit-screen-lists-{session}-{lang}-{width}x{height}")


# The trend's marker labels as drawn: each label's lines (a label broken onto two lines is one
# zrender text with a tspan per line), with their boxes.
MARKER_LABELS = """(id) => {
  const chart = echarts.getInstanceByDom(document.getElementById(id));
  const labels = new Map();
  for (const el of chart.getZr().storage.getDisplayList(true)) {
    if (el.type !== 'tspan' || el.invisible || el.ignore || !el.style || !el.style.text) continue;
    if (!['#9ff0c9', '#ff8a95'].includes(el.style.fill)) continue;
    const r = el.getBoundingRect().clone();
    r.applyTransform(el.getComputedTransform());
    const key = el.parent ? el.parent.id : el.id;
    if (!labels.has(key)) labels.set(key, []);
    labels.get(key).push({ text: String(el.style.text), x: r.x, y: r.y, w: r.width, h: r.height });
  }
  return [...labels.values()].map((lines) => lines.sort((a, b) => a.y - b.y));
}"""


def squeeze(text: str) -> str:
    """The text without its spaces (a label broken at a space loses it)."""
    return "".join(text.split())


def label_text(lines: list[dict[str, Any]]) -> str:
    return squeeze("".join(line["text"] for line in lines))


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_the_trend_marker_labels_name_each_product_whole(
    long_site: Site, chromium: Browser, width: int, height: int
) -> None:
    """The products' names of 20 and of 27 characters whole on the trend (on two lines when one
    has no room), no label on another or on the axes' and legend's texts; of ten products a
    minute apart, those shown are named whole."""
    for lang, session in SCREENS:
        page = open_page(chromium, long_site, f"/screen/{session}?lang={lang}", width, height)
        expect(page.locator("#products li").first).to_be_visible()
        page.wait_for_timeout(800)
        labels = page.evaluate(MARKER_LABELS, "trend")
        texts = page.evaluate(CHART_TEXTS, "trend")
        named = [label_text(lines) for lines in labels]
        assert not [t for t in named if "…" in t], named
        if session == "long-shop":
            assert len(named) >= 3, named
            assert all(t.startswith("▶") and t[1:] in SHOP_NAMES for t in named), named
        else:
            for name in (PRODUCT_LONG, PRODUCT_EN):
                assert "▶" + squeeze(name) in named, named
            assert len(named) == 3 and sum(t.startswith("⚠") for t in named) == 1, named
        boxes = [line for lines in labels for line in lines]
        for a in boxes:
            for b in texts:  # every other text the chart draws, marker labels included
                same = (a["x"], a["y"], a["text"]) == (b["x"], b["y"], b["text"])
                assert same or not overlap(a, b), (a, b)
        chart_width = page.evaluate("document.getElementById('trend').clientWidth")
        assert all(b["x"] >= 0 and b["x"] + b["w"] <= chart_width for b in boxes), boxes
        close(page, f"fit-screen-markers-{session}-{lang}-{width}x{height}")


# The trend's marker lines as drawn (product dashed green, incident solid red), and where the
# first minute is: its middle and its band's width.
MARKER_LINES = """(id) => {
  const chart = echarts.getInstanceByDom(document.getElementById(id));
  const lines = [];
  for (const el of chart.getZr().storage.getDisplayList(true)) {
    if (!el.shape || el.shape.x1 === undefined || el.shape.x1 !== el.shape.x2) continue;
    if (!['#3ddc97', '#ff4d5e'].includes(el.style.stroke)) continue;
    lines.push({ x: el.shape.x1, width: el.style.lineWidth,
                 kind: el.style.stroke === '#ff4d5e' ? 'incident' : 'product' });
  }
  const axis = chart.getModel().getComponent('xAxis', 0).axis;
  const first = chart.getOption().xAxis[0].data[0];
  return { lines, middle: chart.convertToPixel({ xAxisIndex: 0 }, first),
           band: axis.getBandWidth() };
}"""


@pytest.mark.parametrize(("width", "height"), SIZES)
def test_a_product_and_an_incident_in_the_same_minute_draw_their_lines_apart(
    long_site: Site, chromium: Browser, width: int, height: int
) -> None:
    """The first product presented and the incident opened in the first minute: both lines
    visible, a few pixels apart, each still within its minute."""
    for lang, session in (("zh", "long-zh"), ("en", "long-en")):
        page = open_page(chromium, long_site, f"/screen/{session}?lang={lang}", width, height)
        expect(page.locator("#products li").first).to_be_visible()
        page.wait_for_timeout(800)
        found = page.evaluate(MARKER_LINES, "trend")
        middle, band = found["middle"], found["band"]
        first = [line for line in found["lines"] if abs(line["x"] - middle) < band / 2]
        products = [line for line in first if line["kind"] == "product"]
        incidents = [line for line in first if line["kind"] == "incident"]
        assert len(products) == 1 and len(incidents) == 1, found
        (product,), (incident,) = products, incidents
        # apart by more than their widths, with a visible gap between them
        assert abs(incident["x"] - product["x"]) >= (product["width"] + incident["width"]) / 2 + 3
        # the second product, the next minute, on its own minute's middle
        assert [line for line in found["lines"] if abs(line["x"] - middle - band) < 1], found
        close(page, f"fit-screen-lines-{lang}-{width}x{height}")
