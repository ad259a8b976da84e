"""GET /api/v1/health (liveness, projection lag, worker liveness) and Prometheus /metrics.

Plain Flask routes, outside the flask-smorest blueprints (no token, Prometheus text beside
JSON); health is still put in the OpenAPI document, with its response schemas, when this
blueprint is registered on an app whose Api is already set up (service/process/app.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, current_app, jsonify
from flask.sansio.blueprints import BlueprintSetupState
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine

from events.clock import now_micros
from events.fields import format_timestamp
from events.recorder import Recorder
from service.process.database_state import cause_of
from service.process.http_errors import RETRY_AFTER_SECONDS
from service.reads.openapi_examples import Example
from service.reads.response_schemas import HealthDownSchema, HealthSchema
from service.reads.views import worker_beats
from worker.heartbeat import ALIVE_SECONDS
from worker.parking import parked
from worker.sweep import Lag, projection_lag

blp = Blueprint("health", __name__)
HEALTH_PATH = "/api/v1/health"


def _redis_state(client: Any) -> str:
    if client is None:
        return "not used"
    try:
        client.ping()  # the API's client: 100 ms timeouts, so a hung Redis answers "down"
    except Exception as exc:
        return f"down: {type(exc).__name__}"
    return "ok"


def _health(engine: Engine, recorder: Recorder) -> dict[str, Any]:
    # Alive while it beats: a stopped worker has deleted its row, a killed one stops counting
    # ALIVE_SECONDS after its last beat (worker/heartbeat.py).
    since = now_micros() - ALIVE_SECONDS * 1_000_000
    with engine.connect() as conn:
        lag = projection_lag(recorder, conn)
        alive = [w for w, _ in worker_beats(conn, since)]
    return health_figures(lag, alive, parked(engine))


def health_figures(lag: Lag, alive: list[str], stuck: list[dict[str, Any]]) -> dict[str, Any]:
    """Projection lag, live workers and parked streams, as /health and /metrics read them."""
    return {
        "projection_lag": {
            "streams_behind": lag.streams_behind,
            "events_behind": lag.events_behind,
            "worst_stream": lag.worst_stream,
            "worst_lag": lag.worst_lag,
        },
        "workers": {"alive": len(alive), "ids": sorted(alive)},
        "parked_streams": [{**p, "parked_at": format_timestamp(p["parked_at"])} for p in stuck],
    }


def health_body(
    figures: dict[str, Any], redis: str, connections: list[dict[str, Any]], failed: str | None
) -> dict[str, Any]:
    """The 200 body: ok, or degraded when anything needs attention (`failed`: why writes fail)."""
    body = {"status": "ok", "database": "ok", **figures}
    if failed is not None:  # reads work, writes do not: not ok
        body["database"] = f"{failed}: writes fail"
    body["redis"] = redis
    body["connections"] = connections
    if (
        failed is not None
        or body["workers"]["alive"] == 0
        or body["parked_streams"]
        or body["redis"] not in ("ok", "not used")
        or any(
            c["state"].startswith("failed") or c["last_sync_error"] or c.get("poll_error")
            for c in body["connections"]
        )
    ):
        body["status"] = "degraded"
    return body


@blp.route(HEALTH_PATH)
def health() -> Any:
    runtime = current_app.extensions["livetally"]
    try:
        figures = _health(runtime.engine, runtime.recorder)
    except sa.exc.SQLAlchemyError as exc:
        response = jsonify({"status": "down", "database": f"{cause_of(exc)}: {type(exc).__name__}"})
        response.status_code = 503
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response
    failures = current_app.extensions.get("livetally.write_failures")
    failed = failures.current() if failures is not None else None
    redis = _redis_state(runtime.worker.redis_client)
    return jsonify(health_body(figures, redis, _connections(runtime), failed))


def _connections(runtime: Any) -> list[dict[str, Any]]:
    """Each connection's state and last sync (never a secret); a vault that cannot open them
    is itself the state."""
    from service.ingest.connections.vault import VaultError

    now = now_micros()
    try:
        rows = runtime.connectors.book.all()
    except VaultError as exc:
        return [{"connection_id": "*", "state": f"failed: {exc}", "last_sync_error": None}]
    return [
        {
            "connection_id": c.connection_id,
            "platform": c.platform,
            "name": c.name,
            "state": c.described(now),
            "last_sync": None if c.synced_until is None else format_timestamp(c.synced_until),
            "last_sync_error": c.sync_error,
            "last_poll": None if c.polled_at is None else format_timestamp(c.polled_at),
            "poll_error": c.poll_error,
        }
        for c in rows
    ]


class LagCollector(Collector):
    def __init__(self, engine: Engine, recorder: Recorder) -> None:
        self.engine = engine
        self.recorder = recorder

    def collect(self) -> Iterator[GaugeMetricFamily]:
        body = _health(self.engine, self.recorder)
        lag = body["projection_lag"]
        yield GaugeMetricFamily(
            "livetally_parked_streams",
            "streams whose projection is parked after failing",
            len(body["parked_streams"]),
        )
        yield GaugeMetricFamily(
            "livetally_projection_events_behind",
            "events stored but not yet projected",
            lag["events_behind"],
        )
        yield GaugeMetricFamily(
            "livetally_projection_streams_behind",
            "streams whose projection is behind their head",
            lag["streams_behind"],
        )
        yield GaugeMetricFamily(
            "livetally_projection_worst_stream_lag",
            "events behind on the worst stream",
            lag["worst_lag"],
        )
        yield GaugeMetricFamily(
            "livetally_workers_alive", "workers with a recent heartbeat", body["workers"]["alive"]
        )


def metrics_registry(engine: Engine, recorder: Recorder) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(LagCollector(engine, recorder))
    return registry


@blp.route("/metrics")
@blp.route("/api/v1/metrics")
def metrics() -> Response:
    registry = current_app.extensions["livetally.metrics"]
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)


def _document_health(state: BlueprintSetupState) -> None:
    """GET /api/v1/health in the OpenAPI document of each flask-smorest Api on the app."""
    apis = state.app.extensions.get("flask-smorest", {}).get("apis", {})
    # Recorded after the routes, so their rules are in the url map by now.
    (rule,) = (r for r in state.app.url_map.iter_rules() if r.rule == HEALTH_PATH)
    for entry in apis.values():
        spec = entry["ext_obj"].spec
        spec.tag({"name": "health", "description": "Liveness and what needs attention"})
        spec.path(
            rule=rule,
            operations={
                "get": {
                    "tags": ["health"],
                    "summary": "Database, projection lag, live workers, parked streams, Redis, "
                    "connections",
                    "responses": {
                        "200": {
                            "description": "ok, or degraded: the body says what needs attention",
                            "content": {
                                "application/json": {
                                    "schema": HealthSchema,
                                    "example": Example("health"),
                                }
                            },
                        },
                        "503": {
                            "description": "the database is unreachable",
                            "headers": {
                                "Retry-After": {
                                    "description": "seconds",
                                    "schema": {"type": "integer"},
                                }
                            },
                            "content": {"application/json": {"schema": HealthDownSchema}},
                        },
                    },
                }
            },
        )


blp.record_once(_document_health)
