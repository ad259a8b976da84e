"""The `livetally` command: every process starts here, reads Settings once and passes them down."""

from __future__ import annotations

import logging
import signal
import threading
from pathlib import Path
from typing import Any

import click

from service.settings import Settings


def _settings(**overrides: Any) -> Settings:
    return Settings.from_env(**overrides)


def _engine(database_url: str | None) -> Any:
    """An engine on the settings' database, migrated to head: the one place the admin commands
    connect and migrate."""
    from events import create_engine
    from service.migrate import upgrade

    engine = create_engine(_settings(database_url=database_url).database_url)
    upgrade(engine)
    return engine


def _wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass


@click.group()
@click.option("--log-level", default="WARNING", show_default=True)
def main(log_level: str) -> None:
    """livetally: real-time tracking and scoring of live-stream commerce."""
    logging.basicConfig(level=log_level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


@main.command()
@click.option("--host", default=None, help="API and feed bind address [127.0.0.1]")
@click.option("--port", type=int, default=None, help="API port [8000]")
@click.option("--feed-port", type=int, default=None, help="websocket feed port [8765]")
@click.option("--db", "database_url", default=None, help="database URL [sqlite:///./livetally.db]")
@click.option("--demo", is_flag=True, help="also drive a simulated broadcast into it")
@click.option("--demo-speed", type=float, default=1.0, show_default=True)
def up(host: str | None, port: int | None, feed_port: int | None, database_url: str | None,
       demo: bool, demo_speed: float) -> None:
    """Everything in one process: API, feed, worker, on a SQLite file (the embedded default)."""
    from service.embedded import run_embedded

    settings = _settings(api_host=host, feed_host=host, api_port=port, feed_port=feed_port,
                         database_url=database_url)
    run_embedded(settings, demo=demo, demo_speed=demo_speed, wait=_wait_for_signal)


@main.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
@click.option("--workers", type=int, default=2, show_default=True, help="gunicorn processes")
@click.option("--threads", type=int, default=4, show_default=True)
def api(host: str | None, port: int | None, workers: int, threads: int) -> None:
    """The HTTP API under gunicorn (production; set LIVETALLY_REDIS_URL)."""
    from service.gunicorn_app import run_gunicorn

    settings = _settings(api_host=host, api_port=port)
    run_gunicorn(settings, workers=workers, threads=threads)


@main.command()
@click.option("--threads", type=int, default=None, help="worker threads [2]")
def worker(threads: int | None) -> None:
    """Projection workers on Redis (production; needs LIVETALLY_REDIS_URL)."""
    from events import create_engine
    from service.process import tune_garbage_collector
    from worker.runtime import RunningWorker, build_worker_parts

    settings = _settings(worker_threads=threads)
    if settings.redis_url is None:
        raise click.UsageError("livetally worker needs LIVETALLY_REDIS_URL (the embedded default "
                               "runs its worker inside `livetally up`)")
    engine = create_engine(settings.database_url)
    parts = build_worker_parts(engine, settings.redis_url)
    running = RunningWorker(parts, engine, settings.worker_threads, settings.sweep_seconds,
                            settings.worker_timeout_ms)
    running.start()
    tune_garbage_collector()
    click.echo(f"worker running: {settings.worker_threads} threads", err=True)
    _wait_for_signal()
    running.stop()


@main.command()
@click.option("--host", default=None)
@click.option("--port", type=int, default=None)
def feed(host: str | None, port: int | None) -> None:
    """The websocket feed (production; fans out from Redis pub/sub)."""
    import asyncio

    from events import create_engine
    from service.feed.server import run_feed
    from service.process import tune_garbage_collector
    from service.tokens import TokenChecker

    settings = _settings(feed_host=host, feed_port=port)
    if settings.redis_url is None:
        raise click.UsageError("livetally feed needs LIVETALLY_REDIS_URL (the embedded default "
                               "runs its feed inside `livetally up`)")
    engine = create_engine(settings.database_url)
    tune_garbage_collector()
    click.echo(f"feed on ws://{settings.feed_host}:{settings.feed_port}/feed", err=True)
    asyncio.run(run_feed(engine, TokenChecker(engine), settings.redis_url, settings.feed_host,
                         settings.feed_port, settings.feed_max_rate))


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--db", "database_url", default=None)
def db_upgrade(database_url: str | None) -> None:
    """Apply Alembic migrations up to head."""
    from events import create_engine
    from service.migrate import upgrade

    settings = _settings(database_url=database_url)
    upgrade(create_engine(settings.database_url))
    click.echo("database is at head", err=True)


@main.group()
def tokens() -> None:
    """API tokens."""


@tokens.command("create")
@click.option("--scope", "scopes", multiple=True, required=True,
              type=click.Choice(["ingest", "read", "admin"]), help="repeat for several")
@click.option("--name", default=None, help="what the token is for (list and revoke show it)")
@click.option("--expires", default=None, help="lifetime, like 30d, 12h or 90m [never]")
@click.option("--db", "database_url", default=None)
def tokens_create(scopes: tuple[str, ...], name: str | None, expires: str | None,
                  database_url: str | None) -> None:
    """Create a token and print it, alone, on stdout (it is stored only as a hash)."""
    from service.tokens import TokenError, create_token, parse_lifetime

    try:
        lifetime = None if expires is None else parse_lifetime(expires)
    except TokenError as exc:
        raise click.BadParameter(str(exc), param_hint="--expires") from None
    click.echo(create_token(_engine(database_url), list(scopes), name, lifetime))


@tokens.command("list")
@click.option("--db", "database_url", default=None)
def tokens_list(database_url: str | None) -> None:
    """Every token: id, name, scopes, created, expires, revoked (never the token itself)."""
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from events.fields import format_timestamp
    from service.tokens import list_tokens

    table = Table(title="livetally tokens")
    for column in ("id", "name", "scopes", "created", "expires", "revoked"):
        table.add_column(column)
    for info in list_tokens(_engine(database_url)):
        table.add_row(info.token_id, escape(info.name or ""), info.scopes,
                      format_timestamp(info.created_at),
                      "never" if info.expires_at is None else format_timestamp(info.expires_at),
                      "" if info.revoked_at is None else format_timestamp(info.revoked_at))
    Console().print(table)


@tokens.command("revoke")
@click.argument("id_or_name")
@click.option("--db", "database_url", default=None)
def tokens_revoke(id_or_name: str, database_url: str | None) -> None:
    """Revoke a token by its id (from `tokens list`) or its name; every process stops taking it
    within a second."""
    from service.tokens import TokenError, revoke_token

    try:
        info = revoke_token(_engine(database_url), id_or_name)
    except TokenError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"revoked {info.token_id} ({info.name or 'unnamed'})", err=True)


