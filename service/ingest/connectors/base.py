"""What every connector shares: the message and outcome shapes, the context a connector reads
attribution from, and the conversions from platform values (ids, times, amounts) to the
catalogue's wire shape.

A connector is pure apart from its `Context`: it turns one platform message into wire-shaped
catalogue events, and the intake validates, appends and records them.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from events.fields import format_timestamp
from service.ingest.connectors.details import OrderDetails

# uuid5 namespace of every event a connector derives from a platform message id.
EVENT_NAMESPACE = uuid.UUID("5b0c7d84-9a4e-4c55-8a43-0d6f1f0c2a61")


@dataclass(frozen=True)
class Push:
    """One HTTP request from a platform: its raw body, headers (lower-case names) and query."""

    body: bytes
    headers: Mapping[str, str]
    query: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class App:
    """A platform app's credentials: what a push is verified with and the APIs are signed with.
    `extra` holds what some platforms add (WeChat's token and EncodingAESKey, Kuaishou's message
    secret, Douyin's per-message-type secrets)."""

    platform: str
    app_key: str
    app_secret: str
    extra: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Message:
    """One platform message out of a push (Doudian and Douyin push lists of them)."""

    message_id: str
    kind: str  # the platform's tag or type, as the ledger and dead letters show it
    data: dict[str, Any]
    order_ref: str | None = None  # the platform's order id, for order messages
    room_id: str | None = None  # Douyin: the live room the push is about
    at_us: int | None = None  # Douyin: the push's own time, for payloads without one
    shop_ref: str | None = None  # the shop or account the message is about, when it says
    unreadable: str | None = None  # why the message could not be read (it becomes a dead letter)

    def stored(self) -> dict[str, Any]:
        """What the ledger keeps to run the message again (`from_stored`): the message's own
        data, never the whole push it came in."""
        return {
            "kind": self.kind,
            "data": self.data,
            "order_ref": self.order_ref,
            "room_id": self.room_id,
            "at_us": self.at_us,
            "shop_ref": self.shop_ref,
            "unreadable": self.unreadable,
        }

    @classmethod
    def from_stored(cls, message_id: str, raw: dict[str, Any]) -> Message:
        return cls(
            message_id=message_id,
            kind=raw["kind"],
            data=raw["data"],
            order_ref=raw.get("order_ref"),
            room_id=raw.get("room_id"),
            at_us=raw.get("at_us"),
            shop_ref=raw.get("shop_ref"),
            unreadable=raw.get("unreadable"),
        )


@dataclass(frozen=True)
class Outcome:
    """What one message became: wire-shaped events to append, or none (with why)."""

    events: list[dict[str, Any]] = field(default_factory=list)
    ignored: str | None = None


class Context(Protocol):
    """The read side a connector attributes with (the session views and the platform APIs)."""

    details: OrderDetails

    def order_session(self, order_id: str) -> str | None:
        """The session an order (catalogue order_id) was placed in, if known."""

    def live_session(self, column: str, value: str, at_us: int) -> str | None:
        """The session with this shop_id or room_id that was live at `at_us` (latest started)."""


class Connector(Protocol):
    name: str

    def verify(self, push: Push) -> None:
        """Raises SignatureInvalid."""

    def split(self, push: Push) -> list[Message]:
        """Raises MalformedPush (the body as a whole unreadable). A message inside it that
        cannot be read comes back with `unreadable` set: it becomes a dead letter."""

    def handle(self, message: Message, context: Context) -> Outcome:
        """Raises DeadLetter, or DetailDeferred (through the context) when a platform API
        must be asked first: the message is then queued and handled by a worker."""

    def acknowledgement(self, push: Push) -> tuple[bytes, int, str]:
        """The body, status and content type the platform expects for a push it should not
        send again."""


def event_id(platform: str, message_id: str, part: str = "") -> str:
    """Deterministic: a platform's retry of a message gives the same ids (a duplicate)."""
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{platform}\n{message_id}\n{part}"))


def fact_id(platform: str, fact: str) -> str:
    """The id of an order fact (placed, paid, cancelled, one refund), whichever message or
    order-list reading told it: a push and the reconciliation that finds the same order give
    one event, so a missed push is recovered and a pushed one is a no-op."""
    return str(uuid.uuid5(EVENT_NAMESPACE, f"{platform}\nfact\n{fact}"))


def json_ack(body: dict[str, Any]) -> tuple[bytes, int, str]:
    return orjson.dumps(body), 200, "application/json"


def wire_event(
    platform: str,
    message_id: str,
    part: str,
    type_: str,
    session_id: str,
    at_us: int,
    data: dict[str, Any],
    fact: str | None = None,
) -> dict[str, Any]:
    """`fact`: an order fact's key, which names the event instead of the message (fact_id)."""
    return {
        "event_id": fact_id(platform, fact) if fact else event_id(platform, message_id, part),
        "type": type_,
        "session_id": session_id,
        "occurred_at": format_timestamp(at_us),
        "data": data,
        "metadata": {
            "source": f"connector:{platform}",
            "correlation_id": message_id[:200],
            # An order fact (first told wins: the intake drops a later telling that differs).
            **({"causation_id": f"fact:{fact}"[:200]} if fact else {}),
        },
    }
