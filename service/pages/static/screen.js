// The control-room wall screen: a 16:9 stage scaled to the display, fed by the websocket.
(function () {
  "use strict";
  const { $, el, t, label } = LT;
  const SESSION = LT.config.session_id;
  const state = { doc: null, minutes: new Map(), markers: new Map(), alerts: [], ended: false };
  let charts = null;

  // -- the stage: 16:9, as large as the window allows; every size is in --u (1% of its height)
  function layout() {
    const stage = $("stage");
    const w = window.innerWidth, h = window.innerHeight;
    const height = Math.min(h, (w * 9) / 16);
    stage.style.height = height + "px";
    stage.style.width = (height * 16) / 9 + "px";
    document.documentElement.style.setProperty("--u", height / 100 + "px");
    if (charts) { for (const c of Object.values(charts)) c.resize(); }
    fitAll();
  }
  const u = () => parseFloat(getComputedStyle(document.documentElement).getPropertyValue("--u"));
  // Tile values, and the header's title and host line, shrink to fit their boxes: a title of
  // 50 characters and a name of 20 show whole, smaller, not cut.
  // The alert list, the ranking and the ticker are laid out again too: how many entries fit
  // depends on the size.
  function fitAll() {
    document.querySelectorAll(".tile .value, .bar .title, .bar .who").forEach(LT.fit);
    renderAlerts();
    if (state.doc) {
      renderProducts(state.doc.products || []);
      renderTicker(state.doc.recent || { orders: [], comments: [] });
    }
  }

  function setValue(id, text, sub) {
    const node = $(id);
    if (node.textContent !== text) { node.textContent = text; LT.fit(node); }
    if (sub !== undefined) $(id.replace("v-", "s-")).textContent = sub;
  }

  // -- numbers -------------------------------------------------------------------------------
  function renderNumbers() {
    const d = state.doc;
    if (!d) return;
    const m = d.metrics;
    for (const [id, text] of [["title", d.title || d.session_id],
      ["who", [d.host_name || d.host_id, d.room_id].filter(Boolean).join(" · ")]]) {
      const node = $(id);
      if (node.textContent !== text) { node.textContent = text; node.title = text; LT.fit(node); }
    }
    const status = $("status");
    status.textContent = label("statuses", d.status);
    status.className = "status " + d.status;
    setValue("gmv", LT.money(m.gmv));
    const target = d.gmv_target;
    const share = target ? m.gmv / target : null;
    $("gmv-fill").style.width = share === null ? "0" : Math.min(100, share * 100) + "%";
    $("gmv-target").textContent = target
      ? `${LT.pct(share)} ${t("progress")} · ${t("target")} ${LT.money(target)}` : t("no_target");
    setValue("v-net_gmv", LT.money(m.net_gmv), t("net_gmv_note"));
    setValue("v-online", LT.count(m.online), `${t("peak")} ${LT.count(m.peak_online)}`);
    setValue("v-uv", LT.count(m.unique_viewers), `${t("views")} ${LT.count(m.views)}`);
    setValue("v-conversion", LT.pct(m.conversion_rate), `${t("buyers")} ${LT.count(m.buyers)}`);
    setValue("v-gpm", LT.money(m.gpm));
    setValue("v-uv_value", LT.money(m.uv_value));
    setValue("v-aov", LT.money(m.aov));
    setValue("v-followers", LT.count(m.new_followers));
    setValue("v-ipm", LT.count(m.interactions_last_minute));
    setValue("v-duration", LT.duration(LT.onAirSeconds(d)));
    renderStamps(m.figure_sources || {});
    renderBanner();
    renderFunnel(m);
    renderSources(m.traffic_sources || {});
    renderProducts(d.products || []);
    renderTicker(d.recent || { orders: [], comments: [] });
    document.body.dataset.version = d.version;
    document.body.dataset.status = d.status;
    if (d.status === "ended" && !state.ended) {
      state.ended = true;
      $("strip").dataset.ended = "1";
    }
  }

  // A tile whose figure is the platform's own count says so, with the reading's time.
  const TILE_FIGURES = { online: ["online"], uv: ["unique_viewers"], conversion: ["unique_viewers"],
    gpm: ["views"], uv_value: ["unique_viewers"], followers: ["new_followers"],
    ipm: ["interactions.comment", "interactions.like", "interactions.share", "interactions.gift",
          "interactions.follow", "interactions.fan_club_join"] };
  function renderStamps(sources) {
    for (const [tile, figures] of Object.entries(TILE_FIGURES)) {
      const reported = figures.map((f) => sources[f]).filter((s) => s && s.from === "reported");
      const node = $("p-" + tile);
      if (!reported.length) { node.hidden = true; continue; }
      const latest = reported.map((s) => s.as_of).sort().pop();
      node.textContent = `${t("platform_data")} ${LT.hm(latest)}`;
      node.hidden = false;
    }
  }

  function incidentText(i) {
    return `${t("incident")}${LT.colon()}${label("incident_kinds", i.kind)} · ${t("severity")} ${i.severity}` +
      (i.description ? ` · ${i.description}` : "");
  }

  function renderBanner() {
    const d = state.doc;
    const open = (d && d.open_incidents) || [];
    const strip = $("strip");
    const banner = $("banner");
    const silence = silenceOn();
    if (open.length) {
      strip.className = "strip incident";
      banner.textContent = "⚠ " + open.map(incidentText).join("　|　");
    } else if (silence && d && d.status === "live") {
      // no event for 60 s: the room may be down, or its feed; how long so far, counting
      strip.className = "strip silent";
      banner.textContent = `⚠ ${label("alerts", "no_events")} · ${LT.alertDetail(silence)} · ` +
        LT.alertStatus(silence);
    } else if (d && d.status === "ended") {
      strip.className = "strip ended";
      banner.textContent = label("states", "ended") + " · " + label("state_help", "ended");
    } else if (d && !d.metrics.views && !d.metrics.orders_paid) {
      strip.className = "strip quiet";
      banner.textContent = label("states", "no_data") + " · " + label("state_help", "no_data");
    } else {
      strip.className = "strip";
      banner.textContent = "";
    }
  }

  // -- charts ---------------------------------------------------------------------------------
  function textStyle() {
    return { color: "#c9d2ec", fontSize: Math.max(12, 1.7 * u()), fontFamily: LT.FONT };
  }
  // Every string a chart may draw, so their glyphs are fetched before the canvas needs them.
  function chartText() {
    const d = state.doc || {};
    return [JSON.stringify(LT.config.labels), ...(d.products || []).map((p) => p.name || ""),
            ...[...state.markers.values()].map((m) => m.name || ""), "万亿¥"].join("");
  }
  function redrawAll() { if (state.doc) renderNumbers(); renderTrend(); }

  // The funnel's shapes keep to the left and its labels to a column of their own at the right,
  // past the widest shape: the shapes are as wide as the column leaves room for (at most 62% of
  // the chart), each label's line drawn out from its shape to the column. With lopsided figures
  // (1 viewer, 101 buyers) a label never lies on a shape.
  function renderFunnel(m) {
    const stages = [
      { name: t("uv"), value: m.unique_viewers, rate: null },
      { name: t("clicking_viewers"), value: m.clicking_viewers, rate: m.click_rate },
      { name: t("buyers"), value: m.buyers, rate: m.click_to_order_rate },
    ];
    const top = Math.max(1, ...stages.map((s) => s.value));
    const size = 1.7 * u();
    const text = (s) => `${s.name} ${LT.count(s.value)}` +
      (s.rate === null ? "" : `\n${t("stage_rate")} ${LT.pct(s.rate)}`);
    const widest = Math.max(...stages.flatMap((s) => text(s).split("\n"))
      .map((line) => textWidth(line, size)));
    const chartWidth = charts.funnel.getWidth();
    const left = 0.04 * chartWidth, reach = 1.5 * u();  // the shortest label line
    // the label's text starts 5 px past its line's end (echarts); 0.5 u spare at the right
    const room = chartWidth - left - reach - 5 - widest - 0.5 * u();
    const width = Math.max(0.2 * chartWidth, Math.min(0.62 * chartWidth, room));
    const data = (lengths) => stages.map((s, i) => ({ name: s.name, value: s.value, rate: s.rate,
      label: { formatter: text(s) }, labelLine: { length: lengths ? lengths[i] : reach },
      itemStyle: { color: ["#4f7cff", "#8a5cff", "#ff5c8a"][i] } }));
    charts.funnel.setOption({
      textStyle: textStyle(),
      series: [{
        type: "funnel", sort: "none", left, width, top: "6%", bottom: "6%",
        // widths proportional to the values (47 is drawn 3.6 times as wide as 13)
        minSize: "0%", maxSize: "100%", gap: 0.8 * u(), max: top, min: 0,
        label: { show: true, position: "right", color: "#e8ecf8", fontSize: size,
                 lineHeight: 2.3 * u() },
        labelLine: { show: true }, itemStyle: { borderWidth: 0 },
        data: data(null),
      }],
    }, true);
    // each label's line from the middle of its shape's right side out to the column
    const series = charts.funnel.getModel().getSeriesByIndex(0);
    if (!series) return;
    const shapes = series.getData();
    const ends = stages.map((s, i) => {
      const points = shapes.getItemLayout(i).points;
      return (points[1][0] + points[2][0]) / 2;
    });
    const column = Math.max(...stages.map((s, i) =>
      Math.max(...shapes.getItemLayout(i).points.map((p) => p[0])))) + reach;
    charts.funnel.setOption({ series: [{ data: data(ends.map((x) => column - x)) }] });
  }

  function renderSources(sources) {
    const rows = Object.entries(sources).filter(([, s]) => s.views || s.viewers || s.buyers)
      .sort((a, b) => b[1].viewers - a[1].viewers || b[1].gmv - a[1].gmv);
    charts.sources.setOption({
      textStyle: textStyle(),
      // room for the longest source name of the page's language ("Recommended", "Short video")
      grid: { left: (LT.lang === "en" ? 13 : 8) * u(), right: "34%", top: 4, bottom: 4,
              containLabel: false },
      xAxis: { type: "value", show: false },
      yAxis: { type: "category", inverse: true, data: rows.map(([k]) => label("sources", k)),
               axisLabel: { fontSize: 1.6 * u(), color: "#c9d2ec",
                            width: (LT.lang === "en" ? 12.5 : 7.5) * u(),
                            overflow: "truncate" }, axisTick: { show: false } },
      series: [{ type: "bar", barMaxWidth: 3 * u(), itemStyle: { color: "#3ddc97" },
        data: rows.map(([, s]) => ({ value: s.viewers, gmv: s.gmv })),
        // apart from the bar's end by 1 u, as the page's other gaps scale with the display
        label: { show: true, position: "right", distance: 1 * u(), fontSize: 1.5 * u(),
                 color: "#e8ecf8",
                 formatter: (p) => `${LT.count(p.value)} · ${LT.money(p.data.gmv)}` } }],
    }, true);
  }

  // The ranking and the ticker show each entry whole, its name or text on as many lines as it
  // takes (livetally.css); the entries that do not fit below the others give way, the lowest
  // ranked or the oldest, as the alerts do. No part of an entry is cut off, and no "…" added,
  // save one case: an entry taller than the whole list by itself (a comment of hundreds of
  // characters, far over the longest real ones) ends in "…" at the list's last line.
  function fitEntries(list) {
    const over = () => list.scrollHeight > list.clientHeight;
    const items = [...list.children];
    while (over() && items.length > 1) items.pop().remove();
    const text = items.length === 1 && over() && items[0].querySelector(".name, .text");
    if (!text) return;
    const style = getComputedStyle(text);
    const line = parseFloat(style.lineHeight) || 1.45 * parseFloat(style.fontSize);
    text.style.setProperty("--lines", String(Math.max(1, Math.floor(list.clientHeight / line))));
    text.classList.add("clamped");
  }

  function renderProducts(products) {
    const list = LT.clear($("products"));
    products.slice(0, 10).forEach((p, i) => {
      list.append(el("li", {}, el("span", { class: "rank" }, String(i + 1)),
        el("span", { class: "name" }, p.name || p.product_id),
        el("span", { class: "num" }, LT.money(p.gmv)),
        el("span", { class: "num dim" }, `${LT.count(p.orders_paid)} ${t("orders")}`)));
    });
    fitEntries(list);
  }

  // Orders and comments, the newest first; an order's amount never splits across lines.
  function renderTicker(recent) {
    const items = [
      ...recent.orders.map((o) => ({ at: o.at, kind: "order", text:
        [`${o.buyer || ""} ${t("order")} ${o.name || o.product_id || ""} `,
         el("span", { class: "amount" }, LT.moneyExact(o.amount))] })),
      ...recent.comments.map((c) => ({ at: c.at, kind: "comment",
        text: [`${c.viewer || ""}${LT.colon()}${c.text}`] })),
    ].sort((a, b) => (a.at < b.at ? 1 : -1)).slice(0, 12);
    const list = LT.clear($("ticker"));
    for (const item of items) {
      list.append(el("li", { class: item.kind }, el("span", { class: "time" }, LT.time(item.at)),
                     el("span", { class: "text" }, ...item.text)));
    }
    fitEntries(list);
  }

  // The silence alert while it is on (raised by the sweep, or in the snapshot of a screen
  // opened during it), if any.
  function silenceOn() {
    return state.alerts.find((a) => a.kind === "no_events" && LT.alertState(a) === "on") || null;
  }

  // Each alert as it stands: on in red, cleared or resolved dimmed and saying when, a silence
  // still on counting how long (tick() below). An alert takes two lines: its time, kind and
  // state, then what it is about, smaller, every figure whole with its label (a part that does
  // not fit beside the one before goes to a line of its own). A wall screen has no hover and
  // no scrolling: the newest alerts that fit whole are shown, and how many earlier ones not.
  function renderAlerts() {
    const list = LT.clear($("alerts"));
    if (!state.alerts.length) { list.append(el("li", { class: "dim" }, t("no_alerts"))); return; }
    const items = state.alerts.slice(-8).reverse().map((a) => {
      const parts = LT.alertParts(a);
      return el("li", { class: `alert ${a.kind} ${LT.alertState(a)}`, dataset: { key: LT.alertKey(a) } },
        el("div", { class: "head" },
          el("span", { class: "time" }, LT.time(a.at)),
          el("span", { class: "kind" }, label("alerts", a.kind)),
          el("span", { class: "state" }, LT.alertStatus(a))),
        parts.length ? el("div", { class: "detail", title: LT.alertDetail(a) },
          ...parts.map((p) => el("span", { class: "part" }, p))) : null);
    });
    list.append(...items);
    fitAlerts();
  }

  // The oldest alerts shown give way until the list fits its panel, and a line says how many
  // earlier ones are not shown: the panel is never cut through an alert.
  function fitAlerts() {
    const list = $("alerts");
    const total = state.alerts.length;
    const over = () => list.scrollHeight > list.clientHeight + 1;
    const note = (shown) => el("li", { class: "more dim" },
      t("earlier_alerts").replace("{n}", String(total - shown)));
    const items = [...list.querySelectorAll("li.alert")];
    let more = items.length < total ? list.appendChild(note(items.length)) : null;
    while (over() && items.length > 1) {
      items.pop().remove();
      if (more) more.remove();
      more = list.appendChild(note(items.length));
    }
  }

  // Once a second: the time on air counts on while the session is live (from its start, not
  // from the last event), and a silence still on counts on, on the list and the strip.
  function tick() {
    $("clock").textContent = LT.time(new Date().toISOString());
    if (state.doc) setValue("v-duration", LT.duration(LT.onAirSeconds(state.doc)));
    const silence = silenceOn();
    if (!silence) return;
    const node = document.querySelector("#alerts li.no_events.on .state");
    if (node) node.textContent = LT.alertStatus(silence);
    renderBanner();
  }

  function mergeTimeline(tail) {
    if (!tail) return;
    for (const row of tail.minutes) state.minutes.set(row.minute, row);
    for (const mk of tail.markers) state.markers.set(`${mk.type}|${mk.at}|${mk.incident_id || mk.product_id}`, mk);
    renderTrend();
  }

  // Marker labels sit above the plot in rows, clear of each other: each on the lowest row where
  // nothing is beside it, the newest first (the latest keep the row nearest the plot), so a
  // product pinned and an incident in the same minute are one above the other. A label is never
  // shortened: it takes one line if a row has room for it whole, else two lines (or three) on
  // as many rows, broken at a space or between Chinese characters. A label stays within the
  // plot's width (one near an edge is set to the inner side of its line), and one that no row
  // has room for is left off (its line stays).
  const MARKER_ROWS = 3;
  let measurer = null;
  function textWidth(text, size) {
    measurer = measurer || document.createElement("canvas").getContext("2d");
    measurer.font = `${size}px ${LT.FONT}`;
    return measurer.measureText(text).width;
  }
  // A label's name broken onto n lines as even as they can be (its mark before the first, a
  // count after the last), or null if it has fewer than n pieces.
  const WIDE = "\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef";
  const PIECES = new RegExp(`[${WIDE}]|[^\\s${WIDE}]+\\s*|\\s+`, "g");
  function breakLabel(mk, n, size) {
    const pieces = mk.name.match(PIECES) || [];
    if (pieces.length < n) return null;
    const ends = [0];  // the width up to each piece's end
    for (const piece of pieces) ends.push(ends[ends.length - 1] + textWidth(piece, size));
    const width = (i, j) => ends[j] - ends[i];
    let best = null;
    const tryBreaks = (breaks) => {
      const cuts = [0, ...breaks, pieces.length];
      let widest = 0;
      for (let k = 0; k < n; k += 1) widest = Math.max(widest, width(cuts[k], cuts[k + 1]));
      if (!best || widest < best.widest) best = { widest, cuts };
    };
    for (let i = 1; i < pieces.length; i += 1) {
      if (n === 2) tryBreaks([i]);
      else for (let j = i + 1; j < pieces.length; j += 1) tryBreaks([i, j]);
    }
    const lines = [];
    for (let k = 0; k < n; k += 1) {
      lines.push(pieces.slice(best.cuts[k], best.cuts[k + 1]).join("").trim());
    }
    lines[0] = mk.mark + lines[0];
    lines[n - 1] += mk.suffix;
    return lines;
  }
  function placeMarkers(chart, markers, size) {
    const grid = chart.getModel().getComponent("grid", 0);
    const rect = grid && grid.coordinateSystem && grid.coordinateSystem.getRect();
    if (!rect) return 0;
    const gap = 0.8 * u();
    const taken = [...Array(MARKER_ROWS)].map(() => []);  // per row, the spans of its labels
    const free = (row, left, right) => taken[row].every(([l, r]) => right + gap <= l || r + gap <= left);
    const placed = markers.filter((mk) => Number.isFinite(mk.x))
      .sort((a, b) => b.x - a.x || (b.incident ? 1 : 0) - (a.incident ? 1 : 0));
    let rows = 0;
    for (const mk of placed) {
      mk.row = null;
      for (let n = 1; n <= MARKER_ROWS && mk.row === null; n += 1) {
        const lines = n === 1 ? [mk.text] : breakLabel(mk, n, size);
        if (!lines) break;
        const w = Math.max(...lines.map((line) => textWidth(line, size)));
        let left = mk.x - w / 2, align = "center";
        if (left < rect.x) { left = mk.x; align = "left"; }
        if (left + w > rect.x + rect.width) { left = mk.x - w; align = "right"; }
        if (left < rect.x - 1) continue;  // wider than the plot allows on either side
        for (let row = 0; row + n <= MARKER_ROWS; row += 1) {
          const rowsOf = [...Array(n)].map((_, k) => row + k);
          if (!rowsOf.every((r) => free(r, left, left + w))) continue;
          for (const r of rowsOf) taken[r].push([left, left + w]);
          Object.assign(mk, { row, lines, align });
          rows = Math.max(rows, row + n);
          break;
        }
      }
    }
    return rows;
  }

  // Where each marker's line is drawn: on its minute; a product presented and an incident in
  // the same minute side by side within it (the product's just before the minute's middle, the
  // incident's just after), so both lines show.
  function markerLines(chart, markers, count) {
    const grid = chart.getModel().getComponent("grid", 0);
    const rect = grid.coordinateSystem.getRect();
    const band = rect.width / Math.max(1, count);
    const apart = Math.min(0.6 * u(), band / 4);
    const kinds = new Map();
    for (const mk of markers) {
      kinds.set(mk.minute, (kinds.get(mk.minute) || 0) | (mk.incident ? 2 : 1));
    }
    for (const mk of markers) {
      const middle = chart.convertToPixel({ xAxisIndex: 0 }, mk.minute);
      mk.x = kinds.get(mk.minute) === 3 ? middle + (mk.incident ? apart : -apart) : middle;
    }
    return rect;
  }

  function renderTrend() {
    LT.glyphs(chartText(), redrawAll);
    const minutes = [...state.minutes.values()].sort((a, b) => (a.minute < b.minute ? -1 : 1));
    const labels = minutes.map((m) => LT.hm(m.minute));
    const known = new Set(labels);
    const size = Math.max(12, 1.4 * u()), rowHeight = 1.4 * size, base = 0.3 * u();
    // one marker per minute and label: the same kind of incident twice in a minute is "×2"
    const byLabel = new Map();
    for (const mk of state.markers.values()) {
      if (mk.type === "product_unpin") continue;
      const incident = mk.type === "incident";
      const minute = LT.hm(mk.at);
      const mark = incident ? "⚠ " : "▶ ";
      const name = incident ? label("incident_kinds", mk.kind) : String(mk.name || mk.product_id);
      if (!known.has(minute)) continue;
      const key = `${minute}|${mark}${name}`;
      const seen = byLabel.get(key);
      if (seen) { seen.count += 1; continue; }
      byLabel.set(key, { minute, incident, mark, name, suffix: "", count: 1, row: null,
                         align: "center", x: NaN });
    }
    const markers = [...byLabel.values()];
    for (const mk of markers) {
      if (mk.count > 1) mk.suffix = ` ×${mk.count}`;
      mk.text = mk.mark + mk.name + mk.suffix;
      mk.lines = [mk.text];
    }
    // lines as wide as the display is large, from the plot's foot to its top; labels above the
    // plot, clear of the bars, of the time axis and of each other
    const lines = (rect) => markers.filter((mk) => Number.isFinite(mk.x)).map((mk) => [{
      x: mk.x, y: rect.y + rect.height,
      lineStyle: { color: mk.incident ? "#ff4d5e" : "#3ddc97", type: mk.incident ? "solid" : "dashed",
                   width: mk.incident ? Math.max(2, 0.24 * u()) : Math.max(1.5, 0.16 * u()) },
      label: { show: mk.row !== null, formatter: mk.lines.join("\n"),
               color: mk.incident ? "#ff8a95" : "#9ff0c9", fontSize: size, lineHeight: rowHeight,
               position: "end", align: mk.align, verticalAlign: "bottom",
               distance: base + (mk.row || 0) * rowHeight } }, { x: mk.x, y: rect.y }]);
    // the legend's band, then as many rows of marker labels as there are
    const top = (rows) => Math.max(7 * u(), 3.3 * u() + base + rows * rowHeight);
    charts.trend.setOption({
      textStyle: textStyle(),
      legend: { top: 0, right: 0, textStyle: textStyle(), itemHeight: 1.2 * u(),
                itemWidth: 2.5 * u(), itemGap: 1.6 * u() },
      grid: { left: "1%", right: "1%", top: top(1), bottom: 1 * u(), containLabel: true },
      tooltip: { trigger: "axis" },
      xAxis: { type: "category", data: labels, axisLabel: { fontSize: 1.5 * u(), color: "#9aa6c8" } },
      yAxis: [{ type: "value", minInterval: 1, splitLine: { lineStyle: { color: "#232c4d" } },
                axisLabel: { fontSize: 1.5 * u(), color: "#9aa6c8",
                             formatter: (v) => LT.count(v) } },
              { type: "value", splitLine: { show: false },
                axisLabel: { fontSize: 1.5 * u(), color: "#9aa6c8",
                             formatter: (v) => LT.money(v) } }],
      series: [
        { name: t("online_minute"), type: "line", smooth: true, showSymbol: false,
          data: minutes.map((m) => m.online), lineStyle: { width: Math.max(2, 0.3 * u()) },
          color: "#4f7cff",
          markLine: { symbol: "none", silent: true, animation: false, data: [] } },
        { name: t("gmv_minute"), type: "bar", yAxisIndex: 1, color: "#ffb020",
          data: minutes.map((m) => m.gmv) },
      ],
    }, true);
    if (!markers.length || !charts.trend.getModel().getComponent("grid", 0)) return;
    // where each minute is drawn is known now: the labels are set in rows, the plot below them
    // (which may move the minutes a little, as the axes' labels change: set again until still)
    let rows = 1, rect = null;
    for (let pass = 0; pass < 3; pass += 1) {
      markerLines(charts.trend, markers, labels.length);
      const placedRows = placeMarkers(charts.trend, markers, size);
      const moved = placedRows !== rows;
      rows = placedRows;
      if (moved) charts.trend.setOption({ grid: { top: top(rows) } });
      rect = markerLines(charts.trend, markers, labels.length);
      if (!moved) break;
    }
    charts.trend.setOption({ series: [{ markLine: { data: lines(rect) } }] });
  }

  // -- the feed -------------------------------------------------------------------------------
  function onMessage(message) {
    if (message.type === "snapshot" && message.data) {
      state.doc = message.data;
      // as they stand now, a silence still on included (it counts on from its `since`)
      state.alerts = LT.mergeAlerts([], message.data.alerts);
      renderAlerts();
      mergeTimeline(message.data.timeline_tail);
    } else if (message.type === "update" && state.doc) {
      const d = state.doc;
      d.metrics = Object.assign({}, d.metrics, message.metrics);
      for (const key of ["status", "open_incidents", "last_event_at", "ended_at",
                         "duration_seconds", "products", "recent"]) {
        if (message[key] !== undefined) d[key] = message[key];
      }
      d.version = message.version;
      mergeTimeline(message.timeline_tail);
      if (message.alerts) {  // the latest alerts as they stand now (cleared, resolved since)
        state.alerts = LT.mergeAlerts(state.alerts, message.alerts);
        renderAlerts();
      }
    } else if (message.type === "alert") {
      state.alerts = LT.mergeAlerts(state.alerts, [message.alert]);
      renderAlerts();
      renderBanner();
      return;
    } else {
      return;
    }
    renderNumbers();
  }

  let countdown = null;
  function onState(s) {
    const conn = $("conn");
    clearInterval(countdown);
    if (s.up) { conn.textContent = ""; conn.className = "conn"; LT.notice(null); return; }
    conn.className = "conn down";
    const tick = () => {
      const left = Math.max(0, Math.ceil((s.retryAt - Date.now()) / 1000));
      conn.textContent = `${label("states", "lost")} · ${left}s`;
    };
    tick();
    countdown = setInterval(tick, 500);
  }

  async function start() {
    layout();
    window.addEventListener("resize", layout);
    // a web font's slices arrive as text needs them: what was fitted with the fallback fits again
    if (document.fonts) document.fonts.addEventListener("loadingdone", fitAll);
    tick();
    setInterval(tick, 1000);
    const problem = LT.tokenProblem();
    if (problem) { LT.notice(problem); return; }
    if (!SESSION) { LT.notice("unknown_session"); return; }
    try {
      // One read first, with the header: it tells a bad token or an unknown session apart
      // from a lost connection, and fills the trend with every minute so far.
      const timeline = await LT.api(`/api/v1/sessions/${encodeURIComponent(SESSION)}/timeline`);
      for (const row of timeline.minutes) state.minutes.set(row.minute, row);
      for (const mk of timeline.markers) state.markers.set(`${mk.type}|${mk.at}|${mk.incident_id || mk.product_id}`, mk);
    } catch (e) {
      if (e.status === 401) { LT.notice("invalid"); return; }
      if (e.status === 403) { LT.notice("not_read_only"); return; }
      if (e.status === 404) { LT.notice("unknown_session"); setTimeout(() => location.reload(), 15000); return; }
      LT.notice("error", String(e.message || e));
      return;
    }
    // The canvas measures text once per string: the font's glyphs must be there first.
    try {
      await Promise.race([Promise.all([
        document.fonts.load('16px "Noto Sans SC"', chartText()),
        document.fonts.load('700 16px "Noto Sans SC"', chartText())]),
        new Promise((resolve) => setTimeout(resolve, 3000))]);
    } catch (e) { /* draw with what there is */ }
    charts = {
      trend: echarts.init($("trend"), null, { renderer: "canvas" }),
      funnel: echarts.init($("funnel")),
      sources: echarts.init($("sources")),
    };
    // the trend's marker lines and labels are placed in pixels: placed again at the new size
    for (const c of Object.values(charts)) {
      new ResizeObserver(() => { c.resize(); if (c === charts.trend) renderTrend(); }).observe(c.getDom());
    }
    renderTrend();
    renderAlerts();
    LT.follow({ session: SESSION }, onMessage, onState);
  }
  start();
})();
