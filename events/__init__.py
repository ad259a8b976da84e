"""The event store: the catalogue, validation, and storage behind a narrow recorder interface.

Nothing here imports the rest of livetally.
"""

from events.catalogue import CATALOGUE, INGESTIBLE_TYPES, EventType
from events.database import create_engine, read_transaction, write_transaction
from events.envelope import MAX_BATCH, BatchInvalid, parse_body
from events.opening import MEMORY_URL, open_recorder
from events.recorder import (
    AppendResult,
    ConcurrencyConflict,
    DuplicateConflict,
    NewEvent,
    Recorder,
    StoredEvent,
)

__all__ = [
    "CATALOGUE",
    "INGESTIBLE_TYPES",
    "MAX_BATCH",
    "MEMORY_URL",
    "AppendResult",
    "BatchInvalid",
    "ConcurrencyConflict",
    "DuplicateConflict",
    "EventType",
    "NewEvent",
    "Recorder",
    "StoredEvent",
    "create_engine",
    "open_recorder",
    "parse_body",
    "read_transaction",
    "write_transaction",
]
