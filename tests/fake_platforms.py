"""A local fake of the platforms' open APIs (Doudian and TikTok Shop), answering the recorded
public shapes over real HTTP: token create/get and refresh, authorised shops, order detail,
order list and return search. It checks each request's signature as the platforms document
it (its own code, not livetally's), issues tokens that expire, and serves orders from a store
a test changes, so the connections, their refresh and the reconciliation run against it as
against the platforms.

Live-room readings too: Qianchuan's today-live room list, TikTok Shop's LIVE performance list
and its per-minute performance after a LIVE ended (`data.performance.intervals`, the official
response sample's shape: Towfienes/AISC2026_LIVEFIT
tests/data/tiktok_shop/performance_per_minutes_trang_1.json), the WeChat Channels live
dashboard, and the TikTok API for Business: its advertiser token exchange and GMV Max report
(`{code, message, request_id, data: {list: [{dimensions, metrics}], page_info}}`, metrics as
decimal strings: tiktok/tiktok-business-api-sdk yml_files/gmv_max_report_get.yml, the doc's
livestream-level example).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DOUDIAN_OK = 10000
MINUTES_PATH = re.compile(r"/analytics/202510/shop_lives/([^/]+)/performance_per_minutes\Z")
BUSINESS_TOKEN = "/open_api/v1.3/oauth2/access_token/"
GMV_MAX_REPORT = "/open_api/v1.3/gmv_max/report/get/"


@dataclass
class Grant:
    account_id: str
    access_expires_at: float
    refresh_token: str


@dataclass
class FakePlatforms:
    doudian_app: tuple[str, str]
    tiktok_app: tuple[str, str]
    # shop id -> order id -> shop order (Doudian's shape) / order (TikTok's shape)
    doudian_orders: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    tiktok_orders: dict[str, dict[str, dict[str, Any]]] = field(default_factory=dict)
    tiktok_returns: dict[str, dict[str, Any]] = field(default_factory=dict)
    tiktok_shops: dict[str, dict[str, str]] = field(default_factory=dict)  # cipher -> shop
    codes: dict[str, str] = field(default_factory=dict)  # authorisation code -> account id
    access: dict[str, Grant] = field(default_factory=dict)  # access token -> grant
    refresh: dict[str, str] = field(default_factory=dict)  # refresh token -> account id
    token_seconds: int = 7 * 86400
    # live-room readings: aweme id -> Qianchuan room list; shop id -> TikTok LIVE sessions;
    # WeChat: export id -> getlivedata answer (its `live_items` listed by getlivelist)
    qianchuan_rooms: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tiktok_lives: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    wechat_lives: dict[str, dict[str, Any]] = field(default_factory=dict)
    wechat_app: tuple[str, str] = ("wx-app", "wx-secret")
    # TikTok Shop per-minute performance: LIVE id -> its intervals (answered once it ended)
    tiktok_minutes: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    minutes_page_size: int = 2  # intervals per page (the platform's is not documented)
    # TikTok API for Business: campaign id -> {advertiser, store, type (LIVE | PRODUCT),
    # status, rooms: {room id: cost as a decimal string}}
    tiktok_business_app: tuple[str, str] = ("tb-app", "tb-secret")
    gmv_max_campaigns: dict[str, dict[str, Any]] = field(default_factory=dict)
    business_rate_limited: bool = False  # the GMV Max report answers 40100
    rate_limited: bool = False  # every reading answers the platform's rate-limit answer
    fail_refresh: bool = False
    delay_seconds: float = 0.0  # every detail and list answer waits this long
    seen: list[dict[str, Any]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    # -- what tests set up ----------------------------------------------------------------

    def issue(self, account_id: str, seconds: int | None = None) -> tuple[str, str]:
        """An access and a refresh token for an account, as an authorisation gives."""
        access, refresh = "at-" + secrets.token_hex(8), "rt-" + secrets.token_hex(8)
        lifetime = self.token_seconds if seconds is None else seconds
        self.access[access] = Grant(account_id, time.time() + lifetime, refresh)
        self.refresh[refresh] = account_id
        return access, refresh

    def code_for(self, account_id: str) -> str:
        code = "code-" + secrets.token_hex(6)
        self.codes[code] = account_id
        return code

    def requests_to(self, path: str) -> list[dict[str, Any]]:
        return [r for r in self.seen if r["path"] == path]

    # -- the platforms' answers ------------------------------------------------------------

    def answer(
        self, verb: str, path: str, query: dict[str, str], body: bytes, headers: dict[str, str]
    ) -> Any:
        with self.lock:
            self.seen.append(
                {
                    "verb": verb,
                    "path": path,
                    "query": query,
                    "body": body.decode(),
                    "headers": headers,
                }
            )
        if path in ("/token/create", "/token/refresh", "/order/orderDetail", "/order/searchList"):
            return self._doudian(path, query, body)
        if path.startswith("/open_api/v1.3/"):
            return self._tiktok_business(path, query, body, headers)
        if path.startswith("/open_api/"):
            return self._qianchuan(path, query, headers)
        if path.startswith(("/cgi-bin/", "/channels/")):
            return self._wechat(path, query, body)
        if path.startswith("/api/v2/token/"):
            return self._tiktok_token(path, query)
        return self._tiktok(verb, path, query, body, headers)

    def _doudian(self, path: str, query: dict[str, str], body: bytes) -> dict[str, Any]:
        key, secret = self.doudian_app
        method = query.get("method", "")
        plain = (
            f"{secret}app_key{query.get('app_key')}method{method}param_json{body.decode()}"
            f"timestamp{query.get('timestamp')}v{query.get('v')}{secret}"
        )
        expected = hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest()
        if query.get("app_key") != key or query.get("sign") != expected:
            return {"code": 40004, "msg": "签名校验失败", "sub_code": "isv.signature-invalid"}
        params = json.loads(body or b"{}")
        if path == "/token/create":
            account = self.codes.pop(params.get("code", ""), None)
            if account is None:
                return {"code": 40003, "msg": "code invalid", "sub_msg": "code 已失效"}
            return self._doudian_grant(account)
        if path == "/token/refresh":
            account = self.refresh.pop(params.get("refresh_token", ""), None)
            if account is None or self.fail_refresh:
                return {
                    "code": 40003,
                    "msg": "refresh_token 已失效",
                    "sub_msg": "refresh_token invalid",
                }
            return self._doudian_grant(account)
        grant = self.access.get(query.get("access_token", ""))
        if grant is None or grant.access_expires_at < time.time():
            return {
                "code": 40003,
                "msg": "access_token 已过期",
                "sub_msg": "isv.access-token-expired",
            }
        time.sleep(self.delay_seconds)
        orders = self.doudian_orders.get(grant.account_id, {})
        if path == "/order/orderDetail":
            order = orders.get(str(params.get("shop_order_id")))
            if order is None:
                return {"code": 50002, "msg": "订单不存在"}
            return {"code": DOUDIAN_OK, "msg": "success", "data": {"shop_order_detail": order}}
        start, end = params["update_time_start"], params["update_time_end"]
        page, size = params["page"], params["size"]
        listed = sorted(
            (o for o in orders.values() if start <= o["update_time"] <= end),
            key=lambda o: (o["update_time"], o["order_id"]),
        )
        return {
            "code": DOUDIAN_OK,
            "msg": "success",
            "data": {
                "page": page,
                "size": size,
                "total": len(listed),
                "shop_order_list": listed[page * size : (page + 1) * size],
            },
        }

    def _doudian_grant(self, account: str) -> dict[str, Any]:
        access, refresh = self.issue(account)
        return {
            "code": DOUDIAN_OK,
            "msg": "success",
            "data": {
                "access_token": access,
                "expires_in": self.token_seconds,
                "refresh_token": refresh,
                "scope": "SCOPE",
                "shop_id": int(account),
                "shop_name": f"shop {account}",
            },
        }

    def _tiktok_token(self, path: str, query: dict[str, str]) -> dict[str, Any]:
        key, secret = self.tiktok_app
        if query.get("app_key") != key or query.get("app_secret") != secret:
            return {"code": 36004004, "message": "invalid app"}
        if path.endswith("/get"):
            if query.get("grant_type") != "authorized_code":
                return {"code": 36004004, "message": "grant_type"}
            account = self.codes.pop(query.get("auth_code", ""), None)
        else:
            account = (
                None
                if self.fail_refresh
                else self.refresh.pop(query.get("refresh_token", ""), None)
            )
        if account is None:
            return {"code": 36004004, "message": "invalid auth_code or refresh_token"}
        access, refresh = self.issue(account)
        now = int(time.time())
        return {
            "code": 0,
            "message": "success",
            "data": {
                "access_token": access,
                "access_token_expire_in": now + self.token_seconds,
                "refresh_token": refresh,
                "refresh_token_expire_in": now + 365 * 86400,
                "open_id": "open-" + account,
                "seller_name": f"seller {account}",
                "seller_base_region": "GB",
                "user_type": 0,
            },
            "request_id": "fake",
        }

    def _tiktok(
        self, verb: str, path: str, query: dict[str, str], body: bytes, headers: dict[str, str]
    ) -> dict[str, Any]:
        key, secret = self.tiktok_app
        pairs = "".join(
            f"{k}{query[k]}" for k in sorted(query) if k not in ("sign", "access_token")
        )
        plain = f"{secret}{path}{pairs}{body.decode()}{secret}"
        expected = hmac.new(secret.encode(), plain.encode(), hashlib.sha256).hexdigest()
        if query.get("app_key") != key or query.get("sign") != expected:
            return {"code": 106001, "message": "Invalid signature"}
        grant = self.access.get(headers.get("x-tts-access-token", ""))
        if grant is None or grant.access_expires_at < time.time():
            return {"code": 105002, "message": "Expired credentials: access token expired"}
        if path == "/authorization/202309/shops":
            shops = [s for s in self.tiktok_shops.values() if s["seller"] == grant.account_id]
            return self._ok(
                {"shops": [{k: v for k, v in s.items() if k != "seller"} for s in shops]}
            )
        shop = self.tiktok_shops.get(query.get("shop_cipher", ""))
        if shop is None or shop["seller"] != grant.account_id:
            return {"code": 106011, "message": "Invalid shop_cipher"}
        time.sleep(self.delay_seconds)
        orders = self.tiktok_orders.get(shop["id"], {})
        if path == "/order/202309/orders":
            ids = query.get("ids", "").split(",")
            return self._ok({"orders": [orders[i] for i in ids if i in orders]})
        if path == "/return_refund/202309/returns/search":
            wanted = json.loads(body)["return_ids"]
            return self._ok(
                {
                    "return_orders": [
                        self.tiktok_returns[r] for r in wanted if r in self.tiktok_returns
                    ]
                }
            )
        if path == "/analytics/202508/shop_lives/performance":
            if self.rate_limited:
                return {"code": 36009004, "message": "rate limit exceeded"}
            lives = self.tiktok_lives.get(shop["id"], [])
            return self._ok(
                {"live_stream_sessions": lives, "next_page_token": "", "total_count": len(lives)}
            )
        minutes = MINUTES_PATH.match(path)
        if minutes:
            return self._tiktok_minutes(shop["id"], minutes.group(1), query)
        if path == "/order/202309/orders/search":
            params = json.loads(body)
            listed = sorted(
                (
                    o
                    for o in orders.values()
                    if params["update_time_ge"] <= o["update_time"] < params["update_time_lt"]
                ),
                key=lambda o: (o["update_time"], o["id"]),
            )
            size, offset = int(query["page_size"]), int(query.get("page_token") or 0)
            page = listed[offset : offset + size]
            more = offset + size < len(listed)
            return self._ok(
                {
                    "orders": page,
                    "total_count": len(listed),
                    "next_page_token": str(offset + size) if more else "",
                }
            )
        return {"code": 404, "message": f"no {verb} {path}"}

    def _tiktok_minutes(self, shop: str, live_id: str, query: dict[str, str]) -> dict[str, Any]:
        """Get Shop LIVE Minute Performance: only after the LIVE ended (before, and until a
        test gives its minutes, no intervals); paged by page_token."""
        if self.rate_limited:
            return {"code": 36009004, "message": "rate limit exceeded"}
        live = next((x for x in self.tiktok_lives.get(shop, []) if x["id"] == live_id), None)
        if live is None:
            return {"code": 66009315, "message": "No permission for the action"}
        intervals = self.tiktok_minutes.get(live_id, []) if live.get("end_time") else []
        offset, size = int(query.get("page_token") or 0), self.minutes_page_size
        more = offset + size < len(intervals)
        start, end = live.get("start_time") or 0, live.get("end_time") or 0
        return self._ok(
            {
                "performance": {
                    "overall": {
                        "live_title": live.get("title"),
                        "start_time": start,
                        "end_time": end,
                        "duration": max(end - start, 0),
                    },
                    "intervals": intervals[offset : offset + size],
                },
                "next_page_token": str(offset + size) if more else "",
                "total_count": len(intervals),
            }
        )

    def _tiktok_business(
        self, path: str, query: dict[str, str], body: bytes, headers: dict[str, str]
    ) -> dict[str, Any]:
        """The advertiser token exchange (a long-term token: no expires_in, no refresh) and
        the GMV Max report at the campaign and livestream levels; 40100 is the SDK's
        REQUEST_TOO_FREQUENT, 40105 INVALID_ACCESS_TOKEN, 40002 PARAM_ERROR."""
        if path == BUSINESS_TOKEN:
            params = json.loads(body or b"{}")
            if (params.get("app_id"), params.get("secret")) != self.tiktok_business_app:
                return {"code": 40001, "message": "app_id or secret is invalid", "data": {}}
            account = self.codes.pop(params.get("auth_code", ""), None)
            if account is None:
                return {"code": 40110, "message": "auth_code is invalid", "data": {}}
            access, _ = self.issue(account, seconds=10 * 365 * 86400)
            return {
                "code": 0,
                "message": "OK",
                "request_id": "fake",
                "data": {
                    "access_token": access,
                    "advertiser_ids": [account, account + "2"],
                    "scope": [4, 5, 11],
                },
            }
        grant = self.access.get(headers.get("access-token", ""))
        if grant is None or grant.access_expires_at < time.time():
            return {"code": 40105, "message": "Access token is invalid", "data": {}}
        if self.business_rate_limited:
            return {"code": 40100, "message": "Too many requests", "data": {}}
        if path != GMV_MAX_REPORT or query.get("advertiser_id") != grant.account_id:
            return {"code": 40002, "message": f"no {path} for this advertiser", "data": {}}
        stores = json.loads(query["store_ids"])
        dimensions = json.loads(query["dimensions"])
        filtering = json.loads(query.get("filtering") or "{}")
        if len(stores) != 1 or not json.loads(query["metrics"]) or not isinstance(filtering, dict):
            return {"code": 40002, "message": "store_ids, metrics or filtering", "data": {}}
        if not (query.get("start_date", "") <= query.get("end_date", "")):
            return {"code": 40002, "message": "start_date after end_date", "data": {}}
        mine = {
            cid: c
            for cid, c in self.gmv_max_campaigns.items()
            if c["advertiser"] == grant.account_id and c["store"] == stores[0]
        }
        rows: list[dict[str, Any]]
        if dimensions == ["campaign_id"]:
            if filtering.get("gmv_max_promotion_types") != ["LIVE"]:
                return {"code": 40002, "message": "gmv_max_promotion_types", "data": {}}
            statuses = filtering.get("campaign_statuses") or [
                "STATUS_DELIVERY_OK",
                "STATUS_DISABLE",
                "STATUS_NOT_DELIVERY",
            ]
            rows = [
                {
                    "dimensions": {"campaign_id": cid},
                    "metrics": {"cost": str(sum(map(Decimal, c["rooms"].values()), Decimal(0)))},
                }
                for cid, c in sorted(mine.items())
                if c["type"] == "LIVE" and c["status"] in statuses
            ]
        elif dimensions == ["room_id"]:
            wanted = filtering.get("campaign_ids") or []
            if not wanted or len(wanted) > 100:
                return {"code": 40002, "message": "campaign_ids is required", "data": {}}
            costs: dict[str, Decimal] = {}
            for cid in wanted:
                for room, cost in mine.get(cid, {}).get("rooms", {}).items():
                    costs[room] = costs.get(room, Decimal(0)) + Decimal(cost)
            rows = [
                {"dimensions": {"room_id": room}, "metrics": {"cost": str(cost)}}
                for room, cost in sorted(costs.items())
            ]
        else:
            return {"code": 40002, "message": f"dimensions {dimensions}", "data": {}}
        page, size = int(query.get("page") or 1), int(query.get("page_size") or 10)
        if not 1 <= size <= 1000:
            return {"code": 40002, "message": "page_size", "data": {}}
        return {
            "code": 0,
            "message": "OK",
            "request_id": "fake",
            "data": {
                "list": rows[(page - 1) * size : page * size],
                "page_info": {
                    "page": page,
                    "page_size": size,
                    "total_number": len(rows),
                    "total_page": max(1, -(-len(rows) // size)),
                },
            },
        }

    def _qianchuan(
        self, path: str, query: dict[str, str], headers: dict[str, str]
    ) -> dict[str, Any]:
        """today_live/room/get: {code, message, data: {room_list, page_info}} (official SDK
        models); 40100 is the platform's too-frequent answer, 40102 an expired token."""
        grant = self.access.get(headers.get("access-token", ""))
        if grant is None or grant.access_expires_at < time.time():
            return {"code": 40102, "message": "access token expired", "data": {}}
        if self.rate_limited:
            return {"code": 40100, "message": "请求过于频繁 (rate limit)", "data": {}}
        if (
            path != "/open_api/v1.0/qianchuan/today_live/room/get/"
            or query.get("advertiser_id") != grant.account_id
        ):
            return {"code": 40002, "message": f"no {path} for this advertiser", "data": {}}
        if not isinstance(json.loads(query["fields"]), list):
            return {"code": 40002, "message": "fields must be a list", "data": {}}
        rooms = self.qianchuan_rooms.get(query.get("aweme_id", ""), [])
        return {
            "code": 0,
            "message": "OK",
            "data": {
                "room_list": rooms,
                "page_info": {
                    "page": 1,
                    "page_size": 100,
                    "total_num": len(rooms),
                    "total_page": 1,
                },
            },
        }

    def _wechat(self, path: str, query: dict[str, str], body: bytes) -> dict[str, Any]:
        """stable_token, getlivelist, getlivedata: {errcode, errmsg, ...} (WxJava models)."""
        params = json.loads(body or b"{}")
        if path == "/cgi-bin/stable_token":
            if (params.get("appid"), params.get("secret")) != self.wechat_app:
                return {"errcode": 40013, "errmsg": "invalid appid"}
            access, _ = self.issue(params["appid"], seconds=7200)
            return {"access_token": access, "expires_in": 7200}
        grant = self.access.get(query.get("access_token", ""))
        if grant is None or grant.access_expires_at < time.time():
            return {"errcode": 42001, "errmsg": "access_token expired"}
        if self.rate_limited:
            return {"errcode": 45009, "errmsg": "reach max api daily quota limit"}
        if path == "/channels/livedashboard/getlivelist":
            items = [
                {"export_id": e, "create_time": d.get("_created", 0)}
                for e, d in self.wechat_lives.items()
            ]
            return {
                "errcode": 0,
                "errmsg": "ok",
                "trace_id": "t",
                "live_items": items,
                "has_more": False,
            }
        if path == "/channels/livedashboard/getlivedata":
            found = self.wechat_lives.get(params.get("export_id", ""))
            if found is None:
                return {"errcode": 10020001, "errmsg": "live not found"}
            return {
                "errcode": 0,
                "errmsg": "ok",
                **{k: v for k, v in found.items() if not k.startswith("_")},
            }
        return {"errcode": 40066, "errmsg": f"no {path}"}

    @staticmethod
    def _ok(data: dict[str, Any]) -> dict[str, Any]:
        return {"code": 0, "message": "Success", "request_id": "fake", "data": data}


def serve(platforms: FakePlatforms) -> tuple[ThreadingHTTPServer, str]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length)
            answer = platforms.answer(
                self.command,
                url.path,
                dict(urllib.parse.parse_qsl(url.query)),
                body,
                {k.lower(): v for k, v in self.headers.items()},
            )
            data = json.dumps(answer, ensure_ascii=False).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}"
