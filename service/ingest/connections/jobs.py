"""The connectors' background work in every worker process (and `livetally up`): queued
messages finished with the platforms' APIs, tokens refreshed before they expire, and each
order connection reconciled every `sync_seconds`.

One run per connection across all processes: each pass over a connection first takes its lease
in the database (a conditional UPDATE), so two workers never sync one shop at once, and the
state that decides what is due (token expiry, synced_until) is in the database: it survives
restarts.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass

import dramatiq

from events.clock import now_micros
from service.ingest.connections.refresh import refresh_connection, refresh_due
from service.ingest.connections.shops import ShopApis
from service.ingest.connections.store import Connection
from service.ingest.connections.sync import order_platforms, sync_connection
from service.ingest.connectors.errors import DetailUnavailable
from service.ingest.connectors.intake import Intake
from service.ingest.platform_apis.http import PlatformApiError
from service.ingest.pollers.runner import PollerJobs
from worker.periodic import Periodic

log = logging.getLogger(__name__)

QUEUE_PASS_SECONDS = 2.0
CONNECTIONS_PASS_SECONDS = 15.0
LEASE_SECONDS = 600.0  # longer than any sync pass; a crashed holder's lease runs out
POLL_PASS_SECONDS = 5.0  # how often the due pollers are looked for (each polls every minute)


@dataclass
class ConnectionTimes:
    sync_us: int
    overlap_us: int
    refresh_lead_us: int


class SecondWorkerNotice(logging.Filter):
    """dramatiq warns when a second Worker joins a broker ("a middleware of the same type
    twice"): here that is the design (the connectors' own threads), not a mistake."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "middleware of the same type twice" not in record.getMessage()


def quiet_second_worker_notice(broker: dramatiq.Broker) -> None:
    broker_log = logging.getLogger(f"dramatiq.broker.{type(broker).__name__}")
    if not any(isinstance(f, SecondWorkerNotice) for f in broker_log.filters):
        broker_log.addFilter(SecondWorkerNotice())


class ConnectorJobs:
    def __init__(
        self,
        intake: Intake,
        shops: ShopApis,
        times: ConnectionTimes,
        broker: dramatiq.Broker | None = None,
        queue: str = "connectors",
        threads: int = 4,
        alert: Callable[[Connection, str], None] | None = None,
        pollers: PollerJobs | None = None,
    ) -> None:
        self.intake = intake
        self.pollers = pollers
        # Tells the screens of the shop's live session that its connection failed.
        self.alert = alert
        self.shops = shops
        self.times = times
        self.owner = f"{socket.gethostname()}:{os.getpid()}"
        self._passes = [
            Periodic("connector-queue", QUEUE_PASS_SECONDS, intake.retry_queued),
            Periodic("connections", CONNECTIONS_PASS_SECONDS, self.connections_pass, at_start=True),
        ]
        if pollers is not None:
            self._passes.append(Periodic("pollers", POLL_PASS_SECONDS, pollers.poll_pass))
        # The queued look-ups' own dramatiq threads: a platform API answering in seconds
        # holds these, never the projection workers.
        if broker is not None:
            quiet_second_worker_notice(broker)
        self._worker = (
            None
            if broker is None
            else dramatiq.Worker(broker, queues={queue}, worker_threads=threads, worker_timeout=100)
        )

    def start(self) -> None:
        if self._worker is not None:
            self._worker.start()
        for periodic in self._passes:
            periodic.start()

    def stop(self) -> None:
        for periodic in self._passes:
            periodic.stop()
        if self._worker is not None:
            self._worker.stop(timeout=10_000)

    def connections_pass(self) -> None:
        for connection in self.shops.book.all():
            if not (self._refresh_due(connection) or self._sync_due(connection)):
                continue
            if not self.shops.book.take_lease(connection.connection_id, self.owner, LEASE_SECONDS):
                continue
            try:
                self.run(connection.connection_id)
            finally:
                self.shops.book.release_lease(connection.connection_id, self.owner)

    def run(self, connection_id: str, since_us: int | None = None) -> str:
        """Refresh if due, then sync (from `since_us`, or the last sync less the overlap).
        Returns a line saying what happened (the CLI prints it)."""
        connection = self.shops.book.get(connection_id)
        if connection is None:
            return f"{connection_id}: no such connection"
        if self._refresh_due(connection):
            try:
                connection = refresh_connection(self.shops, connection)
            except DetailUnavailable as exc:
                self._alert(connection, f"token refresh failed: {exc.detail}")
                return f"{connection_id}: token refresh failed: {exc.detail}"
        if connection.platform not in order_platforms():
            return f"{connection_id}: tokens checked (no order list to reconcile)"
        return self._sync(connection, since_us)

    def _sync(self, connection: Connection, since_us: int | None) -> str:
        now = now_micros()
        start = since_us
        if start is None:
            base = connection.synced_until or connection.created_at
            start = base - self.times.overlap_us
        try:
            result = sync_connection(self.intake, self.shops, connection, start, now)
        except PlatformApiError as exc:
            if exc.auth and connection.secrets.get("refresh_token"):
                try:
                    connection = refresh_connection(self.shops, connection)
                    result = sync_connection(self.intake, self.shops, connection, start, now)
                except DetailUnavailable as again:
                    return self._failed(connection, again.detail)
            else:
                return self._failed(connection, exc.detail)
        except DetailUnavailable as exc:
            return self._failed(connection, exc.detail)
        error = "; ".join(result.unreadable)[:1000] or None
        self.shops.book.record_sync(connection.connection_id, now, error, result.orders)
        return (
            f"{connection.connection_id}: {result.orders} orders read, {result.appended} events "
            f"appended, {result.outside_sessions} outside any session, "
            f"{result.already_told} facts already told"
        )

    def _alert(self, connection: Connection, reason: str) -> None:
        if self.alert is not None:
            try:
                self.alert(connection, reason)
            except Exception as exc:  # an alert that cannot be sent must not stop the jobs
                log.warning("could not alert about %s: %s", connection.connection_id, exc)

    def _failed(self, connection: Connection, detail: str) -> str:
        if connection.sync_error is None:  # once per failure, not at every retry
            self._alert(connection, f"sync failed: {detail}")
        self.shops.book.record_sync(connection.connection_id, None, detail[:1000], 0)
        log.warning("connection %s: sync failed: %s", connection.connection_id, detail)
        return f"{connection.connection_id}: sync failed: {detail}"

    def _refresh_due(self, connection: Connection) -> bool:
        return connection.state != "failed" and refresh_due(connection, self.times.refresh_lead_us)

    def _sync_due(self, connection: Connection) -> bool:
        if connection.platform not in order_platforms() or connection.state == "failed":
            return False
        last = connection.sync_attempted_at or 0
        return now_micros() - last >= self.times.sync_us
