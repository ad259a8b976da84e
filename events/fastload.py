"""A fast path through marshmallow schemas for the ingest hot path.

marshmallow spends most of its time in per-field bookkeeping, not in the checks. `compile_loader`
reads a schema's declared fields once and writes a flat Python function for it: one block per
field, with the commonest checks (exact types, patterns, OneOf, Range, Length) inlined and any
other field's own `_deserialize` and validators called as they are. That function either returns
exactly what `schema.load` would, or gives up; anything unusual (an unknown key, a missing
required field, a failed check) falls back to the schema's full `load`, so the error messages,
and the meaning of the schema, stay marshmallow's. Schemas with schema-level hooks are not
compiled.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from marshmallow import Schema, ValidationError, fields, validate
from marshmallow.utils import missing

from events.errors import LivetallyError

Loader = Callable[[Any], dict[str, Any]]


class Fallback(LivetallyError):
    """Raised when the flat function gives up on an input: marshmallow's own load decides."""


def _pattern_of(field: fields.Field) -> re.Pattern[str] | None:
    """A field's `fast_pattern`: it accepts the strings matching it, unchanged (and maybe more,
    which the fallback handles)."""
    pattern = getattr(field, "fast_pattern", None)
    return pattern if isinstance(pattern, re.Pattern) else None


def _type_of(field: fields.Field) -> type | None:
    """A field's `fast_type`: it accepts values of exactly that type, unchanged."""
    exact = getattr(field, "fast_type", None)
    return exact if isinstance(exact, type) else None


def _hooked(schema: Schema) -> bool:
    return bool(schema._hooks) and any(schema._hooks.values())


class _Writer:
    """Source lines and the objects they refer to, named o0, o1, ... in the namespace."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.namespace: dict[str, Any] = {
            "_Fallback": Fallback,
            "missing": missing,
            "ValidationError": ValidationError,
        }

    def ref(self, value: Any) -> str:
        name = f"o{len(self.namespace)}"
        self.namespace[name] = value
        return name

    def fail_unless(self, condition: str, indent: str) -> None:
        self.lines.append(f"{indent}if not ({condition}): raise _Fallback")


def _convert(w: _Writer, field: fields.Field, key: str, indent: str) -> None:
    """Lines that turn `v` into the field's loaded value, or raise."""
    kind = type(field)
    pattern, exact = _pattern_of(field), _type_of(field)
    if pattern is not None:
        w.fail_unless(f"type(v) is str and {w.ref(pattern.match)}(v) is not None", indent)
    elif exact is not None:
        w.fail_unless(f"type(v) is {w.ref(exact)}", indent)
    elif kind is fields.String:
        w.fail_unless("type(v) is str", indent)
    elif (
        isinstance(field, fields.Nested)
        and isinstance(field.schema, Schema)
        and not field.many
        and not _hooked(field.schema)
    ):
        w.lines.append(f"{indent}v = {w.ref(_compile_fast(field.schema))}(v)")
    elif (
        isinstance(field, fields.Dict)
        and kind is fields.Dict
        and field.key_field is None
        and field.value_field is None
    ):
        w.fail_unless("type(v) is dict", indent)
        w.lines.append(f"{indent}v = dict(v)")
    else:
        w.lines.append(f"{indent}v = {w.ref(field._deserialize)}(v, {key!r}, None)")
    for check in field.validators:
        _validate(w, check, indent)


def _validate(w: _Writer, check: Callable[[Any], Any], indent: str) -> None:
    if isinstance(check, validate.OneOf) and all(isinstance(c, str | int) for c in check.choices):
        w.fail_unless(f"v in {w.ref(frozenset(check.choices))}", indent)
    elif isinstance(check, validate.Range):
        if check.min is not None:
            w.fail_unless(f"v {'>=' if check.min_inclusive else '>'} {w.ref(check.min)}", indent)
        if check.max is not None:
            w.fail_unless(f"v {'<=' if check.max_inclusive else '<'} {w.ref(check.max)}", indent)
    elif isinstance(check, validate.Length):
        if check.equal is not None:
            w.fail_unless(f"len(v) == {check.equal}", indent)
        else:
            if check.min is not None:
                w.fail_unless(f"len(v) >= {check.min}", indent)
            if check.max is not None:
                w.fail_unless(f"len(v) <= {check.max}", indent)
    elif isinstance(check, validate.Regexp):
        w.fail_unless(
            f"{w.ref(getattr(check, 'strict', check.regex).match)}(v) is not None", indent
        )
    else:
        w.fail_unless(f"{w.ref(check)}(v) is not False", indent)


def _compile_fast(schema: Schema) -> Callable[[Any], dict[str, Any]]:
    """The flat function for one schema: its loaded dict, or Fallback (or ValidationError)."""
    w = _Writer()
    known = frozenset((f.data_key or name) for name, f in schema.load_fields.items())
    w.lines += [
        "def fast(raw):",
        f"    if type(raw) is not dict or not {w.ref(known)}.issuperset(raw):",
        "        raise _Fallback",
        "    out = {}",
    ]
    for name, field in schema.load_fields.items():
        key = field.data_key or name
        default = field.load_default
        if field.required and not field.allow_none:
            # Missing and null both fail: one test covers both.
            w.lines += [f"    v = raw.get({key!r})", "    if v is None: raise _Fallback"]
            _convert(w, field, key, "    ")
            w.lines.append(f"    out[{name!r}] = v")
        elif not field.required and default is None and field.allow_none:
            # Missing and null both load as None.
            w.lines += [f"    v = raw.get({key!r})", "    if v is not None:"]
            _convert(w, field, key, "        ")
            w.lines.append(f"    out[{name!r}] = v")
        else:
            w.lines += [f"    v = raw.get({key!r}, missing)", "    if v is missing:"]
            if field.required or default is missing:
                w.lines.append("        raise _Fallback" if field.required else "        pass")
            else:
                call = "()" if callable(default) else ""
                w.lines.append(f"        out[{name!r}] = {w.ref(default)}{call}")
            w.lines += [
                "    elif v is None:",
                f"        out[{name!r}] = None" if field.allow_none else "        raise _Fallback",
                "    else:",
            ]
            _convert(w, field, key, "        ")
            w.lines.append(f"        out[{name!r}] = v")
    w.lines.append("    return out")
    exec("\n".join(w.lines), w.namespace)  # the source is built above, from the schema
    compiled: Callable[[Any], dict[str, Any]] = w.namespace["fast"]
    return compiled


def compile_loader(schema: Schema) -> Loader:
    if _hooked(schema):
        return schema.load
    fast = _compile_fast(schema)

    def load(raw: Any) -> dict[str, Any]:
        try:
            return fast(raw)
        except (Fallback, ValidationError):
            return schema.load(raw)

    return load
