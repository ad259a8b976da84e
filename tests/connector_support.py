"""Connector test support: the recorded fixtures, the platforms' signatures computed as their
documents say (independently of the connectors' code), and a fake OrderDetails that answers
from recorded responses through the real parsers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from service.ingest.connectors.details import (
    PlatformOrder,
    PlatformRefund,
    parse_doudian_order,
    parse_tiktok_order,
    parse_tiktok_refund,
)
from service.ingest.connectors.errors import DetailUnavailable
from tests.builders import Broadcast

if TYPE_CHECKING:
    from tests.integration.conftest import Api

FIXTURES = Path(__file__).parent / "fixtures" / "connectors"
DOUDIAN_KEY, DOUDIAN_SECRET = "7153312345678901234", "dd-secret-0d7f1e"
TIKTOK_KEY, TIKTOK_SECRET = "6abcd1234efgh", "tt-secret-9a8b7c"
DOUYIN_SECRET = "dy-secret-5e4d3c"
DOUYIN_PUSHED_AT_US = 1_714_300_001_000_000  # the recorded pushes' time: their "now"
CONNECTOR_SETTINGS: dict[str, Any] = {
    "doudian_app_key": DOUDIAN_KEY,
    "doudian_app_secret": DOUDIAN_SECRET,
    "tiktok_shop_app_key": TIKTOK_KEY,
    "tiktok_shop_app_secret": TIKTOK_SECRET,
    "douyin_live_secret": DOUYIN_SECRET,
}


def fixture(platform: str, name: str) -> Any:
    return json.loads((FIXTURES / platform / name).read_text(encoding="utf-8"))


def compact(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def doudian_request(messages: list[dict[str, Any]]) -> tuple[bytes, dict[str, str]]:
    return doudian_signed(compact(messages))


def doudian_signed(body: bytes) -> tuple[bytes, dict[str, str]]:
    """Any body, signed as Doudian signs a push."""
    sign = hashlib.md5(DOUDIAN_KEY.encode() + body + DOUDIAN_SECRET.encode()).hexdigest()
    return body, {"app-id": DOUDIAN_KEY, "event-sign": sign}


def tiktok_request(webhook: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    body = compact(webhook)
    sign = hmac.new(TIKTOK_SECRET.encode(), TIKTOK_KEY.encode() + body, "sha256").hexdigest()
    return body, {"Authorization": sign}


def douyin_request(
    push: dict[str, Any], room: str, secret: str = DOUYIN_SECRET
) -> tuple[bytes, dict[str, str]]:
    body = compact(push["payloads"])
    headers = {
        "x-nonce-str": push["nonce"],
        "x-timestamp": str(push["timestamp"]),
        "x-roomid": room,
        "x-msg-type": push["msg_type"],
    }
    signed = "&".join(f"{k}={headers[k]}" for k in sorted(headers))
    digest = hmac_free_md5(signed.encode() + body + secret.encode())
    return body, {**headers, "x-signature": base64.b64encode(digest).decode()}


def hmac_free_md5(data: bytes) -> bytes:
    """The platform's own scheme is a plain MD5 over headers, body and secret (not an HMAC)."""
    return hashlib.md5(data).digest()


def finish_queued(intake: Any) -> int:
    """What a worker does with the messages a push queued: each is taken with the platform's
    API now (the tests' stand-in for the dramatiq actor and the queued pass)."""
    from service.ingest.connectors import ledger

    rows = ledger.queued(intake.engine)
    for row in rows:
        intake.take_queued(row["platform"], row["message_id"])
    return len(rows)


class RecordedDetails:
    """OrderDetails from the recorded answers; `down` makes it an unreachable API."""

    def __init__(self) -> None:
        self.orders = {
            "doudian": fixture("doudian", "order_details.json")["answers"],
            "tiktok_shop": fixture("tiktok_shop", "order_details.json")["answers"],
        }
        self.returns = fixture("tiktok_shop", "return_details.json")["answers"]
        self.down = False
        self.calls = 0

    def order(self, platform: str, shop_id: str, order_ref: str) -> PlatformOrder:
        self.calls += 1
        if self.down:
            raise DetailUnavailable("recorded API down")
        answer = self.orders[platform].get(order_ref)
        if answer is None:
            raise DetailUnavailable(f"no recorded answer for {order_ref}")
        parse = parse_doudian_order if platform == "doudian" else parse_tiktok_order
        return parse(answer)

    def refund(
        self, platform: str, shop_id: str, order_ref: str, refund_ref: str
    ) -> PlatformRefund:
        self.calls += 1
        if self.down:
            raise DetailUnavailable("recorded API down")
        return parse_tiktok_refund(self.returns[refund_ref])


def start(
    api: Api,
    session: str,
    at: datetime,
    *,
    shop: str | None = None,
    room: str = "r-1",
    end: float | None = None,
) -> None:
    extra = {} if shop is None else {"shop_id": shop}
    b = Broadcast(session, at).start(0, room_id=room, **extra)
    if end is not None:
        b.end(end)
    assert api.post({"events": b.events}).status_code == 201
    api.project_all()


def push(api: Api, platform: str, body: bytes, headers: dict[str, str], worker: bool = True) -> Any:
    """The platform's push, then (`worker`) the worker's look-ups of what it queued."""
    response = api.client.post(
        f"/api/v1/connectors/{platform}",
        data=body,
        headers={**headers, "Content-Type": "application/json"},
    )
    if worker:
        finish_queued(api.runtime.intake)
    return response


def figures(api: Api, session: str) -> dict[str, Any]:
    api.project_all()
    body = api.get(f"/api/v1/sessions/{session}").json
    m = body["metrics"]
    return {
        k: m[k] for k in ("orders_placed", "orders_paid", "gmv", "refunds", "net_gmv", "buyers")
    }
