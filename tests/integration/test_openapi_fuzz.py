"""schemathesis against the generated OpenAPI spec: no request makes the server answer 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.conftest import fresh_sqlite_url
from tests.integration.conftest import Api, make_api


@pytest.fixture
def fuzzed_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    made = make_api(fresh_sqlite_url(Path(tmp_path_factory.mktemp("fuzz"))))
    yield made
    made.runtime.close()


def test_no_request_makes_the_server_fail(fuzzed_api: Api) -> None:
    app = fuzzed_api.client.application
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = fuzzed_api.headers("admin")
    checked = 0
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]

        @given(case=operation.as_strategy())
        @settings(
            max_examples=40, deadline=None, database=None, suppress_health_check=list(HealthCheck)
        )
        def no_server_error(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.method, case.path, response.text[:500])

        no_server_error()
        checked += 1
    assert checked >= 5


def test_the_spec_names_every_route(fuzzed_api: Api) -> None:
    spec = fuzzed_api.client.get("/api/v1/openapi.json").json
    for path in (
        "/api/v1/events",
        "/api/v1/sessions",
        "/api/v1/sessions/{session_id}",
        "/api/v1/sessions/{session_id}/timeline",
    ):
        assert path in spec["paths"]
    assert "Event" in spec["components"]["schemas"]
