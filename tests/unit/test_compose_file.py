"""What can be checked of docker-compose.yml without a container engine: every livetally
command it runs is a command, with options, that the CLI accepts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from service.cli import main

ROOT = Path(__file__).resolve().parents[2]


def livetally_commands() -> list[list[str]]:
    compose: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return [
        service["command"][1:]
        for service in compose["services"].values()
        if service.get("command", [None])[0] == "livetally"
    ]


def parses(arguments: list[str]) -> click.Command:
    """The command the arguments name, after click has parsed its options (or raised)."""
    command: click.Command = main
    context = main.make_context("livetally", list(arguments), resilient_parsing=False)
    rest = context.protected_args + context.args
    while isinstance(command, click.Group) and rest:
        _, found, rest = command.resolve_command(context, rest)
        assert found is not None
        command = found
        context = command.make_context(command.name, list(rest), parent=context)
        rest = getattr(context, "protected_args", []) + context.args
    assert not rest, rest
    return command


# click 8 keeps a group's subcommand in protected_args (deprecated for click 9, where args has it)
@pytest.mark.filterwarnings("ignore:'protected_args' is deprecated")
def test_every_livetally_command_in_the_compose_file_parses() -> None:
    commands = livetally_commands()
    assert sorted(c[0] for c in commands) == ["api", "db", "feed", "worker"]
    for arguments in commands:
        assert parses(arguments).callback is not None
