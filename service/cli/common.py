"""What every command shares: the settings, read once; the one place commands connect to the
database (and migrate it); waiting for a stop signal."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

import click
from sqlalchemy.engine import Engine

from service.process.settings import Settings


def settings_from(**overrides: Any) -> Settings:
    """The settings, checked where a mistake would only show later (the time zone, and a
    database that is not a URL: a path given to --db was a driver's traceback)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    from service.process.runtime import BadTimezone, check_timezone

    settings = Settings.from_env(**overrides)
    try:
        check_timezone(settings.timezone)
    except BadTimezone as exc:
        raise click.UsageError(str(exc)) from None
    try:
        make_url(settings.database_url)
    except ArgumentError:
        raise click.UsageError(
            f"--db / LIVETALLY_DATABASE_URL: {settings.database_url!r} is not a database URL "
            "(sqlite:///path/to/file.db, or postgresql://user@host/name)"
        ) from None
    return settings


def connect(
    database_url: str | None, migrate: bool = True, application_name: str | None = None
) -> Engine:
    """An engine on the settings' database (the option's URL, or LIVETALLY_DATABASE_URL),
    migrated to head unless `migrate` is False (the worker and feed leave that to `db upgrade`
    and `migrate`); on PostgreSQL its connections carry `application_name`."""
    from events import create_engine
    from service.process.migrate import upgrade

    engine = create_engine(
        settings_from(database_url=database_url).database_url, application_name=application_name
    )
    if migrate:
        upgrade(engine)
    return engine


def wait_for_signal() -> None:
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        pass


class Commands(click.Group):
    """The command group: a database that cannot be reached or written, in any command, is one
    line on stderr and exit code 1, not a driver's traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        import sqlite3

        import sqlalchemy.exc

        from service.process.database_state import unusable

        try:
            return super().invoke(ctx)
        except (sqlalchemy.exc.OperationalError, sqlite3.OperationalError) as exc:
            raise click.ClickException(unusable(exc)) from None


@click.group(cls=Commands)
@click.option("--log-level", default="WARNING", show_default=True)
def main(log_level: str) -> None:
    """livetally: real-time tracking and scoring of live-stream commerce."""
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
