"""`livetally users`: staff accounts for the pages. Passwords come from standard input (asked
twice, hidden, at a terminal), never from an argument."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from service.cli.common import connect, main, settings_from


def _accounts(database_url: str | None):  # type: ignore[no-untyped-def]
    from service.auth.accounts import AccountBook

    return AccountBook(connect(settings_from(database_url=database_url).database_url))


def _password() -> str:
    if sys.stdin.isatty():
        return str(click.prompt("password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\n")


@main.group()
def users() -> None:
    """Staff accounts: create, list, disable, password."""


@users.command("create")
@click.argument("name")
@click.option("--role", type=click.Choice(["admin", "manager", "viewer"]), required=True)
@click.option("--person", "person_id", default=None, help="the person the account is")
@click.option("--db", "database_url", default=None)
def users_create(name: str, role: str, person_id: str | None, database_url: str | None) -> None:
    """Create an account; its password is read from standard input."""
    from service.auth.accounts import AccountError

    try:
        account = _accounts(database_url).create(name, _password(), role, person_id)
    except AccountError as exc:
        raise click.UsageError(str(exc)) from None
    click.echo(f"account {account.name} created ({account.role})")


@users.command("list")
@click.option("--db", "database_url", default=None)
def users_list(database_url: str | None) -> None:
    """Every account, its role, person and whether it is disabled."""
    table = Table(title="users")
    for column in ("name", "role", "person", "state"):
        table.add_column(column, no_wrap=True)
    for a in _accounts(database_url).all():
        table.add_row(
            escape(a.name), a.role, escape(a.person_id or "-"), "disabled" if a.disabled else "ok"
        )
    Console().print(table)


@users.command("disable")
@click.argument("name")
@click.option("--db", "database_url", default=None)
def users_disable(name: str, database_url: str | None) -> None:
    """Disable an account: its open sessions end at once."""
    if not _accounts(database_url).disable(name):
        raise click.UsageError(f"no account {name!r}")
    click.echo(f"account {name} disabled")


@users.command("password")
@click.argument("name")
@click.option("--db", "database_url", default=None)
def users_password(name: str, database_url: str | None) -> None:
    """Set a new password (from standard input): the account's open sessions end."""
    from service.auth.accounts import AccountError

    try:
        changed = _accounts(database_url).set_password(name, _password())
    except AccountError as exc:
        raise click.UsageError(str(exc)) from None
    if not changed:
        raise click.UsageError(f"no account {name!r}")
    click.echo(f"password of {name} changed")
