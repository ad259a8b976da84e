"""The data commands fail plainly: a wrong --period, --start or --url is a one-line usage
error (exit 2) naming the option, an unreachable API is one line (exit 1), and producer
strings that look like rich markup are printed as they are."""

from __future__ import annotations

import socket

import pytest
from click.testing import CliRunner, Result

from service.cli import main
from tests.builders import event
from tests.integration.conftest import Api


def last_line(result: Result) -> str:
    lines: list[str] = result.output.strip().splitlines()
    return lines[-1]


def assert_plain_failure(result: Result, exit_code: int, message: str) -> None:
    assert result.exit_code == exit_code, result.output
    assert isinstance(result.exception, SystemExit)  # click's own exit, not a crash
    assert "Traceback" not in result.output
    assert last_line(result) == f"Error: {message}"


@pytest.mark.parametrize("period", ["2026-13", "abc", "2026/12", "1969-12", "2026-1"])
def test_scores_refuses_a_period_that_is_not_a_month(sqlite_url: str, period: str) -> None:
    result = CliRunner().invoke(main, ["scores", "--period", period, "--db", sqlite_url])
    assert_plain_failure(
        result,
        2,
        f"Invalid value for '--period': '{period}' is not a month as YYYY-MM "
        "(years 1970-2999, months 01-12)",
    )


def test_scores_prints_a_name_that_looks_like_rich_markup_as_it_is(api: Api) -> None:
    registered = event("person.registered", 0, {"name": "[/]主播", "role": "host"}, person="h-1")
    assert api.post({"events": [registered]}).status_code == 201
    api.project_all()
    result = CliRunner().invoke(
        main,
        ["scores", "--period", "2026-11", "--db", api.runtime.settings.database_url],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    assert "[/]主播" in result.output


def closed_port() -> int:
    """A port nothing listens on (bound, then released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_simulate_says_in_one_line_that_the_api_is_unreachable() -> None:
    url = f"http://127.0.0.1:{closed_port()}"
    result = CliRunner().invoke(
        main,
        ["simulate", "--url", url, "--speed", "0", "--minutes", "1", "--sessions", "1"],
        env={"LIVETALLY_TOKEN": "lt_token"},
    )
    assert_plain_failure(result, 1, f"the API at {url} is unreachable (Connection refused)")
    assert result.output.strip() == last_line(result)  # and nothing before it


@pytest.mark.parametrize(
    ("option", "value", "reason"),
    [
        ("--start", "yesterday", "'yesterday' is not an ISO 8601 time"),
        (
            "--url",
            "http://127.0.0.1:port",
            "'http://127.0.0.1:port' has a port that is not a number",
        ),
        ("--url", "127.0.0.1:8000", "'127.0.0.1:8000' is not an http://host[:port] URL"),
    ],
)
def test_simulate_refuses_a_wrong_start_or_url(option: str, value: str, reason: str) -> None:
    result = CliRunner().invoke(
        main, ["simulate", option, value], env={"LIVETALLY_TOKEN": "lt_token"}
    )
    assert_plain_failure(result, 2, f"Invalid value for '{option}': {reason}")


@pytest.mark.parametrize("command", [["up"], ["db", "upgrade"], ["rebuild"]])
def test_a_database_that_is_not_a_url_is_a_usage_error_naming_the_option(
    command: list[str],
) -> None:
    result = CliRunner().invoke(main, [*command, "--db", "/tmp/livetally.db"])
    assert_plain_failure(
        result,
        2,
        "--db / LIVETALLY_DATABASE_URL: '/tmp/livetally.db' is not a database URL "
        "(sqlite:///path/to/file.db, or postgresql://user@host/name)",
    )
