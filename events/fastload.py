"""A fast path through marshmallow schemas for the ingest hot path.

marshmallow spends most of its time in per-field bookkeeping, not in the checks. `compile_loader`
reads a schema's declared fields once and runs each field's own `_deserialize` and validators in
a flat loop. Anything unusual (an unknown key, a missing required field, a failed check) falls back
to the schema's full `load`, so the error messages, and the meaning of the schema, stay
marshmallow's. Schemas with schema-level hooks are not compiled.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from marshmallow import Schema, ValidationError, fields
from marshmallow.utils import missing

Loader = Callable[[Any], dict[str, Any]]


class _Fallback(Exception):
    pass


def _plain_string(value: Any) -> str:
    if type(value) is not str:
        raise ValidationError("Not a valid string.")
    return value


def _bind(field: fields.Field, key: str) -> Callable[[Any], Any]:
    if type(field) is fields.String:  # the commonest field: skip marshmallow's call chain
        return _plain_string
    deserialize = field._deserialize

    def convert(value: Any) -> Any:
        return deserialize(value, key, None)

    return convert


def compile_loader(schema: Schema) -> Loader:
    if schema._hooks and any(schema._hooks.values()):
        return schema.load
    # Everything a field needs is looked up once here, not once per event.
    plan = []
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        convert = (
            compile_loader(field.schema)
            if isinstance(field, fields.Nested)
            else _bind(field, key)
        )
        default = field.load_default
        plan.append((name, key, field.required, field.allow_none, default,
                     callable(default), convert, tuple(field.validators)))
    known = frozenset(entry[1] for entry in plan)

    def fast(raw: Any) -> dict[str, Any]:
        if type(raw) is not dict or not known.issuperset(raw):
            raise _Fallback
        out: dict[str, Any] = {}
        for name, key, required, allow_none, default, call_default, convert, checks in plan:
            value = raw.get(key, missing)
            if value is missing:
                if required:
                    raise _Fallback
                if default is not missing:
                    out[name] = default() if call_default else default
                continue
            if value is None:
                if not allow_none:
                    raise _Fallback
                out[name] = None
                continue
            try:
                loaded = convert(value)
                for check in checks:
                    if check(loaded) is False:
                        raise _Fallback
            except ValidationError:
                raise _Fallback from None
            out[name] = loaded
        return out

    def load(raw: Any) -> dict[str, Any]:
        try:
            return fast(raw)
        except _Fallback:
            return schema.load(raw)

    return load
