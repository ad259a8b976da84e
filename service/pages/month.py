"""The month's work for managers, as plain forms (no script, so the strict CSP holds): the
roster (/people), a month's targets (/targets), ratings (/ratings), violations (/violations),
and closing a period (/close, from /scores). Staff log in at /login; every form carries its
CSRF token; a refused field is shown again with its message beside it. Writes go through
service.ingest.people, the same path as the people API.
"""

from __future__ import annotations

import csv
import io
from typing import Any

from flask import (
    Blueprint,
    Response,
    current_app,
    make_response,
    redirect,
    render_template,
    request,
)
from flask_wtf.csrf import CSRFError, generate_csrf
from marshmallow import ValidationError

from events.catalogue import LEVELS, ROLES, RULE_BOOK_FINES_YUAN
from events.fields import PERIOD_RE
from projections.scoring.figures import month_range
from projections.scoring.rules import months_on_air, tenure_sales_target
from service.auth.accounts import Account
from service.auth.logins import signed_in
from service.ingest.people import Actor, People, Refused
from service.ingest.people_api import PersonInSchema
from service.pages.labels import labels_for
from service.pages.web import _csp

blp = Blueprint("month", __name__, template_folder="templates")


def _lang() -> str:
    return "en" if request.args.get("lang") == "en" else "zh"


def _people() -> People:
    runtime = current_app.extensions["livetally"]
    return People(runtime.engine, runtime.recorder, runtime.streams_moved)


def _actor(account: Account) -> Actor:
    return Actor(f"account:{account.name}", account.role, account.person_id)


def _period() -> str:
    asked = request.values.get("period", "")
    if PERIOD_RE.match(asked):
        return asked
    zone = current_app.extensions["livetally"].settings.timezone
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.now(ZoneInfo(zone)).strftime("%Y-%m")


def _local(micros: int, zone: str) -> str:
    """A time as the studio reads it, its zone named."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    return datetime.fromtimestamp(micros / 1e6, ZoneInfo(zone)).strftime("%Y-%m-%d %H:%M ") + zone


def _form_message(exc: Refused) -> str:
    t = labels_for(_lang())["ui"]
    return t["fix_fields"] if exc.status == 400 else t["forbidden_page"]


def _noon_of(day: str) -> int:
    """A day of the form (YYYY-MM-DD) as noon of that studio day; a bad one is refused."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    try:
        moment = datetime.strptime(day, "%Y-%m-%d").replace(
            hour=12, tzinfo=ZoneInfo(current_app.extensions["livetally"].settings.timezone)
        )
    except ValueError:
        raise Refused(
            400, "the day is not a date", {"day": ["must be a date YYYY-MM-DD"]}
        ) from None
    return int(moment.timestamp() * 1_000_000)


def _previous(period: str) -> str:
    year, month = int(period[:4]), int(period[5:7])
    return f"{year - 1}-12" if month == 1 else f"{year}-{month - 1:02d}"


def _page(template: str, account: Account, status: int = 200, **context: Any) -> Response:
    lang = _lang()
    labels = labels_for(lang)
    body = render_template(
        template,
        lang=lang,
        t=labels["ui"],
        labels=labels,
        config={
            "lang": lang,
            "labels": labels,
            "timezone": current_app.extensions["livetally"].settings.timezone,
            "token_state": "ok",
        },
        account=account,
        csrf_token=generate_csrf(),
        lang_query="?lang=en" if lang == "en" else "",
        **context,
    )
    response = make_response(body, status)
    response.headers["Content-Security-Policy"] = _csp(0)
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Cache-Control"] = "no-store"
    return response


def _login_first() -> Response:
    target = request.full_path.rstrip("?")
    return redirect(f"/login?next={target}", code=303)  # type: ignore[return-value]


def _checked_form() -> bool:
    try:
        current_app.extensions["livetally.logins"].csrf.protect()
    except CSRFError:
        return False
    return True


