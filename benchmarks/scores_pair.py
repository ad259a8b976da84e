"""The scores endpoint of two code trees side by side, requests alternating between them.

    python -m benchmarks.scores_pair OTHER_TREE [--backend sqlite] [--requests 400]

This machine's noise comes in episodes of a second or more; two benchmark runs one after the
other can land one in an episode and the other not (p95 moving 30% between identical runs).
Here both trees serve at once (`livetally up` each, on their own database populated by their
own code as `benchmarks/scores.py` does) and every request pair goes to both, in alternating
order, so an episode falls on both. OTHER_TREE is a checkout of another commit, e.g.
`git worktree add /tmp/base <commit>`; it runs with this tree's virtualenv. Both must answer
the same scores (person, score, grade) or the run stops.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from benchmarks.common import ROOT
from tests.servers import free_port, start_postgres

PATH = "/api/v1/scores?period=2026-10&role=host"


@contextmanager
def serving(tree: Path, url: str, people: int, sessions: int) -> Iterator[tuple[int, str]]:
    """Populate `url` with the tree's own code, then run its `livetally up`: (port, token)."""
    python = sys.executable
    subprocess.run(
        [
            python,
            "-c",
            f"from benchmarks.scores import populate; populate({url!r}, {people}, {sessions})",
        ],
        cwd=tree,
        check=True,
    )
    token = subprocess.run(
        [python, "-m", "service.cli", "tokens", "create", "--scope", "admin", "--db", url],
        cwd=tree,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    port = free_port()
    process = subprocess.Popen(
        [
            python,
            "-m",
            "service.cli",
            "up",
            "--db",
            url,
            "--port",
            str(port),
            "--feed-port",
            str(free_port()),
        ],
        cwd=tree,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield port, token
    finally:
        process.terminate()
        process.wait(30)


def get(port: int, token: str) -> Any:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    conn.request("GET", PATH, headers={"Authorization": f"Bearer {token}"})
    response = conn.getresponse()
    body = response.read()
    conn.close()
    if response.status != 200:
        raise RuntimeError(f"{response.status}: {body[:200]!r}")
    return json.loads(body)


def wait_answering(port: int, token: str) -> Any:
    deadline = time.monotonic() + 60
    while True:
        try:
            return get(port, token)
        except (OSError, RuntimeError):
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def scores_of(answer: Any) -> list[tuple[str, float, str]]:
    return sorted((c["person_id"], c["score"], c["grade"]) for c in answer["scorecards"])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("other", type=Path)
    parser.add_argument("--backend", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--people", type=int, default=200)
    parser.add_argument("--sessions", type=int, default=20_000)
    args = parser.parse_args()
    trees = {"other": args.other.resolve(), "this": ROOT}
    with ExitStack() as stack:
        if args.backend == "postgresql":
            server = start_postgres()
            stack.callback(server.stop)
            for name in trees:
                server.execute(f"CREATE DATABASE {name}")
            urls = {name: server.url(name) for name in trees}
        else:
            folder = tempfile.mkdtemp(prefix="livetally-bench-")
            urls = {name: f"sqlite:///{folder}/{name}.db" for name in trees}
        ends = {
            name: stack.enter_context(serving(tree, urls[name], args.people, args.sessions))
            for name, tree in trees.items()
        }
        answers = {name: scores_of(wait_answering(*end)) for name, end in ends.items()}
        if answers["other"] != answers["this"]:
            raise SystemExit("the two trees answer different scores")
        time.sleep(2)
        timings: dict[str, list[float]] = {name: [] for name in trees}
        for i in range(args.requests):
            for name in ("other", "this") if i % 2 == 0 else ("this", "other"):
                started = time.perf_counter()
                get(*ends[name])
                timings[name].append((time.perf_counter() - started) * 1000)
    for name, values in timings.items():
        values.sort()
        print(
            f"scores, {args.backend}, {name} ({trees[name]}): "
            f"p50 {statistics.median(values):.1f} ms, "
            f"p95 {values[int(0.95 * len(values))]:.1f} ms, "
            f"p99 {values[int(0.99 * len(values))]:.1f} ms ({args.requests} requests)",
            flush=True,
        )


if __name__ == "__main__":
    main()
