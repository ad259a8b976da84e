"""The embedded default's adaptive pace, as dramatiq middleware.

In the embedded default the worker shares one interpreter (and its GIL) with the API. Under
load, a run per append would take the API's CPU; waiting a little before a stream-moved message
runs (its claim still held, so appends meanwhile send nothing) lets one run fold many appends.
The wait adapts: the next message waits until f * d has passed since the last run ended, at
most `max_wait`, where d is the median duration of the last RECENT runs. Waiting f times as
long as it runs gives the worker about 1 / (1 + f) of the interpreter; f is chosen so that the
worker takes the share the API leaves idle, and never less than 1 / (1 + FACTOR): with b the
share of recent time the API was handling a request (ApiLoad), f = min(FACTOR, b / (1 - b)).
The API saturated (b >= 3/4), f = FACTOR and ingest keeps its throughput; half idle, f = 1;
idle, the worker does not wait, so a screen lags the API by a run, not by a pace chosen for
saturation.
The median, not the last run: one run held up by something else (a WAL restart, a long
request holding the interpreter) says nothing about the load, and waiting 3x its length after
it made most of the embedded default's p99 (docs/deploy.md has the pairs).
"""

from __future__ import annotations

import math
import statistics
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import Any

import dramatiq

from worker.claims import PROJECT_ACTOR

FACTOR = 3.0
RECENT = 9  # runs whose median duration sets the wait


LOAD_SECONDS = 0.5  # the time constant of ApiLoad's average


class ApiLoad:
    """The share of recent time in which the API was handling at least one request: an average
    decaying with LOAD_SECONDS, updated when requests start and end."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._active = 0
        self._level = 0.0
        self._at = clock()

    def _advance(self, now: float) -> None:
        kept = math.exp(-(now - self._at) / LOAD_SECONDS)
        self._level = self._level * kept + (1.0 - kept) * (1.0 if self._active else 0.0)
        self._at = now

    def started(self) -> None:
        with self._lock:
            self._advance(self.clock())
            self._active += 1

    def ended(self) -> None:
        with self._lock:
            self._advance(self.clock())
            self._active -= 1

    def busy(self) -> float:
        with self._lock:
            self._advance(self.clock())
            return self._level


class Pacer:
    def __init__(
        self,
        max_wait: float,
        factor: float = FACTOR,
        clock: Callable[[], float] = time.monotonic,
        load: ApiLoad | None = None,
    ) -> None:
        self.max_wait = max_wait
        self.factor = factor
        self.clock = clock
        self.load = load  # None: as if the API were always busy
        self._lock = threading.Lock()
        self._ended = 0.0
        self._durations: deque[float] = deque(maxlen=RECENT)
        self._duration = 0.0  # the median of _durations

    def run_ended(self, duration: float) -> None:
        with self._lock:
            self._ended = self.clock()
            self._durations.append(duration)
            self._duration = statistics.median(self._durations)

    def delay(self) -> float:
        """Seconds the next message should wait now (0 when none)."""
        busy = 1.0 if self.load is None else self.load.busy()
        factor = self.factor if busy >= 1.0 else min(self.factor, busy / (1.0 - busy))
        with self._lock:
            pause = min(self.max_wait, factor * self._duration)
            return max(0.0, self._ended + pause - self.clock())


class PacingMiddleware(dramatiq.Middleware):
    def __init__(self, pacer: Pacer) -> None:
        self.pacer = pacer

    def before_process_message(self, broker: dramatiq.Broker, message: Any) -> None:
        if message.actor_name == PROJECT_ACTOR:
            wait = self.pacer.delay()
            if wait > 0:
                time.sleep(wait)
