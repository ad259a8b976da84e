"""`livetally api`: the Flask app under gunicorn, built from Settings in each worker process."""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from service.process.settings import Settings


class _Gunicorn(BaseApplication):
    def __init__(self, settings: Settings, options: dict[str, Any]) -> None:
        self.settings = settings
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from service.process.app import create_app
        from service.process.gc_tuning import tune_garbage_collector

        app = create_app(self.settings)
        tune_garbage_collector()  # in the worker process: gunicorn loads the app after the fork
        return app


def run_gunicorn(settings: Settings, workers: int, threads: int) -> None:
    _Gunicorn(
        settings,
        {
            "bind": f"{settings.api_host}:{settings.api_port}",
            "workers": workers,
            "threads": threads,
            "worker_class": "gthread",
            "timeout": 60,
            "accesslog": None,
            # Behind the reverse proxy (docs/deploy.md), which buffers slow clients; these bound
            # what reaches gunicorn anyway.
            "worker_connections": 1000,
            "keepalive": 5,
            "limit_request_line": 8190,
            "limit_request_fields": 100,
            "limit_request_field_size": 8190,
        },
    ).run()
