"""The websocket feed: ws://HOST:8765/feed?session=<id>&token=<read token>[&version=<n>].

The token is checked during the HTTP upgrade, before anything is sent: no token is a 401,
a token without the read scope a 403. Changes arrive from the workers through the in-process hub
(embedded) or Redis pub/sub (production, any number of feed processes).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
from collections import deque
from typing import Any
from urllib.parse import parse_qs, urlparse

import orjson
import redis.asyncio as aioredis
from sqlalchemy.engine import Engine
from websockets.asyncio.server import ServerConnection, serve
from websockets.datastructures import Headers
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response

from events.fields import IDENTIFIER_RE
from events.opening import open_recorder
from service.auth.scopes import parse_bearer, query_token_problem
from service.auth.tokens import TokenChecker
from service.feed.channels import Document, FeedHub
from service.feed.client import CLOSE_TOO_SLOW, PING_SECONDS, FeedClient, TooSlow
from service.process.http_limits import fatal_on_error
from service.reads import views
from worker.publish import FEED_CHANNEL, LocalHub

log = logging.getLogger(__name__)
SEND_BUFFER_BYTES = 64 * 1024


def _params(path: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlparse(path).query).items() if v}


MAX_VERSION_DIGITS = 12  # a stream version is far below 10**12
CLOSE_UNKNOWN_SESSION = 4404


class FeedServer:
    def __init__(
        self,
        engine: Engine,
        tokens: TokenChecker,
        max_rate: float = 10.0,
        ping_seconds: float = PING_SECONDS,
        max_clients: int = 10_000,
    ) -> None:
        self.engine = engine
        self.recorder = open_recorder(engine)
        self.max_clients = max_clients
        self.handshakes = 0  # connections between the opening request and handle()
        self.ping_seconds = ping_seconds
        self.tokens = tokens
        self.max_rate = max_rate
        self.hub = FeedHub(1.0 / max_rate if max_rate > 0 else 0.0)
        self.clients = 0

    async def authorise(self, connection: ServerConnection, request: Request) -> Response | None:
        if urlparse(request.path).path != "/feed":
            return connection.respond(404, "the feed is at /feed\n")
        if self.clients + self.handshakes >= self.max_clients:
            return _refuse(connection, 503, "the feed is at its connection limit; retry later")
        params = _params(request.path)
        version = params.get("version")
        if version is not None and not (
            version.isascii() and version.isdigit() and len(version) <= MAX_VERSION_DIGITS
        ):
            return _refuse(connection, 400, "version must be a whole number (at most 12 digits)")
        session_id = params.get("session")
        if session_id is not None and not IDENTIFIER_RE.match(session_id):
            return _refuse(connection, 400, "session must be a session id")
        header = parse_bearer(request.headers.get("Authorization"))
        token = header or params.get("token")
        if token is None:
            return _refuse(connection, 401, "a read token is required: /feed?token=...")
        self.handshakes += 1
        try:
            scopes = await asyncio.to_thread(self.tokens.scopes, token)
            if header is None and query_token_problem(scopes) == "not_read_only":
                return _refuse(connection, 403, "a token in the URL must be a read-only token")
            if not scopes:
                return _refuse(connection, 401, "the token is not valid")
            if "read" not in scopes:
                return _refuse(connection, 403, "the token lacks the 'read' scope")
            if session_id is not None and not await asyncio.to_thread(
                self.recorder.head, f"session-{session_id}"
            ):
                # Only sessions with events get state here: made-up ids cost nothing.
                return _refuse(connection, 404, f"no session {session_id}")
        finally:
            self.handshakes -= 1
        return None

    async def handle(self, ws: ServerConnection) -> None:
        assert ws.request is not None
        sock = ws.transport.get_extra_info("socket") if ws.transport else None
        if sock is not None:
            # A fixed kernel send buffer (Linux would grow it to 4 MB) bounds what a client
            # that stops reading can hold on the server, and lets the send timeout notice it.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, SEND_BUFFER_BYTES)
        params = _params(ws.request.path)
        client = FeedClient(ws, self.hub, self.max_rate, self.ping_seconds)
        self.clients += 1
        try:
            session_id = params.get("session")
            if session_id:
                since = int(params["version"]) if "version" in params else None
                await client.follow_session(session_id, since, self.load_document)
            else:
                await client.follow_live(self.load_live)
        except TooSlow:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(ws.close(CLOSE_TOO_SLOW, "client too slow"), 1.0)
            if ws.transport is not None:
                ws.transport.abort()
        except ConnectionClosed:
            pass
        finally:
            self.clients -= 1

    async def load_document(self, session_id: str) -> Document | None:
        return await asyncio.to_thread(views.session_document_body, self.engine, session_id)

    async def load_live(self) -> list[Document]:
        return await asyncio.to_thread(views.live_session_bodies, self.engine)

    async def serve(
        self,
        host: str,
        port: int,
        started: asyncio.Future[int] | None = None,
        stop: asyncio.Event | None = None,
    ) -> None:
        async with serve(
            self.handle,
            host,
            port,
            process_request=self.authorise,
            compression=None,
            write_limit=2**15,
            max_size=2**16,
            ping_interval=20,
            close_timeout=2,
            open_timeout=10,
        ) as server:
            bound = next(iter(server.sockets)).getsockname()[1]
            if started is not None:
                started.set_result(bound)
            await (stop.wait() if stop is not None else asyncio.Future())

    async def listen_redis(self, url: str) -> None:
        """Follow the workers' changes on Redis, reconnecting after an outage."""
        while True:
            client = aioredis.Redis.from_url(url)
            try:
                pubsub = client.pubsub()
                await pubsub.subscribe(FEED_CHANNEL)
                async for message in pubsub.listen():
                    if message["type"] == "message":
                        self.hub.receive(orjson.loads(message["data"]))
            except (aioredis.ConnectionError, OSError) as exc:
                log.warning("feed lost Redis (%s); reconnecting", exc)
                await asyncio.sleep(0.5)
            finally:
                await client.aclose()