@main.command()
@click.option("--db", "database_url", default=None)
def rebuild(database_url: str | None) -> None:
    """Empty the projections and replay every stream (stop the workers first)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from events import create_engine
    from service.migrate import upgrade
    from worker.rebuild import rebuild as run_rebuild

    settings = _settings(database_url=database_url)
    engine = create_engine(settings.database_url)
    upgrade(engine)
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn()) as bar:
        task = bar.add_task("events", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = run_rebuild(engine, progress)
    click.echo(f"rebuilt {report.streams} streams, {report.events} events in "
               f"{report.seconds:.1f} s ({report.events_per_second:,.0f} events/s)")


@main.command()
@click.option("--url", default=None, help="API base URL [http://127.0.0.1:8000]")
@click.option("--token", envvar="LIVETALLY_TOKEN", required=True, help="an ingest token")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--sessions", type=int, default=3, show_default=True)
@click.option("--minutes", type=float, default=60, show_default=True)
@click.option("--speed", type=float, default=1, show_default=True,
              help="1 real time, N times faster, 0 as fast as possible")
@click.option("--start", default=None, help="ISO time the broadcasts start (default: now, or "
              "in the past when faster than real time)")
@click.option("--arrivals", type=float, default=60, show_default=True,
              help="peak viewer arrivals per minute per session")
def simulate(url: str | None, token: str, seed: int, sessions: int, minutes: float, speed: float,
             start: str | None, arrivals: float) -> None:
    """Drive realistic, seeded broadcasts into a running API."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from events.fields import parse_timestamp
    from service.simulator.driver import drive

    settings = _settings()
    url = url or f"http://{settings.api_host}:{settings.api_port}"
    begins = parse_timestamp(start) / 1_000_000 if start else None
    with Progress("[progress.description]{task.description}", BarColumn(),
                  MofNCompleteColumn(), TimeRemainingColumn()) as bar:
        task = bar.add_task("events", total=None)
        report = drive(url, token, seed, sessions, minutes, speed, begins, arrivals,
                       lambda done, total: bar.update(task, completed=done, total=total))
    click.echo(f"sent {report.sent} events: {report.appended} stored, {report.duplicates} "
               f"duplicates, {len(report.failures)} failed batches; sessions: "
               f"{', '.join(report.sessions)}")
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

    from events import create_engine
    from service.importer import import_file
    from service.migrate import upgrade

    settings = _settings(database_url=database_url)
    engine = create_engine(settings.database_url)
    upgrade(engine)
    with Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                  TimeRemainingColumn()) as bar:
        task = bar.add_task(file.name, total=None)
        report = import_file(engine, file, batch, not no_project,
                             lambda done, total: bar.update(task, completed=done, total=total))
    click.echo(f"{report.lines} lines: {report.appended} stored, {report.duplicates} "
               f"duplicates, {len(report.rejected)} rejected")
    for number, reason in report.rejected[:50]:
        click.echo(f"  line {number}: {reason}")
    if len(report.rejected) > 50:
        click.echo(f"  ... and {len(report.rejected) - 50} more")
    if report.rejected:
        raise SystemExit(1)


