"""The intake: a platform push in, catalogue events appended, every message's fate recorded.

For each message of a verified push: a message already done is a no-op; otherwise its
connector maps and attributes it (reading the session views and the platform APIs through
`SqlContext`), the events are validated by the catalogue like any producer's and appended in one
call (atomic per message), and the ledger records `appended`, `ignored` or `dead` with a
reason. Replay runs the dead letters again through the same path.
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
from service.ingest.connectors import ledger
from service.ingest.connectors.base import Connector, Message
from service.ingest.connectors.details import OrderDetails, PlatformOrder, PlatformRefund
from service.ingest.connectors.errors import DeadLetter, DetailUnavailable
from service.reads import views

log = logging.getLogger(__name__)


@dataclass
class SqlContext:
    engine: Engine
    details: OrderDetails

    def order_session(self, order_id: str) -> str | None:
        return views.order_session(self.engine, order_id)

    def live_session(self, column: str, value: str, at_us: int) -> str | None:
        return views.live_session_at(self.engine, column, value, at_us)


class _FailOnce:
    """Within one push: once the detail API has failed, the push's other messages become dead
    letters at once instead of each waiting out the timeout (the platform's deadline holds)."""

    def __init__(self, details: OrderDetails) -> None:
        self.details = details
        self.failure: DetailUnavailable | None = None

    def order(self, platform: str, shop_id: str, order_ref: str) -> PlatformOrder:
        return self._call(lambda: self.details.order(platform, shop_id, order_ref))

    def refund(
        self, platform: str, shop_id: str, order_ref: str, refund_ref: str
    ) -> PlatformRefund:
        return self._call(lambda: self.details.refund(platform, shop_id, order_ref, refund_ref))

    def _call(self, call: Callable[[], Any]) -> Any:
        if self.failure is not None:
            raise DetailUnavailable(f"{self.failure.detail} (earlier in this push)")
        try:
            return call()
        except DetailUnavailable as exc:
            self.failure = exc
            raise


@dataclass
class Taken:
    """What one push or replay did, message by message."""

    appended: int = 0  # events
    messages: dict[str, int] = field(default_factory=dict)  # status -> count
    reasons: dict[str, int] = field(default_factory=dict)  # dead letter reason -> count

    def add(self, status: str, events: int, reason: str | None) -> None:
        self.appended += events
        self.messages[status] = self.messages.get(status, 0) + 1
        if reason is not None and status == "dead":
            self.reasons[reason] = self.reasons.get(reason, 0) + 1


@dataclass
class Intake:
    engine: Engine
    recorder: Recorder
    connectors: Mapping[str, Connector]
    details: OrderDetails
    streams_moved: Callable[[Iterable[str]], object]
    clock: Callable[[], int] = now_micros

    def receive(self, platform: str, body: bytes, headers: Mapping[str, str]) -> Taken:
        """Verified and split by the caller's connector: raises SignatureInvalid or
        MalformedPush before anything is stored."""
        connector = self.connectors[platform]
        connector.verify(body, headers)
        messages = connector.split(body, headers)
        kept = {name: headers[name] for name in connector.signature_headers if name in headers}
        text = body.decode("utf-8", errors="replace")
        taken = Taken()
        details = _FailOnce(self.details)
        for message in messages:
            seen = ledger.entry(self.engine, platform, message.message_id)
            if seen is not None and seen["status"] in ledger.DONE:
                taken.add("duplicate", 0, None)
                continue
            self._take(connector, message, text, kept, seen, taken, details)
        return taken

    def replay(self, platform: str | None = None) -> Taken:
        taken = Taken()
        for row in ledger.iter_dead(self.engine, platform):
            connector = self.connectors.get(row["platform"])
            if connector is None:
                taken.add("skipped", 0, None)
                continue
            message = Message.from_stored(row["message_id"], row["message"])
            self._take(connector, message, row["body"], row["headers"], row, taken, self.details)
        return taken

    def _take(
        self,
        connector: Connector,
        message: Message,
        body: str,
        headers: Mapping[str, Any],
        seen: dict[str, Any] | None,
        taken: Taken,
        details: OrderDetails,
    ) -> None:
        now = self.clock()
        status, reason, appended = "appended", None, 0
        try:
            outcome = connector.handle(message, SqlContext(self.engine, details))
            try:
                events = [parse_event(raw, now) for raw in outcome.events]
            except ValidationError as exc:
                raise DeadLetter(
                    "invalid", f"the mapped event is invalid: {exc.messages}"
                ) from None
            if events:
                result = self.recorder.append(events)
                appended = result.appended
                self.streams_moved(result.heads)
            else:
                status, reason = "ignored", outcome.ignored
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
                "reason": reason,
                "kind": message.kind,
                "order_ref": message.order_ref,
                "received_at": seen["received_at"] if seen else now,
                "updated_at": now,
                "attempts": (seen["attempts"] if seen else 0) + 1,
                "appended": appended,
                "message": message.stored(),
                "body": body,
                "headers": dict(headers),
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
