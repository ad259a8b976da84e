"""Upcasters turn an event's stored shape of an older schema_version into the current one.

Stored events are never rewritten: an old shape stays in the table and is upcast each time it
is read. Register one function per (type, from_version); `upcast` chains them to the current
version of the type.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema

from events.catalogue import CATALOGUE

Data = dict[str, Any]
Upcaster = Callable[[Data], Data]

# (type, from_version) -> function producing the data of from_version + 1
UPCASTERS: dict[tuple[str, int], Upcaster] = {}
# (type, version) -> schema accepted at ingest for a producer still sending an older shape
LEGACY_SCHEMAS: dict[tuple[str, int], type[Schema]] = {}


def register_upcaster(
    event_type: str, from_version: int, legacy_schema: type[Schema] | None = None
) -> Callable[[Upcaster], Upcaster]:
    def decorate(fn: Upcaster) -> Upcaster:
        UPCASTERS[(event_type, from_version)] = fn
        if legacy_schema is not None:
            LEGACY_SCHEMAS[(event_type, from_version)] = legacy_schema
        return fn

    return decorate


def upcast(event_type: str, schema_version: int, data: Data) -> tuple[Data, int]:
    current = CATALOGUE[event_type].version if event_type in CATALOGUE else schema_version
    while schema_version < current:
        step = UPCASTERS.get((event_type, schema_version))
        if step is None:
            raise LookupError(f"no upcaster for {event_type} v{schema_version}")
        data = step(data)
        schema_version += 1
    return data, schema_version


def schema_for(event_type: str, schema_version: int) -> type[Schema] | None:
    entry = CATALOGUE.get(event_type)
    if entry is None:
        return None
    if schema_version == entry.version:
        return entry.schema
    return LEGACY_SCHEMAS.get((event_type, schema_version))
