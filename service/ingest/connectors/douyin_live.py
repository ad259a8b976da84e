"""Douyin live-room open data push (直播间数据开放): comments, gifts, likes, fan-club joins.

A push is a JSON list of payloads of one message type, for one room, signed as the platform
documents: the headers x-msg-type, x-nonce-str, x-roomid and x-timestamp as `key=value` in key
order joined with `&`, then the body and the secret, MD5 (16 bytes), base64 = x-signature.
Each message type has its own data secret in the platform's console (comments, gifts, likes,
fan club): a push is checked with its type's secret, else the default one. A push whose
x-timestamp is more than FRESH_SECONDS away from now is refused (a replay of a captured push).
The room is mapped to the session of that room_id live at the message's time. Comments reach
livetally only when they contain a keyword configured on the platform (docs/connectors.md).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from collections.abc import Callable, Mapping
from typing import Any

import orjson

from events.catalogue import MAX_COUNT
from events.clock import now_micros
from events.fields import format_timestamp
from service.ingest.connectors.base import Context, Message, Outcome, Push, json_ack, wire_event
from service.ingest.connectors.errors import DeadLetter, MalformedPush, SignatureInvalid
from service.ingest.connectors.values import field_of, identifier, unix_time_us

PLATFORM = "douyin_live"
SIGNED_HEADERS = ("x-msg-type", "x-nonce-str", "x-roomid", "x-timestamp")  # in key order
MAX_MESSAGES = 1000
FRESH_SECONDS = 600  # how far x-timestamp may be from now (the platform retries within seconds)
TEXT_LIMIT = 500  # the catalogue's limit on comment text
FANSCLUB_JOINED = 2  # fansclub_reason_type: 1 is a level-up, 2 a join
# msg type -> (interaction kind, the payload's count field or None for 1)
INTERACTIONS = {
    "live_comment": ("comment", None),
    "live_gift": ("gift", "gift_num"),
    "live_like": ("like", "like_num"),
    "live_follow": ("follow", None),
}


class DouyinLiveConnector:
    name = PLATFORM

    def __init__(
        self,
        secret: str | None,
        secrets_by_type: Mapping[str, str] | None = None,
        clock: Callable[[], int] = now_micros,
    ) -> None:
        self.secret = secret
        self.secrets_by_type = dict(secrets_by_type or {})
        self.clock = clock

    def verify(self, push: Push) -> None:
        body, headers = push.body, push.headers
        sign = headers.get("x-signature")
        missing = [name for name in SIGNED_HEADERS if not headers.get(name)]
        if not sign or missing:
            raise SignatureInvalid(
                "missing signature headers: "
                + ", ".join(missing + ([] if sign else ["x-signature"]))
            )
        secret = self.secrets_by_type.get(headers["x-msg-type"], self.secret)
        if not secret:
            raise SignatureInvalid(f"no data secret is configured for {headers['x-msg-type'][:40]}")
        signed = "&".join(f"{name}={headers[name]}" for name in SIGNED_HEADERS)
        digest = hashlib.md5(signed.encode() + body + secret.encode()).digest()
        if not hmac.compare_digest(base64.b64encode(digest).decode(), sign.strip()):
            raise SignatureInvalid("x-signature does not match the headers and body")
        try:
            pushed_at = unix_time_us(headers["x-timestamp"], "x-timestamp")
        except DeadLetter:
            raise SignatureInvalid("x-timestamp must be a Unix time in milliseconds") from None
        if abs(self.clock() - pushed_at) > FRESH_SECONDS * 1_000_000:
            raise SignatureInvalid(
                f"x-timestamp is more than {FRESH_SECONDS} s from now: a stale or replayed push"
            )

    def split(self, push: Push) -> list[Message]:
        body, headers = push.body, push.headers
        try:
            payload = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            raise MalformedPush(f"the body is not valid JSON: {exc}") from None
        if isinstance(payload, dict):
            payload = [payload]
        if not isinstance(payload, list) or not payload:
            raise MalformedPush("the body must be a non-empty JSON list of payloads")
        if len(payload) > MAX_MESSAGES:
            raise MalformedPush(f"the body holds {len(payload)} payloads; at most {MAX_MESSAGES}")
        kind = headers["x-msg-type"][:64]
        room = headers["x-roomid"][:128]
        try:
            pushed_at = unix_time_us(headers["x-timestamp"], "x-timestamp")
        except DeadLetter:
            raise MalformedPush("x-timestamp must be a Unix time in milliseconds") from None
        messages = []
        for index, raw in enumerate(payload):
            message_id = raw.get("msg_id") if isinstance(raw, dict) else None
            why = None
            if not isinstance(raw, dict):
                why = f"payload {index} is not an object"
            elif not isinstance(message_id, str) or not 0 < len(message_id) <= 200:
                why = f"payload {index}: msg_id must be a string of 1-200 characters"
            if why is not None:
                own = orjson.dumps(raw)
                messages.append(
                    Message(
                        message_id=f"sha256:{hashlib.sha256(own).hexdigest()}",
                        kind=kind,
                        data={"raw": own.decode()[:20_000]},
                        room_id=room,
                        unreadable=why,
                    )
                )
                continue
            assert isinstance(raw, dict) and isinstance(message_id, str)
            messages.append(
                Message(message_id=message_id, kind=kind, data=raw, room_id=room, at_us=pushed_at)
            )
        return messages

    def acknowledgement(self, push: Push) -> tuple[bytes, int, str]:
        return json_ack({"err_no": 0, "err_msg": "success"})

    def handle(self, message: Message, context: Context) -> Outcome:
        if message.unreadable:
            raise DeadLetter("unreadable", message.unreadable)
        data = message.data
        kind = message.kind
        if kind not in INTERACTIONS and kind not in ("live_fansclub", "live_enter"):
            raise DeadLetter(
                "unknown_type", f"Douyin live msg type {kind!r} is not one livetally maps"
            )
        at = (
            unix_time_us(data["timestamp"], "timestamp") if data.get("timestamp") else message.at_us
        )
        assert at is not None
        viewer = identifier(field_of(data, "sec_openid", "the payload"), "sec_openid")
        room = message.room_id or ""
        session = context.live_session("room_id", room, at)
        if session is None:
            raise DeadLetter(
                "no_live_session", f"no session of room {room} was live at {format_timestamp(at)}"
            )
        mid = message.message_id
        if kind == "live_enter":
            return Outcome(
                events=[
                    wire_event(
                        PLATFORM, mid, "", "viewer.joined", session, at, {"viewer_id": viewer}
                    )
                ]
            )
        if kind == "live_fansclub":
            if data.get("fansclub_reason_type") != FANSCLUB_JOINED:
                return Outcome(ignored="fan club level-up, not a join")
            interaction, count = "fan_club_join", 1
        else:
            interaction, count_field = INTERACTIONS[kind]
            count = 1 if count_field is None else _count(data.get(count_field), count_field)
        body: dict[str, Any] = {"kind": interaction, "viewer_id": viewer, "count": count}
        if interaction == "comment":
            text = data.get("content")
            if not isinstance(text, str):
                raise DeadLetter("unreadable", "the comment has no content")
            body["text"] = text[:TEXT_LIMIT]
        return Outcome(
            events=[wire_event(PLATFORM, mid, "", "interaction.recorded", session, at, body)]
        )


def _count(value: Any, name: str) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 12:
        value = int(value)  # like_num has been seen as a string
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_COUNT:
        raise DeadLetter("unreadable", f"{name} must be a whole number from 1 to {MAX_COUNT:,}")
    return value
