"""One feed connection: a snapshot, then coalesced updates at most `max_rate` per second.

Nothing is queued per client beyond a reference to the last document it was sent and its place
in the alert ring, so a slow client costs the server one websocket write buffer (write_limit),
not a growing queue. A client in step with its session is pumped by the channel (channels.py):
its coroutine only sends pings. One that falls behind catches up here, a coalesced update at a
time; a send that stays blocked for SEND_TIMEOUT means the client stopped reading: it is closed
with code 4008.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from websockets.asyncio.server import ServerConnection
from websockets.protocol import State

from events.clock import now_micros
from events.errors import LivetallyError
from events.fields import format_timestamp
from service.feed.channels import Document, FeedHub, SessionChannel, alert_message
from service.reads.views import headline

PING_SECONDS = 15.0
SEND_TIMEOUT = 5.0
# A pumped write goes to a client only while this little is still unsent to it: one that
# does not keep up is dropped from the pump and catches up coalesced.
PUMP_BUFFER_BYTES = 64 * 1024
CLOSE_TOO_SLOW = 4008

LoadDocument = Callable[[str], Awaitable[Document | None]]
LoadLive = Callable[[], Awaitable[list[Document]]]


class TooSlow(LivetallyError):
    """Raised when a client has not taken a message within SEND_TIMEOUT: it is cut off."""


class FeedClient:
    def __init__(
        self,
        ws: ServerConnection,
        hub: FeedHub,
        max_rate: float,
        ping_seconds: float = PING_SECONDS,
    ) -> None:
        self.ws = ws
        self.hub = hub
        self.min_interval = 1.0 / max_rate if max_rate > 0 else 0.0
        self.ping_seconds = ping_seconds
        self.last_sent = time.monotonic()
        # What the pump reads and moves on (channels.Subscriber).
        self.sent: Document | None = None
        self.seen_alerts = 0
        self.live_sent: dict[str, Document] = {}
        self.live_seen: dict[str, int] = {}
        self._dropped = asyncio.Event()

    def write(self, frames: list[bytes]) -> bool:
        """Frames straight to the socket, as websockets' own broadcast() does minus the
        framing per connection (connections are served without compression)."""
        ws = self.ws
        transport = ws.transport
        if (
            ws.protocol.state is not State.OPEN
            or transport is None
            or ws.send_in_progress is not None
            or transport.get_write_buffer_size() > PUMP_BUFFER_BYTES
        ):
            return False
        # One write for the lot: a send per frame was one system call, and one handover of
        # the interpreter lock, per session moved (hundreds a pump for the all-sessions view).
        transport.writelines(frames)
        self.last_sent = time.monotonic()
        return True

    def dropped(self) -> None:
        self._dropped.set()

    async def _pumped(self, channel: SessionChannel | None) -> bool:
        """In step with the channel (None: with every channel, for the all-sessions view):
        the pump writes the updates; this sends pings until the pump drops the client (it fell
        behind: True, to catch up; or it closed: False)."""
        self._dropped = asyncio.Event()
        if channel is None:
            self.hub.live_subscribers.add(self)
        else:
            channel.subscribe(self)
        try:
            while not self._dropped.is_set():
                quiet = time.monotonic() - self.last_sent
                try:
                    async with asyncio.timeout(max(0.0, self.ping_seconds - quiet)):
                        await self._dropped.wait()
                except TimeoutError:
                    if time.monotonic() - self.last_sent >= self.ping_seconds:
                        await self.send({"type": "ping", "at": format_timestamp(now_micros())})
        finally:
            if channel is None:
                self.hub.live_subscribers.discard(self)
            else:
                channel.unsubscribe(self)
        if self.ws.protocol.state is not State.OPEN:
            await self.ws.wait_closed()
            return False
        # Dropped: wait for the socket to drain before catching up (or cut a client that
        # stopped reading, as a blocked send would).
        transport = self.ws.transport
        deadline = time.monotonic() + SEND_TIMEOUT
        while (
            transport is not None
            and transport.get_write_buffer_size() > 0
            and self.ws.protocol.state is State.OPEN
        ):
            if time.monotonic() > deadline:
                raise TooSlow
            await asyncio.sleep(0.05)
        return True

    async def send(self, message: bytes | dict[str, Any]) -> None:
        data = message if isinstance(message, bytes) else orjson.dumps(message)
        # asyncio.timeout arms a timer; wait_for would wrap each send in a task of its own,
        # the larger part of a delivery's cost with thousands of screens.
        try:
            async with asyncio.timeout(SEND_TIMEOUT):
                await self.ws.send(data, text=True)
        except TimeoutError:
            raise TooSlow from None
        self.last_sent = time.monotonic()

    async def _wait(self, event: asyncio.Event) -> None:
        """Until something changes, sending a ping when the line has been quiet for a while."""
        quiet = time.monotonic() - self.last_sent
        try:
            async with asyncio.timeout(max(0.0, self.ping_seconds - quiet)):
                await event.wait()
        except TimeoutError:
            await self.send({"type": "ping", "at": format_timestamp(now_micros())})

    async def _send_alerts(self, channel: SessionChannel, seen: int) -> int:
        for seq, alert in list(channel.alerts):
            if seq > seen:
                await self.send(alert_message(channel.session_id, alert))
                seen = seq
        return seen

    async def follow_session(
        self, session_id: str, since: int | None, load_document: LoadDocument
    ) -> None:
        channel = self.hub.channel(session_id)
        channel.watchers += 1
        try:
            await self._follow_channel(channel, session_id, since, load_document)
        finally:
            self.hub.release(channel)

    async def _follow_channel(
        self,
        channel: SessionChannel,
        session_id: str,
        since: int | None,
        load_document: LoadDocument,
    ) -> None:
        # resume: the next update carries what it missed
        sent: Document | None = channel.resumed_from(since)
        # Alerts after this one are sent, those the snapshot lists as they stand included (the
        # pages know an alert told twice): counted after the snapshot's send, one arriving
        # during it was counted as seen and never sent.
        seen_alerts = channel.alert_seq
        if sent is None:
            stored = await load_document(session_id)
            latest = channel.latest
            sent = (
                latest
                if latest and (not stored or latest["version"] >= stored["version"])
                else stored
            )
            body = sent
            if sent is not None and stored is not None and sent is not stored:
                # The published document lacks what the service adds (the host's name, and a
                # silence still on: no event came since the stored version, views.with_silence).
                body = {**sent, "host_name": stored.get("host_name")}
                if sent["version"] == stored["version"]:
                    body["alerts"] = stored.get("alerts", [])
            channel.sent_out(sent)
            await self.send(
                {
                    "type": "snapshot",
                    "session_id": session_id,
                    "version": sent["version"] if sent else 0,
                    "data": body,
                }
            )
        while True:
            changed = channel.changed
            seen_alerts = await self._send_alerts(channel, seen_alerts)
            latest = channel.latest
            if latest is not None and (sent is None or latest["version"] > sent["version"]):
                channel.sent_out(latest)
                await self.send(channel.update_message(sent))
                sent = latest
                if self.min_interval:
                    await asyncio.sleep(self.min_interval)  # later changes coalesce meanwhile
                continue
            if seen_alerts == channel.alert_seq:
                # In step: the channel's pump takes over until this client falls behind.
                self.sent, self.seen_alerts = sent, seen_alerts
                if not await self._pumped(channel):
                    return
                sent, seen_alerts = self.sent, self.seen_alerts
                continue
            await self._wait(changed)

    def _live_in_step(self, sent: dict[str, Document], seen_alerts: dict[str, int]) -> bool:
        """Holding every session's latest version and alerts, checked with nothing awaited
        before joining the pump (which looks only at sessions moved since its last pass): a
        session that moved while this pass awaited a send is caught here, not left behind."""
        for session_id, channel in self.hub.channels.items():
            if channel.alert_seq > seen_alerts.get(session_id, 0):
                return False
            if channel.live_ahead_of(sent.get(session_id)):
                return False
        return True

    async def follow_live(self, load_live: LoadLive) -> None:
        """Every live session's headline numbers, then their updates."""
        # as in follow_session: alerts from here on are sent, even those the snapshot lists
        seen_alerts = {sid: c.alert_seq for sid, c in self.hub.channels.items()}
        stored = await load_live()
        sent: dict[str, Document] = {}  # the headline of each session, as this client holds it
        alerts: dict[str, list[dict[str, Any]]] = {}
        for document in stored:
            session_id = document["session_id"]
            channel = self.hub.channel(session_id)
            latest = channel.latest
            if latest is not None and latest["version"] > document["version"]:
                sent[session_id] = channel.live_headline()
                alerts[session_id] = latest.get("alerts", [])
            else:
                sent[session_id] = headline(document)
                # the latest alerts as they stand (with a silence still on: views.with_silence)
                alerts[session_id] = document.get("alerts", [])
        await self.send(
            {
                "type": "snapshot",
                "sessions": [{**h, "alerts": alerts[sid]} for sid, h in sent.items()],
            }
        )
        while True:
            changed = self.hub.any_changed
            moved = False
            # sessions the hub forgot (ended a while ago) are forgotten here too
            for session_id in [sid for sid in sent if sid not in self.hub.channels]:
                del sent[session_id]
                seen_alerts.pop(session_id, None)
            for session_id, channel in list(self.hub.channels.items()):
                seen_alerts[session_id] = await self._send_alerts(
                    channel, seen_alerts.get(session_id, 0)
                )
                before = sent.get(session_id)
                if not channel.live_ahead_of(before):
                    continue
                await self.send(channel.live_update_message(before))
                sent[session_id] = channel.live_headline()
                moved = True
            if moved:
                if self.min_interval:
                    await asyncio.sleep(self.min_interval)
                continue
            if self._live_in_step(sent, seen_alerts):
                # In step with every session: the hub's pump takes over until this falls behind.
                self.live_sent, self.live_seen = sent, seen_alerts
                if not await self._pumped(None):
                    return
                sent, seen_alerts = self.live_sent, self.live_seen
                continue
            await self._wait(changed)
