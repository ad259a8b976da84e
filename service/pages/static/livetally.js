// Shared by every page: config, labels, the read token (from the URL only, never stored), the
// API with an Authorization header, safe DOM building (text only, never markup), number
// formats (万/亿 in Chinese), downloads without the token in a URL, and the feed connection.
(function () {
  "use strict";
  const LT = (window.LT = {});
  const config = JSON.parse(document.getElementById("lt-config").textContent);
  LT.config = config;
  LT.lang = config.lang;
  const L = config.labels;

  // A label for a key the user sees: t("gmv"), or label("sources", "short_video").
  LT.t = (key) => (L.ui[key] !== undefined ? L.ui[key] : key);
  LT.label = (group, key) => {
    const table = L[group] || {};
    return table[key] !== undefined ? table[key] : key;
  };

  // "标签：值" in Chinese, "Label: value" in English.
  LT.colon = () => (LT.lang === "zh" ? "：" : ": ");

  LT.token = () => new URLSearchParams(location.search).get("token");

  // el("td", {class: "x", dataset: {id: 1}}, "text", child...): children are text or nodes;
  // a string is always a text node, so a producer's "<img onerror>" shows as those characters.
  LT.el = function (tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "dataset") Object.assign(node.dataset, value);
      else if (key === "text") node.textContent = value;
      else if (key === "href") node.setAttribute("href", safeHref(value));
      else node.setAttribute(key, value);
    }
    for (const child of children) {
      if (child === null || child === undefined) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  };
  function safeHref(value) {
    const url = new URL(value, location.href);
    return url.origin === location.origin ? url.pathname + url.search + url.hash : "#";
  }
  LT.clear = (node) => { while (node.firstChild) node.removeChild(node.firstChild); return node; };
  LT.$ = (id) => document.getElementById(id);

  class HttpError extends Error {
    constructor(status, body) { super(`HTTP ${status}`); this.status = status; this.body = body; }
  }
  LT.HttpError = HttpError;

  LT.api = async function (path) {
    const response = await fetch(path, { headers: { Authorization: "Bearer " + LT.token() },
                                         cache: "no-store" });
    let body = null;
    try { body = await response.json(); } catch (e) { body = null; }
    if (!response.ok) throw new HttpError(response.status, body);
    return body;
  };

  // The file comes through fetch with the header, then is handed to the browser as a blob:
  // the token never appears in a download URL (or the browser's download history).
  LT.download = async function (path, filename) {
    const response = await fetch(path, { headers: { Authorization: "Bearer " + LT.token() } });
    if (!response.ok) throw new HttpError(response.status, null);
    const blob = await response.blob();
    const url = URL.createObjectURL(blob);
    const a = LT.el("a", { download: filename });
    a.href = url;
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  };

  // -- numbers -------------------------------------------------------------------------------
  const none = (v) => v === null || v === undefined || Number.isNaN(v);
  const grouped = (v, digits) => Number(v).toLocaleString("en-US", {
    minimumFractionDigits: digits, maximumFractionDigits: digits });
  function big(v, digits) {
    if (LT.lang === "zh") {
      // Rounded first, so 99,999,999 shows as 1.00亿, not 10,000.00万.
      const wan = Math.round(Math.abs(v) / 100) / 100;
      if (wan >= 10000) return grouped(v / 1e8, 2) + "亿";
      if (wan >= 1) return grouped(v / 1e4, 2) + "万";
    }
    return grouped(v, digits);
  }
  LT.money = (v) => (none(v) ? "–" : "¥" + big(v, 2));
  LT.moneyExact = (v) => (none(v) ? "–" : "¥" + grouped(v, 2));
  LT.count = (v) => (none(v) ? "–" : big(v, 0));
  LT.pct = (v) => (none(v) ? "–" : (v * 100).toFixed(2) + "%");
  LT.num = (v, d = 2) => (none(v) ? "–" : big(v, d));
  LT.duration = function (seconds) {
    if (none(seconds)) return "–";
    const s = Math.max(0, Math.floor(seconds));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return `${h}:${String(m).padStart(2, "0")}:${String(r).padStart(2, "0")}`;
  };
  const ZONE = () => (LT.config && LT.config.timezone) || undefined;
  LT.hm = (iso) => (iso ? new Date(iso).toLocaleTimeString(LT.lang === "zh" ? "zh-CN" : "en-GB",
    { hour12: false, hour: "2-digit", minute: "2-digit", timeZone: ZONE() }) : "–");
  LT.time = (iso) => (iso ? new Date(iso).toLocaleTimeString(LT.lang === "zh" ? "zh-CN" : "en-GB",
    { hour12: false, timeZone: ZONE() }) : "–");

  // -- alerts: each as it stands (on, cleared, resolved, or a one-off notice), the same words
  // on the screen, the console and the review ------------------------------------------------
  // The same alert told twice (raised live, then in a later snapshot or update as it stands)
  // has one key: a silence is known by the last event before it.
  LT.alertKey = (a) => `${a.kind}|${a.kind === "no_events" ? a.since : a.at}|${a.incident_id || ""}`;
  LT.alertState = (a) => a.state || "raised";
  // Alerts as they stand now: `incoming` replaces what was known of the same alert; time order.
  LT.mergeAlerts = function (known, incoming) {
    const byKey = new Map(known.map((a) => [LT.alertKey(a), a]));
    for (const a of incoming || []) byKey.set(LT.alertKey(a), a);
    return [...byKey.values()].sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  };
  // "持续中" (a silence with how long so far), "已解除 10:03", "已解决 10:03"; "" for a notice.
  LT.alertStatus = function (a, now) {
    const state = LT.alertState(a);
    const word = LT.label("alert_states", state);
    if (state === "on") {
      if (a.kind !== "no_events" || !a.since) return word;
      return `${word} ${LT.duration(((now || Date.now()) - Date.parse(a.since)) / 1000)}`;
    }
    if (state === "cleared") return `${word} ${LT.hm(a.cleared_at)}`;
    if (state === "resolved") return `${word} ${LT.hm(a.resolved_at)}`;
    return "";
  };
  // What the alert is about, after its kind's label, in parts: each a figure with its label
  // ("成交额 ¥100.00亿", "平台成交 ¥97.00亿"), which a narrow list may put on lines of their own
  // but never splits. LT.alertDetail joins them on one line.
  LT.alertParts = function (a) {
    if (a.kind === "incident_opened") {
      return [LT.label("incident_kinds", a.incident_kind), `${LT.t("severity")} ${a.severity}`];
    }
    if (a.kind === "online_drop") return [`${LT.count(a.from)} → ${LT.count(a.to)}`];
    if (a.kind === "no_events") return [`${LT.t("last_event")} ${LT.time(a.since)}`];
    if (a.kind === "connection_failed") return a.name ? [a.name] : [];
    if (a.kind === "platform_gap" || a.kind === "platform_gap_cleared") {
      return [`${LT.t("gmv")} ${LT.money(a.gmv)}`, `${LT.t("platform_gmv")} ${LT.money(a.platform_gmv)}`];
    }
    return [];
  };
  LT.alertDetail = (a) => LT.alertParts(a).join(" · ");

  // How long a session has been on air, in seconds: while it is live, counted on from its
  // start at every call (never less than the fold's own figure, which runs on the events'
  // clock); once it has ended, its start to its end as folded; null before it starts.
  LT.onAirSeconds = function (doc, now) {
    if (!doc) return null;
    const known = none(doc.duration_seconds) ? null : doc.duration_seconds;
    if (doc.status !== "live") return known;
    let start = doc.started_at ? Date.parse(doc.started_at) : NaN;
    if (Number.isNaN(start) && known !== null && doc.last_event_at) {
      start = Date.parse(doc.last_event_at) - known * 1000;  // a row first seen in an update
    }
    if (Number.isNaN(start)) return known;
    const counted = Math.max(0, ((now || Date.now()) - start) / 1000);
    return known === null ? counted : Math.max(known, counted);
  };

  // Shrinks a value's font until it fits its box (tiles never overflow, whatever the number).
  LT.fit = function (node) {
    node.style.fontSize = "";
    let size = parseFloat(getComputedStyle(node).fontSize);
    const min = size * 0.25;
    while (node.scrollWidth > node.clientWidth + 1 && size > min) {
      size *= 0.93;
      node.style.fontSize = size + "px";
    }
  };

  // Charts draw on a canvas, which does not fetch a web font's slices by itself: the glyphs a
  // chart needs are loaded first, and the chart redrawn once they are there.
  LT.FONT = '"Noto Sans SC", sans-serif';
  LT.glyphs = function (text, redraw) {
    if (!document.fonts || document.fonts.check('16px "Noto Sans SC"', text)) return;
    Promise.all([document.fonts.load('16px "Noto Sans SC"', text),
                 document.fonts.load('700 16px "Noto Sans SC"', text)]).then(redraw, () => {});
  };

  // -- states --------------------------------------------------------------------------------
  // A full-page notice for what stops the page: a bad token, an unknown session, no data.
  LT.notice = function (kind, detail) {
    let box = LT.$("lt-notice");
    if (!box) {
      box = LT.el("div", { id: "lt-notice", role: "alert" });
      document.body.append(box);
    }
    LT.clear(box);
    if (!kind) { box.className = ""; return; }
    box.className = "open " + kind;
    box.dataset.state = kind;
    box.append(LT.el("h2", {}, LT.label("states", kind)),
               LT.el("p", {}, LT.label("state_help", kind)));
    if (detail) box.append(LT.el("p", { class: "detail" }, detail));
  };

  // Before anything else: is the token there, valid and read-only? (The server told us.)
  LT.tokenProblem = function () {
    if (!LT.token()) return "no_token";
    if (config.token_state && config.token_state !== "ok") return config.token_state;
    return null;
  };

  // Follows the feed; on a drop, reconnects with the last version seen (resume), counting down.
  LT.follow = function (query, onMessage, onState) {
    let version = null;
    let delay = 1000;
    function open() {
      const q = new URLSearchParams(query);
      q.set("token", LT.token());
      if (version !== null) q.set("version", version);
      const ws = new WebSocket(`ws://${location.hostname}:${config.feed_port}/feed?${q}`);
      let opened = false;
      ws.onopen = () => { opened = true; delay = 1000; onState({ up: true }); };
      ws.onmessage = (e) => {
        const message = JSON.parse(e.data);
        if (message.version !== undefined && message.session_id) version = message.version;
        onMessage(message);
      };
      ws.onclose = () => {
        const wait = delay;
        delay = Math.min(delay * 2, 15000);
        onState({ up: false, retryAt: Date.now() + wait, everOpened: opened });
        setTimeout(open, wait);
      };
    }
    open();
  };
})();
