"""The ingest floor benchmark runs end to end at a small size and reports every layer."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_floor_benchmark_reports_each_layer_against_raw() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.ingest_floor", "--events", "2000", "--runs", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    summary = result.stdout.split("medians of 1 runs (2,000 events):")[1].splitlines()[1:]
    assert [line.split(":")[0].strip() for line in summary] == [
        "raw sqlite3, one transaction",
        "plain sqlite3, one transaction per 1,000",
        "the same, 16-byte event ids",
        "SqlRecorder.append, validated events",
        "orjson + parse_body + append, one thread",
    ]
    assert summary[0].endswith("100% of raw")
