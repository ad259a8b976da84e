"""The feed hub's all-sessions view: what its pump writes, and how long an ended session's
channel is kept for it (service/feed/channels.py)."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
import pytest
from websockets.protocol import State

from service.feed import channels
from service.feed.channels import FeedHub
from service.feed.client import FeedClient
from service.reads.views import HEADLINE


def document(session_id: str, version: int, status: str = "live", gmv: float = 0.0) -> Any:
    metrics: dict[str, Any] = {key: 0 for key in HEADLINE}
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

    @classmethod
    def joining(cls, hub: FeedHub) -> Console:
        """A console in step with every channel, joined to the hub's pump."""
        console = cls(hub)
        hub.live_subscribers.add(console)
        return console

    def write(self, frames: list[bytes]) -> bool:
        self.messages += [parse_frame(frame) for frame in frames]
        return True

    def dropped(self) -> None:
        raise AssertionError("an in-step console is never dropped here")


def parse_frame(frame: bytes) -> Any:
    # a whole unmasked text frame: its header is 2, 4 or 10 bytes (RFC 6455 5.2)
    length = frame[1] & 0x7F
    header = 2 if length < 126 else 4 if length == 126 else 10
    return orjson.loads(frame[header:])


def update(hub: FeedHub, doc: Any) -> None:
    hub.receive({"type": "update", "session_id": doc["session_id"], "document": doc})


def hub_with(*session_ids: str) -> FeedHub:
    """A hub holding these live sessions at version 1 (call on a running loop)."""
    hub = FeedHub()
    for session_id in session_ids:
        update(hub, document(session_id, 1))
    return hub


def test_the_pump_writes_the_moved_session_s_changed_headline_numbers_only() -> None:
    async def scenario() -> None:
        hub = hub_with("a", "b", "c")
        console = Console.joining(hub)
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
        hub = hub_with("a")
        console = Console.joining(hub)
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
        hub = hub_with("a")
        console = Console.joining(hub)
        update(hub, document("a", 2, status="ended"))
        assert "a" in hub.channels  # not dropped before the console is told
        hub.pump_live()
        (message,) = console.messages
        assert (message["status"], message["ended_at"]) == ("ended", "2026-12-07T12:00:00.000Z")
        await asyncio.sleep(0.1)  # no other message needed: a timer drops it
        assert "a" not in hub.channels

    asyncio.run(scenario())


class Transport:
    def __init__(self, got: list[dict[str, Any]]) -> None:
        self.got = got

    def get_write_buffer_size(self) -> int:
        return 0

    def writelines(self, frames: list[bytes]) -> None:
        self.got += [parse_frame(frame) for frame in frames]


class FakeSocket:
    """A websocket that keeps what it is sent, and lets the test act while a send waits."""

    def __init__(self, on_send: Any) -> None:
        self.got: list[dict[str, Any]] = []
        self.transport = Transport(self.got)
        self.protocol = type("Open", (), {"state": State.OPEN})()
        self.send_in_progress = None
        self.on_send = on_send

    async def send(self, data: bytes | str, text: bool = True) -> None:
        message = orjson.loads(data)
        self.got.append(message)
        await asyncio.sleep(0)  # the send waits on the socket: the hub moves on meanwhile
        self.on_send(message)


def test_a_console_joining_the_pump_after_a_session_moved_during_its_last_pass_is_told() -> None:
    async def scenario() -> None:
        hub = hub_with("a", "b")

        def meanwhile(message: dict[str, Any]) -> None:
            if message["type"] == "snapshot":
                update(hub, document("a", 2, gmv=1.0))
            elif message["type"] == "update" and message["version"] == 2:
                # an alert for b comes while the client waits out its interval...
                asyncio.get_running_loop().call_later(
                    0.02,
                    lambda: hub.receive(
                        {"type": "alert", "session_id": "b", "alert": {"kind": "online_drop"}}
                    ),
                )
            elif message["type"] == "alert":
                # ...and while it is sent, a, already passed over in that pass, ends
                update(hub, document("a", 3, status="ended"))

        socket = FakeSocket(meanwhile)
        client = FeedClient(socket, hub, max_rate=10)  # type: ignore[arg-type]

        async def load_live() -> list[Any]:
            return [document("a", 1), document("b", 1)]

        following = asyncio.create_task(client.follow_live(load_live))
        await asyncio.sleep(0.4)
        following.cancel()
        told = [(m.get("session_id"), m.get("version")) for m in socket.got]
        assert ("a", 3) in told  # with the pump looking only at sessions moved since, it was not

    asyncio.run(scenario())


@pytest.mark.parametrize("view", ["one session", "all sessions"])
def test_an_alert_raised_while_the_snapshot_is_sent_is_sent_after_it(view: str) -> None:
    async def scenario() -> None:
        hub = hub_with("a")

        def meanwhile(message: dict[str, Any]) -> None:
            if message["type"] == "snapshot":
                hub.receive({"type": "alert", "session_id": "a", "alert": {"kind": "online_drop"}})

        socket = FakeSocket(meanwhile)
        client = FeedClient(socket, hub, max_rate=0)  # type: ignore[arg-type]

        async def load_live() -> list[Any]:
            return [document("a", 1)]

        async def load_document(session_id: str) -> Any:
            return document(session_id, 1)

        following = asyncio.create_task(
            client.follow_session("a", None, load_document)
            if view == "one session"
            else client.follow_live(load_live)
        )
        await asyncio.sleep(0.1)
        following.cancel()
        assert [m["type"] for m in socket.got] == ["snapshot", "alert"]

    asyncio.run(scenario())


def test_a_console_forgets_a_dropped_session_and_hears_the_alerts_of_its_channel_made_anew(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(channels, "ENDED_KEPT_SECONDS", 0.05)

    async def scenario() -> None:
        hub = hub_with("a")
        for _ in range(3):  # the old channel's alerts: 1, 2, 3
            hub.receive({"type": "alert", "session_id": "a", "alert": {"kind": "online_drop"}})
        console = Console.joining(hub)
        update(hub, document("a", 2, status="ended"))
        hub.pump_live()
        await asyncio.sleep(0.1)
        assert "a" not in hub.channels
        assert "a" not in console.live_sent and "a" not in console.live_seen
        console.messages.clear()
        # a late event of the ended session makes its channel anew, with an alert
        hub.receive(
            {
                "type": "update",
                "session_id": "a",
                "document": document("a", 3, status="ended"),
                "alerts": [{"kind": "no_events"}],
            }
        )
        assert hub.channels["a"].alert_seq > 3  # numbered on from the dropped channel's
        hub.pump_live()
        assert [(m["type"], m["alert"]["kind"]) for m in console.messages] == [
            ("alert", "no_events")
        ]

    asyncio.run(scenario())
