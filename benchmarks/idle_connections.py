"""Idle connections from one address against `livetally up`'s API, and everyone else's /health.

    python -m benchmarks.idle_connections [--connections 1100] [--seconds 10]
                                          [--probes-per-second 20]

A `livetally up` process on SQLite; a second process opens `--connections` idle TCP connections
to its API from 127.0.0.1 and opens a new one each time the server closes one, as fast as it
notices (it never sends a byte). Meanwhile this process times GET /api/v1/health, each probe on
a new connection from 127.0.0.2 (another client address: all of 127/8 is loopback), started
evenly over `--seconds`, each in its own thread so that one that waits does not delay the next.
Reports the probes' p50 / p99 / max and how many failed, how many of the flood's connections
had been open for 2 s or more at the end (those the server keeps), how many the server closed a
second, and the server's CPU while probed. A baseline of probes without the flood comes first.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import selectors
import socket
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT, Instance, livetally, wait_healthy
from tests.servers import free_port

FLOOD_ADDRESS = "127.0.0.1"
PROBE_ADDRESS = "127.0.0.2"
REQUEST = b"GET /api/v1/health HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n"


def raise_fd_limit() -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def flood(port: int, connections: int, seconds: float, out: Any) -> None:
    """Holds `connections` idle connections, reopening each as soon as the server closes it;
    sends (opened, closed by the server, open for 2 s or more at the end) down `out`."""
    raise_fd_limit()
    selector = selectors.DefaultSelector()
    opened = closed = 0

    def open_one() -> None:
        nonlocal opened
        sock = socket.socket()
        sock.setblocking(False)
        sock.bind((FLOOD_ADDRESS, 0))
        sock.connect_ex(("127.0.0.1", port))
        selector.register(sock, selectors.EVENT_READ, time.monotonic())
        opened += 1

    for _ in range(connections):
        open_one()
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        for key, _ in selector.select(0.1):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                data = sock.recv(4096)
            except BlockingIOError:
                continue
            except OSError:  # refused or reset
                data = b""
            if data:
                continue  # never happens: we send nothing, so the server answers nothing
            selector.unregister(sock)
            sock.close()
            closed += 1
            open_one()
    now = time.monotonic()
    held = sum(now - key.data >= 2 for key in selector.get_map().values())
    for key in list(selector.get_map().values()):
        key.fileobj.close()  # type: ignore[union-attr]
    out.send((opened, closed, held))


def probe(port: int) -> tuple[float, bool]:
    """Seconds for one GET /api/v1/health on a new connection from PROBE_ADDRESS; answered 200?"""
    started = time.perf_counter()
    try:
        with socket.socket() as sock:
            sock.settimeout(30)
            sock.bind((PROBE_ADDRESS, 0))
            sock.connect(("127.0.0.1", port))
            sock.sendall(REQUEST)
            answer = b""
            while chunk := sock.recv(65536):
                answer += chunk
        ok = answer.startswith(b"HTTP/1.1 200 ")
    except OSError:
        ok = False
    return time.perf_counter() - started, ok


def probes(port: int, seconds: float, per_second: float) -> tuple[list[float], int]:
    """Probes started on a fixed schedule, each in its own thread: a probe that waits does not
    hold back the next one (else only the first probe after a stall would count it)."""
    results: list[tuple[float, bool]] = []
    threads = []
    start = time.monotonic()
    for n in range(round(seconds * per_second)):
        time.sleep(max(0.0, start + n / per_second - time.monotonic()))
        thread = threading.Thread(target=lambda: results.append(probe(port)))
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join()
    return [took for took, _ in results], sum(not ok for _, ok in results)


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def summary(times: list[float], failed: int) -> str:
    ms = sorted(t * 1000 for t in times)
    p99 = ms[min(len(ms) - 1, round(0.99 * (len(ms) - 1)))]
    return (
        f"p50 {statistics.median(ms):.1f} ms, p99 {p99:.1f} ms, max {ms[-1]:.1f} ms "
        f"({len(ms)} probes, {failed} failed)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--connections", type=int, default=1100)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--probes-per-second", type=float, default=20)
    args = parser.parse_args()
    raise_fd_limit()
    folder = tempfile.mkdtemp(prefix="livetally-bench-")
    port = free_port()
    server = subprocess.Popen(
        livetally(
            "up",
            "--db",
            f"sqlite:///{folder}/bench.db",
            "--port",
            str(port),
            "--feed-port",
            str(free_port()),
        ),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
    )
    try:
        wait_healthy(Instance(port, "", ""), server)
        print(f"no flood:  {summary(*probes(port, 3, args.probes_per_second))}", flush=True)
        receive, send = multiprocessing.get_context("spawn").Pipe(duplex=False)
        flooder = multiprocessing.get_context("spawn").Process(
            target=flood, args=(port, args.connections, args.seconds + 4, send)
        )
        flooder.start()
        time.sleep(3)  # connected, and the server has closed what it closes
        cpu_before = cpu_seconds(server.pid)
        times, failed = probes(port, args.seconds, args.probes_per_second)
        cpu = cpu_seconds(server.pid) - cpu_before
        opened, closed, held = receive.recv()
        flooder.join(30)
        seconds = args.seconds + 4
        print(f"flood:     {summary(times, failed)}")
        print(
            f"           {args.connections} idle connections from {FLOOD_ADDRESS}: "
            f"{held} open for 2 s or more at the end, {closed / seconds:,.0f} closed by the "
            f"server a second ({opened:,} opened in {seconds:.0f} s); server CPU "
            f"{cpu / args.seconds:.0%} of a core while probed"
        )
        assert server.poll() is None, "the server died"
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
