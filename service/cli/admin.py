"""Commands that administer: db upgrade, tokens, projections retry."""

from __future__ import annotations

import click

from service.cli.common import connect, main, settings_from
from service.ingest.connectors import PLATFORMS


@main.group()
def db() -> None:
    """Database schema."""


@db.command("upgrade")
@click.option("--db", "database_url", default=None)
def db_upgrade(database_url: str | None) -> None:
    """Apply Alembic migrations up to head."""
    connect(database_url)
    click.echo("database is at head", err=True)


@main.group()
def tokens() -> None:
    """API tokens."""


@tokens.command("create")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    required=True,
    type=click.Choice(["ingest", "read", "admin"]),
    help="repeat for several",
)
@click.option("--name", default=None, help="what the token is for (list and revoke show it)")
@click.option("--expires", default=None, help="lifetime, like 30d, 12h or 90m [never]")
@click.option("--db", "database_url", default=None)
def tokens_create(
    scopes: tuple[str, ...], name: str | None, expires: str | None, database_url: str | None
) -> None:
    """Create a token and print it, alone, on stdout (it is stored only as a hash)."""
    from service.auth.tokens import TokenError, create_token, parse_lifetime

    try:
        lifetime = None if expires is None else parse_lifetime(expires)
    except TokenError as exc:
        raise click.BadParameter(str(exc), param_hint="--expires") from None
    click.echo(create_token(connect(database_url), list(scopes), name, lifetime))


@tokens.command("list")
@click.option("--db", "database_url", default=None)
def tokens_list(database_url: str | None) -> None:
    """Every token: id, name, scopes, created, expires, revoked (never the token itself), times
    in the studio's zone."""
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    from service.auth.tokens import list_tokens

    zone_name = settings_from(database_url=database_url).timezone
    zone = ZoneInfo(zone_name)

    def shown(micros: int | None, none: str = "") -> str:
        if micros is None:
            return none
        return datetime.fromtimestamp(micros / 1_000_000, zone).strftime("%Y-%m-%d %H:%M")

    table = Table(title="livetally tokens", caption=f"times in {zone_name}")
    table.add_column("id", no_wrap=True)
    table.add_column("name", overflow="fold")
    table.add_column("scopes")
    for column in ("created", "expires", "revoked"):
        table.add_column(column, no_wrap=True)  # a time is never cut or split
    for info in list_tokens(connect(database_url)):
        table.add_row(
            info.token_id,
            escape(info.name or ""),
            info.scopes,
            shown(info.created_at),
            shown(info.expires_at, "never"),
            shown(info.revoked_at),
        )
    Console().print(table)


@tokens.command("revoke")
@click.argument("id_or_name")
@click.option("--db", "database_url", default=None)
def tokens_revoke(id_or_name: str, database_url: str | None) -> None:
    """Revoke a token by its id (from `tokens list`) or its name; every process stops taking it
    within a second."""
    from service.auth.tokens import TokenError, revoke_token

    try:
        info = revoke_token(connect(database_url), id_or_name)
    except TokenError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"revoked {info.token_id} ({info.name or 'unnamed'})", err=True)


@main.group()
def projections() -> None:
    """Projection runs: parked streams."""


@projections.command("retry")
@click.argument("stream_id")
@click.option("--db", "database_url", default=None)
def projections_retry(stream_id: str, database_url: str | None) -> None:
    """Unpark STREAM (e.g. session-s-001) and project it now; says what happened."""
    from events import open_recorder
    from worker.parking import clear
    from worker.projector import Projector

    engine = connect(database_url)
    if not clear(engine, stream_id):
        click.echo(f"{stream_id} was not parked; projecting it anyway", err=True)
    projector = Projector(engine, open_recorder(engine))
    try:
        folded = projector.project(stream_id, publish=False)
    except Exception as exc:
        raise click.ClickException(
            f"{stream_id} failed again: {type(exc).__name__}: {exc}"
        ) from None
    if projector.parking.is_parked(stream_id):
        raise click.ClickException(f"{stream_id} failed again and is parked")
    click.echo(f"{stream_id}: {folded} events projected", err=True)


@main.group()
def connectors() -> None:
    """Platform connectors: dead letters."""


@connectors.command("replay")
@click.option(
    "--platform",
    type=click.Choice(list(PLATFORMS)),
    default=None,
    help="only this platform's dead letters",
)
@click.option("--db", "database_url", default=None)
def connectors_replay(platform: str | None, database_url: str | None) -> None:
    """Run the dead letters again (after their cause is fixed: the session registered, the
    access token set) and say what was appended and what is still dead."""
    from service.process.runtime import build_runtime

    connect(database_url).dispose()  # migrated, as every command that writes
    runtime = build_runtime(settings_from(database_url=database_url))
    try:
        taken = runtime.intake.replay(platform)
    finally:
        runtime.close()
    done = taken.messages.get("appended", 0) + taken.messages.get("ignored", 0)
    still = taken.messages.get("dead", 0)
    click.echo(
        f"replayed {done + still} dead letters: {taken.messages.get('appended', 0)} "
        f"appended {taken.appended} events, {taken.messages.get('ignored', 0)} ignored, "
        f"{still} still dead"
    )
    for reason, count in sorted(taken.reasons.items()):
        click.echo(f"  still dead: {count} {reason}")
