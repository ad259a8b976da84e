"""`livetally import FILE`: bulk-load events from JSON Lines or CSV.

Each line is validated on its own; a bad line is reported (line number and reason) and never
stored. Valid lines go in batches through the same recorder as the API, each batch atomic; a
batch refused for a conflict is retried event by event, so only the conflicting lines are
rejected. Re-running a file reports its events as duplicates. The touched streams are projected
at the end.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from marshmallow import ValidationError
from sqlalchemy.engine import Engine

from events import ConcurrencyConflict, DuplicateConflict, NewEvent, Recorder, open_recorder
from events.clock import now_micros
from events.envelope import parse_event
from worker.projector import Projector

CSV_JSON_COLUMNS = ("data", "metadata")
CSV_INT_COLUMNS = ("expected_version", "schema_version")


@dataclass
class ImportReport:
    lines: int = 0
    appended: int = 0
    duplicates: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)
    streams: set[str] = field(default_factory=set)


def _reason(messages: Any) -> str:
    if isinstance(messages, dict):
        return "; ".join(
            f"{name}: {' '.join(map(str, reasons))}" for name, reasons in messages.items()
        )
    return str(messages)


def read_jsonl(handle: io.TextIOBase) -> Iterator[tuple[int, Any]]:
    for number, line in enumerate(handle, start=1):
        if not line.strip():
            continue
        try:
            yield number, orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            yield number, ValueError(f"malformed JSON: {exc}")


def read_csv(handle: io.TextIOBase) -> Iterator[tuple[int, Any]]:
    """Columns: event_id, type, occurred_at, session_id, person_id, expected_version, data,
    metadata (data and metadata as JSON); empty cells are left out."""
    reader = csv.DictReader(handle)
    for row in reader:
        number = reader.line_num
        event: dict[str, Any] = {}
        try:
            for key, value in row.items():
                if key is None or value in (None, ""):
                    continue
                if key in CSV_JSON_COLUMNS:
                    event[key] = orjson.loads(value)
                elif key in CSV_INT_COLUMNS:
                    event[key] = int(value)
                else:
                    event[key] = value
        except (orjson.JSONDecodeError, ValueError) as exc:
            yield number, ValueError(f"bad cell: {exc}")
            continue
        yield number, event


def import_file(
    engine: Engine,
    path: Path,
    batch: int = 1000,
    project: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    recorder = open_recorder(engine)
    report = ImportReport()
    size = path.stat().st_size
    pending: list[tuple[int, NewEvent]] = []
    now = now_micros()
    with path.open(encoding="utf-8", newline="") as handle:
        rows = read_csv(handle) if path.suffix.lower() == ".csv" else read_jsonl(handle)
        for number, raw in rows:
            report.lines += 1
            if isinstance(raw, Exception):
                report.rejected.append((number, str(raw)))
                continue
            try:
                pending.append((number, parse_event(raw, now)))
            except ValidationError as exc:
                report.rejected.append((number, _reason(exc.messages)))
            if len(pending) >= batch:
                _flush(recorder, pending, report)
                pending = []
                if progress is not None:
                    progress(handle.tell() if hasattr(handle, "tell") else 0, size)
        _flush(recorder, pending, report)
    if progress is not None:
        progress(size, size)
    if project:
        projector = Projector(engine, recorder)
        for stream_id in sorted(report.streams):
            projector.project(stream_id, publish=False)
    report.rejected.sort()
    return report


def _flush(recorder: Recorder, pending: list[tuple[int, NewEvent]], report: ImportReport) -> None:
    if not pending:
        return
    try:
        result = recorder.append([event for _, event in pending])
    except (ConcurrencyConflict, DuplicateConflict):
        for number, event in pending:  # find which lines conflict; store the others
            try:
                one = recorder.append([event])
            except ConcurrencyConflict as exc:
                report.rejected.append(
                    (
                        number,
                        f"expected_version: stream {exc.stream_id} is "
                        f"at version {exc.actual}, not {exc.expected}",
                    )
                )
                continue
            except DuplicateConflict:
                report.rejected.append((number, "event_id: already stored with different content"))
                continue
            report.appended += one.appended
            report.duplicates += one.duplicates
            report.streams.update(one.heads)
        return
    report.appended += result.appended
    report.duplicates += result.duplicates
    report.streams.update(result.heads)
