"""Commands that move or show data: rebuild, simulate, import, scores, review."""

from __future__ import annotations

import http.client
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import click

from events.fields import PERIOD_RE
from service.cli.common import connect, main, settings_from


class PeriodType(click.ParamType):
    """A calendar month, YYYY-MM, checked as the API checks `period` (events.fields.PERIOD_RE):
    a wrong one is a usage error naming the option, not a traceback or an empty table."""

    name = "YYYY-MM"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if isinstance(value, str) and PERIOD_RE.match(value):
            return value
        self.fail(
            f"{value!r} is not a month as YYYY-MM (years 1970-2999, months 01-12)", param, ctx
        )


def _start_time(ctx: click.Context, param: click.Parameter, value: str | None) -> int | None:
    """--start as microseconds since the epoch; not an ISO 8601 time: a usage error."""
    from marshmallow import ValidationError

    from events.fields import parse_timestamp

    if value is None:
        return None
    try:
        return parse_timestamp(value)
    except ValidationError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time") from None


def _api_url(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    """--url as http://host[:port]: checked here, so a typo is a usage error, not a traceback
    from deep in the simulator's HTTP client."""
    if value is None:
        return None
    try:
        parsed = urlparse(value)
        parsed.port  # noqa: B018 - raises ValueError on a port that is not a number
    except ValueError:
        raise click.BadParameter(f"{value!r} has a port that is not a number") from None
    if parsed.scheme != "http" or not parsed.hostname:
        raise click.BadParameter(f"{value!r} is not an http://host[:port] URL")
    return value


@main.command()
@click.option("--db", "database_url", default=None)
@click.option(
    "--offline",
    is_flag=True,
    help="empty the live tables and refold into them (stop the service first)",
)
@click.option("--force", is_flag=True, help="--offline even if a worker's heartbeat is fresh")
def rebuild(database_url: str | None, offline: bool, force: bool) -> None:
    """Refold every stream into fresh read models and swap them in while the service runs
    (--offline: into the emptied live tables, with the service stopped)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TimeRemainingColumn

    from worker.errors import RebuildRunning, WorkersRunning
    from worker.online_rebuild import rebuild_online
    from worker.rebuild import rebuild as run_rebuild
    from worker.rebuild import refuse_while_workers_run

    if force and not offline:
        raise click.UsageError("--force goes with --offline (the online rebuild needs no force)")
    engine = connect(database_url)
    try:
        if offline and not force:  # checked before the bar shows
            refuse_while_workers_run(engine)
    except WorkersRunning as exc:
        raise click.ClickException(
            f"{exc}; or pass --force, or leave out --offline to rebuild while they run"
        ) from exc
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def progress(phase: str, done: int, total: int) -> None:
            if phase not in tasks:
                tasks[phase] = bar.add_task(PHASES[phase], total=None)
            bar.update(tasks[phase], completed=done, total=total)

        try:
            if offline:
                report = run_rebuild(
                    engine, lambda done, total: progress("fold", done, total), force=True
                )
            else:
                report = rebuild_online(engine, progress)
        except RebuildRunning as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(
        f"rebuilt {report.streams} streams, {report.events} events in "
        f"{report.seconds:.1f} s ({report.events_per_second:,.0f} events/s)"
        + ("" if offline else "; swapped in")
    )


# The rebuild's progress bars: events folded, then (online) left to catch up and to swap.
PHASES = {"fold": "events folded", "catch up": "catching up", "swap": "swapping in"}


@main.command()
@click.option("--url", default=None, callback=_api_url, help="API base URL [http://127.0.0.1:8000]")
@click.option("--token", envvar="LIVETALLY_TOKEN", required=True, help="an ingest token")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--sessions", type=int, default=3, show_default=True)
@click.option("--minutes", type=float, default=60, show_default=True)
@click.option(
    "--speed",
    type=float,
    default=1,
    show_default=True,
    help="1 real time, N times faster, 0 as fast as possible",
)
@click.option(
    "--start",
    default=None,
    callback=_start_time,
    help="ISO time the broadcasts start (default: now, or in the past when faster than real time)",
)
@click.option(
    "--arrivals",
    type=float,
    default=60,
    show_default=True,
    help="peak viewer arrivals per minute per session",
)
@click.option(
    "--mode",
    type=click.Choice(["events", "platform"]),
    default="events",
    show_default=True,
    help="events: every viewer event; platform: what official sources give a studio "
    "(a reading a minute, order pushes, sparse comments)",
)
def simulate(
    url: str | None,
    token: str,
    seed: int,
    sessions: int,
    minutes: float,
    speed: float,
    start: int | None,
    arrivals: float,
    mode: str,
) -> None:
    """Drive realistic, seeded broadcasts into a running API."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from service.ingest.simulator.driver import drive

    settings = settings_from()
    url = url or f"http://{settings.api_host}:{settings.api_port}"
    begins = start / 1_000_000 if start is not None else None
    bar = Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    )
    task = bar.add_task("events", total=None)

    def progress(done: int, total: int) -> None:
        # Shown from the first answer on: an API that is not there gets its one-line error,
        # not an empty bar before it.
        if not bar.live.is_started:
            bar.start()
        bar.update(task, completed=done, total=total)

    try:
        report = drive(
            url,
            token,
            seed,
            sessions,
            minutes,
            speed,
            begins,
            arrivals,
            progress,
            platform_rooms=frozenset(range(sessions)) if mode == "platform" else frozenset(),
        )
    # Refused, reset, timed out, an unknown host (all OSError), or a reply that is not HTTP:
    # the API is not there to take events, which the operator fixes, not a bug to trace.
    except (OSError, http.client.HTTPException) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise click.ClickException(
            f"the API at {url} is unreachable ({reason or type(exc).__name__})"
        ) from None
    finally:
        if bar.live.is_started:
            bar.stop()
    click.echo(
        f"sent {report.sent} events: {report.appended} stored, {report.duplicates} "
        f"duplicates, {len(report.failures)} failed batches; sessions: "
        f"{', '.join(report.sessions)}"
    )
    for failure in report.failures[:10]:
        click.echo(f"  {failure}", err=True)
    if report.failures:
        raise SystemExit(1)


