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

  function table(rows, withAlerts) {
    const head = [t("title"), t("host"), t("room"), t("status"), t("duration"), t("online"),
                  t("uv"), t("gmv"), t("conversion"), withAlerts ? t("alerts") : t("review")];
    const tbody = el("tbody");
    for (const row of rows) {
      const m = row.metrics || {};
      const alerts = (row.open_incidents || []).map((i) => "⚠ " + label("incident_kinds", i.kind))
        .concat((row.alerts || []).slice(-2).map((a) => label("alerts", a.kind)));
      tbody.append(el("tr", { dataset: { session: row.session_id } },
        el("td", {}, el("a", { href: link("screen", row.session_id) }, row.title || row.session_id)),
        el("td", {}, names.get(row.host_id) || row.host_name || row.host_id || "–"),
        el("td", {}, row.room_id || "–"),
        el("td", {}, el("span", { class: "pill " + row.status }, label("statuses", row.status))),
        el("td", { class: "num" }, LT.duration(row.duration_seconds)),
        el("td", { class: "num" }, LT.count(m.online)),
        el("td", { class: "num" }, LT.count(m.unique_viewers)),
        el("td", { class: "num" }, LT.money(m.gmv)),
        el("td", { class: "num" }, LT.pct(m.conversion_rate)),
        el("td", { class: withAlerts ? "alert" : "" }, withAlerts ? alerts.join(" · ")
          : el("a", { href: link("review", row.session_id) }, t("review")))));
    }
    return el("table", {}, el("thead", {}, el("tr", {}, ...head.map((h) => el("th", {}, h)))), tbody);
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

  function onMessage(message) {
    if (message.type === "snapshot" && message.sessions) {
      for (const s of message.sessions) live.set(s.session_id, { ...s, alerts: [] });
    } else if (message.type === "update") {
      const row = live.get(message.session_id) || { session_id: message.session_id, metrics: {}, alerts: [] };
      row.metrics = Object.assign({}, row.metrics, message.metrics);
      for (const key of ["status", "open_incidents", "duration_seconds"]) {
        if (message[key] !== undefined) row[key] = message[key];
      }
      live.set(message.session_id, row);
      if (row.status === "ended") loadEnded();
    } else if (message.type === "alert") {
      const row = live.get(message.session_id);
      if (row) row.alerts.push(message.alert);
    } else {
      return;
    }
    render();
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
    LT.follow({}, onMessage, (s) => {
      $("conn").textContent = s.up ? "" : label("states", "lost");
      $("conn").className = "conn" + (s.up ? "" : " down");
    });
  }
  start();
})();
