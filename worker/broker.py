"""The dramatiq broker: an in-process StubBroker on the embedded default, Redis in production."""

from __future__ import annotations

import redis
from dramatiq import Broker
from dramatiq.brokers.redis import RedisBroker
from dramatiq.brokers.stub import StubBroker

NAMESPACE = "livetally"


def create_broker(redis_url: str | None, client: redis.Redis | None = None) -> Broker:
    """Creating a broker does not connect: redis-py connects on first use. `client`: a Redis
    client with the caller's timeouts (dramatiq's own has none, so a hung Redis would hang)."""
    if redis_url is None:
        return StubBroker()
    # heartbeat_timeout bounds how long a dead worker's unacked messages wait before another
    # worker takes them; the sweep (worker.sweep) covers the same ground sooner.
    if client is not None:
        return RedisBroker(client=client, namespace=NAMESPACE, heartbeat_timeout=15_000)
    return RedisBroker(url=redis_url, namespace=NAMESPACE, heartbeat_timeout=15_000)
