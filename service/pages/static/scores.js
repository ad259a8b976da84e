// A period's scorecards, one section per role: names, grades (or why not graded), each KPI
// with its label, actual, target, weight and points; CSV and xlsx downloads.
(function () {
  "use strict";
  const { $, el, t, label } = LT;
  const ROLES = Object.keys(LT.config.labels.roles);
  const RATES = new Set(["interaction_rate", "conversion_rate", "promoted_conversion"]);
  const MONEY = new Set(["gmv", "team_gmv", "gpm", "shop_sales"]);

  function value(key, v) {
    if (v === null || v === undefined) return "–";
    if (RATES.has(key)) return LT.pct(v);
    if (MONEY.has(key)) return LT.money(v);
    return LT.num(v, Number.isInteger(v) ? 0 : 2);
  }

  function query() {
    const q = new URLSearchParams({ period: $("period").value.trim() });
    if ($("role").value) q.set("role", $("role").value);
    return q;
  }

  function kpiTable(card, corrections) {
    const rows = card.kpis.map((k) => el("tr", {},
      el("td", {}, label("kpis", k.key)),
      el("td", { class: "num" }, value(k.key, k.actual)),
      el("td", { class: "num" }, value(k.key, k.target)),
      el("td", { class: "num" }, LT.pct(k.weight)),
      el("td", { class: "num" }, LT.num(k.points)),
      el("td", {}, label("kpi_status", k.status)),
      el("td", { class: "dim" }, corrections && corrections.kpis[k.key]
        ? `${t("corrections")}: ${LT.num(corrections.kpis[k.key].points)}` : "")));
    const names = [t("kpi"), t("actual"), t("target"), t("weight"), t("points"), t("status"), ""];
    const head = el("thead", {}, el("tr", {}, ...names.map((h, i) =>
      el("th", { class: i && i < 5 ? "num" : "" }, h))));
    return el("table", { class: "kpis" }, columns(names.length), head, el("tbody", {}, ...rows));
  }

  // A person takes two lines: rank, name, score, grade, fines and compliance under the
  // headers, then the KPI table across the row. Every cell is one line: a name of 20
  // characters, ¥9,999,999,999.99 and the longest KPI labels fit at 1366 px, units never
  // split from their numbers ("¥2.00万", "计分").
  const SUMMARY = ["rank", "name", "score", "grade", "fines", "compliance"];

  function cardRows(card) {
    const grade = card.grade
      ? el("span", { class: "grade grade-" + card.grade }, card.grade)
      : el("span", { class: "grade grade-none", title: t("not_graded_why") }, `${t("not_graded")}*`);
    const c = card.compliance;
    const compliance = c ? `${t("days_on_air")} ${c.days_on_air} · ${t("days_under_3h")} ` +
      `${c.days_under_3_hours} · ${t("days_under_2_clips")} ${c.days_under_2_clips}` : "–";
    return el("tbody", { class: "card", dataset: { person: card.person_id } },
      el("tr", { class: "summary" },
        // someone not graded has no rank and no score to compare
        el("td", { class: "num" }, card.graded === false ? "–" : String(card.rank)),
        el("td", { class: "name" }, card.name || card.person_id),
        el("td", { class: "num" }, card.graded === false ? "–" : LT.num(card.score)),
        el("td", {}, grade),
        el("td", { class: "num" }, LT.moneyExact((card.fines || {}).total || 0)),
        el("td", { class: "dim" }, compliance)),
      el("tr", { class: "kpi-line" }, el("td"),
        el("td", { colspan: SUMMARY.length - 1 }, kpiTable(card, card.corrections))));
  }

  function render(body) {
    $("closed").textContent = body.closed ? t("closed") : "";
    $("closed").hidden = !body.closed;
    const box = LT.clear($("cards"));
    for (const role of ROLES) {
      const cards = body.scorecards.filter((c) => c.role === role);
      if (!cards.length) continue;
      const head = el("tr", {}, ...SUMMARY.map((key) =>
        el("th", { class: ["rank", "score", "fines"].includes(key) ? "num" : "" }, t(key))));
      box.append(el("h2", {}, label("roles", role)), el("table", { class: "scores" },
        columns(SUMMARY.length), el("thead", {}, head), ...cards.map(cardRows)));
      if (cards.some((c) => !c.grade)) {
        box.append(el("p", { class: "dim note" }, `* ${t("not_graded")}${LT.colon()}${t("not_graded_why")}`));
      }
    }
    if (!body.scorecards.length) box.append(el("div", { class: "empty" }, label("states", "no_data")));
    alignColumns();
    if (body.scorecards.some((c) => c.kpis.some((k) => k.key === "gmv" || k.key === "team_gmv"))) {
      $("message").textContent = `${label("kpis", "gmv")} ${t("net_gmv_note")}`;
    }
  }

  const columns = (n) => el("colgroup", {}, ...Array.from({ length: n }, () => el("col")));

  // The role tables' columns line up, and so do the KPI tables' under every person: each
  // column is as wide as its widest cell in any of them (headers included), measured from the
  // tables laid out at their natural widths; a role table's last column (compliance) takes the
  // rest of the page's width, and at least what the KPI table under it needs. Again when the
  // window changes size or a font's glyphs arrive.
  function alignColumns() {
    const box = $("cards");
    const summaries = [...box.querySelectorAll("table.scores")];
    const kpis = [...box.querySelectorAll("table.kpis")];
    if (!summaries.length) return;
    box.classList.add("measuring");
    const widest = (tables) => {
      const widths = [];
      for (const table of tables) {
        [...table.tHead.rows[0].cells].forEach((cell, i) => {
          widths[i] = Math.max(widths[i] || 0, Math.ceil(parseFloat(getComputedStyle(cell).width)));
        });
      }
      return widths;
    };
    const kpiWidths = widest(kpis);
    box.classList.add("measuring-summary");  // without the KPI tables spanning their columns
    const widths = widest(summaries);
    box.classList.remove("measuring", "measuring-summary");
    const sum = (list) => list.reduce((a, b) => a + b, 0);
    for (const table of kpis) {
      [...table.querySelector(":scope > colgroup").children].forEach((col, i) => {
        col.style.width = kpiWidths[i] + "px";
      });
      table.style.width = sum(kpiWidths) + "px";
      table.classList.add("aligned");
    }
    // the KPI line: an empty cell under the rank, the KPI table across the other columns
    const cell = box.querySelector("tr.kpi-line > td[colspan]");
    const frame = cell ? horizontalFrame(cell) : 0;
    const last = Math.max(widths[widths.length - 1],
      sum(kpiWidths) + frame - sum(widths.slice(1, -1)));
    for (const table of summaries) {
      [...table.querySelector(":scope > colgroup").children].forEach((col, i) => {
        col.style.width = i < widths.length - 1 ? widths[i] + "px" : "";
      });
      table.style.minWidth = sum(widths.slice(0, -1)) + last + "px";
      table.classList.add("aligned");
    }
  }
  function horizontalFrame(node) {
    const s = getComputedStyle(node);
    return ["paddingLeft", "paddingRight", "borderLeftWidth", "borderRightWidth"]
      .reduce((total, key) => total + parseFloat(s[key]), 0);
  }

  async function load() {
    LT.notice(null);
    const period = $("period").value.trim();
    if (!/^\d{4}-(0[1-9]|1[0-2])$/.test(period)) {
      LT.clear($("cards"));
      LT.notice("bad_period", period);
      return;
    }
    try {
      render(await LT.api(`/api/v1/scores?${query()}`));
    } catch (e) {
      if (e.status === 422) LT.notice("bad_period", period);
      else LT.notice(e.status === 401 ? "invalid" : e.status === 403 ? "not_read_only" : "error");
    }
  }

  async function download(format) {
    const q = query();
    q.set("format", format);
    await LT.download(`/api/v1/scores?${q}`, `livetally-scores-${q.get("period")}.${format}`);
  }

  function start() {
    const params = new URLSearchParams(location.search);
    // this month in the studio's zone (en-CA writes dates as YYYY-MM-DD)
    const month = new Intl.DateTimeFormat("en-CA", { timeZone: LT.config.timezone,
      year: "numeric", month: "2-digit" }).format(new Date()).slice(0, 7);
    $("period").value = params.get("period") || month;
    // the close form (for admins, after a staff login) takes the period shown
    $("close-link").addEventListener("submit", () => { $("close-period").value = $("period").value; });
    const select = $("role");
    select.append(el("option", { value: "" }, "–"));
    for (const role of ROLES) select.append(el("option", { value: role }, label("roles", role)));
    select.value = ROLES.includes(params.get("role")) ? params.get("role") : "";
    $("query").addEventListener("submit", (e) => { e.preventDefault(); load(); });
    $("csv").addEventListener("click", () => download("csv"));
    $("xlsx").addEventListener("click", () => download("xlsx"));
    window.addEventListener("resize", alignColumns);
    if (document.fonts) document.fonts.addEventListener("loadingdone", alignColumns);
    const problem = LT.tokenProblem();
    if (problem) { LT.notice(problem); return; }
    load();
  }
  start();
})();
