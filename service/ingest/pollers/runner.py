"""The pollers' runs: every `poll_seconds` each connection with a live-room poller is read once
(across all processes: its lease), at most `threads` connections at a time; each reading
becomes `room.stats_reported` of its room's session, and a live room with no session opens
one (ended when the platform says the room ended).

Ids are deterministic: a reading's is uuid5(platform, room, the reading's minute), a session's
start and end uuid5(platform, room, "started"/"ended"), and an opened session's id is
`<platform>-<room>`: a reading polled twice, or two processes seeing one broadcast, give one
event. A poll that fails (an unreachable API, an error answer, a rate limit) keeps its last
figures, is tried again after poll_seconds doubling per failure up to 15 minutes, shows on
/health (`poll_error`) and, the first time, as a `connection_failed` feed alert; nothing is
invented for the missing minutes.

Two additions for a platform that has them (TikTok): a shop's rooms' ad spend from the report
of the advertiser accounts connected for it (a `SpendReader`: each account is leased, backed
off and shown on /health as a polled connection; a reading carries `ad_spend` only when every
such account answered), and, after a room ended, its per-minute figures (a `MinuteSeries`),
fetched on the poll that closes the session and then hourly for 48 hours until they are
stored, as cumulative readings that never change the final figures (pollers/minutes.py).
"""

from __future__ import annotations

import logging
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from decimal import Decimal
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.engine import Engine

from events import DuplicateConflict, Recorder
from events.catalogue import stream_id_for
from events.clock import now_micros
from events.envelope import parse_event
from events.fields import format_timestamp
from events.recorder import NewEvent
from projections.clock import minute_of
from service.ingest.connections.refresh import refresh_connection
from service.ingest.connections.shops import ShopApis
from service.ingest.connections.store import Connection
from service.ingest.connectors.errors import DetailUnavailable
from service.ingest.platform_apis.http import PlatformApiError
from service.ingest.pollers.base import (
    MinuteSeries,
    RoomPoller,
    RoomReading,
    SpendReader,
    fen_rounded,
)
from service.ingest.pollers.minutes import cumulative, verified
from service.reads import views

log = logging.getLogger(__name__)

NAMESPACE = uuid.UUID("0f1f7a34-5d0e-4a8e-9b7a-3c2b6a1e9d42")
MAX_BACKOFF_SECONDS = 900
LEASE_SECONDS = 300
UNMAPPED_HOST = "unmapped"  # a room whose host nobody mapped yet (`livetally rooms map`)
# The ad spend of a room is read while it is live and for an hour after it ended.
SPEND_AFTER_END_US = 3600 * 1_000_000
# After a room ended, its per-minute figures are asked for on the poll that closes its session,
# then at each whole hour after the end, up to two days (the delay is not documented).
MINUTES_RETRY_MINUTES = 60
MINUTES_FOR_MINUTES = 48 * 60
PollerFactory = Callable[[Connection], RoomPoller]


def reading_id(platform: str, room: str, part: str) -> str:
    return str(uuid.uuid5(NAMESPACE, f"{platform}\n{room}\n{part}"))


