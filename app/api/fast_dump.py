"""`FastDumpSchema`: a marshmallow Schema whose `dump` of plain dicts skips marshmallow's per-field machinery.

The schema stays the contract (OpenAPI, loading, every field's own formatting): the first `dump` compiles the
declared fields into one generated function per schema that calls each leaf field's own `_serialize` (so a
date, a UTC timestamp or a string comes out exactly as marshmallow writes it; a value already of a string,
integer or boolean field's wire type is taken as it is) and walks `List` and `Nested` directly.
A schema with anything this does not mirror (hooks, `only`/`exclude`, `attribute`/`data_key`, dump defaults,
load-only fields, other field kinds) and any value that is not a dict are dumped by marshmallow itself.
Dumping one application this way costs about a twentieth of `Schema.dump`.
"""

from __future__ import annotations

from collections.abc import Callable

import marshmallow as ma
from marshmallow import fields as mf
from marshmallow import missing

_LEAVES = (mf.String, mf.Number, mf.Boolean, mf.Date, mf.DateTime)


def _plain(field: mf.Field) -> bool:
    return (field.attribute is None and field.data_key is None and field.dump_default is missing
            and not field.load_only)


_IDENTITY = {mf.String: str, mf.Integer: int, mf.Boolean: bool}


class _Source:
    """The names a generated dump function refers to (fields' `_serialize`, wire types, nested dumps)."""

    def __init__(self):
        self.names: dict[str, object] = {"_missing": missing}
        self._known: dict[int, str] = {}  # id(value) → its name: each field's expressions share one set
        self._nested: dict[int, Callable | None] = {}  # id(schema) → its compiled dump, compiled once

    def name(self, value, prefix: str) -> str:
        name = self._known.get(id(value))
        if name is None:
            name = self._known[id(value)] = f"{prefix}{len(self.names)}"
            self.names[name] = value
        return name

    def compiled(self, schema: ma.Schema) -> Callable | None:
        if id(schema) not in self._nested:
            self._nested[id(schema)] = compile_schema(schema)
        return self._nested[id(schema)]


def _expression(field: mf.Field, var: str, source: _Source, depth: int = 0, bind: str | None = None) -> str | None:
    """A Python expression dumping `var` like `field` does, or None if not mirrored. With `bind`, the expression
    first assigns `var := bind` (its first evaluated reference) and uses `var` after."""
    head = f"({var} := {bind})" if bind else var
    if isinstance(field, mf.Nested):
        if field.only is not None or field.exclude:
            return None
        one = source.compiled(field.schema)
        if one is None:
            return None
        dump = source.name(one, "nested")
        item = f"x{depth}"
        if field.schema.many or field.many:
            return f"(None if {head} is None else [{dump}({item}) for {item} in {var}])"
        return f"(None if {head} is None else {dump}({var}))"
    if isinstance(field, mf.List):
        item = f"x{depth}"
        inner = _expression(field.inner, item, source, depth + 1)
        return None if inner is None else f"(None if {head} is None else [{inner} for {item} in {var}])"
    if isinstance(field, _LEAVES):
        serialize = source.name(field._serialize, "serialize")
        exact = _IDENTITY.get(type(field))
        if exact is not None and not getattr(field, "as_string", False):
            # A value already of the wire type comes out unchanged from these fields' own _serialize.
            wire = source.name(exact, "wire")
            return (f"({var} if type({head}) is {wire} or {var} is None "
                    f"else {serialize}({var}, {field.name!r}, None))")
        return f"{serialize}({head}, {field.name!r}, None)"
    return None


def compile_schema(schema: ma.Schema) -> Callable | None:
    """A function dumping one object like `schema.dump(obj, many=False)`, or None if not mirrored.

    It is generated as Python source — one statement per field, each leaf's conversion inline — because the
    per-field function calls of a loop over converters were most of a list page's dump (27 µs of one
    application's)."""
    if schema._hooks.get("pre_dump") or schema._hooks.get("post_dump"):
        return None
    if schema.only is not None or schema.exclude:
        return None
    source = _Source()
    every = []  # one `name: expression` line per field: the whole dict at once, when every field is present
    general = ["def dump_general(obj):",
               "    if not isinstance(obj, dict):",
               "        return marshmallow_dump(obj)",
               "    out = {}",
               "    get = obj.get"]
    for i, (name, field) in enumerate(schema.dump_fields.items()):
        if not _plain(field) or "." in name:
            return None
        expression = _expression(field, "v", source)
        if expression is None:
            return None
        general += [f"    v = get({name!r}, _missing)",
                    "    if v is _missing:",  # marshmallow's lookup falls back to attributes
                    f"        v = getattr(obj, {name!r}, _missing)",
                    "    if v is not _missing:",
                    f"        out[{name!r}] = {expression}"]
        every.append(f"        {name!r}: {_expression(field, f'v{i}', source, bind=f'obj[{name!r}]')},")
    general.append("    return out")
    lines = [*general,
             "def dump_one(obj):",
             "    if type(obj) is not dict:",
             "        return dump_general(obj)",
             "    try:",
             "        return {",
             *every,
             "        }",
             "    except KeyError:",  # a field absent: the general way, key by key
             "        return dump_general(obj)"]
    namespace = dict(source.names, marshmallow_dump=lambda obj: ma.Schema.dump(schema, obj, many=False))
    exec(compile("\n".join(lines), f"<dump of {type(schema).__name__}>", "exec"), namespace)  # noqa: S102
    return namespace["dump_one"]


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
