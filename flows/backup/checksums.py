"""Per-table row counts and checksums, the same for a database and its restored copy (rows in primary-key
order, values normalised so that the driver's types do not matter)."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import MetaData, select
from sqlalchemy.engine import Connection, Engine

from app.audit import GENESIS, HEAD_ID


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


# The rows `zerotrip db upgrade` writes by itself into an empty database (checked on SQLite and PostgreSQL: only
# migration 0002's audit-chain head at its genesis state), so a freshly upgraded database counts as empty. A
# column not named here must be empty (NULL) too; any other row means data.
MIGRATION_ROWS = {"audit_head": {"id": HEAD_ID, "seq": 0, "hash": GENESIS}}


def _only_migration_row(conn: Connection, table, expected: dict) -> bool:
    """The table holds nothing but the one row the migration wrote, unchanged."""
    rows = conn.execute(select(table).limit(2)).mappings().all()
    if len(rows) != 1:
        return not rows
    return all(value == expected.get(column) for column, value in rows[0].items())


def is_empty(engine: Engine) -> bool:
    """No table holds a row — the schema's version table and the rows the migrations write themselves
    (MIGRATION_ROWS) aside: a database just made by `zerotrip db upgrade` is an empty restore target."""
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        for name, table in meta.tables.items():
            if name == "alembic_version":
                continue
            if name in MIGRATION_ROWS:
                if not _only_migration_row(conn, table, MIGRATION_ROWS[name]):
                    return False
            elif conn.execute(select(1).select_from(table).limit(1)).first():
                return False
    return True
