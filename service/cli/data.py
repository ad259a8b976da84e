"""Commands that move or show data: rebuild, simulate, import, scores, review."""

from __future__ import annotations

from pathlib import Path

import click

from service.cli.common import connect, main, settings_from


@main.command()
@click.option("--db", "database_url", default=None)
@click.option("--force", is_flag=True, help="rebuild even if a worker's heartbeat is fresh")
def rebuild(database_url: str | None, force: bool) -> None:
    """Empty the projections and replay every stream (stop the workers first)."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from worker.errors import WorkersRunning
    from worker.rebuild import rebuild as run_rebuild
    from worker.rebuild import refuse_while_workers_run

    engine = connect(database_url)
    try:
        if not force:  # checked before the bar shows
            refuse_while_workers_run(engine)
    except WorkersRunning as exc:
        raise click.ClickException(f"{exc}; or pass --force") from exc
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    ) as bar:
        task = bar.add_task("events", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)

        report = run_rebuild(engine, progress, force=True)
    click.echo(
        f"rebuilt {report.streams} streams, {report.events} events in "
        f"{report.seconds:.1f} s ({report.events_per_second:,.0f} events/s)"
    )


@main.command()
@click.option("--url", default=None, help="API base URL [http://127.0.0.1:8000]")
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
    start: str | None,
    arrivals: float,
    mode: str,
) -> None:
    """Drive realistic, seeded broadcasts into a running API."""
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from events.fields import parse_timestamp
    from service.ingest.simulator.driver import drive

    settings = settings_from()
    url = url or f"http://{settings.api_host}:{settings.api_port}"
    begins = parse_timestamp(start) / 1_000_000 if start else None
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
    ) as bar:
        task = bar.add_task("events", total=None)
        report = drive(
            url,
            token,
            seed,
            sessions,
            minutes,
            speed,
            begins,
            arrivals,
            lambda done, total: bar.update(task, completed=done, total=total),
            platform_rooms=frozenset(range(sessions)) if mode == "platform" else frozenset(),
        )
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
@click.option("--period", required=True, help="YYYY-MM")
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
        table.add_row(
            str(card["rank"]),
            card.get("name") or card["person_id"],
            card["role"],
            f"{card['score']:.2f}",
            card["grade"] or "not graded",
            "yes" if card["complete"] else "no",
            kpis,
            f"{card['fines']['total']:.2f}",
        )
    Console().print(table)


@main.command()
@click.argument("session_id")
@click.option("--xlsx", "xlsx_path", default=None, help="also write the workbook to this file")
@click.option("--db", "database_url", default=None)
def review(session_id: str, xlsx_path: str | None, database_url: str | None) -> None:
    """Print a session's post-broadcast review (复盘) as tables."""
    from rich.console import Console

    from service.process.runtime import build_runtime
    from service.reads import views
    from service.reads.exports import review_workbook
    from service.reads.review_tables import review_tables

    runtime = build_runtime(settings_from(database_url=database_url))
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
