"""A daemon thread that does one thing every `interval` seconds until stopped (the sweep, the
heartbeat): a failed pass is logged and the next one runs as usual."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

log = logging.getLogger(__name__)


class Periodic:
    def __init__(
        self, name: str, interval: float, action: Callable[[], object], at_start: bool = False
    ) -> None:
        self.name = name
        self.interval = interval
        self.action = action
        self.at_start = at_start  # a first pass at once, not after one interval
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._loop, name=f"livetally-{self.name}", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def _loop(self) -> None:
        if not self.at_start and self._stop.wait(self.interval):
            return
        while True:
            try:
                self.action()
            except Exception:
                # With the exception attached: the quiet-logs filter makes an expected one (a
                # database or Redis away) one line per cause and interval, keeps others whole.
                log.warning("%s failed", self.name, exc_info=True)
            if self._stop.wait(self.interval):
                return
