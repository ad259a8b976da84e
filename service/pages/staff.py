"""Staff login and logout pages (`/login`, `/logout`): a plain form with its CSRF token, failed
attempts throttled per name and per address, the message beside the field it is about."""

from __future__ import annotations

from typing import Any

import limits
from flask import (
    Blueprint,
    Response,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
)
from flask_login import login_user, logout_user
from flask_wtf.csrf import CSRFError, generate_csrf

from service.auth.logins import Logins, StaffUser, login_address_key, login_name_key, signed_in
from service.pages.labels import labels_for
from service.pages.web import _csp

blp = Blueprint("staff", __name__, template_folder="templates")


def _logins() -> Logins:
    logins: Logins = current_app.extensions["livetally.logins"]
    return logins


def _lang() -> str:
    return "en" if request.args.get("lang") == "en" else "zh"


def _form(status: int, errors: dict[str, str] | None = None, name: str = "") -> Response:
    lang = _lang()
    logins = _logins()
    ready = logins.ready(current_app)
    body = render_template(
        "login.html",
        lang=lang,
        t=labels_for(lang)["ui"],
        config={"lang": lang, "labels": labels_for(lang), "timezone": "UTC", "token_state": "ok"},
        csrf_token=generate_csrf() if ready else "",
        errors=errors or ({} if ready else {"form": logins.why_not}),
        name=name,
        account=signed_in(),
    )
    response = make_response(body, status if ready else 503)
    response.headers["Content-Security-Policy"] = _csp(0)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    return response


def _failure_limit() -> limits.RateLimitItem:
    per_minute = current_app.extensions["livetally"].settings.login_failures_per_minute
    return limits.parse(f"{per_minute}/minute")


@blp.route("/login", methods=["GET"])
def login_page() -> Response:
    return _form(200)


@blp.route("/login", methods=["POST"])
def login() -> Any:
    logins = _logins()
    if not logins.ready(current_app):
        return _form(503)
    t = labels_for(_lang())["ui"]
    try:
        logins.csrf.protect()
    except CSRFError:
        return _form(400, {"form": t["csrf_refused"]})
    name = str(request.form.get("name", ""))[:64]
    password = str(request.form.get("password", ""))
    item = _failure_limit()
    keys = (login_name_key(), login_address_key())
    if not all(logins.limiter.limiter.test(item, key) for key in keys):
        return _form(429, {"form": t["login_throttled"]}, name)
    if not name:
        return _form(400, {"name": t["field_required"]}, name)
    account = logins.accounts.verify(name, password)
    if account is None:
        for key in keys:
            logins.limiter.limiter.hit(item, key)
        return _form(401, {"password": t["login_refused"]}, name)
    login_user(StaffUser(account))
    target = request.args.get("next", "")
    # Only a path of this site: never an address elsewhere (an open redirect).
    if not target.startswith("/") or target.startswith("//") or "\\" in target:
        target = "/people"
    return redirect(target, code=303)


@blp.route("/logout", methods=["POST"])
def logout() -> Any:
    logins = _logins()
    if logins.ready(current_app):
        try:
            logins.csrf.protect()
        except CSRFError:
            return _form(400, {"form": labels_for(_lang())["ui"]["csrf_refused"]})
    logout_user()
    return redirect("/login", code=303)
