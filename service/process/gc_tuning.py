"""Process-wide settings for livetally's long-running processes (up, api, worker, feed)."""

from __future__ import annotations

import gc

# CPython runs a young-generation collection every 700 net container allocations and a full one
# every 100 of those. One ingest request of 1,000 events allocates tens of thousands of
# containers, and a full pass walks everything alive, including the embedded worker's cache of up
# to 200,000 recent events: under ingest that was about a fifth of `livetally up`'s CPU (750
# young, 69 middle and 5 full passes, 450-560 ms, while appending 49,000 events). What livetally
# allocates per request is acyclic and short-lived, so collecting 70x less often costs little
# memory and still reclaims every cycle.
YOUNG_THRESHOLD = 50_000
MIDDLE_THRESHOLD = 20
OLD_THRESHOLD = 10


def tune_garbage_collector() -> None:
    """Collect less often, and move what startup built (modules, schemas, the app) out of the
    collector's sight for good: it lives as long as the process, so full passes need not walk
    it. Call once, after startup and (under gunicorn) after the fork."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, MIDDLE_THRESHOLD, OLD_THRESHOLD)
