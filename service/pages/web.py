"""The pages: wall screen, console, review, scores. Served by the API process, fed by the feed.

Pages are shells: markup from templates (producer strings never enter them), scripts from
/static only (a strict Content-Security-Policy allows no inline script), data over the API and
the feed with the read token from the URL.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, current_app, make_response, render_template, request

from events.fields import IDENTIFIER_RE
from service.auth.scopes import query_token_problem
from service.pages.labels import labels_for

blp = Blueprint(
    "web", __name__, template_folder="templates", static_folder="static", static_url_path="/static"
)


def _csp(feed_port: int) -> str:
    host = request.host.rsplit(":", 1)[0] if request.host else "127.0.0.1"
    return "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            # ECharts positions its tooltips with style attributes; no script can run from a style.
            "style-src 'self' 'unsafe-inline'",
            "font-src 'self'",
            "img-src 'self' data: blob:",
            f"connect-src 'self' ws://{host}:{feed_port}",
            "frame-ancestors 'none'",
            "base-uri 'none'",
            "form-action 'self'",
        ]
    )


def _token_state() -> str:
    token = request.args.get("token")
    if not token:
        return "no_token"
    return query_token_problem(current_app.extensions["livetally"].tokens.scopes(token)) or "ok"


def _page(template: str, **context: Any) -> Response:
    settings = current_app.extensions["livetally"].settings
    lang = "en" if request.args.get("lang") == "en" else "zh"
    # FEED_PORT: the port the feed really bound (it differs from the setting when that is 0).
    feed_port = current_app.config.get("FEED_PORT") or settings.feed_port
    state = _token_state()
    config = {
        "lang": lang,
        "labels": labels_for(lang),
        "feed_port": feed_port,
        "token_state": state,
        # Times on the pages are the studio's, whatever the wall PC's own zone.
        "timezone": settings.timezone,
        **context,
    }
    body = render_template(template, lang=lang, t=labels_for(lang)["ui"], config=config, **context)
    status = {"ok": 200, "no_token": 401, "invalid": 401, "not_read_only": 403}[state]
    response = make_response(body, status)
    response.headers["Content-Security-Policy"] = _csp(feed_port)
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    return response


def _session_page(template: str, session_id: str) -> Response:
    if not IDENTIFIER_RE.match(session_id):
        session_id = ""  # shown as an unknown session, never echoed into the page
    return _page(template, session_id=session_id)


@blp.route("/screen/<session_id>")
def screen(session_id: str) -> Response:
    return _session_page("screen.html", session_id)


@blp.route("/review/<session_id>")
def review(session_id: str) -> Response:
    return _session_page("review.html", session_id)


@blp.route("/console")
def console() -> Response:
    return _page("console.html")


@blp.route("/scores")
def scores() -> Response:
    return _page("scores.html")


@blp.route("/favicon.ico")
def favicon() -> Response:
    return Response(status=204)


@blp.after_app_request
def static_headers(response: Response) -> Response:
    if request.path.startswith("/static/"):
        response.headers["X-Content-Type-Options"] = "nosniff"
    return response
