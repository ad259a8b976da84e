"""Wiring of the worker side: broker, actor, coalescing, dispatch, projector, publisher, sweep."""

from __future__ import annotations

from dataclasses import dataclass

import dramatiq
import redis
from sqlalchemy.engine import Engine

from events.opening import open_recorder
from events.recent import RecentEvents
from events.recorder import Recorder
from worker.actors import PROJECTIONS_QUEUE, declare_project_stream
from worker.broker import create_broker
from worker.claims import quiet_skip_warnings
from worker.dispatch import IN_PROCESS_MESSAGE_STREAMS, StreamDispatcher
from worker.heartbeat import Heartbeat, worker_identity
from worker.pacing import FACTOR as PACE_FACTOR
from worker.pacing import ApiLoad, Pacer, PacingMiddleware
from worker.pending import LocalPending, PendingStreams, RedisPending
from worker.projector import GROUP, Projector
from worker.publish import LocalHub, Publisher, RedisPublisher
from worker.quiet_logs import quiet_outage_logs
from worker.requested_rebuilds import RequestedRebuilds
from worker.sweep import Sweeper


@dataclass
class WorkerParts:
    broker: dramatiq.Broker
    actor: dramatiq.Actor
    pending: PendingStreams
    dispatcher: StreamDispatcher
    projector: Projector
    publisher: Publisher
    hub: LocalHub | None
    redis_client: redis.Redis | None
    # The store as this process reads and appends it; under `livetally up` it keeps what the
    # API appended (RecentEvents) for the in-process worker to read back without the database.
    recorder: Recorder
    # Embedded default: how busy the API is, which the pace reads (the app's WSGI meter feeds it).
    api_load: ApiLoad | None = None


APPENDER_REDIS_TIMEOUT = 0.1  # seconds: what an append may wait on Redis at most
WORKER_REDIS_TIMEOUT = 2.0


def redis_client(url: str, timeout: float = WORKER_REDIS_TIMEOUT) -> redis.Redis:
    # Short timeouts: nothing may hang on a Redis that went away or stopped answering.
    return redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)


def build_worker_parts(
    engine: Engine,
    redis_url: str | None,
    embedded_pace: float = 0.0,
    redis_timeout: float = WORKER_REDIS_TIMEOUT,
    pace_factor: float = PACE_FACTOR,
) -> WorkerParts:
    """`embedded_pace`: the in-process worker's longest wait (worker/pacing.py).
    `redis_timeout`: the API process passes APPENDER_REDIS_TIMEOUT, so a hung Redis delays an
    append by at most that (and then not at all while the dispatcher's breaker is open)."""
    quiet_outage_logs()
    client = redis_client(redis_url, redis_timeout) if redis_url else None
    broker = create_broker(redis_url, client)
    hub = None
    publisher: Publisher
    pending: PendingStreams
    if client is None:
        hub = LocalHub()
        publisher, pending = hub, LocalPending()
    else:
        publisher, pending = RedisPublisher(client), RedisPending(client)
    recent = RecentEvents() if hub else None
    api_load = ApiLoad() if hub and embedded_pace > 0 else None
    pacer = Pacer(embedded_pace, pace_factor, load=api_load) if api_load is not None else None
    recorder = open_recorder(engine, recent)
    projector = Projector(engine, recorder, publisher, pending, pacer=pacer)
    # The pace is middleware in dramatiq's own hook style: it waits with the message's claims
    # still held (the run settles them as it reads, worker/claims.py).
    if pacer is not None:
        broker.add_middleware(PacingMiddleware(pacer))
    quiet_skip_warnings()
    actor = declare_project_stream(broker, projector.project_many)
    return WorkerParts(
        broker,
        actor,
        pending,
        StreamDispatcher(
            actor,
            pending,
            streams_per_message=IN_PROCESS_MESSAGE_STREAMS if client is None else GROUP,
        ),
        projector,
        publisher,
        hub,
        client,
        recorder,
        api_load,
    )


class RunningWorker:
    """dramatiq worker threads plus the sweep and the heartbeat, in this process."""

    def __init__(
        self,
        parts: WorkerParts,
        engine: Engine,
        threads: int,
        sweep_seconds: float,
        worker_timeout_ms: int = 100,
    ) -> None:
        # Projections only: the connectors' queue (slow platform APIs) has its own threads
        # (service.ingest.connections.jobs), so a slow API never holds a fold back.
        self.worker = dramatiq.Worker(
            parts.broker,
            queues={PROJECTIONS_QUEUE},
            worker_threads=threads,
            worker_timeout=worker_timeout_ms,
        )
        self.sweeper = Sweeper(
            engine, parts.recorder, parts.projector.project, parts.publisher, sweep_seconds
        )
        self.heartbeat = Heartbeat(engine, worker_identity(), sweep_seconds)
        self.requested_rebuilds = RequestedRebuilds(engine)

    def start(self) -> None:
        self.worker.start()
        self.sweeper.start()
        self.heartbeat.start()
        self.requested_rebuilds.start()

    def stop(self) -> None:
        self.requested_rebuilds.stop()  # a rebuild under way drops its shadows
        self.sweeper.stop()
        self.worker.stop(timeout=10_000)
        # Last: the heartbeat row goes only once no fold of this process can still run (a
        # rebuild waits for live heartbeats).
        self.heartbeat.stop()
