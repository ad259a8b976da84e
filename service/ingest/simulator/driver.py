"""Plays a simulation into a running API over HTTP, in real time or faster."""

from __future__ import annotations

import http.client
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

import orjson

from service.ingest.simulator.model import simulation

LATE_WINDOW_SECONDS = 45 * 60  # refunds arrive up to ~35 minutes after a broadcast ends
BATCH = 1000


@dataclass
class DriveReport:
    sent: int = 0
    appended: int = 0
    duplicates: int = 0
    failures: list[str] = field(default_factory=list)
    sessions: list[str] = field(default_factory=list)


def start_for(minutes: float, speed: float, now: float) -> float:
    """Real time starts now; faster play starts in the past, so no event is in the future."""
    if speed == 1:
        return now
    return now - minutes * 60 - LATE_WINDOW_SECONDS


class ApiClient:
    def __init__(self, url: str, token: str) -> None:
        parsed = urlparse(url)
        self.host, self.port = parsed.hostname or "127.0.0.1", parsed.port or 80
        self.token = token
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)

    def post(self, events: list[dict[str, Any]]) -> tuple[int, dict[str, Any]]:
        body = orjson.dumps({"events": events})
        for attempt in range(2):
            try:
                self.conn.request(
                    "POST",
                    "/api/v1/events",
                    body,
                    {"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"},
                )
                response = self.conn.getresponse()
                return response.status, orjson.loads(response.read() or b"{}")
            except (ConnectionError, http.client.HTTPException):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
                if attempt:
                    raise
        raise AssertionError("unreachable")


def drive(
    url: str,
    token: str,
    seed: int,
    sessions: int,
    minutes: float,
    speed: float,
    start: float | None = None,
    peak_arrivals_per_minute: float = 60.0,
    progress: Callable[[int, int], None] | None = None,
    stop: Callable[[], bool] = lambda: False,
    demo: bool = False,
    stagger_seconds: float = 20,
    platform_rooms: frozenset[int] = frozenset(),
) -> DriveReport:
    """speed 1: real time; N: N times faster; 0: as fast as the API takes it."""
    now = time.time()
    start = start_for(minutes, speed, now) if start is None else start
    timeline = simulation(
        seed,
        sessions,
        minutes,
        start,
        peak_arrivals_per_minute,
        demo,
        stagger_seconds,
        platform_rooms,
    )
    client = ApiClient(url, token)
    report = DriveReport(
        sessions=sorted({e["session_id"] for _, e in timeline if "session_id" in e})
    )
    wall0 = time.monotonic()
    sim0 = timeline[0][0] if speed == 1 else start
    index = 0
    while index < len(timeline) and not stop():
        if speed > 0:
            clock = sim0 + (time.monotonic() - wall0) * speed
            if speed == 1:
                clock = max(clock, time.time())
        else:
            clock = float("inf")
        due: list[dict[str, Any]] = []
        while index < len(timeline) and timeline[index][0] <= clock and len(due) < BATCH:
            due.append(timeline[index][1])
            index += 1
        if due:
            status, body = client.post(due)
            report.sent += len(due)
            if status == 201:
                report.appended += body["appended"]
                report.duplicates += body["duplicates"]
            else:
                report.failures.append(f"{status}: {str(body)[:300]}")
            if progress is not None:
                progress(index, len(timeline))
        elif speed > 0:
            time.sleep(0.2)
    return report
