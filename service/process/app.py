"""The application factory: create_app(settings). Blueprints, config passed in, nothing connects."""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from flask import Flask
from flask_smorest import Api

from events.envelope import EventBatchSchema, EventEnvelopeSchema
from service.auth.accounts import AccountBook
from service.auth.logins import init_logins
from service.ingest import connections_api, connectors_api, events_api, people_api
from service.ingest.connections.vault import VaultError
from service.pages import month, staff, web
from service.process.database_state import WriteFailures
from service.process.http_errors import ErrorSchema, register_error_handlers
from service.process.metered import MeteredApp
from service.process.runtime import Runtime, build_runtime
from service.process.settings import Settings
from service.reads import health_api, scores_api, sessions_api
from service.reads.openapi_examples import ExamplesPlugin


def create_app(settings: Settings | None = None, runtime: Runtime | None = None) -> Flask:
    settings = settings or (runtime.settings if runtime else Settings())
    runtime = runtime or build_runtime(settings)
    app = Flask("livetally", static_folder=None)  # the web blueprint serves /static
    app.config.update(
        MAX_CONTENT_LENGTH=settings.max_body_bytes,
        API_TITLE="livetally",
        API_VERSION="v1",
        OPENAPI_VERSION="3.0.3",
        OPENAPI_URL_PREFIX="/api/v1",
        OPENAPI_JSON_PATH="openapi.json",
        JSON_SORT_KEYS=False,
    )
    app.extensions["livetally"] = runtime
    app.extensions["livetally.write_failures"] = WriteFailures()
    app.extensions["livetally.metrics"] = health_api.metrics_registry(
        runtime.engine, runtime.recorder
    )
    api = LivetallyApi(app, spec_kwargs={"extra_plugins": [ExamplesPlugin()]})
    api.spec.components.security_scheme("bearer", {"type": "http", "scheme": "bearer"})
    api.spec.components.schema("Event", schema=EventEnvelopeSchema)
    api.spec.components.schema("EventBatch", schema=EventBatchSchema)
    api.register_blueprint(events_api.blp)
    api.register_blueprint(sessions_api.blp)
    api.register_blueprint(scores_api.blp)
    api.register_blueprint(connectors_api.blp)
    api.register_blueprint(connections_api.blp)
    api.register_blueprint(people_api.blp)
    app.register_blueprint(health_api.blp)
    app.register_blueprint(web.blp)
    register_error_handlers(app)
    app.extensions["livetally.logins"] = init_logins(
        app, AccountBook(runtime.engine), session_secret_source(runtime), settings
    )
    app.register_blueprint(staff.blp)
    app.register_blueprint(month.blp)
    if runtime.worker.api_load is not None:  # the embedded worker paces itself by it
        app.wsgi_app = MeteredApp(app.wsgi_app, runtime.worker.api_load)  # type: ignore[method-assign]
    return app


class LivetallyApi(Api):
    """flask-smorest's Api with our error body as the documented error response."""

    ERROR_SCHEMA = ErrorSchema


def session_secret_source(runtime: Runtime) -> Callable[[], bytes | None]:
    """LIVETALLY_SESSION_SECRET, else a secret derived from the connections' key, else None
    (staff logins then say what to set)."""

    def source() -> bytes | None:
        if runtime.settings.session_secret:
            return runtime.settings.session_secret.encode()
        try:
            return runtime.connectors.book.vault.derive("livetally staff sessions")
        except (VaultError, sa.exc.SQLAlchemyError):
            return None

    return source


def create_app_from_env() -> Flask:
    """For WSGI servers (gunicorn 'service.process.app:create_app_from_env()')."""
    return create_app(Settings.from_env())