def _refuse(connection: ServerConnection, status: int, text: str) -> Response:
    response = connection.respond(status, text + "\n")
    if status == 401:
        response.headers = Headers(response.headers)
        response.headers["WWW-Authenticate"] = 'Bearer realm="livetally"'
    return response


class FeedThread:
    """The feed on its own event loop in a thread, fed by the in-process hub (`livetally up`)."""

    def __init__(self, server: FeedServer, local: LocalHub, host: str, port: int) -> None:
        self.server = server
        self.local = local
        self.host, self.port = host, port
        self.loop = asyncio.new_event_loop()
        self._stop: asyncio.Event | None = None
        # The feed dying would leave `livetally up` answering HTTP with screens dark: it ends
        # the process instead (see service.process.http_limits.fatal_on_error).
        self._thread = threading.Thread(
            target=fatal_on_error(self._run, "livetally-feed"), name="livetally-feed", daemon=True
        )
        self._ready = threading.Event()
        self.bound_port = 0

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._main())

    async def _main(self) -> None:
        self._stop = asyncio.Event()
        started: asyncio.Future[int] = self.loop.create_future()

        # Called on a worker thread. Messages wait in `inbox` until the loop takes them all at
        # once: a wake-up of the loop per message (a write to its self-pipe, a pass of it)
        # was a tenth of a busy embedded process, at 2,500 messages a second.
        inbox: deque[dict[str, Any]] = deque()
        inbox_lock = threading.Lock()

        def take_inbox() -> None:
            with inbox_lock:
                messages = list(inbox)
                inbox.clear()
            receive = self.server.hub.receive
            for message in messages:
                try:
                    receive(message)
                except Exception:  # one bad message must not drop the others taken with it
                    log.exception("the feed could not take a message")

        def forward(message: dict[str, Any]) -> None:
            with inbox_lock:
                wake = not inbox
                inbox.append(message)
            if wake:  # else a take already scheduled will find it
                self.loop.call_soon_threadsafe(take_inbox)

        unsubscribe = self.local.subscribe(forward)
        task = asyncio.create_task(self.server.serve(self.host, self.port, started, self._stop))
        self.bound_port = await started
        self._ready.set()
        try:
            await task
        finally:
            unsubscribe()

    def start(self) -> None:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the feed did not start")

    def stop(self) -> None:
        if self._stop is not None:
            self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)


async def run_feed(
    engine: Engine, tokens: TokenChecker, redis_url: str, host: str, port: int, max_rate: float
) -> None:
    server = FeedServer(engine, tokens, max_rate)
    listener = asyncio.create_task(server.listen_redis(redis_url))
    try:
        await server.serve(host, port)
    finally:
        listener.cancel()
