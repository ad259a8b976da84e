"""schemathesis against the generated OpenAPI spec: every request, generated or mutated, gets a
documented status and a body that validates against the documented schema; never a 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import fresh_sqlite_url
from tests.integration.conftest import Api, make_api


@pytest.fixture
def fuzzed_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    made = make_api(fresh_sqlite_url(Path(tmp_path_factory.mktemp("fuzz"))))
    yield made
    made.runtime.close()


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = 25  # per operation and mode


def run_conformance(
    operation: Any, mode: GenerationMode, headers: dict[str, str], sent: dict[str, int]
) -> None:
    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck)
    )
    def conforms(case: schemathesis.Case) -> None:
        sent[mode.value] = sent.get(mode.value, 0) + 1
        response = case.call(headers=headers)
        case.validate_response(response, checks=CHECKS)

    conforms()


def test_every_documented_request_gets_a_documented_answer(fuzzed_api: Api) -> None:
    """Each operation, with requests generated from its schema (positive) and mutated to break
    it (negative): never a 5xx, and every answer has a documented status, content type and a
    body that validates against the documented schema (errors included)."""
    app = fuzzed_api.client.application
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)
    headers = fuzzed_api.headers("admin")
    sent: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()  # type: ignore[union-attr]
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                run_conformance(operation, mode, headers, sent)
            except Unsatisfiable:
                # Nothing to generate in this mode: an operation without parameters or body
                # has nothing to break (GET /health), and a platform push takes any body the
                # platform sends (its shape is the connector's, checked by signature first).
                assert mode is GenerationMode.NEGATIVE or operation.path.startswith(
                    "/api/v1/connectors/{platform}"
                ), (operation.method, operation.path)
    print(f"schemathesis requests: {sent}")  # the figure in docs/security.md
    assert sent["positive"] >= 20 * EXAMPLES and sent["negative"] >= 15 * EXAMPLES


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
