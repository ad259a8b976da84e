"""INSERT ... ON CONFLICT DO UPDATE for both backends."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection


def upsert(conn: Connection, table: sa.Table, rows: Sequence[dict[str, Any]],
           keys: Sequence[str]) -> None:
    if not rows:
        return
    insert = (postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert)(table)
    updates = {name: insert.excluded[name] for name in rows[0] if name not in keys}
    conn.execute(insert.on_conflict_do_update(index_elements=list(keys), set_=updates), rows)