def _scorecards() -> Any:
    return current_app.extensions["livetally"].scorecards


# -- /people -------------------------------------------------------------------------------


@blp.route("/people", methods=["GET", "POST"])
def people_page() -> Response:
    account = signed_in()
    if account is None:
        return _login_first()
    t = labels_for(_lang())["ui"]
    errors: dict[str, str] = {}
    form: dict[str, str] = {}
    saved = False
    status = 200
    if request.method == "POST":
        if not account.can_write():
            return _page(
                "people.html",
                account,
                403,
                **_people_context(account),
                errors={"form": t["forbidden_page"]},
                form={},
                saved=False,
            )
        if not _checked_form():
            errors["form"] = t["csrf_refused"]
            status = 400
        else:
            form = {
                k: str(request.form.get(k, "")).strip()
                for k in (
                    "person_id",
                    "name",
                    "role",
                    "level",
                    "team_id",
                    "manager_id",
                    "on_air_since",
                )
            }
            try:
                loaded = PersonInSchema().load({k: v for k, v in form.items() if v})
                _people().register(_actor(account), loaded)
                saved, form = True, {}
            except ValidationError as exc:
                errors = {k: "; ".join(map(str, v)) for k, v in exc.messages.items()}  # type: ignore[union-attr]
                status = 400
            except Refused as exc:
                errors = {k: "; ".join(v) for k, v in exc.errors.items()}
                status = exc.status
    return _page(
        "people.html",
        account,
        status,
        **_people_context(account),
        errors=errors,
        form=form,
        saved=saved,
    )


def _people_context(account: Account) -> dict[str, Any]:
    roster = _people().visible(_actor(account))
    rows = [
        {
            k: row.get(k)
            for k in ("person_id", "name", "role", "level", "team_id", "manager_id", "on_air_since")
        }
        for _, row in sorted(roster.items())
    ]
    return {"rows": rows, "roles": ROLES, "levels": LEVELS}


# -- /targets ------------------------------------------------------------------------------


def _target_kpis(role: str) -> list[str]:
    """The KPIs of a role's card that take a target (ratings are not targets)."""
    return [k.key for k in _scorecards().roles.get(role, ()) if k.source != "rating"]


def _parse_paste(text: str) -> tuple[dict[str, dict[str, float]], list[str]]:
    """Cells pasted from a spreadsheet: a header row (person id, then KPI keys), then a row
    per person; tabs or commas between cells. Empty cells are skipped."""
    dialect = "excel-tab" if "\t" in text else "excel"
    rows = [
        r
        for r in csv.reader(io.StringIO(text.strip()), dialect=dialect)
        if any(c.strip() for c in r)
    ]
    if len(rows) < 2:
        return {}, ["the paste needs a header row and at least one person"]
    header = [h.strip() for h in rows[0]]
    grid: dict[str, dict[str, float]] = {}
    bad = []
    for number, row in enumerate(rows[1:], start=2):
        person = row[0].strip() if row else ""
        for kpi, cell in zip(header[1:], row[1:], strict=False):
            if not cell.strip():
                continue
            try:
                grid.setdefault(person, {})[kpi] = float(cell.replace(",", "").strip())
            except ValueError:
                bad.append(f"row {number}, {kpi}: {cell.strip()[:40]!r}")
    return grid, bad


