"""The importer and the simulator, end to end through the store and the projections."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa
from click.testing import CliRunner

from events import create_engine, open_recorder
from projections.tables import session_document
from service.cli import main
from service.ingest.importer import import_file
from service.ingest.simulator.model import simulation
from tests.builders import Broadcast, event


def lines(tmp_path: Path) -> Path:
    good = Broadcast("imp-1").start(0).join(1, "v1").place(2, "o1", "v1", "10").pay(3, "o1")
    rows = [json.dumps(e) for e in good.events]
    rows.insert(2, '{"type": "viewer.joined", ')  # line 3: malformed
    bad_money = Broadcast("imp-1").place(4, "o2", "v1", -5).events[0]
    rows.insert(4, json.dumps(bad_money))  # line 5: negative money
    rows.append("")
    rows.append(json.dumps(event("viewer.joined", 5, {"viewer_id": "v9"}, session=None)))
    path = tmp_path / "events.jsonl"
    path.write_text("\n".join(rows) + "\n")
    return path


def test_import_stores_the_good_lines_and_names_the_bad_ones(
    sqlite_url: str, tmp_path: Path
) -> None:
    engine = create_engine(sqlite_url)
    report = import_file(engine, lines(tmp_path), batch=2)
    assert report.appended == 4 and report.duplicates == 0
    assert [n for n, _ in report.rejected] == [3, 5, 8]
    assert "malformed JSON" in report.rejected[0][1]
    assert "data.amount: must not be negative" in report.rejected[1][1]
    assert "session_id" in report.rejected[2][1]
    with engine.connect() as conn:
        body = conn.execute(sa.select(session_document.c.body)).scalar_one()
    assert body["metrics"]["gmv"] == 10.0


def test_importing_again_stores_nothing_twice(sqlite_url: str, tmp_path: Path) -> None:
    engine = create_engine(sqlite_url)
    path = lines(tmp_path)
    import_file(engine, path)
    again = import_file(engine, path)
    assert again.appended == 0 and again.duplicates == 4
    assert len(open_recorder(engine).read_all(0, 100)) == 4


def test_a_conflicting_line_is_rejected_without_its_batch(sqlite_url: str, tmp_path: Path) -> None:
    engine = create_engine(sqlite_url)
    first = Broadcast("imp-2").start(0).events[0]
    changed = {**first, "data": {**first["data"], "host_id": "someone-else"}}
    path = tmp_path / "conflict.jsonl"
    path.write_text(json.dumps(first) + "\n")
    import_file(engine, path)
    batch = [json.dumps(e) for e in Broadcast("imp-2").join(1, "a").join(2, "b").events]
    path.write_text("\n".join([batch[0], json.dumps(changed), batch[1]]) + "\n")
    report = import_file(engine, path, batch=10)
    assert report.appended == 2
    assert report.rejected == [(2, "event_id: already stored with different content")]


def test_csv_import_and_the_cli_summary(sqlite_url: str, tmp_path: Path) -> None:
    path = tmp_path / "events.csv"
    path.write_text(
        "event_id,type,occurred_at,session_id,data\n"
        f"{event('session.started', 0)['event_id']},session.started,2026-11-02T12:00:00Z,c-1,"
        '"{""host_id"": ""h"", ""room_id"": ""r"", ""platform"": ""douyin""}"\n'
        f"{event('viewer.joined', 0)['event_id']},viewer.joined,2026-11-02T12:00:05Z,c-1,"
        '"{""viewer_id"": ""v""}"\n'
        'not-a-uuid,viewer.joined,2026-11-02T12:00:05Z,c-1,"{}"\n'
    )
    result = CliRunner().invoke(main, ["import", str(path), "--db", sqlite_url])
    assert result.exit_code == 1  # a line was rejected
    assert "3 lines: 2 stored, 0 duplicates, 1 rejected" in result.output
    assert "line 4: event_id: is not a valid UUID" in result.output


def test_a_simulation_is_reproducible_and_valid() -> None:
    from events.envelope import parse_body

    one = simulation(11, 2, 20, 1_795_000_000.0)
    two = simulation(11, 2, 20, 1_795_000_000.0)
    assert [e for _, e in one] == [e for _, e in two]
    assert [t for t, _ in one] == sorted(t for t, _ in one)
    types = {e["type"] for _, e in one}
    assert {
        "viewer.joined",
        "viewer.left",
        "order.paid",
        "order.refunded",
        "product.pinned",
        "interaction.recorded",
        "ad.spend_recorded",
        "person.registered",
    } <= types
    events = [e for _, e in one]
    for start in range(0, len(events), 5000):  # every event is valid, not just the first 5,000
        parse_body({"events": events[start : start + 5000]}, 10**18)
    other = simulation(12, 2, 20, 1_795_000_000.0)
    assert {e["event_id"] for _, e in other}.isdisjoint(
        {e["event_id"] for _, e in one if "session_id" in e}
    )
