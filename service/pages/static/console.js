// The live console: every live session with its headline numbers and alerts, and the sessions
// ended in the last 24 hours, linking to their screens and reviews.
(function () {
  "use strict";
  const { $, el, t, label } = LT;
  const live = new Map();  // session_id -> headline document (+ alerts)
  const names = new Map(); // host_id -> name
  let ended = [];

  function link(kind, id) {
    const q = new URLSearchParams({ token: LT.token() });
    if (LT.lang === "en") q.set("lang", "en");
    return `/${kind}/${encodeURIComponent(id)}?${q}`;
  }

  // A session takes two lines, and a third for its alerts if it has any: its status and
  // title across the table, its figures in columns under their headers, then its alerts as on
  // its screen. Every cell is one line (nothing wraps): a title of 50 characters, a name of 20
  // and ¥9,999,999,999.99 fit at 1366 px; a title longer than its line would end in "…", the
  // whole title in its tooltip.
  const FIGURES = ["host", "room", "duration", "online", "uv", "gmv", "conversion"];

  function table(rows, live) {
    const head = FIGURES.map((key) => t(key));
    if (!live) head.push(t("review"));
    const bodies = rows.map((row) => {
      const m = row.metrics || {};
      const title = row.title || row.session_id;
      const line = el("div", { class: "line" },
        el("span", { class: "pill " + row.status }, label("statuses", row.status)),
        el("a", { class: "title", href: link("screen", row.session_id), title }, title));
      const alerts = live ? chips(row.alerts || []) : [];
      return el("tbody", { class: "session", dataset: { session: row.session_id } },
        el("tr", { class: "title-line" }, el("td", { colspan: head.length }, line)),
        el("tr", { class: "figures" },
          el("td", { class: "host" }, names.get(row.host_id) || row.host_name || row.host_id || "–"),
          el("td", { class: "room" }, row.room_id || "–"),
          el("td", { class: "num duration" }, LT.duration(LT.onAirSeconds(row))),
          el("td", { class: "num" }, LT.count(m.online)),
          el("td", { class: "num" }, LT.count(m.unique_viewers)),
          el("td", { class: "num" }, LT.money(m.gmv)),
          el("td", { class: "num" }, LT.pct(m.conversion_rate)),
          live ? null : el("td", {}, el("a", { href: link("review", row.session_id) }, t("review")))),
        alerts.length ? el("tr", { class: "alerts-line" }, el("td", { colspan: head.length },
          el("div", { class: "line chips" }, ...alerts))) : null);
    });
    return el("table", { class: "sessions" },
      el("thead", {}, el("tr", {}, ...head.map((h, i) => el("th", { class: i >= 2 && i < 7 ? "num" : "" }, h)))),
      ...bodies);
  }

  // The session's alerts as they stand, as on its screen: those still on first, then the
  // latest over (cleared or resolved, dimmed); three at most, and how many more.
  const CHIPS = 3;
  function chips(alerts) {
    const newest = [...alerts].reverse();
    const on = newest.filter((a) => LT.alertState(a) === "on");
    const shown = [...on, ...newest.filter((a) => LT.alertState(a) !== "on")];
    const out = shown.slice(0, CHIPS).map((a) => {
      const state = LT.alertState(a);
      return el("span", { class: `chip alert ${a.kind} ${state}`, dataset: { key: LT.alertKey(a) },
                          title: `${label("alerts", a.kind)} · ${LT.alertDetail(a)}` },
        // an incident by its kind ("直播中断"), as the screen's banner names it
        el("span", { class: "kind" }, (state === "on" ? "⚠ " : "") + (a.kind === "incident_opened"
          ? label("incident_kinds", a.incident_kind) : label("alerts", a.kind))),
        el("span", { class: "state" }, LT.alertStatus(a)));
    });
    if (shown.length > CHIPS) {
      out.push(el("span", { class: "chip more", title: shown.slice(CHIPS).map((a) =>
        `${label("alerts", a.kind)} ${LT.alertStatus(a)}`).join("\n") }, `+${shown.length - CHIPS}`));
    }
    return out;
  }

  function render() {
    const rows = [...live.values()].filter((r) => r.status === "live")
      .sort((a, b) => (a.started_at < b.started_at ? 1 : -1));
    const box = LT.clear($("live"));
    box.append(rows.length ? table(rows, true) : el("div", { class: "empty" }, t("no_sessions_now")));
    const endBox = LT.clear($("ended"));
    const recent = ended.filter((r) => !live.has(r.session_id) || live.get(r.session_id).status !== "live");
    endBox.append(recent.length ? table(recent, false) : el("div", { class: "empty" }, "–"));
  }

  let drawing = 0;  // the animation frame a render waits for, if any
  function onMessage(message) {
    if (message.type === "snapshot" && message.sessions) {
      // each with its latest alerts as they stand (a silence still on included)
      for (const s of message.sessions) live.set(s.session_id, { ...s, alerts: LT.mergeAlerts([], s.alerts) });
    } else if (message.type === "update") {
      const row = live.get(message.session_id) || { session_id: message.session_id, metrics: {}, alerts: [] };
      const was = row.status;
      row.metrics = Object.assign({}, row.metrics, message.metrics);
      // status, times and open incidents; a session started since the snapshot comes with
      // its whole headline (title, host, room, start)
      for (const [key, value] of Object.entries(message)) {
        if (key !== "type" && key !== "metrics" && key !== "alerts") row[key] = value;
      }
      row.alerts = LT.mergeAlerts(row.alerts, message.alerts);
      live.set(message.session_id, row);
      // the ended list once per session ending (a late event's update is not another end)
      if (row.status === "ended" && was !== "ended") loadEndedSoon();
    } else if (message.type === "alert") {
      const row = live.get(message.session_id);
      if (row) row.alerts = LT.mergeAlerts(row.alerts, [message.alert]);
    } else {
      return;
    }
    // Drawn once per animation frame, not once per message: with many rooms live the feed
    // sends an update per session that moved, hundreds a second at a few hundred rooms.
    if (!drawing) drawing = requestAnimationFrame(() => { drawing = 0; render(); });
  }

  // Once a second: the time on air of a live session counts on from its start (not only when
  // an event arrives), and a silence still on counts on.
  function tick() {
    for (const node of document.querySelectorAll("#live tbody.session td.duration")) {
      const row = live.get(node.closest("tbody").dataset.session);
      const text = LT.duration(LT.onAirSeconds(row));
      if (row && node.textContent !== text) node.textContent = text;
    }
    for (const node of document.querySelectorAll("#live .chip.no_events.on")) {
      const row = live.get(node.closest("tbody").dataset.session);
      const a = row && row.alerts.find((x) => LT.alertKey(x) === node.dataset.key);
      if (a) node.querySelector(".state").textContent = LT.alertStatus(a);
    }
  }

  // Sessions ending together reload the list once: one request at a time, and one more after
  // it if another session ended meanwhile (an older answer never lands after a newer one).
  let loading = null;
  let again = false;
  function loadEndedSoon() {
    if (loading) { again = true; return; }
    loading = loadEnded().catch(() => {}).finally(() => {
      loading = null;
      if (again) { again = false; loadEndedSoon(); }
    });
  }

  async function loadEnded() {
    const since = new Date(Date.now() - 24 * 3600 * 1000).toISOString();
    const [done, now] = await Promise.all([
      LT.api(`/api/v1/sessions?status=ended&from=${encodeURIComponent(since)}`),
      LT.api("/api/v1/sessions?status=live"),
    ]);
    for (const s of [...done.sessions, ...now.sessions]) if (s.host_name) names.set(s.host_id, s.host_name);
    ended = done.sessions.filter((s) => s.ended_at && s.ended_at >= since);
    render();
  }

  async function start() {
    const problem = LT.tokenProblem();
    if (problem) { LT.notice(problem); return; }
    try { await loadEnded(); } catch (e) {
      LT.notice(e.status === 401 ? "invalid" : e.status === 403 ? "not_read_only" : "error");
      return;
    }
    setInterval(tick, 1000);
    LT.follow({}, onMessage, (s) => {
      $("conn").textContent = s.up ? "" : label("states", "lost");
      $("conn").className = "conn" + (s.up ? "" : " down");
    });
  }
  start();
})();
