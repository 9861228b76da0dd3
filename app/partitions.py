"""Monthly partitions of the append-heavy tables on PostgreSQL (issue 17 item 2); SQLite keeps plain tables.

The outbox, the audit events, the payroll lines and the pushed exchange records grow by the month and are read by
the month; old months are archived (`zerotrip db archive`, flows/archive.py: detach + dump, never dropped). Each
table is `PARTITION BY RANGE` on its month key, with one partition per month (`<table>_YYYY_MM`), created three
months ahead by the scheduler, and a default partition for anything outside them (a clock far off, a month not
yet created): `ensure_month` moves such rows into their month when it creates it.

A partitioned table's unique constraints must include the partition key, so two keys that must hold across
months are kept in `unique_keys` by a BEFORE INSERT trigger instead (migration 0170): the outbox's
idempotency key and an exchange record's (client, dataset, reference id). A second row with a taken key is
skipped, exactly as `ON CONFLICT DO NOTHING` skipped it before; a row moved to another month by an UPDATE keeps
its key. The keys stay when a month is archived, so a message archived years ago is still never sent twice.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Select, String, bindparam, func, select, text, true
from sqlalchemy.dialects.postgresql import ARRAY

from app.models.partitions import UniqueKey
from app.sql import is_postgres

ARCHIVE_SCHEMA = "archive"
LOCK_TIMEOUT = "10s"  # detached months live here (never dropped by the application)


@dataclass(frozen=True)
class Partitioned:
    table: str
    key: str  # the partition key column
    text_month: bool  # the key is 'YYYY-MM' text (payroll_lines.month) rather than a timestamp


PARTITIONED = {p.table: p for p in (
    Partitioned("outbox", "created_at", False),
    Partitioned("audit_events", "ts", False),
    Partitioned("payroll_lines", "month", True),
    Partitioned("exchange_records", "created_at", False),
)}
# The models' unique constraints that PostgreSQL holds another way on the partitioned tables (the
# models-and-migrations comparison skips exactly these): the two cross-month keys kept in unique_keys, and the
# payroll line's (run, benefit) which includes the month there (one run is one month).
PG_CONSTRAINTS = {
    "uq_outbox_idempotency_key": None,
    "uq_exchange_records_key": None,
    "uq_payroll_lines_run_id_benefit_id": "uq_payroll_lines_run_id_benefit_id_month",
}
# Indexes PostgreSQL has on a partitioned table where SQLite's unique constraint is the index: the exchange
# record's key (migration 0180; the push's idempotency look-up now goes through unique_keys, `rows_holding`: one
# probe a key however many months are attached, and never misplanned on a month not yet analysed) and the
# outbox's idempotency key (migration 0182: `enqueue` and the letters look messages up by it).
PG_INDEXES = {"ix_exchange_records_key", "ix_outbox_idempotency_key"}
_U = UniqueKey.__table__
_ASKED = func.unnest(bindparam("keys", type_=ARRAY(String))).table_valued("key").render_derived(name="asked")
# LATERAL … LIMIT 1: one probe of the primary key per key asked, whatever the statistics say (a plain join may be
# planned as a scan of every key when the table has not been analysed yet)
_HOLDER = select(_U.c.row_id).where(_U.c.scope == bindparam("scope", type_=String), _U.c.key == _ASKED.c.key) \
    .limit(1).lateral("holder")
_HELD = select(_HOLDER.c.row_id).select_from(_ASKED.join(_HOLDER, true()))
_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])\Z")
_PARTITION = re.compile(r"^(?P<table>[a-z_]+)_(?P<y>[0-9]{4})_(?P<m>[0-9]{2})\Z")


def exists(conn, name: str, schema: str = "public") -> bool:
    return conn.execute(text("SELECT to_regclass(:n)"), {"n": f"{schema}.{name}"}).scalar() is not None


def parse_month(value: str) -> tuple[int, int]:
    found = _MONTH.match(value or "")
    if not found:
        raise ValueError(f"not a month YYYY-MM: {value!r}")
    return int(found.group(1)), int(found.group(2))


def add_months(month: str, n: int) -> str:
    y, m = parse_month(month)
    index = y * 12 + (m - 1) + n
    return f"{index // 12:04d}-{index % 12 + 1:02d}"


def month_of(day: date) -> str:
    return f"{day:%Y-%m}"


def partition_name(table: str, month: str) -> str:
    return f"{table}_{month.replace('-', '_')}"


def month_of_partition(name: str) -> tuple[str, str] | None:
    """(table, 'YYYY-MM') of a monthly partition's name, None for anything else (the default partition)."""
    found = _PARTITION.match(name)
    if not found or found.group("table") not in PARTITIONED:
        return None
    return found.group("table"), f"{found.group('y')}-{found.group('m')}"


