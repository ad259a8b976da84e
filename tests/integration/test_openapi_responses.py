"""The OpenAPI document's 200 responses for the reads API, checked against real bodies.

Each operation consumers depend on most documents a 200 schema, and the bodies the API serves
for a small broadcast (events-derived, platform-reported, a closed period with corrections)
validate against it: every key the schema requires is there with its type, and no key is
missing from the schema (the check closes the open schemas, so an undocumented key fails here
while the document itself stays open to additions). The documentation never reshapes a body:
what is served is what the read models hold.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import jsonschema_rs
import pytest

from service.reads import views
from tests.builders import Broadcast, at, event
from tests.integration.conftest import Api

OPERATIONS = {
    "/api/v1/sessions": "SessionList",
    "/api/v1/sessions/{session_id}": "Session",
    "/api/v1/sessions/{session_id}/timeline": "Timeline",
    "/api/v1/scores": "Scores",
    "/api/v1/scores/{person_id}": "PersonScore",
    "/api/v1/scorecards": "ScorecardSettings",
    "/api/v1/health": "Health",
}
NOV2 = datetime(2026, 11, 2, 12, 0, tzinfo=UTC)
NOV9 = datetime(2026, 11, 9, 12, 0, tzinfo=UTC)
# Keys of OpenAPI 3.0's schema objects that JSON Schema does not have (nullable is rewritten).
OPENAPI_ONLY = {"nullable", "example", "discriminator", "readOnly", "writeOnly", "xml"}
# apispec writes a nullable nested schema as anyOf [its $ref, this]: read as "or null", not as
# "or any object", or a wrong nested body would pass.
NULL_ALTERNATIVE = {"type": "object", "nullable": True}


def person(pid: str, **data: Any) -> dict[str, Any]:
    return {**event("person.registered", 0, data, person=pid), "occurred_at": at(0, NOV2)}


def about(pid: str, type_: str, **data: Any) -> dict[str, Any]:
    return {**event(type_, 0, data, person=pid), "occurred_at": at(60, NOV2)}


def events_derived() -> Broadcast:
    """Ended; products, segments, comments, orders and refunds, incidents open and resolved."""
    return (
        Broadcast("s-1", NOV2)
        .start(0, host_id="h-1", ops_id="o-1", title="秋季上新", planned_minutes=120)
        .join(10, "v1", "ad")
        .join(11, "v2", "recommend")
        .join(12, "v3")
        .interact(20, "comment", "v1", text="多少钱")
        .interact(21, "like", "v2", count=5)
        .pin(30, "p-1", name="羊毛围巾", price="199.00")
        .click(40, "v1", "p-1")
        .place(50, "o1", "v1", "199.00", "p-1")
        .pay(51, "o1")
        .place(52, "o2", "v2", "99.00", "p-2")
        .pay(53, "o2")
        .refund(54, "o2", "20.00")
        .unpin(90, "p-1")
        .pin(100, "p-2")
        .incident(120, "i1", kind="technical_failure")
        .resolve(150, "i1")
        .incident(200, "i2")
        .leave(300, "v3")
        .end(3600)
    )


def platform_reported() -> Broadcast:
    """Live, with the platform's readings: sales (a GMV gap), sources, product impressions."""
    return (
        Broadcast("s-2", NOV9)
        .start(0, host_id="h-1", room_id="room-2")
        .join(5, "w1", "follow")
        .sample(30, 120, impressions=900)
        .place(40, "o3", "w1", "50.00", "p-9")
        .pay(41, "o3")
        .report(
            70,
            views=400,
            unique_viewers=300,
            comments=12,
            gmv="900.00",
            orders_paid=4,
            buyers=3,
            sources=[{"source": "ad", "views": 100, "viewers": 80, "gmv": "300.00"}],
            products=[{"product_id": "p-9", "impressions": 500, "clicks": 40}],
        )
        .report(130, views=450, gmv="950.00")
    )


def people() -> list[dict[str, Any]]:
    return [
        person("h-1", name="主播一", role="host", level="regular", on_air_since="2026-09-01"),
        person("o-1", name="运营一", role="live_ops"),
        about("h-1", "target.set", period="2026-11", kpi="net_gmv", value=100),
        about("h-1", "clip.published", clip_id="c-1"),
        about("h-1", "violation.recorded", rule="smoking"),
    ]


@pytest.fixture
def served(api: Api) -> Api:
    body = {"events": events_derived().events + platform_reported().events + people()}
    response = api.post(body)
    assert response.status_code == 201, response.json
    api.project_all()
    return api


