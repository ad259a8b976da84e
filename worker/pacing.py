"""The embedded default's adaptive pace, as dramatiq middleware.

In the embedded default the worker shares one interpreter (and its GIL) with the API. Under
load, a run per append would take the API's CPU; waiting a little before a stream-moved message
runs (its claim still held, so appends meanwhile send nothing) lets one run fold many appends.
The wait adapts: after a run that took d seconds, the next message waits until FACTOR * d has
passed since that run ended, at most `max_wait`. Idle, or with short runs, it barely waits (a
screen lags the API by a run, not by a fixed pace); under load runs grow and so does the wait,
so the worker's share of the CPU stays near 1 / (1 + FACTOR).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import dramatiq

from worker.claims import PROJECT_ACTOR

FACTOR = 3.0


class Pacer:
    def __init__(self, max_wait: float, factor: float = FACTOR,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.max_wait = max_wait
        self.factor = factor
        self.clock = clock
        self._lock = threading.Lock()
        self._ended = 0.0
        self._duration = 0.0

    def run_ended(self, duration: float) -> None:
        with self._lock:
            self._ended = self.clock()
            self._duration = duration

    def delay(self) -> float:
        """Seconds the next message should wait now (0 when none)."""
        with self._lock:
            pause = min(self.max_wait, self.factor * self._duration)
            return max(0.0, self._ended + pause - self.clock())


class PacingMiddleware(dramatiq.Middleware):
    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        if message.actor_name == PROJECT_ACTOR:
            wait = self.pacer.delay()
            if wait > 0:
                time.sleep(wait)
