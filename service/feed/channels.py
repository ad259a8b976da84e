"""What the feed knows of each session: the latest document, a short history, recent alerts.

Everything here runs on the feed's event loop. Clients in step with a channel (holding its
latest state) are its subscribers: a change schedules one pump, at most `min_interval` after
the last, which writes the update to every subscriber straight into its socket buffer, encoded
once per from-version, with no coroutine woken per client. A subscriber whose buffer is full
(it reads slower than the session changes) is dropped from the pump and catches up on its own,
coalesced to the latest state (see client.py). A published change also replaces the channel's
`changed` event, waking the clients that are catching up.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import OrderedDict, deque
from collections.abc import Callable, Iterator
from typing import Any, Protocol

import orjson
from websockets.frames import Frame, Opcode

from service.reads.views import headline

HISTORY = 64  # versions kept per session for resuming clients
ENDED_KEPT_SECONDS = 60.0  # an ended session's channel, watched by nobody, kept this long
ALERTS = 100  # alerts kept per session
Document = dict[str, Any]


def metrics_diff(old: Document | None, new: Document) -> dict[str, Any]:
    if old is None:
        return dict(new["metrics"])
    before = old["metrics"]
    return {k: v for k, v in new["metrics"].items() if before.get(k) != v}


class Subscriber(Protocol):
    """A client in step with a channel: what it holds, and a write that never waits."""

    sent: Document | None
    seen_alerts: int

    def write(self, frames: list[bytes]) -> bool:
        """Queue these websocket frames on the connection; False if it cannot take them now."""

    def dropped(self) -> None:
        """No longer pumped: it catches up on its own."""


class LiveSubscriber(Protocol):
    """A client of the all-sessions view in step with every channel."""

    live_sent: dict[str, Document]  # the headline of each session it holds
    live_seen: dict[str, int]

    def write(self, frames: list[bytes]) -> bool: ...

    def dropped(self) -> None: ...


class SessionChannel:
    def __init__(
        self, session_id: str, min_interval: float = 0.0, seqs: Iterator[int] | None = None
    ) -> None:
        self.session_id = session_id
        self.latest: Document | None = None
        # version -> its metrics, encoded, for the versions sent to a client (only those can be
        # resumed from): all a resuming client's first update is worked out from. Every version
        # published, as documents, were 64 per busy session whether watched or not: at 500
        # rooms about 500,000 objects, whose passes of the garbage collector stalled the
        # embedded process for a third of a second (docs/deploy.md).
        self.history: OrderedDict[int, bytes] = OrderedDict()
        self.alerts: deque[tuple[int, dict[str, Any]]] = deque(maxlen=ALERTS)
        self.alert_seq = 0
        # Alert numbers come from the hub, shared by its channels: a channel dropped and made
        # anew (a late event of an ended session) numbers on from every one before, so a
        # client that saw the old channel's alerts does not skip the new one's.
        self._seqs = seqs if seqs is not None else itertools.count(1)
        self.changed = asyncio.Event()
        self._encoded: dict[int, bytes] = {}  # from_version -> update to latest, shared
        # the same for the all-sessions view's headline updates, and the latest's headline
        self._live_encoded: dict[int, bytes] = {}
        self._headline: Document | None = None
        self.watchers = 0
        self.min_interval = min_interval
        self.subscribers: set[Subscriber] = set()
        self._pump_at = 0.0  # loop time of the last pump
        self._pump: asyncio.TimerHandle | None = None

    @property
    def version(self) -> int:
        return self.latest["version"] if self.latest else 0

    def update(self, document: Document, alerts: list[dict[str, Any]]) -> None:
        if self.latest is None or document["version"] >= self.latest["version"]:
            self.latest = document
            self._encoded.clear()
            self._live_encoded.clear()
            self._headline = None
        for alert in alerts:
            self.add_alert(alert)
        self._wake()

    def sent_out(self, document: Document | None) -> None:
        """`document` went to a client: a client may come back from its version."""
        if document is None or document["version"] in self.history:
            return
        self.history[document["version"]] = orjson.dumps(document["metrics"])
        while len(self.history) > HISTORY:
            self.history.popitem(last=False)

    def resumed_from(self, version: int | None) -> Document | None:
        """What a client that last saw `version` holds, as far as its next update needs (the
        version and its metrics), if that version is in the history."""
        if version is None:
            return None
        metrics = self.history.get(version)
        if metrics is None:
            return None
        return {"version": version, "metrics": orjson.loads(metrics)}

    def add_alert(self, alert: dict[str, Any]) -> None:
        self.alert_seq = next(self._seqs)
        self.alerts.append((self.alert_seq, alert))
        self._wake()

    def _wake(self) -> None:
        changed, self.changed = self.changed, asyncio.Event()
        changed.set()
        if self.subscribers and self._pump is None:
            loop = asyncio.get_running_loop()
            delay = max(0.0, self._pump_at + self.min_interval - loop.time())
            self._pump = loop.call_later(delay, self.pump)

    def subscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.add(subscriber)

    def unsubscribe(self, subscriber: Subscriber) -> None:
        self.subscribers.discard(subscriber)

    def pump(self) -> None:
        """Write what changed to every subscriber; drop those that cannot take it."""
        self._pump = None
        self._pump_at = asyncio.get_running_loop().time()
        latest = self.latest
        # Each message is framed once (a server's frames are not masked, so every client gets
        # the same bytes) and written to each subscriber's transport as it is.
        alerts: dict[int, list[bytes]] = {}
        updates: dict[int, bytes] = {}
        for subscriber in list(self.subscribers):
            seen = subscriber.seen_alerts
            frames = self.alert_frames(seen, alerts)
            sent = subscriber.sent
            newer = latest is not None and (sent is None or latest["version"] > sent["version"])
            if not frames and not newer:
                continue
            if newer:
                frames = [*frames, self.update_frame(sent, updates)]
                self.sent_out(latest)
            if subscriber.write(frames):
                subscriber.seen_alerts = self.alert_seq
                if newer:
                    subscriber.sent = latest
            else:
                self.subscribers.discard(subscriber)
                subscriber.dropped()

    def alert_frames(self, seen: int, cache: dict[int, list[bytes]]) -> list[bytes]:
        """The alerts after `seen`, framed (cached by `seen` for one pump)."""
        frames = cache.get(seen)
        if frames is None:
            frames = cache[seen] = [
                text_frame(alert_message(self.session_id, alert))
                for seq, alert in self.alerts
                if seq > seen
            ]
        return frames

    def update_frame(self, sent: Document | None, cache: dict[int, bytes]) -> bytes:
        return _framed(sent, cache, self.update_message)

    def live_update_frame(self, sent: Document | None, cache: dict[int, bytes]) -> bytes:
        return _framed(sent, cache, self.live_update_message)

    @property
    def off_air(self) -> bool:
        """Nothing published yet, or the session is not live."""
        return self.latest is None or self.latest.get("status") != "live"

    def live_ahead_of(self, held: Document | None) -> bool:
        """Whether an all-sessions client holding `held` (the headline it has, None: none)
        lacks this session's latest: a newer version, or a live session it has nothing of."""
        latest = self.latest
        if latest is None:
            return False
        if held is None:
            return latest["status"] == "live"
        return bool(latest["version"] > held["version"])

    def live_headline(self) -> Document:
        """The latest document's headline (views.headline), worked out once per version."""
        assert self.latest is not None
        if self._headline is None:
            self._headline = headline(self.latest)
        return self._headline

    def live_update_message(self, sent: Document | None) -> bytes:
        """The all-sessions view's update taking a client from `sent` (the headline it holds)
        to the latest: the headline numbers that changed (views.headline, what the snapshot of
        every live session lists), its status, times, open incidents and alerts; for a client
        that holds nothing of the session yet (it started since), the whole headline. Not the
        products, ticker and trend a session's own screen shows: at 500 live rooms those were
        nine tenths of the bytes a console was sent (docs/feed.md)."""
        assert self.latest is not None
        key = sent["version"] if sent is not None else -1
        encoded = self._live_encoded.get(key)
        if encoded is None:
            latest = self.latest
            now = self.live_headline()
            alerts = latest.get("alerts", [])
            if sent is None:
                message = {"type": "update", **now, "alerts": alerts}
            else:
                before = sent["metrics"]
                message = {
                    "type": "update",
                    "session_id": self.session_id,
                    "version": latest["version"],
                    "status": latest["status"],
                    "metrics": {k: v for k, v in now["metrics"].items() if before.get(k) != v},
                    "open_incidents": now["open_incidents"],
                    "last_event_at": latest.get("last_event_at"),
                    "ended_at": latest.get("ended_at"),
                    "duration_seconds": latest.get("duration_seconds"),
                    "alerts": alerts,
                }
            encoded = orjson.dumps(message)
            if len(self._live_encoded) < 256:
                self._live_encoded[key] = encoded
        return encoded

    def update_message(self, sent: Document | None) -> bytes:
        """The update taking a client from `sent` to the latest, encoded once per state."""
        assert self.latest is not None
        key = sent["version"] if sent is not None else -1
        encoded = self._encoded.get(key)
        if encoded is None:
            latest = self.latest
            encoded = orjson.dumps(
                {
                    "type": "update",
                    "session_id": self.session_id,
                    "version": latest["version"],
                    "status": latest["status"],
                    "metrics": metrics_diff(sent, latest),
                    "open_incidents": latest.get("open_incidents", []),
                    "last_event_at": latest.get("last_event_at"),
                    "ended_at": latest.get("ended_at"),
                    "duration_seconds": latest.get("duration_seconds"),
                    # the product ranking and the ticker travel whole: they are short lists
                    "products": latest.get("products", []),
                    "recent": latest.get("recent", {"orders": [], "comments": []}),
                    "timeline_tail": latest.get("timeline_tail"),
                    # the latest alerts as they stand now (an incident resolved since)
                    "alerts": latest.get("alerts", []),
                }
            )
            if len(self._encoded) < 256:
                self._encoded[key] = encoded
        return encoded


