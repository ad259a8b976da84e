"""What the feed knows of each session: the latest document, a short history, recent alerts.

Everything here runs on the feed's event loop. A published change replaces the channel's
`changed` event (setting the old one), so every client waiting on it wakes once, whatever the
number of clients; clients then send at their own pace (see client.py).
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict, deque
from typing import Any

import orjson

HISTORY = 64  # versions kept per session for resuming clients
ALERTS = 100  # alerts kept per session
Document = dict[str, Any]


def metrics_diff(old: Document | None, new: Document) -> dict[str, Any]:
    if old is None:
        return dict(new["metrics"])
    before = old["metrics"]
    return {k: v for k, v in new["metrics"].items() if before.get(k) != v}


class SessionChannel:
    def __init__(self, session_id: str) -> None:
        self.session_id = session_id
        self.latest: Document | None = None
        self.history: OrderedDict[int, Document] = OrderedDict()
        self.alerts: deque[tuple[int, dict[str, Any]]] = deque(maxlen=ALERTS)
        self.alert_seq = 0
        self.changed = asyncio.Event()
        self._encoded: dict[int, bytes] = {}  # from_version -> update to latest, shared
        self.watchers = 0

    @property
    def version(self) -> int:
        return self.latest["version"] if self.latest else 0

    def update(self, document: Document, alerts: list[dict[str, Any]]) -> None:
        if self.latest is None or document["version"] >= self.latest["version"]:
            self.latest = document
            self.history[document["version"]] = document
            while len(self.history) > HISTORY:
                self.history.popitem(last=False)
            self._encoded.clear()
        for alert in alerts:
            self.add_alert(alert)
        self._wake()

    def add_alert(self, alert: dict[str, Any]) -> None:
        self.alert_seq += 1
        self.alerts.append((self.alert_seq, alert))
        self._wake()

    def _wake(self) -> None:
        changed, self.changed = self.changed, asyncio.Event()
        changed.set()

    def update_message(self, sent: Document | None) -> bytes:
        """The update taking a client from `sent` to the latest, encoded once per state."""
        assert self.latest is not None
        key = sent["version"] if sent is not None else -1
        encoded = self._encoded.get(key)
        if encoded is None:
            latest = self.latest
            encoded = orjson.dumps({
                "type": "update", "session_id": self.session_id, "version": latest["version"],
                "status": latest["status"], "metrics": metrics_diff(sent, latest),
                "open_incidents": latest.get("open_incidents", []),
                "last_event_at": latest.get("last_event_at"),
                "ended_at": latest.get("ended_at"),
                "duration_seconds": latest.get("duration_seconds"),
                # the product ranking and the ticker travel whole: they are short lists
                "products": latest.get("products", []),
                "recent": latest.get("recent", {"orders": [], "comments": []}),
                "timeline_tail": latest.get("timeline_tail"),
            })
            if len(self._encoded) < 256:
                self._encoded[key] = encoded
        return encoded


class FeedHub:
    def __init__(self) -> None:
        self.channels: dict[str, SessionChannel] = {}
        self.any_changed = asyncio.Event()

    def channel(self, session_id: str) -> SessionChannel:
        found = self.channels.get(session_id)
        if found is None:
            found = self.channels[session_id] = SessionChannel(session_id)
        return found

    def release(self, channel: SessionChannel) -> None:
        """A client stopped watching: a channel nobody watches is dropped unless its session
        is live (the all-sessions view and resumes need those), so the feed keeps state only
        for sessions someone watches or that are on air."""
        channel.watchers -= 1
        idle = channel.watchers <= 0 and (channel.latest is None
                                          or channel.latest.get("status") != "live")
        if idle and self.channels.get(channel.session_id) is channel:
            del self.channels[channel.session_id]

    def receive(self, message: dict[str, Any]) -> None:
        """A message from the workers: an update (with alerts) or a lone alert."""
        session_id = message.get("session_id")
        if not session_id:
            return
        channel = self.channel(session_id)
        if message.get("type") == "update":
            channel.update(message["document"], message.get("alerts") or [])
        elif message.get("type") == "alert":
            channel.add_alert(message["alert"])
        if not channel.watchers and (channel.latest is None
                                     or channel.latest.get("status") != "live"):
            self.channels.pop(session_id, None)  # nobody watches it and it is not on air
        changed, self.any_changed = self.any_changed, asyncio.Event()
        changed.set()
