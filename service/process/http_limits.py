"""What keeps slow, idle or numerous HTTP clients from stalling `livetally up`'s API (waitress).

- waitress polls with poll(), not select(): select() fails past descriptor 1,024, which a
  thousand idle sockets on the feed port reach in the same process.
- At most CONNECTION_LIMIT connections are open; past that waitress stops accepting until some
  close (the kernel's backlog holds the rest), so the process never runs out of descriptors.
- A connection idle for IDLE_SECONDS is closed; a request whose headers and body have not all
  arrived within REQUEST_SECONDS of its first byte is closed (a client sending a header line
  every few seconds never counts as idle).
- At most PER_CLIENT connections from one address are open: one more is closed as it is
  accepted, so an address cannot fill the CONNECTION_LIMIT and make every other client wait.

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

from waitress.channel import HTTPChannel
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
    """waitress's idle sweep, plus the request deadline."""
    idle_cutoff = now - self.adj.channel_timeout
    channels: Any = self.active_channels  # waitress: {fileno: HTTPChannel}
    for channel in channels.values():
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


# The per-address cap is kept at accept time, not in the sweep. waitress stops accepting once
# CONNECTION_LIMIT connections are open, and only its sweep (every SWEEP_SECONDS) closed those
# past an address's share: one address holding 1,100 idle connections, reopened as fast as they
# were closed, refilled the limit between two sweeps, so every other client's new connection
# waited in the kernel's backlog for the next sweep (/health p50 0.7 s, up to 1.4 s;
# benchmarks/idle_connections.py). Closed as it is accepted, a connection past its address's
# share never counts towards the limit, and the listener never stops accepting for it.


class _CountedChannel(HTTPChannel):
    """waitress's channel, counted in its listener's per-address tally while it is open."""

    livetally_address: str | None = None

    def del_channel(self, map: Any = None) -> None:
        super().del_channel(map)  # waitress calls this once a channel closes, however it does
        address, self.livetally_address = self.livetally_address, None
        if address is not None:
            server: Any = self.server
            tally: Counter[str] = server.livetally_per_address
            tally[address] -= 1
            if tally[address] <= 0:
                del tally[address]


def _handle_accept(self: Any) -> None:
    """waitress's handle_accept, closing a connection from an address already at its share, and
    taking every connection waiting in the backlog, not one a wake: between two wakes waitress's
    loop goes over all its channels, and a flood reopening what is closed keeps hundreds in the
    backlog ahead of another client's (one a wake, /health still took p50 0.2 s under it)."""
    tally: Counter[str] = self.livetally_per_address
    for _ in range(self.adj.backlog):
        if len(self._map) >= self.adj.connection_limit:
            return  # waitress's limit: the rest wait in the backlog until connections close
        conn = None
        try:
            accepted = self.accept()
            if accepted is None:
                return  # the backlog is empty
            conn, addr = accepted
            self.set_socket_options(conn)
        except OSError:  # as waitress: a bogus or already closed socket is not the server's end
            if conn is not None:
                conn.close()
            if self.adj.log_socket_errors:
                self.logger.warning("server accept() threw an exception", exc_info=True)
            return
        addr = self.fix_addr(addr)
        address = addr[0] if isinstance(addr, tuple) else str(addr)
        if tally[address] >= PER_CLIENT:
            conn.close()  # at once: the client reads the end of the stream, nothing is kept
            continue
        channel = _CountedChannel(self, conn, addr, self.adj, map=self._map)
        channel.livetally_address = address
        tally[address] += 1


def harden(server: MultiSocketServer | BaseWSGIServer) -> None:
    for listener in listeners(server):
        listener.livetally_per_address = Counter()  # type: ignore[attr-defined]
        listener.maintenance = types.MethodType(_maintenance, listener)  # type: ignore[method-assign]
        listener.handle_accept = types.MethodType(_handle_accept, listener)  # type: ignore[method-assign]


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