@main.command()
@click.option("--period", required=True, help="YYYY-MM")
@click.option("--role", default=None, type=click.Choice(
    ["host", "live_ops", "supervisor", "department_head", "short_video", "ecommerce_ops"]))
@click.option("--db", "database_url", default=None)
def scores(period: str, role: str | None, database_url: str | None) -> None:
    """Print a period's scorecards as a table."""
    from rich.console import Console
    from rich.table import Table

    from projections.scoring.figures import month_range
    from service.runtime import build_runtime
    from service.scores import scores as period_scores

    runtime = build_runtime(_settings(database_url=database_url))
    body = period_scores(runtime, month_range(period), role)
    table = Table(title=f"livetally scores {period}" + (" (closed)" if body["closed"] else ""))
    for column in ("rank", "person", "role", "score", "grade", "complete", "KPIs", "fines"):
        table.add_column(column)
    for card in body["scorecards"]:
        kpis = ", ".join(f"{k['key']} {k['points']:.1f}" if k["status"] == "ok"
                         else f"{k['key']} ({k['status']})" for k in card["kpis"])
        table.add_row(str(card["rank"]), card.get("name") or card["person_id"], card["role"],
                      f"{card['score']:.2f}", card["grade"] or "not graded",
                      "yes" if card["complete"] else "no",
                      kpis, f"{card['fines']['total']:.2f}")
    Console().print(table)


@main.group()
def projections() -> None:
    """Projection runs: parked streams."""


@projections.command("retry")
@click.argument("stream_id")
@click.option("--db", "database_url", default=None)
def projections_retry(stream_id: str, database_url: str | None) -> None:
    """Unpark STREAM (e.g. session-s-001) and project it now; says what happened."""
    from worker.parking import clear
    from worker.projector import Projector

    engine = _engine(database_url)
    if not clear(engine, stream_id):
        click.echo(f"{stream_id} was not parked; projecting it anyway", err=True)
    projector = Projector(engine)
    try:
        folded = projector.project(stream_id, publish=False)
    except Exception as exc:
        raise click.ClickException(f"{stream_id} failed again: {type(exc).__name__}: {exc}"
                                   ) from None
    if projector.parking.is_parked(stream_id):
        raise click.ClickException(f"{stream_id} failed again and is parked")
    click.echo(f"{stream_id}: {folded} events projected", err=True)


@main.command()
@click.argument("session_id")
@click.option("--xlsx", "xlsx_path", default=None, help="also write the workbook to this file")
@click.option("--db", "database_url", default=None)
def review(session_id: str, xlsx_path: str | None, database_url: str | None) -> None:
    """Print a session's post-broadcast review (复盘) as tables."""
    from rich.console import Console

    from service import views
    from service.exports import review_workbook
    from service.review_tables import review_tables
    from service.runtime import build_runtime

    runtime = build_runtime(_settings(database_url=database_url))
    body = views.review_body(runtime.engine, session_id)
    if body is None:
        raise click.ClickException(f"no session {session_id!r} (or it is not projected yet)")
    console = Console()
    for table in review_tables(body):
        console.print(table)
    if xlsx_path:
        timeline = views.session_timeline_body(runtime.engine, session_id)
        with open(xlsx_path, "wb") as out:
            out.write(review_workbook(body, timeline))
        console.print(f"workbook written to {xlsx_path}")


if __name__ == "__main__":
    main()
