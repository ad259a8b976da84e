"""巨量千川 (Ocean Engine Qianchuan) Marketing API: the OAuth token exchange and refresh of an
advertiser account (the live-room readings that use it come with the pollers).

`POST {host}/open_api/oauth2/access_token/` with JSON {app_id, secret, auth_code, grant_type}
and `/open_api/oauth2/refresh_token/` with {app_id, secret, refresh_token, grant_type}; answers
`{code: 0, message, data: {access_token, expires_in, refresh_token, refresh_token_expires_in,
advertiser_ids?}}`, lifetimes in seconds. Calls carry the token in an `Access-Token` header.
Sources in docs/connectors.md.
"""

from __future__ import annotations

import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson

from service.ingest.platform_apis.http import PlatformApiError, TokenGrant, call_json, new_client

API_URL = "https://api.oceanengine.com"
AUTHORIZE_URL = "https://qianchuan.jinritemai.com/openapi/qc/audit/oauth.html"


@dataclass
class QianchuanApi:
    app_id: str
    secret: str
    base_url: str = API_URL
    client: httpx.Client = field(default_factory=new_client)

    def authorize_url(self, state: str, redirect_uri: str | None) -> str:
        query = {"app_id": self.app_id, "state": state, "material_auth": "1"}
        if redirect_uri:
            query["redirect_uri"] = redirect_uri
        return f"{AUTHORIZE_URL}?{urllib.parse.urlencode(query)}"

    def create_token(self, code: str) -> TokenGrant:
        return self._token(
            "/open_api/oauth2/access_token/", {"auth_code": code, "grant_type": "auth_code"}
        )

    def refresh_token(self, refresh_token: str) -> TokenGrant:
        return self._token(
            "/open_api/oauth2/refresh_token/",
            {"refresh_token": refresh_token, "grant_type": "refresh_token"},
        )

    def _token(self, path: str, params: dict[str, str]) -> TokenGrant:
        body = {
            "app_id": int(self.app_id) if self.app_id.isdigit() else self.app_id,
            "secret": self.secret,
            **params,
        }
        answer = call_json(
            self.client,
            "POST",
            f"{self.base_url}{path}",
            content=orjson.dumps(body),
            headers={"Content-Type": "application/json"},
        )
        data = _data(path, answer)
        now = time.time()
        try:
            advertisers = [str(a) for a in data.get("advertiser_ids") or []]
            return TokenGrant(
                access_token=str(data["access_token"]),
                refresh_token=str(data["refresh_token"]) if data.get("refresh_token") else None,
                access_expires_at=int((now + int(data["expires_in"])) * 1_000_000),
                refresh_expires_at=int((now + int(data["refresh_token_expires_in"])) * 1_000_000)
                if data.get("refresh_token_expires_in")
                else None,
                account_id=advertisers[0] if advertisers else None,
                extra={"advertiser_ids": ",".join(advertisers)} if advertisers else None,
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise PlatformApiError(f"{path} answer unreadable: {exc!r}") from None


def _data(path: str, answer: dict[str, Any]) -> dict[str, Any]:
    if answer.get("code") != 0 or not isinstance(answer.get("data"), dict):
        message = str(answer.get("message"))[:200]
        # 40100-40105: the token is missing, invalid or expired (refresh, or authorise again).
        code = answer.get("code")
        raise PlatformApiError(
            f"{path} answered {code}: {message}",
            rate_limited=code == 40100 and "limit" in message.lower(),
            auth=isinstance(code, int) and 40101 <= code <= 40105,
        )
    data: dict[str, Any] = answer["data"]
    return data