def json_schema(node: Any, strict: bool) -> Any:
    """An OpenAPI 3.0 schema as JSON Schema: `nullable` as a null alternative; with `strict`,
    objects that list their properties take no others."""
    if isinstance(node, list):
        return [json_schema(item, strict) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in OPENAPI_ONLY:
            continue
        if key == "properties":  # names to schemas: a property may be called anything
            out[key] = {name: json_schema(schema, strict) for name, schema in value.items()}
        elif key == "anyOf":
            out[key] = [
                {"type": "null"} if item == NULL_ALTERNATIVE else json_schema(item, strict)
                for item in value
            ]
        else:
            out[key] = json_schema(value, strict)
    if strict and "properties" in out and out.get("additionalProperties", True) is True:
        out["additionalProperties"] = False
    if node.get("nullable"):
        return {"anyOf": [{"type": "null"}, out]}
    return out


def response_schema(spec: dict[str, Any], path: str, status: str = "200") -> dict[str, Any]:
    schema: dict[str, Any] = spec["paths"][path]["get"]["responses"][status]["content"][
        "application/json"
    ]["schema"]
    return schema


def assert_valid(spec: dict[str, Any], path: str, body: Any, status: str = "200") -> None:
    components = {
        name: json_schema(schema, strict=True)
        for name, schema in spec["components"]["schemas"].items()
    }
    root = {
        "allOf": [json_schema(response_schema(spec, path, status), strict=True)],
        "components": {"schemas": components},
    }
    validator = jsonschema_rs.Draft202012Validator(root, validate_formats=True)
    errors = [f"{list(e.instance_path)}: {e.message}" for e in validator.iter_errors(body)]
    assert not errors, (path, errors[:10])


@pytest.fixture
def spec(api: Api) -> dict[str, Any]:
    document: dict[str, Any] = api.client.get("/api/v1/openapi.json").get_json()
    return document


def test_each_read_operation_documents_its_200_body_with_a_schema(spec: dict[str, Any]) -> None:
    for path, name in OPERATIONS.items():
        assert response_schema(spec, path) == {"$ref": f"#/components/schemas/{name}"}, path
        assert spec["components"]["schemas"][name]["properties"], name


def test_health_documents_its_503_body(spec: dict[str, Any]) -> None:
    down = response_schema(spec, "/api/v1/health", "503")
    assert down == {"$ref": "#/components/schemas/HealthDown"}
    body = {"status": "down", "database": "unreachable: OperationalError"}  # health_api.health
    assert_valid(spec, "/api/v1/health", body, "503")


def test_the_session_bodies_validate_against_the_documented_schemas(
    served: Api, spec: dict[str, Any]
) -> None:
    listed = served.get("/api/v1/sessions").json
    assert listed["count"] == 2
    assert_valid(spec, "/api/v1/sessions", listed)
    for session_id in ("s-1", "s-2"):
        document = served.get(f"/api/v1/sessions/{session_id}").json
        assert_valid(spec, "/api/v1/sessions/{session_id}", document)
        timeline = served.get(f"/api/v1/sessions/{session_id}/timeline").json
        assert_valid(spec, "/api/v1/sessions/{session_id}/timeline", timeline)
    # what the broadcasts were built to show is there, so the check covers it
    ended, live = (served.get(f"/api/v1/sessions/{s}").json for s in ("s-1", "s-2"))
    assert ended["open_incidents"] and ended["alerts"] and ended["recent"]["comments"]
    assert live["metrics"]["platform"]["gmv"] == 950.0 and live["metrics"]["gmv_gap"] is not None
    assert live["metrics"]["figure_sources"]["views"]["from"] == "reported"
    assert live["products"][0]["impressions"] == 500


def test_the_documentation_leaves_the_bodies_as_the_read_models_hold_them(served: Api) -> None:
    engine = served.runtime.engine
    for session_id in ("s-1", "s-2"):
        served_body = served.get(f"/api/v1/sessions/{session_id}").json
        assert served_body == views.session_document_body(engine, session_id)
        served_timeline = served.get(f"/api/v1/sessions/{session_id}/timeline").json
        assert served_timeline == views.session_timeline_body(engine, session_id)
    listed = served.get("/api/v1/sessions").json["sessions"]
    assert listed == [views.headline(b) for b in views.list_session_bodies(engine)]
    assert served.get("/api/v1/scorecards").json == served.runtime.scorecards.as_dict()


def test_the_score_bodies_validate_open_and_closed(served: Api, spec: dict[str, Any]) -> None:
    for query in ("period=2026-11", "from=2026-11-01&to=2026-11-30", "period=2026-11&role=host"):
        assert_valid(spec, "/api/v1/scores", served.get(f"/api/v1/scores?{query}").json)
    assert_valid(
        spec, "/api/v1/scores/{person_id}", served.get("/api/v1/scores/h-1?period=2026-11").json
    )
    assert_valid(spec, "/api/v1/scorecards", served.get("/api/v1/scorecards").json)

    close = served.client.post("/api/v1/periods/2026-11/close", headers=served.headers("admin"))
    assert close.status_code == 201, close.json
    # a session after the close changes h-1's figures: the closed card shows a correction
    late = Broadcast("s-3", NOV9).start(0, host_id="h-1").join(1, "x1").place(2, "o9", "x1", 500)
    assert served.post({"events": late.pay(3, "o9").end(60).events}).status_code == 201
    served.project_all()
    closed = served.get("/api/v1/scores?period=2026-11").json
    assert closed["closed"] and any(c["corrections"] for c in closed["scorecards"])
    assert_valid(spec, "/api/v1/scores", closed)
    one = served.get("/api/v1/scores/h-1?period=2026-11").json
    assert one["frozen"] and one["corrections"]
    assert_valid(spec, "/api/v1/scores/{person_id}", one)


def test_the_health_body_validates_against_its_schema(served: Api, spec: dict[str, Any]) -> None:
    response = served.client.get("/api/v1/health")
    assert response.status_code == 200
    assert_valid(spec, "/api/v1/health", response.json)


@pytest.mark.parametrize(
    "change",
    [
        lambda d: d.pop("title"),  # a documented key missing
        lambda d: d["metrics"].update(undocumented=1),
        lambda d: d["metrics"].update(views=None),  # null where none is allowed
        lambda d: d["metrics"]["platform"].update(gmv="950"),  # inside a nullable nested body
        lambda d: d["products"][0].update(impressions="500"),
        lambda d: d.update(started_at="yesterday"),
    ],
)
def test_the_check_fails_a_body_that_strays_from_the_schema(
    served: Api, spec: dict[str, Any], change: Callable[[dict[str, Any]], object]
) -> None:
    document = served.get("/api/v1/sessions/s-2").json
    change(document)
    with pytest.raises(AssertionError):
        assert_valid(spec, "/api/v1/sessions/{session_id}", document)