@blp.route("/targets", methods=["GET", "POST"])
def targets_page() -> Response:
    account = signed_in()
    if account is None:
        return _login_first()
    t = labels_for(_lang())["ui"]
    period = _period()
    errors: dict[str, str] = {}
    status, saved = 200, False
    entered: dict[str, str] = {}
    if request.method == "POST":
        if not account.can_write():
            errors["form"] = t["forbidden_page"]
            status = 403
        elif not _checked_form():
            errors["form"] = t["csrf_refused"]
            status = 400
        else:
            grid: dict[str, dict[str, float]] = {}
            bad: list[str] = []
            if request.form.get("paste", "").strip():
                grid, bad = _parse_paste(request.form["paste"])
            else:
                for name, value in request.form.items():
                    if not name.startswith("t|") or not value.strip():
                        continue
                    entered[name] = value
                    _, person, kpi = name.split("|", 2)
                    try:
                        grid.setdefault(person, {})[kpi] = float(value.replace(",", "").strip())
                    except ValueError:
                        errors[name] = t["bad_cells"]
            if bad:
                errors["form"] = t["bad_cells"] + " " + "; ".join(bad)
            if not errors:
                try:
                    _people().set_targets(_actor(account), period, grid)
                    saved, entered = True, {}
                except Refused as exc:
                    for key, messages in exc.errors.items():
                        person, _, field = key.partition(".")
                        errors[f"row|{person}" if field else key] = "; ".join(messages)
                    errors.setdefault("form", _form_message(exc))
            if errors:
                status = 400 if status == 200 else status
    copy = request.args.get("copy") == "1"
    return _page(
        "targets.html",
        account,
        status,
        **_targets_context(account, period, copy, entered),
        errors=errors,
        saved=saved,
    )


def _targets_context(
    account: Account, period: str, copy: bool, entered: dict[str, str]
) -> dict[str, Any]:
    roster = _people().visible(_actor(account))
    cards = _scorecards()
    previous = _previous(period)
    groups = []
    for role in ROLES:
        kpis = _target_kpis(role)
        members = sorted((pid, row) for pid, row in roster.items() if row.get("role") == role)
        if not kpis or not members:
            continue
        rows = []
        for pid, row in members:
            targets = (row.get("ledger") or {}).get("targets", {})
            cells = []
            for kpi in kpis:
                name = f"t|{pid}|{kpi}"
                value = entered.get(name)
                if value is None:
                    current = targets.get(period, {}).get(kpi)
                    earlier = targets.get(previous, {}).get(kpi) if copy else None
                    found = current if current is not None else earlier
                    value = "" if found is None else f"{found[0]:g}"
                tenure = None
                if role == "host" and kpi == "gmv":
                    tenure = tenure_sales_target(
                        months_on_air(row.get("on_air_since"), period), cards.host_sales_targets
                    )
                cells.append({"name": name, "value": value, "tenure": tenure})
            rows.append({"person_id": pid, "name": row.get("name"), "cells": cells})
        groups.append({"role": role, "kpis": kpis, "rows": rows})
    return {"period": period, "groups": groups}


# -- /ratings ------------------------------------------------------------------------------


@blp.route("/ratings", methods=["GET", "POST"])
def ratings_page() -> Response:
    account = signed_in()
    if account is None:
        return _login_first()
    t = labels_for(_lang())["ui"]
    period = _period()
    errors: dict[str, str] = {}
    status, saved = 200, False
    if request.method == "POST":
        if not account.can_write():
            errors["form"], status = t["forbidden_page"], 403
        elif not _checked_form():
            errors["form"], status = t["csrf_refused"], 400
        else:
            grid: dict[str, dict[str, float]] = {}
            for name, value in request.form.items():
                if name.startswith("r|") and value.strip():
                    _, person, kind = name.split("|", 2)
                    try:
                        grid.setdefault(person, {})[kind] = float(value.strip())
                    except ValueError:
                        errors[name] = t["bad_cells"]
            if not errors:
                try:
                    _people().rate(_actor(account), grid)
                    saved = True
                except Refused as exc:
                    errors = {k: "; ".join(v) for k, v in exc.errors.items()}
                    errors.setdefault("form", _form_message(exc))
                    status = exc.status
            else:
                status = 400
    roster = _people().visible(_actor(account))
    groups = []
    for role in ROLES:
        kinds = [k.key for k in _scorecards().roles.get(role, ()) if k.source == "rating"]
        members = [
            (pid, row)
            for pid, row in sorted(roster.items())
            if row.get("role") == role and _people().may_change(_actor(account), pid, roster)
        ]
        if kinds and members:
            groups.append(
                {
                    "role": role,
                    "kinds": kinds,
                    "rows": [{"person_id": pid, "name": row.get("name")} for pid, row in members],
                }
            )
    return _page(
        "ratings.html", account, status, period=period, groups=groups, errors=errors, saved=saved
    )


