"""The migrations build exactly the tables the code declares, on both backends."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from events.tables import metadata as event_tables
from projections.tables import metadata as projection_tables
from service.auth.accounts import metadata as account_tables
from service.auth.tokens import metadata as token_tables
from service.ingest.connections.store import metadata as connection_tables
from service.ingest.connectors.ledger import metadata as connector_tables
from worker.tables import metadata as worker_tables


def test_migrated_schema_matches_the_declared_tables(engine: Engine) -> None:
    inspector = sa.inspect(engine)
    declared = {
        t.name: t
        for md in (
            event_tables,
            projection_tables,
            worker_tables,
            token_tables,
            connector_tables,
            connection_tables,
            account_tables,
        )
        for t in md.sorted_tables
    }
    assert set(declared) <= set(inspector.get_table_names())
    for name, table in declared.items():
        columns = {c["name"]: c for c in inspector.get_columns(name)}
        assert set(columns) == {c.name for c in table.columns}, name
        for column in table.columns:
            if not column.primary_key:
                assert columns[column.name]["nullable"] == column.nullable, (name, column.name)
        indexes = {ix["name"] for ix in inspector.get_indexes(name)}
        assert {ix.name for ix in table.indexes} <= indexes, name
