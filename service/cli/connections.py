"""`livetally connections`: add, list, remove, authorize and sync the shops and accounts.

Secrets are never command-line arguments (they would stay in the shell's history and in `ps`):
`add` reads them as KEY=VALUE lines from standard input, or asks for them, hidden, at a
terminal; nothing prints them back.
"""

from __future__ import annotations

import sys
from datetime import datetime

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from service.cli.common import connect, main, settings_from
from service.ingest.connections.manage import CONNECTION_PLATFORMS as PLATFORMS

ASKED = ("app_secret", "access_token", "refresh_token")


def _runtime(database_url: str | None, create_key: bool = False):  # type: ignore[no-untyped-def]
    from service.process.runtime import build_runtime

    connect(database_url).dispose()  # migrated, as every command that writes
    return build_runtime(settings_from(database_url=database_url), create_key=create_key)


def _read_secrets() -> dict[str, str]:
    if sys.stdin.isatty():
        found = {}
        for name in ASKED:
            value = click.prompt(
                f"{name} (empty to skip)", default="", hide_input=True, show_default=False
            )
            if value:
                found[name] = value
        return found
    found = {}
    for number, line in enumerate(sys.stdin.read().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if "=" not in line:
            raise click.UsageError(f"standard input line {number}: expected KEY=VALUE")
        key, value = line.split("=", 1)
        found[key.strip()] = value.strip()
    return found


def _time(us: int | None) -> str:
    if us is None:
        return "-"
    return datetime.fromtimestamp(us / 1e6).astimezone().strftime("%Y-%m-%d %H:%M %Z")


@main.group()
def connections() -> None:
    """Shops and accounts: add, list, remove, authorize, sync."""


@connections.command("add")
@click.argument("platform", type=click.Choice(PLATFORMS))
@click.argument("account_id")
@click.option("--name", required=True, help="what screens and lists call the shop")
@click.option("--app-key", default=None, help="the shop's own app (else the platform's app)")
@click.option("--expires-in", type=int, default=None, help="access token lifetime, seconds")
@click.option("--db", "database_url", default=None)
def connections_add(
    platform: str,
    account_id: str,
    name: str,
    app_key: str | None,
    expires_in: int | None,
    database_url: str | None,
) -> None:
    """Add (or replace) a connection with pasted tokens. Secrets come from standard input as
    KEY=VALUE lines (app_secret, access_token, refresh_token, shop_cipher, token,
    encoding_aes_key, message_secret, sign_secret), or are asked for at a terminal."""
    from events.clock import now_micros
    from service.ingest.connections.manage import ConnectionRefused, add_connection

    secrets = _read_secrets()
    runtime = _runtime(database_url, create_key=True)
    try:
        added = add_connection(
            runtime.connectors.shops,
            platform,
            account_id,
            name,
            app_key,
            secrets,
            None if expires_in is None else now_micros() + expires_in * 1_000_000,
        )
    except ConnectionRefused as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        runtime.close()
    click.echo(
        f"connection {added.connection_id} saved ({', '.join(sorted(secrets)) or 'no secrets'} set)"
    )


@connections.command("list")
@click.option("--db", "database_url", default=None)
def connections_list(database_url: str | None) -> None:
    """Each connection with its state (ok, expiring, failed: reason) and its last sync."""
    from events.clock import now_micros

    runtime = _runtime(database_url)
    try:
        rows = runtime.connectors.book.all()
    finally:
        runtime.close()
    now = now_micros()
    table = Table(title="connections")
    table.add_column("id", no_wrap=True)
    for column in ("name", "state", "token expires", "synced until", "last sync error"):
        table.add_column(column, overflow="fold")
    for c in rows:
        table.add_row(
            escape(c.connection_id),
            escape(c.name),
            escape(c.described(now)),
            _time(c.access_expires_at),
            _time(c.synced_until),
            escape(c.sync_error or "-"),
        )
    Console().print(table)


@connections.command("remove")
@click.argument("connection_id")
@click.option("--db", "database_url", default=None)
def connections_remove(connection_id: str, database_url: str | None) -> None:
    """Remove a connection and its secrets (its pushes are then refused or dead letters)."""
    runtime = _runtime(database_url)
    try:
        removed = runtime.connectors.book.remove(connection_id)
    finally:
        runtime.close()
    if not removed:
        raise click.UsageError(f"no connection {connection_id!r} (see `connections list`)")
    click.echo(f"connection {connection_id} removed")


@connections.command("authorize")
@click.argument("platform", type=click.Choice(PLATFORMS))
@click.option("--name", default=None, help="the connection's name (first step)")
@click.option("--code", default=None, help="the code the platform redirected with (second step)")
@click.option("--state", default=None, help="the state printed by the first step")
@click.option("--db", "database_url", default=None)
def connections_authorize(
    platform: str,
    name: str | None,
    code: str | None,
    state: str | None,
    database_url: str | None,
) -> None:
    """The platform's OAuth flow from a terminal. First `--name`: prints the URL to open and
    a state; after approving, run again with the `--code` from the redirect and `--state`.
    (In a browser, the admin API's /connections/authorize does both steps by itself.)"""
    from service.ingest.connections.manage import (
        ConnectionRefused,
        finish_authorization,
        start_authorization,
    )

    runtime = _runtime(database_url, create_key=True)
    shops = runtime.connectors.shops
    try:
        if code is None:
            if not name:
                raise click.UsageError("give --name to start, or --code and --state to finish")
            url = start_authorization(shops, platform, name, CLI_BROWSER)
            click.echo(f"open: {url}")
            click.echo(
                "then run again with the code and state the platform redirects with: "
                f"livetally connections authorize {platform} --code CODE --state STATE"
            )
            return
        if not state:
            raise click.UsageError("--code needs the --state of the redirect")
        added = finish_authorization(shops, platform, code, state, CLI_BROWSER)
    except ConnectionRefused as exc:
        raise click.UsageError(str(exc)) from None
    finally:
        runtime.close()
    click.echo(f"connection {added.connection_id} authorised")


# A state opened from the terminal is redeemed from the terminal only: a browser's binding is a
# random cookie value, never this.
CLI_BROWSER = "terminal"


@connections.command("sync")
@click.argument("connection_id", required=False)
@click.option("--since", default=None, help="backfill from this ISO 8601 time")
@click.option("--db", "database_url", default=None)
def connections_sync(
    connection_id: str | None, since: str | None, database_url: str | None
) -> None:
    """Pull the orders updated since the last sync (or --since) now, for one connection or all."""
    from marshmallow import ValidationError

    from events.fields import parse_timestamp

    since_us = None
    if since is not None:
        try:
            since_us = parse_timestamp(since)
        except ValidationError as exc:
            raise click.UsageError(f"--since: {exc.messages[0]}") from None
    runtime = _runtime(database_url)
    try:
        jobs = runtime.connectors.jobs()
        ids = (
            [connection_id]
            if connection_id
            else [c.connection_id for c in runtime.connectors.book.all()]
        )
        if not ids:
            click.echo("no connections (add one with `livetally connections add`)")
        for one in ids:
            click.echo(jobs.run(one, since_us))
    finally:
        runtime.close()


@main.group()
def rooms() -> None:
    """Which person hosts a room: the sessions a poller opens take their host from here."""


@rooms.command("map")
@click.argument("room")
@click.argument("person")
@click.option("--db", "database_url", default=None)
def rooms_map(room: str, person: str, database_url: str | None) -> None:
    """Map ROOM (a room id, or the account a poller sees: a Douyin aweme id, a TikTok
    username, a WeChat appid) to PERSON (a person id)."""
    from events.fields import IDENTIFIER_RE

    for name, value in (("ROOM", room), ("PERSON", person)):
        if not IDENTIFIER_RE.match(value):
            raise click.UsageError(
                f"{name}: must be 1-128 letters, digits and . _ : @ - (starting with a letter "
                "or digit)"
            )
    runtime = _runtime(database_url)
    try:
        runtime.connectors.book.map_room(room, person)
    finally:
        runtime.close()
    click.echo(f"room {room} is hosted by {person}")


@rooms.command("list")
@click.option("--db", "database_url", default=None)
def rooms_list(database_url: str | None) -> None:
    """Every room mapping."""
    runtime = _runtime(database_url)
    try:
        mapped = runtime.connectors.book.rooms()
    finally:
        runtime.close()
    table = Table(title="rooms")
    table.add_column("room", no_wrap=True)
    table.add_column("host", no_wrap=True)
    for room, person in sorted(mapped.items()):
        table.add_row(escape(room), escape(person))
    Console().print(table)


@rooms.command("unmap")
@click.argument("room")
@click.option("--db", "database_url", default=None)
def rooms_unmap(room: str, database_url: str | None) -> None:
    """Remove a room's mapping."""
    runtime = _runtime(database_url)
    try:
        removed = runtime.connectors.book.unmap_room(room)
    finally:
        runtime.close()
    if not removed:
        raise click.UsageError(f"no mapping for room {room!r}")
    click.echo(f"room {room} unmapped")
