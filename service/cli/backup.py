"""`livetally backup` and `livetally restore`: the embedded default's SQLite file copied while it
serves (SQLite's online backup API: a consistent copy, page by page, writers going on), and put
back (refused while a process of the service runs). PostgreSQL is backed up with its own tools
(docs/deploy.md)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import click

from service.cli.common import main, settings_from

PAGES_PER_STEP = 1024  # a step holds the database's read lock this long: a few ms


def _sqlite_file(database_url: str | None) -> Path:
    url = settings_from(database_url=database_url).database_url
    prefix = "sqlite:///"
    if not url.startswith(prefix):
        raise click.UsageError(
            "backup and restore copy the embedded default's SQLite file; for PostgreSQL use "
            "pg_dump / pg_basebackup (docs/deploy.md)"
        )
    return Path(url[len(prefix) :].split("?")[0])


def _copy(source: sqlite3.Connection, target: sqlite3.Connection, what: str) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress

    with Progress(f"[progress.description]{what}", BarColumn(), MofNCompleteColumn()) as bar:
        task = bar.add_task(what, total=None)

        def progress(status: int, remaining: int, total: int) -> None:
            bar.update(task, completed=total - remaining, total=total)

        source.backup(target, pages=PAGES_PER_STEP, progress=progress)


@main.command()
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
@click.option("--db", "database_url", default=None)
def backup(path: str, database_url: str | None) -> None:
    """Copy the embedded database to PATH while the service runs (consistent; writes go on)."""
    database = _sqlite_file(database_url)
    if not database.exists():
        raise click.UsageError(f"no database at {database}")
    target_path = Path(path)
    if target_path.exists():
        raise click.UsageError(f"{target_path} exists: give a new file (nothing is overwritten)")
    try:
        source = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
        target = sqlite3.connect(target_path)
    except sqlite3.Error as exc:
        raise click.ClickException(f"cannot open the database or the backup file: {exc}") from None
    try:
        _copy(source, target, "backup")
    except sqlite3.Error as exc:
        target.close()
        target_path.unlink(missing_ok=True)
        raise click.ClickException(f"the backup failed: {exc}") from None
    finally:
        source.close()
    target.close()
    click.echo(f"backed up {database} to {target_path} ({target_path.stat().st_size:,} bytes)")


@main.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--db", "database_url", default=None)
def restore(path: str, database_url: str | None) -> None:
    """Put a backup back as the embedded database (refused while a process of it runs)."""
    from events import create_engine
    from service.reads.views import worker_beats
    from worker.heartbeat import ALIVE_SECONDS

    database = _sqlite_file(database_url)
    try:
        backup_db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        backup_db.execute("SELECT count(*) FROM events").fetchone()
    except sqlite3.Error as exc:
        raise click.UsageError(f"{path} is not a livetally backup: {exc}") from None
    if database.exists():
        from events.clock import now_micros

        engine = create_engine(f"sqlite:///{database}")
        try:
            with engine.connect() as conn:
                alive = worker_beats(conn, now_micros() - ALIVE_SECONDS * 1_000_000)
        except Exception:  # an unreadable or empty file has no live process
            alive = []
        finally:
            engine.dispose()
        if alive:
            raise click.ClickException(
                f"the service is running ({len(alive)} live process(es)): stop it first"
            )
    target = sqlite3.connect(database)
    try:
        _copy(backup_db, target, "restore")
    finally:
        backup_db.close()
        target.close()
    click.echo(f"restored {path} to {database}")