# -- /violations ---------------------------------------------------------------------------


@blp.route("/violations", methods=["GET", "POST"])
def violations_page() -> Response:
    account = signed_in()
    if account is None:
        return _login_first()
    t = labels_for(_lang())["ui"]
    period = _period()
    errors: dict[str, str] = {}
    status, saved = 200, False
    form = {k: str(request.form.get(k, "")) for k in ("person_id", "rule", "fine", "day")}
    if request.method == "POST":
        if not account.can_write():
            errors["form"], status = t["forbidden_page"], 403
        elif not _checked_form():
            errors["form"], status = t["csrf_refused"], 400
        else:
            try:
                day = form["day"].strip()
                _people().record_violation(
                    _actor(account),
                    form["person_id"],
                    form["rule"],
                    form["fine"].strip() or None,
                    _noon_of(day) if day else None,
                )
                saved, form = True, {}
            except Refused as exc:
                errors = {k: "; ".join(v) for k, v in exc.errors.items()}
                errors.setdefault("form", _form_message(exc))
                status = exc.status
    roster = _people().visible(_actor(account))
    zone = current_app.extensions["livetally"].settings.timezone
    rng = month_range(period, zone)
    listed = []
    for pid, row in sorted(roster.items()):
        for rule, fine_fen, at in (row.get("ledger") or {}).get("violations", []):
            if rng.holds(at):
                listed.append(
                    {
                        "person_id": pid,
                        "name": row.get("name"),
                        "rule": rule,
                        "fine": fine_fen / 100,
                        "at": _local(at, zone),
                    }
                )
    listed.sort(key=lambda v: (v["at"], v["person_id"]))
    writable = [
        (pid, row.get("name"))
        for pid, row in sorted(roster.items())
        if _people().may_change(_actor(account), pid, roster)
    ]
    return _page(
        "violations.html",
        account,
        status,
        period=period,
        rules=RULE_BOOK_FINES_YUAN,
        listed=listed,
        writable=writable,
        errors=errors,
        form=form,
        saved=saved,
    )


# -- /close --------------------------------------------------------------------------------


@blp.route("/close", methods=["GET", "POST"])
def close_page() -> Response:
    account = signed_in()
    if account is None:
        return _login_first()
    t = labels_for(_lang())["ui"]
    period = _period()
    if account.role != "admin":
        return _page(
            "close.html",
            account,
            403,
            period=period,
            cards=[],
            errors={"form": t["forbidden_page"]},
            done=None,
        )
    from service.reads.scores import AlreadyClosed, PeriodNotOver, close_period, scores

    runtime = current_app.extensions["livetally"]
    rng = month_range(period, runtime.settings.timezone)
    errors: dict[str, str] = {}
    done = None
    status = 200
    if request.method == "POST":
        if not _checked_form():
            errors["form"], status = t["csrf_refused"], 400
        else:
            try:
                done = close_period(runtime, rng)
            except (AlreadyClosed, PeriodNotOver) as exc:
                errors["form"], status = str(exc), 409
    body = scores(runtime, rng, None)
    cards = [
        {
            "person_id": c["person_id"],
            "name": c.get("name"),
            "role": c["role"],
            "score": c.get("score"),
            "grade": c.get("grade"),
        }
        for c in body.get("scorecards", [])
    ]
    return _page(
        "close.html", account, status, period=period, cards=cards, errors=errors, done=done
    )
