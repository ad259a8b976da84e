"""What a projection asks the worker to write, as plain data.

A projection never touches the database: it returns a `Writes` (row sets to upsert, rows to
clear before writing anew) and the worker applies it inside the run's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa


# Not frozen: a run builds five to seven of these per session, and a frozen dataclass's
# __init__ sets each field through object.__setattr__ (0.8 µs against 0.28 with slots). Nothing
# changes one once built.
@dataclass(slots=True)
class RowSet:
    """Insert these rows, or overwrite the other columns of the rows with the same keys.

    `changed_only`: the worker may leave out a row equal to the one it last wrote for the same
    keys from the same stream (rows that seldom change, several per stream: a session's traffic
    sources). Only for rows nothing else writes.

    `existing`: the rows are known to exist (the projection was given them as stored) and carry
    only the columns to set; the worker updates them, leaving the other columns and their
    indexes alone, and fails the run if one is missing."""

    table: sa.Table
    rows: list[dict[str, Any]]
    keys: tuple[str, ...]
    changed_only: bool = False
    existing: bool = False


@dataclass(frozen=True)
class ClearRows:
    """Delete every row whose `column` is `value`, before the row sets are written (a
    projection that writes a stream's rows anew, dropping those it no longer has)."""

    table: sa.Table
    column: str
    value: Any


@dataclass
class Writes:
    row_sets: list[RowSet] = field(default_factory=list)
    # What the run publishes after commit (the session document), if anything.
    document: dict[str, Any] | None = None
    # The projection's view row whole, as it stands after these writes (None: no view row).
    view_row: dict[str, Any] | None = None
    clears: list[ClearRows] = field(default_factory=list)  # applied before the row sets
