"""A run leaves out the `changed_only` rows equal to those its stream last wrote
(worker/projector.py changed_rows), and never one that moved."""

from __future__ import annotations

from typing import Any

from projections.tables import session_source, session_timeline
from projections.writes import RowSet, Writes
from worker.projector import changed_rows


def timeline(body: dict[str, Any]) -> Writes:
    return Writes(
        [RowSet(session_timeline, [{"session_id": "s", "body": body}], ("session_id",), True)]
    )


def sources(views: dict[str, int]) -> Writes:
    rows = [{"session_id": "s", "source": name, "views": n} for name, n in views.items()]
    return Writes([RowSet(session_source, rows, ("session_id", "source"), True)])


def rows_of(writes: Writes) -> list[list[dict[str, Any]]]:
    return [row_set.rows for row_set in writes.row_sets]


def test_a_one_row_set_is_written_when_it_moved_and_left_out_when_it_did_not() -> None:
    written: dict[tuple[str, tuple[Any, ...]], Any] = {}
    assert rows_of(changed_rows(timeline({"minutes": [1]}), written)) == [
        [{"session_id": "s", "body": {"minutes": [1]}}]
    ]
    assert rows_of(changed_rows(timeline({"minutes": [1]}), written)) == []
    assert rows_of(changed_rows(timeline({"minutes": [1, 2]}), written)) == [
        [{"session_id": "s", "body": {"minutes": [1, 2]}}]
    ]
    assert rows_of(changed_rows(timeline({"minutes": [1, 2]}), written)) == []


def test_of_many_rows_only_those_that_moved_are_written() -> None:
    written: dict[tuple[str, tuple[Any, ...]], Any] = {}
    changed_rows(sources({"recommend": 1, "follow": 2, "search": 3}), written)
    moved = changed_rows(sources({"recommend": 1, "follow": 5, "search": 3}), written)
    assert rows_of(moved) == [[{"session_id": "s", "source": "follow", "views": 5}]]
    back = changed_rows(sources({"recommend": 1, "follow": 2, "search": 3}), written)
    assert rows_of(back) == [[{"session_id": "s", "source": "follow", "views": 2}]]


def test_rows_not_marked_changed_only_are_always_written() -> None:
    row_set = RowSet(session_timeline, [{"session_id": "s", "body": {}}], ("session_id",))
    written: dict[tuple[str, tuple[Any, ...]], Any] = {}
    for _ in range(2):
        assert rows_of(changed_rows(Writes([row_set]), written)) == [row_set.rows]


def test_rows_written_whole_replace_what_was_remembered_as_written() -> None:
    # A table's rows left out when unchanged, then written whole (every stored one replaced,
    # the timeline's minutes when the platform starts reporting a figure): a later row equal
    # to one written before the replacement is written again, since the stored one moved.
    written: dict[tuple[str, tuple[Any, ...]], Any] = {}
    changed_rows(sources({"recommend": 1}), written)
    whole = sources({"recommend": 2})
    whole = Writes([RowSet(session_source, whole.row_sets[0].rows, ("session_id", "source"))])
    assert rows_of(changed_rows(whole, written)) == rows_of(whole)
    assert rows_of(changed_rows(sources({"recommend": 1}), written)) == [
        [{"session_id": "s", "source": "recommend", "views": 1}]
    ]
    assert rows_of(changed_rows(sources({"recommend": 1}), written)) == []
