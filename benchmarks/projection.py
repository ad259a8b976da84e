"""Rebuild throughput: 1M events over 200 sessions, replayed into fresh projections.

    python benchmarks/projection.py [--events 1000000] [--sessions 200] [--runs 3]
                                    [--backends sqlite,postgresql]

The events are loaded straight through the recorder (not timed), then `rebuild` empties the
projections and replays every stream; events/s is the median of the runs. Goal: >= 50,000/s.
The same run times a bare fold of the same events in memory, for the ratio.
"""

from __future__ import annotations

import argparse
import time

from benchmarks.common import database, median, wire_events
from events import create_engine, open_recorder
from events.clock import now_micros
from events.envelope import parse_body
from projections.session import SessionState, fold_session
from service.process.migrate import upgrade
from worker.rebuild import rebuild


def load(url: str, count: int, sessions: int) -> None:
    engine = create_engine(url)
    upgrade(engine)
    recorder = open_recorder(engine)
    now = now_micros()
    for start in range(0, count, 5000):
        chunk = wire_events(min(5000, count - start), sessions, seed="")
        for i, raw in enumerate(chunk):  # continue the same sessions across chunks
            raw["session_id"] = f"bench-{(start + i) % sessions}"
            if start and raw["type"] == "session.started":
                raw["type"], raw["data"] = "viewer.joined", {"viewer_id": f"x{start + i}"}
        recorder.append(parse_body({"events": chunk}, now))
    engine.dispose()


def bare_fold_rate(url: str) -> float:
    engine = create_engine(url)
    events = list(open_recorder(engine).iter_all())
    states: dict[str, SessionState] = {}
    started = time.perf_counter()
    for event in events:
        state = states.get(event.stream_id) or SessionState(event.stream_id)
        states[event.stream_id] = fold_session(state, event)
    elapsed = time.perf_counter() - started
    engine.dispose()
    return len(events) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--backends", default="sqlite,postgresql")
    args = parser.parse_args()
    for backend in args.backends.split(","):
        with database(backend) as url:
            load(url, args.events, args.sessions)
            engine = create_engine(url)
            rates = [rebuild(engine).events_per_second for _ in range(args.runs)]
            engine.dispose()
            fold = bare_fold_rate(url)
            rate = median(rates)
            line = (
                f"rebuild, {backend}, {args.events:,} events / {args.sessions} sessions: "
                f"{rate:,.0f} events/s (median of {args.runs}: "
                f"{', '.join(f'{r:,.0f}' for r in rates)})"
            )
            if fold:
                line += f"; bare in-memory fold {fold:,.0f} events/s ({rate / fold:.0%} of it)"
            print(line, flush=True)


if __name__ == "__main__":
    main()