@main.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--db", "database_url", default=None)
@click.option("--batch", type=int, default=1000, show_default=True)
@click.option("--no-project", is_flag=True, help="leave projecting to the running workers")
def import_events(file: Path, database_url: str | None, batch: int, no_project: bool) -> None:
    """Bulk-load events from JSON Lines (.jsonl) or CSV (.csv); exits 1 if a line was rejected."""
    from rich.progress import BarColumn, DownloadColumn, Progress, TimeRemainingColumn

    from service.ingest.importer import import_file

    engine = connect(database_url)
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        DownloadColumn(),
        TimeRemainingColumn(),
    ) as bar:
        task = bar.add_task(file.name, total=None)
        report = import_file(
            engine,
            file,
            batch,
            not no_project,
            lambda done, total: bar.update(task, completed=done, total=total),
        )
    click.echo(
        f"{report.lines} lines: {report.appended} stored, {report.duplicates} "
        f"duplicates, {len(report.rejected)} rejected"
    )
    for number, reason in report.rejected[:50]:
        click.echo(f"  line {number}: {reason}")
    if len(report.rejected) > 50:
        click.echo(f"  ... and {len(report.rejected) - 50} more")
    if report.rejected:
        raise SystemExit(1)


@main.command()
@click.option("--period", required=True, type=PeriodType(), help="a month, YYYY-MM")
@click.option(
    "--role",
    default=None,
    type=click.Choice(
        ["host", "live_ops", "supervisor", "department_head", "short_video", "ecommerce_ops"]
    ),
)
@click.option("--db", "database_url", default=None)
def scores(period: str, role: str | None, database_url: str | None) -> None:
    """Print a period's scorecards as a table."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from projections.scoring.figures import month_range
    from service.process.runtime import build_runtime
    from service.reads.scores import scores as period_scores

    runtime = build_runtime(settings_from(database_url=database_url))
    body = period_scores(runtime, month_range(period, runtime.settings.timezone), role)
    table = Table(title=f"livetally scores {period}" + (" (closed)" if body["closed"] else ""))
    for column in ("rank", "person", "role", "score", "grade", "complete", "KPIs", "fines"):
        table.add_column(column)
    for card in body["scorecards"]:
        kpis = ", ".join(
            f"{k['key']} {k['points']:.1f}"
            if k["status"] == "ok"
            else f"{k['key']} ({k['status']})"
            for k in card["kpis"]
        )
        # Names and ids come from producers (person.registered), KPI keys and grades from the
        # scorecard file: all are text, and a "[/]" in one is not rich markup to interpret.
        table.add_row(
            str(card["rank"]),
            escape(card.get("name") or card["person_id"]),
            escape(card["role"]),
            f"{card['score']:.2f}",
            escape(card["grade"] or "not graded"),
            "yes" if card["complete"] else "no",
            escape(kpis),
            f"{card['fines']['total']:.2f}",
        )
    Console().print(table)


@main.command()
@click.argument("session_id")
@click.option("--xlsx", "xlsx_path", default=None, help="also write the workbook to this file")
@click.option(
    "--lang",
    type=click.Choice(["zh", "en"]),
    default="zh",
    show_default=True,
    help="the labels' language, as the pages' lang",
)
@click.option("--db", "database_url", default=None)
def review(session_id: str, xlsx_path: str | None, lang: str, database_url: str | None) -> None:
    """Print a session's post-broadcast review (复盘) as tables (100 columns at most), times in
    the studio's zone (LIVETALLY_TIMEZONE)."""
    from rich.console import Console
    from rich.markup import escape

    from service.process.runtime import build_runtime
    from service.reads import views
    from service.reads.exports import review_workbook
    from service.reads.review_tables import WIDTH, review_tables

    runtime = build_runtime(settings_from(database_url=database_url))
    zone = runtime.settings.timezone
    body = views.review_body(runtime.engine, session_id)
    if body is None:
        raise click.ClickException(f"no session {session_id!r} (or it is not projected yet)")
    if body.get("host_id") and not body.get("host_name"):
        # the name the screens show for the host, from the person read model
        body["host_name"] = views.person_names(runtime.engine, {body["host_id"]}).get(
            body["host_id"]
        )
    # The terminal's width (COLUMNS when set), at most 100: the tables fit 100 columns, and on
    # a narrower terminal wrap names before numbers.
    console = Console(width=min(Console().width, WIDTH))
    for table in review_tables(body, zone=zone, lang=lang, width=console.width):
        console.print(table)
    if xlsx_path:
        timeline = views.session_timeline_body(runtime.engine, session_id)
        with open(xlsx_path, "wb") as out:
            out.write(review_workbook(body, timeline, lang=lang, zone=zone))
        written = "工作簿已写入" if lang == "zh" else "workbook written to"
        console.print(f"{written} {escape(xlsx_path)}")
