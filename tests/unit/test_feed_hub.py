"""The feed hub's all-sessions view: what its pump writes, and how long an ended session's
channel is kept for it (service/feed/channels.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest

from service.feed import channels
from service.feed.channels import FeedHub
from service.reads.views import HEADLINE


def document(session_id: str, version: int, status: str = "live", gmv: float = 0.0) -> Any:
    metrics = {key: 0 for key in HEADLINE}
    metrics["gmv"] = gmv
    metrics["incidents"] = {"total": 0, "open": 0}
    return {
        "session_id": session_id,
        "version": version,
        "status": status,
        "title": f"title of {session_id}",
        "ended_at": None if status == "live" else "2026-12-07T12:00:00.000Z",
        "metrics": metrics,
        "open_incidents": [],
        "products": [{"product_id": "p-1"}],
        "recent": {"orders": [], "comments": []},
        "timeline_tail": {"minutes": [], "markers": []},
        "alerts": [],
    }


class Console:
    """An all-sessions client in step with every channel, keeping what the pump writes."""

    def __init__(self, hub: FeedHub) -> None:
        self.live_sent = {sid: c.live_headline() for sid, c in hub.channels.items()}
        self.live_seen = {sid: c.alert_seq for sid, c in hub.channels.items()}
        self.messages: list[dict[str, Any]] = []

    def write(self, frames: list[bytes]) -> bool:
        for frame in frames:
            # a whole unmasked text frame: its header is 2, 4 or 10 bytes (RFC 6455 5.2)
            length = frame[1] & 0x7F
            header = 2 if length < 126 else 4 if length == 126 else 10
            self.messages.append(orjson.loads(frame[header:]))
        return True

    def dropped(self) -> None:
        raise AssertionError("an in-step console is never dropped here")


def update(hub: FeedHub, doc: Any) -> None:
    hub.receive({"type": "update", "session_id": doc["session_id"], "document": doc})


def test_the_pump_writes_the_moved_session_s_changed_headline_numbers_only() -> None:
    async def scenario() -> None:
        hub = FeedHub()
        for sid in ("a", "b", "c"):
            update(hub, document(sid, 1))
        console = Console(hub)
        hub.live_subscribers.add(console)
        update(hub, document("b", 2, gmv=9.9))
        hub.pump_live()
        (message,) = console.messages
        assert message["session_id"] == "b" and message["version"] == 2
        assert message["metrics"] == {"gmv": 9.9}
        assert not {"products", "recent", "timeline_tail"} & message.keys()
        console.messages.clear()
        hub.pump_live()  # nothing moved since
        assert console.messages == []

    asyncio.run(scenario())


def test_a_session_started_since_comes_whole_to_the_console() -> None:
    async def scenario() -> None:
        hub = FeedHub()
        update(hub, document("a", 1))
        console = Console(hub)
        hub.live_subscribers.add(console)
        update(hub, document("new", 1))
        hub.pump_live()
        (message,) = console.messages
        assert message["title"] == "title of new"
        assert set(message["metrics"]) == {*HEADLINE, "incidents", "incidents_open"}

    asyncio.run(scenario())


def test_an_ended_session_nobody_watches_is_kept_a_while_for_the_console_then_dropped(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(channels, "ENDED_KEPT_SECONDS", 0.05)

    async def scenario() -> None:
        hub = FeedHub()
        update(hub, document("a", 1))
        console = Console(hub)
        hub.live_subscribers.add(console)
        update(hub, document("a", 2, status="ended"))
        assert "a" in hub.channels  # not dropped before the console is told
        hub.pump_live()
        (message,) = console.messages
        assert (message["status"], message["ended_at"]) == ("ended", "2026-12-07T12:00:00.000Z")
        await asyncio.sleep(0.06)
        update(hub, document("b", 1))  # any later message drops what was kept long enough
        assert "a" not in hub.channels and "b" in hub.channels

    asyncio.run(scenario())
