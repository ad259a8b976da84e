"""The platforms' detail API clients against a local server answering recorded responses: the
request is signed as the platforms document, the answer parsed; an unreachable API is a
DetailUnavailable, never an amount."""

from __future__ import annotations

import json
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from service.ingest.connectors.details import HttpOrderDetails, doudian_sign, tiktok_sign
from service.ingest.connectors.errors import DetailUnavailable
from tests.connector_support import fixture


class Recorded(BaseHTTPRequestHandler):
    answers: dict[str, Any] = {}
    seen: list[dict[str, Any]] = []

    def _answer(self) -> None:
        url = urllib.parse.urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        self.seen.append(
            {
                "path": url.path,
                "query": dict(urllib.parse.parse_qsl(url.query)),
                "body": self.rfile.read(length).decode(),
                "headers": {k.lower(): v for k, v in self.headers.items()},
            }
        )
        body = json.dumps(self.answers[url.path]).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = _answer

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorded)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Recorded.seen = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def test_doudian_order_detail_is_signed_and_parsed(server: str) -> None:
    Recorded.answers = {
        "/order/orderDetail": fixture("doudian", "order_details.json")["answers"][
            "4810000000000000021"
        ]
    }
    client = HttpOrderDetails(
        doudian_app_key="k",
        doudian_app_secret="s",
        doudian_access_token="t",
        doudian_base_url=server,
    )
    order = client.order("doudian", "95250", "4810000000000000021")
    assert [(x.line_ref, x.amount_fen, x.quantity) for x in order.lines] == [
        ("4810000000000000022", 10000, 2),
        ("4810000000000000023", 5800, 1),
    ]
    (request,) = Recorded.seen
    query = request["query"]
    assert (query["method"], query["access_token"], query["sign_method"]) == (
        "order.orderDetail",
        "t",
        "hmac-sha256",
    )
    assert request["body"] == '{"shop_order_id":"4810000000000000021"}'
    assert query["sign"] == doudian_sign(
        "k", "s", "order.orderDetail", request["body"], query["timestamp"]
    )


def test_tiktok_order_and_return_details_are_signed_and_parsed(server: str) -> None:
    Recorded.answers = {
        "/order/202309/orders": fixture("tiktok_shop", "order_details.json")["answers"][
            "576461413038785752"
        ],
        "/return_refund/202309/returns/search": fixture("tiktok_shop", "return_details.json")[
            "answers"
        ]["4035318504086278195"],
    }
    client = HttpOrderDetails(
        tiktok_app_key="k",
        tiktok_app_secret="s",
        tiktok_access_token="t",
        tiktok_shop_cipher="c",
        tiktok_base_url=server,
    )
    order = client.order("tiktok_shop", "shop", "576461413038785752")
    assert [(x.product_ref, x.quantity, x.amount_fen) for x in order.lines] == [
        ("1729385432345", 2, 5000),
        ("1729385432999", 1, 990),
    ]
    refund = client.refund("tiktok_shop", "shop", "576461413038785752", "4035318504086278195")
    assert (refund.total_fen, refund.by_item) == (2500, {"577087614418520001": 2500})
    get, post = Recorded.seen
    assert get["headers"]["x-tts-access-token"] == "t"
    params = {k: v for k, v in get["query"].items() if k != "sign"}
    assert get["query"]["sign"] == tiktok_sign("s", "/order/202309/orders", params, "")
    assert post["body"] == '{"return_ids":["4035318504086278195"]}'
    params = {k: v for k, v in post["query"].items() if k != "sign"}
    assert post["query"]["sign"] == tiktok_sign(
        "s", "/return_refund/202309/returns/search", params, post["body"]
    )


def test_an_unreachable_or_unconfigured_api_is_detail_unavailable() -> None:
    client = HttpOrderDetails(
        tiktok_app_key="k",
        tiktok_app_secret="s",
        tiktok_access_token="t",
        tiktok_base_url="http://127.0.0.1:9",
    )
    with pytest.raises(DetailUnavailable, match="unreachable"):
        client.order("tiktok_shop", "shop", "1")
    with pytest.raises(DetailUnavailable, match="configured"):
        HttpOrderDetails().order("doudian", "shop", "1")