def alert_message(session_id: str, alert: dict[str, Any]) -> bytes:
    return orjson.dumps({"type": "alert", "session_id": session_id, "alert": alert})


def _framed(
    sent: Document | None, cache: dict[int, bytes], message: Callable[[Document | None], bytes]
) -> bytes:
    """The update from `sent` as a frame, framed once per from-version for one pump."""
    key = sent["version"] if sent is not None else -1
    frame = cache.get(key)
    if frame is None:
        frame = cache[key] = text_frame(message(sent))
    return frame


def text_frame(payload: bytes) -> bytes:
    """A whole unmasked text frame, as a server sends it (no extensions are negotiated)."""
    return Frame(Opcode.TEXT, payload).serialize(mask=False)


class FeedHub:
    def __init__(self, min_interval: float = 0.0) -> None:
        self.min_interval = min_interval  # between two pumps of one channel
        self.channels: dict[str, SessionChannel] = {}
        self._alert_seqs = itertools.count(1)
        # Clients of the all-sessions view in step with every channel, pumped together.
        self.live_subscribers: set[LiveSubscriber] = set()
        # The sessions changed since the last pump of the all-sessions view (kept while it has
        # subscribers): only those can hold anything new for a client in step with every one.
        self._live_moved: set[str] = set()
        # Ended sessions nobody watches, by the loop time of their last message or of losing
        # their last watcher: kept ENDED_KEPT_SECONDS after it, so the all-sessions view tells
        # their end, then dropped by a timer.
        self._ended: OrderedDict[str, float] = OrderedDict()
        self._forgetting: asyncio.TimerHandle | None = None
        self._pump_at = 0.0
        self._pump: asyncio.TimerHandle | None = None
        self.any_changed = asyncio.Event()

    def channel(self, session_id: str) -> SessionChannel:
        found = self.channels.get(session_id)
        if found is None:
            found = self.channels[session_id] = SessionChannel(
                session_id, self.min_interval, self._alert_seqs
            )
        return found

    def release(self, channel: SessionChannel) -> None:
        """A client stopped watching: a channel nobody watches is dropped unless its session
        is live (the all-sessions view and resumes need those), so the feed keeps state only
        for sessions someone watches or that are on air."""
        channel.watchers -= 1
        if self.channels.get(channel.session_id) is channel:
            self._drop_if_idle(channel)

    def _drop_if_idle(self, channel: SessionChannel) -> None:
        """A channel nobody watches whose session is not on air is dropped: at once if it
        holds no document, else ENDED_KEPT_SECONDS after its last message (the all-sessions
        view, pumped or catching up, is told the session ended; dropped at once, it never
        was)."""
        if channel.watchers > 0 or not channel.off_air:
            return
        if channel.latest is None:
            self.channels.pop(channel.session_id, None)
        else:
            loop = asyncio.get_running_loop()
            self._ended[channel.session_id] = loop.time()
            self._ended.move_to_end(channel.session_id)
            if self._forgetting is None:
                self._forgetting = loop.call_later(ENDED_KEPT_SECONDS, self._forget_ended)

    def _forget_ended(self) -> None:
        """Drop the kept channels whose time is up; come back when the next one's is."""
        self._forgetting = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._ended:
            session_id, at = next(iter(self._ended.items()))
            if now - at < ENDED_KEPT_SECONDS:
                self._forgetting = loop.call_later(
                    at + ENDED_KEPT_SECONDS - now, self._forget_ended
                )
                return
            del self._ended[session_id]
            channel = self.channels.get(session_id)
            if channel is not None and not channel.watchers and channel.off_air:
                del self.channels[session_id]
                # what the consoles in step held of it goes with it (one open for weeks would
                # otherwise hold every session it ever saw)
                for subscriber in self.live_subscribers:
                    subscriber.live_sent.pop(session_id, None)
                    subscriber.live_seen.pop(session_id, None)

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
        self._drop_if_idle(channel)
        changed, self.any_changed = self.any_changed, asyncio.Event()
        changed.set()
        if self.live_subscribers:
            self._live_moved.add(session_id)
        if self.live_subscribers and self._pump is None:
            loop = asyncio.get_running_loop()
            delay = max(0.0, self._pump_at + self.min_interval - loop.time())
            self._pump = loop.call_later(delay, self.pump_live)

    def pump_live(self) -> None:
        """Every session's changes and alerts to every in-step all-sessions client."""
        self._pump = None
        self._pump_at = asyncio.get_running_loop().time()
        alerts: dict[str, dict[int, list[bytes]]] = {}
        updates: dict[str, dict[int, bytes]] = {}
        # A subscriber joins the pump in step with every channel: what it lacks since has
        # moved since the last pump (at 500 rooms, about half of them in a tenth of a second).
        moved_ids, self._live_moved = self._live_moved, set()
        channels = [
            (session_id, channel)
            for session_id in moved_ids
            if (channel := self.channels.get(session_id)) is not None
        ]
        for subscriber in list(self.live_subscribers):
            frames: list[bytes] = []
            moved: list[tuple[str, Document]] = []
            for session_id, channel in channels:
                seen = subscriber.live_seen.get(session_id, 0)
                if channel.alert_seq > seen:
                    frames += channel.alert_frames(seen, alerts.setdefault(session_id, {}))
                before = subscriber.live_sent.get(session_id)
                if not channel.live_ahead_of(before):
                    continue
                frames.append(channel.live_update_frame(before, updates.setdefault(session_id, {})))
                moved.append((session_id, channel.live_headline()))
            if not frames:
                continue
            if subscriber.write(frames):
                for session_id, channel in channels:
                    subscriber.live_seen[session_id] = channel.alert_seq
                subscriber.live_sent.update(moved)
            else:
                self.live_subscribers.discard(subscriber)
                subscriber.dropped()
