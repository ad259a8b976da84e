// Shared by the screens: the read token, the API, and a feed connection that reconnects itself.
(function () {
  const params = new URLSearchParams(location.search);
  const LT = (window.LT = {});

  LT.token = function () {
    const given = params.get("token");
    if (given) localStorage.setItem("livetally.token", given);
    return given || localStorage.getItem("livetally.token");
  };

  // No token: ask for one in a small form, then reload with it.
  LT.requireToken = function (labels) {
    const token = LT.token();
    if (token) return token;
    const form = document.createElement("form");
    form.id = "token-form";
    form.innerHTML = `<label>${labels.token} <input name="token" autofocus></label>
      <button>${labels.connect}</button>`;
    form.onsubmit = (e) => {
      e.preventDefault();
      params.set("token", form.token.value.trim());
      location.search = params.toString();
    };
    document.body.prepend(form);
    return null;
  };

  LT.api = async function (path) {
    const response = await fetch(path, { headers: { Authorization: "Bearer " + LT.token() } });
    if (!response.ok) throw new Error(path + ": " + response.status);
    return response.json();
  };

  // Follows the feed; on a drop, reconnects with the last version seen (resume).
  LT.follow = function (feedPort, query, onMessage, onState) {
    let version = null;
    let delay = 250;
    function open() {
      const q = new URLSearchParams(query);
      q.set("token", LT.token());
      if (version !== null) q.set("version", version);
      const ws = new WebSocket(`ws://${location.hostname}:${feedPort}/feed?${q}`);
      ws.onopen = () => { delay = 250; onState && onState(true); };
      ws.onmessage = (e) => {
        const message = JSON.parse(e.data);
        if (message.version !== undefined && message.session_id) version = message.version;
        onMessage(message);
      };
      ws.onclose = () => {
        onState && onState(false);
        setTimeout(open, delay);
        delay = Math.min(delay * 2, 5000);
      };
    }
    open();
  };

  LT.money = (v) => (v === null || v === undefined ? "–" :
    "¥" + Number(v).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 }));
  LT.count = (v) => (v === null || v === undefined ? "–" : Number(v).toLocaleString("en-US"));
  LT.pct = (v) => (v === null || v === undefined ? "–" : (v * 100).toFixed(2) + "%");
  LT.num = (v, d = 2) => (v === null || v === undefined ? "–" : Number(v).toFixed(d));
})();
