"""The OpenAPI document's examples are real answers.

Every 2xx JSON response carries an example, each validates against its documented schema
(closed: no key the schema does not list), and the examples of the reads, the event writes,
the people writes, the room mapping and the period close are exactly what the API answers
once the same fixed broadcast (service/reads/example_broadcast.py) is posted through it.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import pytest

from service.reads import example_broadcast as broadcast
from tests.integration.conftest import Api
from tests.integration.test_openapi_responses import json_schema

READS = {  # documented path: the request answering for the broadcast
    "/api/v1/sessions": "/api/v1/sessions",
    "/api/v1/sessions/{session_id}": "/api/v1/sessions/s-001",
    "/api/v1/sessions/{session_id}/timeline": "/api/v1/sessions/s-001/timeline",
    "/api/v1/sessions/{session_id}/review": "/api/v1/sessions/s-001/review",
    "/api/v1/scores": "/api/v1/scores?period=2026-11",
    "/api/v1/scores/{person_id}": "/api/v1/scores/h-1?period=2026-11",
    "/api/v1/scorecards": "/api/v1/scorecards",
}


@pytest.fixture
def spec(api: Api) -> dict[str, Any]:
    document: dict[str, Any] = api.client.get("/api/v1/openapi.json").get_json()
    return document


def success_bodies(spec: dict[str, Any]) -> Iterator[tuple[str, str, str, dict[str, Any]]]:
    """(path, method, status, media) of every 2xx JSON response in the document."""
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method == "parameters":  # the path's own, beside its operations
                continue
            for status, response in operation.get("responses", {}).items():
                media = response.get("content", {}).get("application/json")
                if status.startswith("2") and media is not None:
                    yield path, method, status, media


def example(spec: dict[str, Any], path: str, method: str = "get", status: str = "200") -> Any:
    return spec["paths"][path][method]["responses"][status]["content"]["application/json"][
        "example"
    ]


def test_every_success_response_carries_an_example(spec: dict[str, Any]) -> None:
    found = list(success_bodies(spec))
    assert len(found) >= 20, found
    missing = [
        (path, method, status) for path, method, status, media in found if not media.get("example")
    ]
    assert not missing


def test_each_example_validates_against_its_documented_schema(spec: dict[str, Any]) -> None:
    components = {
        name: json_schema(schema, strict=True)
        for name, schema in spec["components"]["schemas"].items()
    }
    for path, method, status, media in success_bodies(spec):
        root = {
            "allOf": [json_schema(media["schema"], strict=True)],
            "components": {"schemas": components},
        }
        validator = jsonschema_rs.Draft202012Validator(root, validate_formats=True)
        errors = [
            f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(media["example"])
        ]
        assert not errors, (method, path, status, errors[:5])


def test_the_examples_are_what_the_api_answers_for_the_same_broadcast(
    api: Api, spec: dict[str, Any]
) -> None:
    posted = api.post({"events": broadcast.wire_events()})
    assert posted.status_code == 201
    assert posted.json == example(spec, "/api/v1/events", "post", "201")
    api.project_all()
    for documented, request in READS.items():
        answer = api.get(request)
        assert answer.status_code == 200, (request, answer.json)
        assert answer.json == example(spec, documented), request
    assert api.get("/api/v1/people", "admin").json == example(spec, "/api/v1/people")

    page = api.get("/api/v1/events?limit=2").json
    shown = example(spec, "/api/v1/events")
    assert page["next_after"] == shown["next_after"]
    for stored, documented in zip(page["events"], shown["events"], strict=True):
        # recorded_at is the store's clock: the fold's store records at the event's own time
        assert stored["recorded_at"] >= documented["recorded_at"]
        assert {**stored, "recorded_at": None} == {**documented, "recorded_at": None}


def test_the_write_examples_are_what_the_api_answers(api: Api, spec: dict[str, Any]) -> None:
    assert api.post({"events": broadcast.wire_events()}).status_code == 201
    api.project_all()
    admin = api.headers("admin")
    targets: dict[str, dict[str, float]] = {}
    for person, type_, data in broadcast.PERSON_EVENTS:
        if type_ == "target.set":
            targets.setdefault(person, {})[data["kpi"]] = data["value"]
    answers = {
        ("/api/v1/people", "post", "201"): api.client.post(
            "/api/v1/people",
            json={"person_id": "h-2", "name": "陈默", "role": "host"},
            headers=admin,
        ),
        ("/api/v1/targets/{period}", "put", "201"): api.client.put(
            "/api/v1/targets/2026-11", json={"targets": targets}, headers=admin
        ),
        ("/api/v1/rooms/{room}/host", "put", "200"): api.client.put(
            "/api/v1/rooms/room-1/host", json={"person_id": "h-1"}, headers=admin
        ),
        ("/api/v1/periods/{period}/close", "post", "201"): api.client.post(
            "/api/v1/periods/2026-11/close", headers=admin
        ),
    }
    for (path, method, status), answer in answers.items():
        assert answer.status_code == int(status), (method, path, answer.json)
        assert answer.json == example(spec, path, method, status), (method, path)
    assert api.get("/api/v1/rooms", "admin").json == example(spec, "/api/v1/rooms")


def test_the_examples_are_computed_when_the_document_is_built_never_at_import() -> None:
    code = (
        "import service.process.app, service.reads.openapi_examples as m; "
        "print(m.examples.cache_info().currsize)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "0"