def _bounds(p: Partitioned, month: str) -> tuple[str, str]:
    nxt = add_months(month, 1)
    if p.text_month:
        return f"'{month}'", f"'{nxt}'"
    return f"'{month}-01 00:00:00'", f"'{nxt}-01 00:00:00'"


def _range_sql(p: Partitioned, month: str) -> str:
    low, high = _bounds(p, month)
    return f"{p.key} >= {low} AND {p.key} < {high}"


def attached_months(conn, table: str) -> list[str]:
    """The months that have their own partition, oldest first."""
    rows = conn.execute(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = :t AND p.relnamespace = 'public'::regnamespace"),
        {"t": table}).scalars()
    return sorted(found[1] for name in rows if (found := month_of_partition(name)))


def months_in_default(conn, table: str) -> list[str]:
    """Months that have rows in the default partition (no partition of their own yet)."""
    p = PARTITIONED[table]
    expr = p.key if p.text_month else f"to_char({p.key}, 'YYYY-MM')"
    return sorted(conn.execute(text(f"SELECT DISTINCT {expr} FROM {table}_default")).scalars())


def ensure_month(conn, table: str, month: str) -> bool:
    """Create the month's partition if it is missing (rows of that month waiting in the default partition are
    moved into it, in the caller's transaction). True when it was created."""
    p = PARTITIONED[table]
    parse_month(month)
    name = partition_name(table, month)
    if exists(conn, name):
        return False
    low, high = _bounds(p, month)
    waiting = conn.execute(text(f"SELECT EXISTS (SELECT 1 FROM {table}_default WHERE {_range_sql(p, month)})")).scalar()
    if not waiting:
        conn.execute(text(f"CREATE TABLE {name} PARTITION OF {table} FOR VALUES FROM ({low}) TO ({high})"))
        return True
    # rows of this month sit in the default partition: a new partition over them would be refused, so build it
    # beside the table, move the rows, then attach it
    conn.execute(text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
    conn.execute(text(f"INSERT INTO {name} SELECT * FROM {table}_default WHERE {_range_sql(p, month)}"))
    conn.execute(text(f"ALTER TABLE {table}_default DISABLE TRIGGER USER"))  # the audit trail's no-delete guard
    conn.execute(text(f"DELETE FROM {table}_default WHERE {_range_sql(p, month)}"))
    conn.execute(text(f"ALTER TABLE {table}_default ENABLE TRIGGER USER"))
    conn.execute(text(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ({low}) TO ({high})"))
    return True


def ensure_ahead(conn, today: date, ahead: int = 3) -> int:
    """This month and the next `ahead` months for every partitioned table, plus any month waiting in a default
    partition. The number of partitions created. Nothing on SQLite."""
    if not is_postgres(conn):
        return 0
    # creating a partition locks the table for a moment: wait at most this long behind a long transaction
    # (and fail, to be retried by tomorrow's run three months ahead) rather than queue every request behind us
    conn.execute(text(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'"))
    created = 0
    current = month_of(today)
    for table in PARTITIONED:
        for month in sorted({add_months(current, n) for n in range(ahead + 1)} | set(months_in_default(conn, table))):
            created += ensure_month(conn, table, month)
    return created


def exchange_record_key(client_id: str, dataset: str, reference_id: str) -> str:
    """An exchange record's key in `unique_keys` (client ids and dataset codes hold no '|': it splits one way)."""
    return f"{client_id}|{dataset}|{reference_id}"


@functools.cache
def rows_holding(table, columns: tuple) -> Select:
    """The `columns` of the rows of `table` (partitioned, with an `id`) holding the keys `:keys` in `unique_keys`
    (scope `:scope`): per key one probe of unique_keys, then one of the row by id, in one statement. A key whose
    row was archived returns nothing here (`key_holders` still names it)."""
    row = select(*columns).where(table.c.id == _HOLDER.c.row_id).limit(1).lateral("held_row")
    return select(*row.c).select_from(_ASKED.join(_HOLDER, true()).join(row, true()))


def key_holders(conn, scope: str, keys: list[str]) -> list[str]:
    """The ids of the rows that hold any of these keys (PostgreSQL): one primary-key probe a key, however many
    months the partitioned table has. A row of an archived month is among them (its key stays)."""
    return list(conn.execute(_HELD, {"scope": scope, "keys": keys}).scalars()) if keys else []
