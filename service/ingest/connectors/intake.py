"""The intake: a platform push in, catalogue events appended, every message's fate recorded.

For each message of a verified push: a message already done (or already queued) is a no-op;
otherwise its connector maps and attributes it (reading the session views through
`SqlContext`). A message that needs the platform's API is not looked up inside the push
request: it is recorded `queued` and a worker finishes it (`take_queued`), so the platform gets
its acknowledgement within its deadline. Events are validated by the catalogue like any
producer's and appended in one call (atomic per message); the ledger records `appended`,
`ignored`, `queued` or `dead` with a reason. Replay runs the dead letters again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from marshmallow import ValidationError
from sqlalchemy.engine import Engine

from events import DuplicateConflict, Recorder
from events.clock import now_micros
from events.envelope import parse_event
from events.recorder import NewEvent
from service.ingest.connectors import ledger
from service.ingest.connectors.base import Connector, Message, Push
from service.ingest.connectors.details import OrderDetails, PlatformOrder, PlatformRefund
from service.ingest.connectors.errors import DeadLetter, DetailDeferred, DetailUnavailable
from service.reads import views

log = logging.getLogger(__name__)

MAX_QUEUED_ATTEMPTS = 8  # then the message is a dead letter with the API's last answer
FIRST_WAIT_US = 60_000_000  # a message's own dramatiq message normally takes it before this
HELD_FOR_US = 300_000_000  # a claim older than this belonged to a worker that died
QueueMessages = Callable[[str, list[str]], None]


@dataclass
class SqlContext:
    engine: Engine
    details: OrderDetails

    def order_session(self, order_id: str) -> str | None:
        return views.order_session(self.engine, order_id)

    def live_session(self, column: str, value: str, at_us: int) -> str | None:
        return views.live_session_at(self.engine, column, value, at_us)


class DeferredDetails:
    """Inside a push request: any look-up defers the message to a worker."""

    def order(self, platform: str, shop_id: str, order_ref: str) -> PlatformOrder:
        raise DetailDeferred(f"{platform} order {order_ref} needs its detail")

    def refund(
        self, platform: str, shop_id: str, order_ref: str, refund_ref: str
    ) -> PlatformRefund:
        raise DetailDeferred(f"{platform} refund {refund_ref} needs its detail")


@dataclass
class Taken:
    """What one push, replay or queued run did, message by message."""

    appended: int = 0  # events
    messages: dict[str, int] = field(default_factory=dict)  # status -> count
    reasons: dict[str, int] = field(default_factory=dict)  # dead letter reason -> count

    def add(self, status: str, events: int, reason: str | None) -> None:
        self.appended += events
        self.messages[status] = self.messages.get(status, 0) + 1
        if reason is not None and status == "dead":
            self.reasons[reason] = self.reasons.get(reason, 0) + 1


def queued_backoff_us(attempts: int) -> int:
    """How long a queued message waits after its `attempts`-th try before the queued pass
    sends it again: 5 s doubling to 10 min; before any try, FIRST_WAIT_US (its own dramatiq
    message is on the way)."""
    if attempts == 0:
        return FIRST_WAIT_US
    return min(5 * 2 ** (attempts - 1), 600) * 1_000_000


def no_queue(platform: str, message_ids: list[str]) -> None:
    """No worker to tell: the queued pass (`retry_queued`) finds them."""


@dataclass
class Intake:
    engine: Engine
    recorder: Recorder
    connectors: Mapping[str, Connector]
    details: OrderDetails
    streams_moved: Callable[[Iterable[str]], object]
    queue_messages: QueueMessages = no_queue
    clock: Callable[[], int] = now_micros

    def receive(self, platform: str, push: Push) -> Taken:
        """Verified and split by the platform's connector: raises SignatureInvalid or
        MalformedPush before anything is stored."""
        connector = self.connectors[platform]
        connector.verify(push)
        messages = connector.split(push)
        taken = Taken()
        deferred = DeferredDetails()
        queued: list[str] = []
        for message in messages:
            seen = ledger.entry(self.engine, platform, message.message_id)
            if seen is not None and (
                seen["status"] in ledger.DONE or seen["status"] in ledger.WAITING
            ):
                taken.add("duplicate", 0, None)
                continue
            if self._take(connector, message, seen, taken, deferred) == ledger.QUEUED:
                queued.append(message.message_id)
        if queued:
            try:
                self.queue_messages(platform, queued)
            except Exception as exc:  # the queued pass picks them up
                log.warning("could not queue %d %s messages: %s", len(queued), platform, exc)
        return taken

    def take_queued(self, platform: str, message_id: str) -> str | None:
        """A worker finishes a queued message with the platform's API; its status after.
        Claimed first, so one worker takes it however many times it was sent."""
        connector = self.connectors.get(platform)
        now = self.clock()
        if connector is None or not ledger.claim(
            self.engine, platform, message_id, now, now - HELD_FOR_US
        ):
            row = ledger.entry(self.engine, platform, message_id)
            return None if row is None else str(row["status"])
        row = ledger.full_entry(self.engine, platform, message_id)
        assert row is not None
        message = Message.from_stored(message_id, row["message"])
        return self._take(connector, message, row, Taken(), self.details, queued=True)

    def retry_queued(self) -> int:
        """The queued pass: each queued message whose wait is over is sent to the workers
        again (a lost dramatiq message, an API that was down), and one held by a worker that
        died is taken back. Returns how many."""
        now = self.clock()
        due: dict[str, list[str]] = {}
        for row in ledger.queued(self.engine):
            if row["status"] == ledger.TAKING:
                if row["updated_at"] >= now - HELD_FOR_US:
                    continue
            elif row["updated_at"] + queued_backoff_us(row["attempts"]) > now:
                continue
            due.setdefault(row["platform"], []).append(row["message_id"])
        for platform, message_ids in due.items():
            if self.queue_messages is no_queue:
                for message_id in message_ids:
                    self.take_queued(platform, message_id)
            else:
                ledger.touch(self.engine, platform, message_ids, now)
                self.queue_messages(platform, message_ids)
        return sum(len(ids) for ids in due.values())

    def replay(self, platform: str | None = None) -> Taken:
        taken = Taken()
        for row in ledger.iter_dead(self.engine, platform):
            connector = self.connectors.get(row["platform"])
            if connector is None:
                taken.add("skipped", 0, None)
                continue
            message = Message.from_stored(row["message_id"], row["message"])
            self._take(connector, message, row, taken, self.details)
        return taken

    def append_facts(self, raw_events: list[dict[str, Any]]) -> tuple[int, list[str]]:
        """Validate and append; an order fact already told differently (another message or
        reading gave it another time or amount) keeps its first telling and is dropped here.
        Returns the events appended and the facts dropped. Raises ValidationError."""
        now = self.clock()
        events = [parse_event(raw, now) for raw in raw_events]
        dropped: list[str] = []
        while events:
            try:
                result = self.recorder.append(events)
            except DuplicateConflict as exc:
                cause = str(events[exc.index].metadata.get("causation_id") or "")
                if not cause.startswith("fact:"):
                    raise
                dropped.append(cause.removeprefix("fact:"))
                events = _without(events, exc.index)
                continue
            self.streams_moved(result.heads)
            return result.appended, dropped
        return 0, dropped

    def _take(
        self,
        connector: Connector,
        message: Message,
        seen: dict[str, Any] | None,
        taken: Taken,
        details: OrderDetails,
        queued: bool = False,
    ) -> str:
        now = self.clock()
        status, reason, appended = "appended", None, 0
        attempts = (seen["attempts"] if seen else 0) + 1
        try:
            outcome = connector.handle(message, SqlContext(self.engine, details))
            if outcome.events:
                try:
                    appended, dropped = self.append_facts(outcome.events)
                except ValidationError as exc:
                    raise DeadLetter(
                        "invalid", f"the mapped event is invalid: {exc.messages}"
                    ) from None
                if dropped:
                    reason = f"already told differently, first telling kept: {', '.join(dropped)}"
            else:
                status, reason = "ignored", outcome.ignored
        except DetailDeferred as exc:
            status, reason = ledger.QUEUED, str(exc)
        except DetailUnavailable as exc:
            if queued and attempts < MAX_QUEUED_ATTEMPTS:
                status, reason = ledger.QUEUED, f"retrying: {exc}"
            else:
                status, reason = "dead", str(exc)
        except DuplicateConflict as exc:
            status, reason = "dead", f"event_id_conflict: {exc}"
        except DeadLetter as exc:
            status, reason = "dead", str(exc)
        ledger.record(
            self.engine,
            {
                "platform": connector.name,
                "message_id": message.message_id,
                "status": status,
                "reason": reason[:2000] if reason else None,
                "kind": message.kind[:64],
                "order_ref": message.order_ref,
                "received_at": seen["received_at"] if seen else now,
                "updated_at": now,
                "attempts": attempts if status != ledger.QUEUED or queued else 0,
                "appended": appended,
                "message": message.stored(),
            },
        )
        if status == "dead":
            log.info(
                "%s message %s kept as a dead letter: %s",
                connector.name,
                message.message_id,
                reason,
            )
        taken.add(status, appended, (reason or "").split(":")[0] or None)
        return status


def _without(events: list[NewEvent], index: int) -> list[NewEvent]:
    return events[:index] + events[index + 1 :]
