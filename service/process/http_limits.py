"""What keeps slow, idle or numerous HTTP clients from stalling `livetally up`'s API (waitress).

- waitress polls with poll(), not select(): select() fails past descriptor 1,024, which a
  thousand idle sockets on the feed port reach in the same process.
- At most CONNECTION_LIMIT connections are open; past that waitress stops accepting until some
  close (the kernel's backlog holds the rest), so the process never runs out of descriptors.
- A connection idle for IDLE_SECONDS is closed; a request whose headers and body have not all
  arrived within REQUEST_SECONDS of its first byte is closed (a client sending a header line
  every few seconds never counts as idle); at most PER_CLIENT connections from one address
  are kept (the newest beyond that are closed).

The production API runs under gunicorn behind a reverse proxy; docs/deploy.md gives the proxy
settings that do the same there.
"""

from __future__ import annotations

import logging
import os
import threading
import types
from collections import Counter
from collections.abc import Callable
from typing import Any

from waitress.server import BaseWSGIServer, MultiSocketServer, TcpWSGIServer

log = logging.getLogger(__name__)

CONNECTION_LIMIT = 1_000
IDLE_SECONDS = 30
REQUEST_SECONDS = 10
PER_CLIENT = 500
SWEEP_SECONDS = 1  # how often waitress looks for connections to close

WAITRESS_OPTIONS: dict[str, Any] = {
    "asyncore_use_poll": True,
    "connection_limit": CONNECTION_LIMIT,
    "channel_timeout": IDLE_SECONDS,
    "cleanup_interval": SWEEP_SECONDS,
}


def listeners(server: MultiSocketServer | BaseWSGIServer) -> list[TcpWSGIServer]:
    """create_server's one server, or its one per address when a host name resolves to several
    (localhost to ::1 and 127.0.0.1, say)."""
    found = [server] if isinstance(server, BaseWSGIServer) else list((server.map or {}).values())
    return [d for d in found if isinstance(d, TcpWSGIServer)]


def _maintenance(self: BaseWSGIServer, now: float) -> None:
    """waitress's idle sweep, plus the request deadline and the per-client cap."""
    idle_cutoff = now - self.adj.channel_timeout
    per_client: Counter[str] = Counter()
    channels: Any = self.active_channels  # waitress: {fileno: HTTPChannel}
    for channel in sorted(channels.values(), key=lambda c: c.creation_time):
        if channel.requests:
            continue  # a request being answered: the task has it
        if channel.request is not None:  # bytes of a request have come, not all of it
            since = getattr(channel, "livetally_partial_since", None)
            if since is None:
                channel.livetally_partial_since = now
            elif now - since > REQUEST_SECONDS:
                channel.will_close = True
        else:
            channel.livetally_partial_since = None
            if channel.last_activity < idle_cutoff:
                channel.will_close = True
        address = channel.addr[0] if isinstance(channel.addr, tuple) else str(channel.addr)
        per_client[address] += 1
        if per_client[address] > PER_CLIENT:
            channel.will_close = True


def harden(server: MultiSocketServer | BaseWSGIServer) -> None:
    for listener in listeners(server):
        listener.maintenance = types.MethodType(_maintenance, listener)  # type: ignore[method-assign]


def fatal_on_error(target: Callable[[], None], name: str) -> Callable[[], None]:
    """A thread body that ends the whole process if it dies: a supervisor then restarts the
    process, instead of a process that listens and never answers."""

    def run() -> None:
        try:
            target()
        except BaseException:
            log.critical("thread %s died; ending the process", name, exc_info=True)
            logging.shutdown()
            os._exit(70)

    return run


def start_fatal_thread(target: Callable[[], None], name: str) -> threading.Thread:
    thread = threading.Thread(target=fatal_on_error(target, name), name=name, daemon=True)
    thread.start()
    return thread
