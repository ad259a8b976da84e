"""The WSGI meter: how busy the API is, which the embedded pace reads (worker/pacing.py)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from worker.pacing import ApiLoad


class MeteredApp:
    """WSGI middleware: tells ApiLoad when each request starts and ends (the body included)."""

    def __init__(self, app: Callable[..., Iterable[bytes]], load: ApiLoad) -> None:
        self.app = app
        self.load = load

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        self.load.started()
        try:
            # Flask's responses here are built whole: the body is known when this returns.
            return self.app(environ, start_response)
        finally:
            self.load.ended()
