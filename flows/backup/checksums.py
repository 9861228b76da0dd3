"""Per-table row counts and checksums, the same for a database and its restored copy (rows in primary-key
order, values normalised so that the driver's types do not matter)."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Connection, Engine


def _plain(value):
    if isinstance(value, (bytes, bytearray, memoryview)):
        return "b:" + bytes(value).hex()
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True, ensure_ascii=False)
    return value


def table_checksums(bind: Engine | Connection) -> dict[str, dict]:
    """{table: {"rows": n, "sha256": hex}} for every table of the database (reflected, so nothing is missed).
    Given a connection, reads within its transaction (e.g. the snapshot pg_dump saved)."""
    if isinstance(bind, Engine):
        with bind.connect() as conn:
            return table_checksums(conn)
    conn, meta, out = bind, MetaData(), {}
    meta.reflect(conn)
    for name in sorted(meta.tables):
        table = meta.tables[name]
        order = list(table.primary_key.columns) or list(table.columns)
        digest, rows = hashlib.sha256(), 0
        for row in conn.execute(select(table).order_by(*order)).yield_per(5000):
            digest.update(json.dumps([_plain(v) for v in row], default=str, ensure_ascii=False).encode())
            digest.update(b"\n")
            rows += 1
        out[name] = {"rows": rows, "sha256": digest.hexdigest()}
    return out


def is_empty(engine: Engine) -> bool:
    """No table holds a row (the schema's version table aside)."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        for name, table in meta.tables.items():
            if name != "alembic_version" and conn.execute(select(1).select_from(table).limit(1)).first():
                return False
    return True
