"""Every command fails plainly: one line on stderr and a non-zero exit when its database cannot
be reached (or, for the production services that wait for theirs, on a bad argument), never a
traceback. The cases cover every command the CLI has: a new command without one fails here."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from service.cli import main

UNREACHABLE = "postgresql+psycopg://livetally:secret@127.0.0.1:1/livetally"
DATABASE_LINE = "Error: the database cannot be used: it is unreachable (connection failed"

# command -> (arguments after it, the start of its one line)
CASES: dict[str, tuple[list[str], str]] = {
    "backup": (["{tmp}/copy.db"], "Error: backup and restore copy the embedded default's"),
    "restore": (["{tmp}/backup.db"], "Error: backup and restore copy the embedded default's"),
    "connections add": (["doudian", "shop-1", "--name", "Shop"], DATABASE_LINE),
    "connections authorize": (["doudian"], DATABASE_LINE),
    "connections list": ([], DATABASE_LINE),
    "connections remove": (["1"], DATABASE_LINE),
    "connections sync": ([], DATABASE_LINE),
    "connectors replay": ([], DATABASE_LINE),
    "db upgrade": ([], DATABASE_LINE),
    "import": (["{tmp}/events.jsonl"], DATABASE_LINE),
    "projections retry": (["session-s-1"], DATABASE_LINE),
    "rebuild": ([], DATABASE_LINE),
    "review": (["s-1"], DATABASE_LINE),
    "rooms list": ([], DATABASE_LINE),
    "rooms map": (["room-1", "p-1"], DATABASE_LINE),
    "rooms unmap": (["room-1"], DATABASE_LINE),
    "scores": (["--period", "2026-11"], DATABASE_LINE),
    "tokens create": (["--scope", "read"], DATABASE_LINE),
    "tokens list": ([], DATABASE_LINE),
    "tokens revoke": (["t-1"], DATABASE_LINE),
    "users create": (["ana", "--role", "viewer"], DATABASE_LINE),
    "users disable": (["ana"], DATABASE_LINE),
    "users list": ([], DATABASE_LINE),
    "users password": (["ana"], DATABASE_LINE),
    "up": ([], "Error: the database postgresql+psycopg://livetally:***@127.0.0.1:1/livetally"),
    # An API that is not there: one line (the simulator never touches a database).
    "simulate": (["--token", "t", "--url", "http://127.0.0.1:1"], "Error: the API at"),
    # The production services wait for their database and Redis to come back (supervised,
    # docs/deploy.md): what they refuse at once is a bad argument.
    "api": (["--port", "many"], "Error: Invalid value for '--port'"),
    "feed": (["--port", "many"], "Error: Invalid value for '--port'"),
    "worker": (["--threads", "many"], "Error: Invalid value for '--threads'"),
}

# What a command reads from standard input (passwords, by default).
INPUT = {"connections add": "app_key=key-1\napp_secret=secret-1\n"}


def leaf_commands(group: click.Group, prefix: str = "") -> list[str]:
    found = []
    for name, command in sorted(group.commands.items()):
        if isinstance(command, click.Group):
            found += leaf_commands(command, f"{prefix}{name} ")
        else:
            found.append(f"{prefix}{name}")
    return found


def test_every_command_has_a_case() -> None:
    assert sorted(CASES) == leaf_commands(main)


@pytest.mark.parametrize("command", sorted(CASES))
def test_a_command_fails_in_one_plain_line(command: str, tmp_path: Path) -> None:
    (tmp_path / "events.jsonl").write_text("{}\n")
    (tmp_path / "backup.db").write_bytes(b"")
    arguments, line = CASES[command]
    result = CliRunner().invoke(
        main,
        [*command.split(), *(a.format(tmp=tmp_path) for a in arguments)],
        env={
            "LIVETALLY_DATABASE_URL": UNREACHABLE,
            "LIVETALLY_SECRET_KEY": "a-test-key-of-some-length",
            "LIVETALLY_REDIS_URL": None,
        },
        input=INPUT.get(command, "a-password-long-enough\na-password-long-enough\n"),
    )
    assert result.exit_code != 0, result.output
    assert isinstance(result.exception, SystemExit), result.exception  # click's exit
    assert "Traceback" not in result.output
    lines = result.stderr.strip().splitlines()
    assert lines and lines[-1].startswith(line), result.output
    assert len([x for x in lines if x.startswith("Error")]) == 1