class PollerJobs:
    def __init__(
        self,
        engine: Engine,
        recorder: Recorder,
        shops: ShopApis,
        pollers: Mapping[str, PollerFactory],
        streams_moved: Callable[[Iterable[str]], object],
        poll_seconds: float = 60.0,
        threads: int = 4,
        alert: Callable[[Connection, str], None] | None = None,
        clock: Callable[[], int] = now_micros,
        spend: Mapping[str, SpendReader] | None = None,
    ) -> None:
        self.engine = engine
        self.recorder = recorder
        self.shops = shops
        self.pollers = pollers
        self.streams_moved = streams_moved
        self.poll_us = int(poll_seconds * 1_000_000)
        self.threads = threads
        self.alert = alert
        self.clock = clock
        self.spend = spend or {}  # a shop's connection platform -> where its rooms' spend is
        self.owner = f"{socket.gethostname()}:{os.getpid()}:poll"

    def poll_pass(self) -> list[str]:
        """Poll every due connection (bounded concurrency); a line per connection polled."""
        now = self.clock()
        due = [
            c
            for c in self.shops.book.all()
            if c.platform in self.pollers and c.state != "failed" and c.next_poll_at <= now
        ]
        if not due:
            return []
        with ThreadPoolExecutor(max_workers=self.threads, thread_name_prefix="poller") as pool:
            return [line for line in pool.map(self._leased, due) if line]

    def _leased(self, connection: Connection) -> str | None:
        book = self.shops.book
        if not book.take_lease(connection.connection_id, self.owner, LEASE_SECONDS):
            return None
        try:
            return self.poll(connection)
        except Exception as exc:  # a bug in one poll must not end the pass for the others
            log.exception("poll of %s failed", connection.connection_id)
            return f"{connection.connection_id}: {type(exc).__name__}"
        finally:
            book.release_lease(connection.connection_id, self.owner)

    def poll(self, connection: Connection) -> str:
        now = self.clock()
        poller = self.pollers[connection.platform](connection)
        try:
            readings = poller.rooms(connection, now)
        except PlatformApiError as exc:
            if exc.auth and connection.secrets.get("refresh_token"):
                try:
                    connection = refresh_connection(self.shops, connection)
                    readings = poller.rooms(connection, now)
                except DetailUnavailable as again:
                    return self._failed(connection, now, again.detail)
            else:
                return self._failed(connection, now, exc.detail)
        readings = self._with_spend(connection, readings, now)
        appended = 0
        closed: list[RoomReading] = []
        for reading in readings:
            count, closing = self._take(connection, poller, reading, now)
            appended += count
            if closing:
                closed.append(reading)
        self.shops.book.record_poll(connection.connection_id, now, None, 0, now + self.poll_us)
        line = f"{connection.connection_id}: {len(readings)} rooms read, {appended} events"
        if isinstance(poller, MinuteSeries):
            for reading in readings:
                if reading in closed or self._minutes_due(reading, now):
                    try:
                        added = self.take_minutes(connection, poller, reading, now)
                    except PlatformApiError as exc:
                        if exc.rate_limited:
                            return self._failed(connection, now, exc.detail)
                        log.warning(
                            "room %s: per-minute figures not read: %s", reading.room_id, exc.detail
                        )
                        continue
                    if added:
                        line += f", {added} per-minute readings"
        return line

    # -- ad spend --------------------------------------------------------------------------

    def _with_spend(
        self, shop: Connection, readings: list[RoomReading], now: int
    ) -> list[RoomReading]:
        """The readings with `ad_spend` from every advertiser account connected for the shop
        (summed across accounts), when all of them answered; else as they were (the last
        reported spend stands, nothing is invented)."""
        reader = self.spend.get(shop.platform)
        if reader is None:
            return readings
        wanted = [
            r
            for r in readings
            if r.live or (r.ended_at_us is not None and now - r.ended_at_us <= SPEND_AFTER_END_US)
        ]
        if not wanted:
            return readings
        book = self.shops.book
        accounts = [
            a for a in book.all(reader.platform) if a.secrets.get("shop_id") == shop.account_id
        ]
        if not accounts:
            return readings
        totals: dict[str, Decimal] = {}
        complete = True
        for account in accounts:
            if account.state == "failed" or account.next_poll_at > now:
                complete = False  # backing off: this minute's sum would be short
                continue
            if not book.take_lease(account.connection_id, self.owner, LEASE_SECONDS):
                complete = False
                continue
            try:
                found = reader.spend(account, shop, wanted, now)
            except PlatformApiError as exc:
                self._failed(account, now, exc.detail)
                complete = False
                continue
            finally:
                book.release_lease(account.connection_id, self.owner)
            book.record_poll(account.connection_id, now, None, 0, now)
            for room, cost in found.items():
                totals[room] = totals.get(room, Decimal(0)) + cost
        if not complete or not totals:
            return readings
        rooms = {r.room_id for r in wanted}
        return [
            replace(r, figures={**r.figures, "ad_spend": fen_rounded(totals[r.room_id])})
            if r.room_id in rooms and r.room_id in totals
            else r
            for r in readings
        ]

    # -- per-minute figures after a room ended ---------------------------------------------

    @staticmethod
    def _minutes_due(reading: RoomReading, now: int) -> bool:
        if reading.live or reading.ended_at_us is None:
            return False
        since = minute_of(now) - minute_of(reading.ended_at_us)
        return 0 < since <= MINUTES_FOR_MINUTES and since % MINUTES_RETRY_MINUTES == 0

    def take_minutes(
        self,
        connection: Connection,
        poller: MinuteSeries,
        reading: RoomReading,
        now: int,
        refetch: bool = False,
    ) -> int:
        """The ended room's per-minute readings, once: nothing when its session is not ended
        or already holds them (unless `refetch`: fetched again, the same readings are the
        stored ones, their ids uuid5(platform, room, the minute), so nothing is stored
        twice). Raises PlatformApiError."""
        room = reading.room_id
        found = views.latest_session_of_room(self.engine, room)
        if found is None:
            return 0
        session_id = found[0]
        stored = self.recorder.read_stream(stream_id_for("session", session_id))
        ends = [e.occurred_at for e in stored if e.type == "session.ended"]
        if not ends:
            return 0
        if not refetch and any(
            e.type == "room.stats_reported" and e.data.get("source") == poller.minute_source
            for e in stored
        ):
            return 0
        proposed = cumulative(poller.minutes(connection, room), ends[-1])
        readings = verified(stored, proposed, poller.minute_source)
        events = [
            {
                "event_id": reading_id(poller.platform, room, f"minute:{r.minute}"),
                "type": "room.stats_reported",
                "session_id": session_id,
                "occurred_at": format_timestamp(r.occurred_at),
                "data": {"source": poller.minute_source, **r.figures},
                "metadata": {
                    "source": f"poller:{poller.minute_source}",
                    "correlation_id": room,
                },
            }
            for r in readings
        ]
        return self._append(events, now) if events else 0

    def _failed(self, connection: Connection, now: int, detail: str) -> str:
        failures = connection.poll_failures + 1
        wait = min(self.poll_us * 2 ** (failures - 1), MAX_BACKOFF_SECONDS * 1_000_000)
        self.shops.book.record_poll(
            connection.connection_id, now, detail[:1000], failures, now + wait
        )
        if failures == 1 and self.alert is not None:
            try:
                self.alert(connection, f"poll failed: {detail}")
            except Exception as exc:
                log.warning("could not alert about %s: %s", connection.connection_id, exc)
        log.warning(
            "connection %s: poll failed (%d in a row): %s",
            connection.connection_id,
            failures,
            detail,
        )
        return f"{connection.connection_id}: poll failed: {detail}"

    def _take(
        self, connection: Connection, poller: RoomPoller, reading: RoomReading, now: int
    ) -> tuple[int, bool]:
        """Events appended for the reading, and whether they closed the room's session."""
        room = reading.room_id
        platform = poller.platform
        found = views.latest_session_of_room(self.engine, room)
        events: list[dict[str, Any]] = []
        if found is None:
            if not reading.live:
                return 0, False  # a room that ended before livetally saw it: no session
            session_id = f"{platform}-{room}"[:128]
            events.append(self._started(connection, platform, session_id, reading, now))
            status = "live"
        else:
            session_id, status = found
        if reading.figures:
            events.append(
                {
                    "event_id": reading_id(platform, room, f"reading:{minute_of(now)}"),
                    "type": "room.stats_reported",
                    "session_id": session_id,
                    "occurred_at": format_timestamp(now),
                    "data": {"source": poller.source, **reading.figures},
                    "metadata": {"source": f"poller:{poller.source}", "correlation_id": room},
                }
            )
        closing = not reading.live and status != "ended"
        if closing:
            events.append(
                {
                    "event_id": reading_id(platform, room, "ended"),
                    "type": "session.ended",
                    "session_id": session_id,
                    "occurred_at": format_timestamp(min(reading.ended_at_us or now, now)),
                    "data": {"reason": f"{poller.source}: the platform says the room ended"},
                    "metadata": {"source": f"poller:{poller.source}", "correlation_id": room},
                }
            )
        return self._append(events, now), closing

    def _started(
        self,
        connection: Connection,
        platform: str,
        session_id: str,
        reading: RoomReading,
        now: int,
    ) -> dict[str, Any]:
        host = self.shops.book.host_of(reading.room_id, reading.account or "") or UNMAPPED_HOST
        shop = connection.secrets.get("shop_id") or (
            connection.account_id if connection.platform != "qianchuan" else None
        )
        data: dict[str, Any] = {"host_id": host, "room_id": reading.room_id, "platform": platform}
        if reading.title:
            data["title"] = reading.title
        if shop:
            data["shop_id"] = shop
        return {
            "event_id": reading_id(platform, reading.room_id, "started"),
            "type": "session.started",
            "session_id": session_id,
            "occurred_at": format_timestamp(min(reading.started_at_us or now, now)),
            "data": data,
            "metadata": {"source": f"poller:{platform}", "correlation_id": reading.room_id},
        }

    def _append(self, raw_events: list[dict[str, Any]], now: int) -> int:
        """Validated as any producer's; an event already stored differently (the same minute
        read twice with other figures, a title that changed) keeps its first telling."""
        events: list[NewEvent] = []
        for raw in raw_events:
            try:
                events.append(parse_event(raw, now))
            except ValidationError as exc:
                log.warning(
                    "a reading of room %s was refused: %s", raw.get("session_id"), exc.messages
                )
        while events:
            try:
                result = self.recorder.append(events)
            except DuplicateConflict as exc:
                events = events[: exc.index] + events[exc.index + 1 :]
                continue
            self.streams_moved(result.heads)
            return result.appended
        return 0
