"""TikTok API for Business (Marketing API v1.3): an advertiser account's OAuth and the GMV Max
report, which gives the ad spend of the shop's LIVE rooms (the readings that use it are the
pollers': service/ingest/pollers/gmv_max.py).

- Authorise: `https://business-api.tiktok.com/portal/auth?app_id=&state=&redirect_uri=`; the
  platform sends the browser back with `auth_code` (valid 1 hour, once) and `state`.
- `POST /open_api/v1.3/oauth2/access_token/` with JSON {app_id, secret, auth_code} answers
  `{code: 0, message, request_id, data: {access_token, advertiser_ids, scope, ...}}`: a
  long-term token. The SDKs have no refresh call for an advertiser's token (only for TikTok
  account tokens, `/tt_user/oauth2/refresh_token/`), so none is made: a refused token means
  authorise again. An `expires_in` in the answer, if any, is kept as the token's expiry.
- `GET /open_api/v1.3/gmv_max/report/get/` with advertiser_id, store_ids, dimensions, metrics,
  filtering (arrays and objects as JSON strings in the query), start_date, end_date, page,
  page_size (1-1000), header `Access-Token`; answers `data: {list: [{dimensions, metrics}],
  page_info: {page, page_size, total_number, total_page}}`, metrics as decimal strings.
- Errors are `code` != 0: 40100 (too frequent), 40132 (frequency limited) and 61000 (too many
  requests) are rate limits; 40102 (token expired), 40104 (empty token) and 40105 (invalid
  token) refuse the token. Sources in docs/connectors.md.
"""

from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from service.ingest.platform_apis.http import PlatformApiError, TokenGrant, call_json, new_client

API_URL = "https://business-api.tiktok.com"
AUTHORIZE_URL = "https://business-api.tiktok.com/portal/auth"
TOKEN_PATH = "/open_api/v1.3/oauth2/access_token/"
REPORT_PATH = "/open_api/v1.3/gmv_max/report/get/"
RATE_LIMITED = frozenset({40100, 40132, 61000})
TOKEN_REFUSED = frozenset({40102, 40104, 40105})


@dataclass
class TikTokBusinessApi:
    app_id: str
    secret: str
    base_url: str = API_URL
    client: httpx.Client = field(default_factory=new_client)

    def authorize_url(self, state: str, redirect_uri: str | None) -> str:
        query = {"app_id": self.app_id, "state": state}
        if redirect_uri:
            query["redirect_uri"] = redirect_uri
        return f"{AUTHORIZE_URL}?{urllib.parse.urlencode(query)}"

    def create_token(self, code: str) -> TokenGrant:
        answer = call_json(
            self.client,
            "POST",
            f"{self.base_url}{TOKEN_PATH}",
            content=orjson.dumps({"app_id": self.app_id, "secret": self.secret, "auth_code": code}),
            headers={"Content-Type": "application/json"},
        )
        data = _data(TOKEN_PATH, answer)
        try:
            advertisers = [str(a) for a in data.get("advertiser_ids") or []]
            lifetime = data.get("expires_in")
            return TokenGrant(
                access_token=str(data["access_token"]),
                refresh_token=None,  # no refresh call exists for an advertiser's token
                access_expires_at=int((time.time() + int(lifetime)) * 1_000_000)
                if isinstance(lifetime, int) and not isinstance(lifetime, bool) and lifetime > 0
                else None,
                refresh_expires_at=None,
                account_id=advertisers[0] if advertisers else None,
                extra={"advertiser_ids": ",".join(advertisers)} if advertisers else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PlatformApiError(f"{TOKEN_PATH} answer unreadable: {exc!r}") from None

    def report(
        self,
        token: str,
        advertiser_id: str,
        store_id: str,
        dimensions: list[str],
        metrics: list[str],
        start_date: str,
        end_date: str,
        filtering: dict[str, Any],
        page: int,
        page_size: int,
    ) -> dict[str, Any]:
        """One page of the GMV Max report: its `data`. Raises PlatformApiError."""
        params = {
            "advertiser_id": advertiser_id,
            "store_ids": orjson.dumps([store_id]).decode(),
            "dimensions": orjson.dumps(dimensions).decode(),
            "metrics": orjson.dumps(metrics).decode(),
            "start_date": start_date,
            "end_date": end_date,
            "filtering": orjson.dumps(filtering).decode(),
            "page": str(page),
            "page_size": str(page_size),
        }
        answer = call_json(
            self.client,
            "GET",
            f"{self.base_url}{REPORT_PATH}",
            params=params,
            headers={"Access-Token": token},
        )
        return _data(REPORT_PATH, answer)


def _data(path: str, answer: dict[str, Any]) -> dict[str, Any]:
    code = answer.get("code")
    if code != 0 or not isinstance(answer.get("data"), dict):
        message = str(answer.get("message"))[:200]
        raise PlatformApiError(
            f"{path} answered {code}: {message}",
            rate_limited=isinstance(code, int) and code in RATE_LIMITED,
            auth=isinstance(code, int) and code in TOKEN_REFUSED,
        )
    data: dict[str, Any] = answer["data"]
    return data
