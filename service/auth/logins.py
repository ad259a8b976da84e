"""Staff logins on the pages: Flask-Login sessions (an HttpOnly, SameSite=Lax cookie, Secure
behind TLS), a CSRF token on every form (Flask-WTF), failed logins throttled per name and per
address (Flask-Limiter: in memory on the embedded default, Redis in production).

Bearer tokens stay for machines and wall screens; this is for people entering data. A session
holds the account's name and its session epoch: disabling an account or changing its password
moves the epoch, which ends every session it had at once.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager, UserMixin, current_user
from flask_wtf.csrf import CSRFProtect

from service.auth.accounts import Account, AccountBook


class StaffUser(UserMixin):
    def __init__(self, account: Account) -> None:
        self.account = account

    def get_id(self) -> str:
        return self.account.session_id


@dataclass
class Logins:
    accounts: AccountBook
    limiter: Limiter
    csrf: CSRFProtect
    secret_source: Callable[[], bytes | None]
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def ready(self, app: Flask) -> bool:
        """Whether logins can work: the signing secret is known (found on first need: the
        embedded default creates its key file when it starts, after the app is built)."""
        if app.secret_key:
            return True
        with self._lock:
            if not app.secret_key:
                secret = self.secret_source()
                if secret is not None:
                    app.secret_key = secret
        return bool(app.secret_key)

    why_not = "staff logins need LIVETALLY_SECRET_KEY or LIVETALLY_SESSION_SECRET"


def signed_in() -> Account | None:
    """The logged-in staff account of this request, if any (a disabled one is logged out)."""
    user = current_user
    if user is None or not getattr(user, "is_authenticated", False):
        return None
    account: Account = user.account
    return account


def init_logins(
    app: Flask,
    accounts: AccountBook,
    secret_source: Callable[[], bytes | None],
    settings: Any,
) -> Logins:
    secure = bool(settings.public_url and str(settings.public_url).startswith("https://"))
    app.config.update(
        SESSION_COOKIE_NAME="livetally_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SECURE=secure,
        # Checked by the forms' own handlers (csrf.protect()), not on the API's bearer routes.
        WTF_CSRF_CHECK_DEFAULT=False,
        WTF_CSRF_TIME_LIMIT=8 * 3600,
    )
    manager = LoginManager()
    manager.init_app(app)
    manager.session_protection = "basic"

    @manager.user_loader
    def load(session_id: str) -> StaffUser | None:
        epoch, _, name = session_id.partition(":")
        account = accounts.get(name)
        if account is None or account.disabled or str(account.session_epoch) != epoch:
            return None
        return StaffUser(account)

    csrf = CSRFProtect(app)
    storage = settings.redis_url or "memory://"
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        storage_uri=storage,
        default_limits=[],
        headers_enabled=True,
        # A Redis that is down must not open the door, nor lock everybody out: limits
        # fall back to this process's memory until it is back.
        in_memory_fallback_enabled=True,
    )
    logins = Logins(accounts, limiter, csrf, secret_source)
    app.session_interface = LazySecretSessions(logins)
    return logins


class LazySecretSessions(SecureCookieSessionInterface):
    """Flask's signed cookie sessions, whose secret is found when first needed (the embedded
    default creates its key file when it starts, after the app is built)."""

    def __init__(self, logins: Logins) -> None:
        self.logins = logins

    def get_signing_serializer(self, app: Flask) -> Any:
        self.logins.ready(app)
        return super().get_signing_serializer(app)


def login_name_key() -> str:
    return "login-name:" + str(request.form.get("name", ""))[:64].lower()


def login_address_key() -> str:
    return "login-address:" + (get_remote_address() or "")
