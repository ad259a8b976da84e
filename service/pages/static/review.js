// The post-broadcast review (复盘): benchmarks against the host's and room's medians (▲/▼),
// the trend with explanation segments, the funnel, products, segments, sources, incidents.
(function () {
  "use strict";
  const { $, el, t, label } = LT;
  const SESSION = LT.config.session_id;
  const MONEY = new Set(["gmv", "net_gmv", "gpm", "uv_value", "aov"]);
  const RATES = new Set(["interaction_rate", "conversion_rate"]);
  const NAMES = { gmv: "gmv", net_gmv: "net_gmv", views: "views", unique_viewers: "uv",
    avg_watch_seconds: "avg_watch", interaction_rate: "interaction_rate",
    conversion_rate: "conversion", gpm: "gpm", uv_value: "uv_value", aov: "aov",
    new_followers: "followers" };

  function show(key, v) {
    // one format per column: exact money (¥4,276.24), never mixed with ¥1.13万
    if (MONEY.has(key)) return LT.moneyExact(v);
    if (RATES.has(key)) return LT.pct(v);
    if (key === "avg_watch_seconds") return LT.duration(v);
    return LT.count(v);
  }
  const metricLabel = (key) => (key === "interaction_rate" ? label("kpis", key) : t(NAMES[key] || key));

  function grid(columns, rows) {
    return el("table", {},
      el("thead", {}, el("tr", {}, ...columns.map(([, head, num]) => el("th", { class: num ? "num" : "" }, head)))),
      el("tbody", {}, ...rows.map((row) => el("tr", {}, ...columns.map(([key, , num, fmt]) =>
        el("td", { class: num ? "num" : "" }, fmt ? fmt(row[key], row) : (row[key] ?? "–")))))));
  }

  function render(review, timeline) {
    $("title").textContent = review.title || review.session_id;
    $("status").textContent = label("statuses", review.status);
    $("status").className = "pill " + review.status;
    $("who").textContent = [review.host_name || review.host_id, review.room_id, LT.time(review.started_at) + " – " +
      LT.time(review.ended_at) + ` (${LT.config.timezone})`].filter(Boolean).join(" · ");
    const bench = Object.entries(review.benchmarks).map(([key, b]) => ({ key, ...b }));
    const arrow = (v) => (v === null || v === undefined ? "–"
      : el("span", { class: v >= 0 ? "up" : "down" }, `${v >= 0 ? "▲" : "▼"} ${LT.pct(Math.abs(v))}`));
    LT.clear($("benchmarks")).append(grid([
      ["key", t("metric"), false, (k) => metricLabel(k)],
      ["value", t("value"), true, (v, r) => show(r.key, v)],
      ["host_median", t("host_median"), true, (v, r) => show(r.key, v)],
      ["room_median", t("room_median"), true, (v, r) => show(r.key, v)],
      ["vs_host", t("vs_host"), true, arrow],
    ], bench));
    const platform = review.metrics && review.metrics.platform;
    if (platform && platform.gmv !== null) {
      $("benchmarks").append(el("p", { class: "platform-line" },
        `${t("gmv")} ${LT.moneyExact(review.metrics.gmv)} · ${t("platform_gmv")} ` +
        `${LT.moneyExact(platform.gmv)} (${LT.hm(platform.as_of)}) · ${t("gmv_gap")} ` +
        `${LT.moneyExact(review.metrics.gmv_gap)}`));
    }
    const peak = review.peak_online;
    $("who").textContent += ` · ${t("peak_online")} ${LT.count(peak.value)} ${t("at_minute")} ${LT.time(peak.minute)}`;
    LT.clear($("products")).append(grid([
      ["name", t("name"), false, (v, r) => v || r.product_id],
      ["explanations", t("explanations"), true, LT.count],
      ["explanation_seconds", t("explanation_seconds"), true, LT.count],
      ["clicks", t("clicks"), true, LT.count],
      ["orders_paid", t("orders"), true, LT.count],
      ["items_sold", t("items_sold"), true, LT.count],
      ["gmv", t("gmv"), true, LT.moneyExact],
      ["refunds", t("refunds"), true, LT.moneyExact],
      ["refund_rate", t("refund_rate"), true, LT.pct],
      ["click_to_pay_rate", t("click_to_pay_rate"), true, LT.pct],
    ], review.products));
    LT.clear($("segments")).append(grid([
      ["name", t("name"), false, (v, r) => v || r.product_id],
      ["started_at", t("started"), false, LT.time],
      ["ended_at", t("ended"), false, (v) => (v ? LT.time(v) : label("statuses", "live"))],
      ["seconds", t("seconds"), true, LT.count],
      ["views", t("views"), true, LT.count],
      ["clicks", t("clicks"), true, LT.count],
      ["orders_paid", t("orders"), true, LT.count],
      ["gmv", t("gmv"), true, LT.moneyExact],
      ["gpm", t("gpm"), true, LT.money],
    ], review.segments));
    const sources = Object.entries(review.traffic_sources).map(([k, s]) => ({ source: k, ...s }))
      .filter((s) => s.views || s.buyers).sort((a, b) => b.viewers - a.viewers);
    LT.clear($("sources")).append(grid([
      ["source", t("sources"), false, (k) => label("sources", k)],
      ["views", t("views"), true, LT.count], ["viewers", t("viewers"), true, LT.count],
      ["buyers", t("buyers"), true, LT.count], ["gmv", t("gmv"), true, LT.moneyExact],
      ["conversion_rate", t("conversion"), true, LT.pct],
    ], sources));
    // Incidents and alerts in time order, each with where it stands as the screen says it
    // (resolved, cleared, still on); an incident's description is the studio's own words.
    const events = [
      ...review.incidents.map((i) => ({ at: i.opened_at,
        kind: `${t("incident")}${LT.colon()}${label("incident_kinds", i.kind)}`,
        text: `${t("severity")} ${i.severity} · ${t("downtime")} ${LT.count(i.downtime_seconds)}` +
              (i.description ? ` · ${i.description}` : ""),
        state: LT.alertStatus({ kind: "incident_opened", state: i.resolved_at ? "resolved" : "on",
                                resolved_at: i.resolved_at }),
        cls: i.resolved_at ? "resolved" : "on" })),
      ...review.alerts.map((a) => ({ at: a.at, kind: label("alerts", a.kind),
        text: LT.alertDetail(a), state: LT.alertStatus(a), cls: LT.alertState(a) })),
    ].sort((a, b) => (a.at < b.at ? -1 : 1));
    LT.clear($("incidents")).append(events.length ? grid([
      ["at", t("started"), false, LT.time], ["kind", t("kind"), false], ["text", t("detail"), false],
      ["state", t("status"), false, (v, r) => el("span", { class: "alert-state " + r.cls }, v || "–")],
    ], events) : el("div", { class: "empty" }, t("no_alerts")));
    charts(review, timeline);
  }

  function charts(review, timeline) {
    const trend = echarts.init($("trend"));
    const funnel = echarts.init($("funnel"));
    const minutes = timeline.minutes;
    const labels = minutes.map((m) => LT.hm(m.minute));
    const areas = review.segments.map((s, i) => [
      { name: s.name || s.product_id, xAxis: LT.hm(s.started_at),
        itemStyle: { color: i % 2 ? "rgba(61,220,151,0.10)" : "rgba(79,124,255,0.12)" } },
      { xAxis: LT.hm(s.ended_at || minutes[minutes.length - 1].minute) }]);
    // Text as large and light as the page's own; the legend in its own band above the plot,
    // each segment's name inside the top of its band (never on the legend or the axis), and a
    // segment too narrow for its name leaves it to the table below and the tooltip.
    const style = { color: "#e8ecf8", fontSize: 14, fontFamily: LT.FONT };
    const axisLabel = { color: "#c9d2ec", fontSize: 14, fontFamily: LT.FONT };
    trend.setOption({
      textStyle: style, legend: { top: 0, left: "center", itemGap: 24, textStyle: style },
      tooltip: { trigger: "axis" },
      grid: { left: 12, right: 12, top: 44, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: labels, axisLabel },
      yAxis: [{ type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#232c4d" } },
                axisLabel: { ...axisLabel, formatter: (v) => LT.count(v) } },
              { type: "value", splitLine: { show: false },
                axisLabel: { ...axisLabel, formatter: (v) => LT.money(v) } }],
      series: [
        // the segments above the bars, so no bar hides a segment's name
        { name: t("online_minute"), type: "line", showSymbol: false, data: minutes.map((m) => m.online),
          markArea: { silent: true, z: 4, data: areas,
                      label: { position: "insideTop", distance: 6, color: "#9ff0c9", fontSize: 13,
                               backgroundColor: "rgba(10,15,31,0.8)", padding: [2, 4], borderRadius: 3 } } },
        { name: t("gmv_minute"), type: "bar", yAxisIndex: 1, data: minutes.map((m) => m.gmv), color: "#ffb020" },
      ],
    });
    hideCrowdedNames(trend, areas);
    const stages = review.funnel.stages;
    funnel.setOption({
      textStyle: style,
      series: [{ type: "funnel", sort: "none", left: "5%", width: "55%", minSize: "0%",
        max: Math.max(1, ...stages.map((s) => s.value)),
        label: { position: "right", color: "#e8ecf8", formatter: (p) => `${p.name} ${LT.count(p.data.value)}` +
          (p.data.rate === null ? "" : `\n${t("stage_rate")} ${LT.pct(p.data.rate)}`) },
        data: stages.map((s) => ({ name: t(s.stage === "unique_viewers" ? "uv" : s.stage),
          value: s.value, rate: s.rate })) }],
    });
    for (const c of [trend, funnel]) {
      new ResizeObserver(() => { c.resize(); if (c === trend) hideCrowdedNames(trend, areas); })
        .observe(c.getDom());
    }
  }

  // A segment's name wider than its band, or running into the name before it, is hidden (the
  // segments table lists every one): names never sit on each other. Again on every resize.
  function hideCrowdedNames(chart, areas) {
    let lastEnd = -Infinity;
    const shown = areas.map(([from, to]) => {
      const x0 = chart.convertToPixel({ xAxisIndex: 0 }, from.xAxis);
      const x1 = chart.convertToPixel({ xAxisIndex: 0 }, to.xAxis);
      const width = measure(from.name || "");
      const centre = (x0 + x1) / 2;
      const fits = width + 16 <= Math.abs(x1 - x0) && centre - width / 2 >= lastEnd + 8;
      if (fits) lastEnd = centre + width / 2;
      return fits;
    });
    chart.setOption({ series: [{ markArea: { data: areas.map(([from, to], i) => [
      { ...from, label: { show: shown[i] } }, to]) } }] });
  }
  const pen = document.createElement("canvas").getContext("2d");
  function measure(text) {
    pen.font = `13px ${LT.FONT}`;
    return pen.measureText(text).width;
  }

  async function start() {
    const problem = LT.tokenProblem();
    if (problem) { LT.notice(problem); return; }
    if (!SESSION) { LT.notice("unknown_session"); return; }
    $("xlsx").addEventListener("click", () => LT.download(
      `/api/v1/sessions/${encodeURIComponent(SESSION)}/review?format=xlsx&lang=${LT.lang}`,
      `livetally-review-${SESSION}.xlsx`));
    try {
      const base = `/api/v1/sessions/${encodeURIComponent(SESSION)}`;
      const [review, timeline] = await Promise.all([LT.api(base + "/review"), LT.api(base + "/timeline")]);
      // Charts draw on a canvas: their glyphs are fetched before the first draw.
      const text = JSON.stringify(LT.config.labels) + review.segments.map((x) => x.name || "").join("");
      await Promise.race([document.fonts.load('16px "Noto Sans SC"', text),
                          new Promise((resolve) => setTimeout(resolve, 3000))]).catch(() => {});
      render(review, timeline);
    } catch (e) {
      LT.notice(e.status === 401 ? "invalid" : e.status === 403 ? "not_read_only"
        : e.status === 404 ? "unknown_session" : "error");
    }
  }
  start();
})();
