"""The SQL spellings that differ between SQLite and PostgreSQL, and the fragments the set-based statements
share (scans, lifecycle jobs, outbox writers): one module for every layer that writes set-based SQL."""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import contextmanager
from functools import cache

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Integer,
    String,
    Text,
    and_,
    bindparam,
    case,
    cast,
    extract,
    func,
    insert,
    literal,
    not_,
    or_,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite

# The outbox's columns as every set-based writer fills them (one list: scans, lifecycle jobs, the declared scan);
# the SELECT gives them in this order.
OUTBOX_COLUMNS = ("id", "idempotency_key", "kind", "resident_id", "application_id", "data", "state", "attempts",
                  "next_attempt_at", "created_at")
OUTBOX_INTO = "(" + ", ".join(OUTBOX_COLUMNS) + ") "


@cache
def alias_of(table, name: str):
    """`table AS name`, built once: an alias is immutable, and building one (with its column collection, on first
    use of `.c`) was most of what the daily jobs spent before their SQL ran (~0.1 s a day on a wide table)."""
    return table.alias(name)


class Dialect:
    def __init__(self, name: str):
        self.name = name
        self.pg = name == "postgresql"

    def new_id(self) -> str:
        return "replace(gen_random_uuid()::text, '-', '')" if self.pg else "lower(hex(randomblob(16)))"

    def json_object(self, pairs: dict[str, str]) -> str:
        fn = "json_build_object" if self.pg else "json_object"
        return f"{fn}(" + ", ".join(f"'{k}', {v}" for k, v in pairs.items()) + ")"

    def json_text(self, literal: str) -> str:
        return f"'{literal}'::json" if self.pg else f"json('{literal}')"

    def ymd(self, col: str) -> tuple[str, str, str]:
        if self.pg:
            return tuple(f"CAST(EXTRACT({p} FROM {col}) AS INTEGER)" for p in ("YEAR", "MONTH", "DAY"))
        return (f"CAST(substr({col}, 1, 4) AS INTEGER)", f"CAST(substr({col}, 6, 2) AS INTEGER)",
                f"CAST(substr({col}, 9, 2) AS INTEGER)")

    def month_text(self, index_expr: str) -> str:
        """'YYYY-MM' from a month index (year*12 + month-1)."""
        if self.pg:
            return (f"(lpad(CAST(({index_expr}) / 12 AS TEXT), 4, '0') || '-' || "
                    f"lpad(CAST(({index_expr}) % 12 + 1 AS TEXT), 2, '0'))")
        return f"printf('%04d-%02d', ({index_expr}) / 12, ({index_expr}) % 12 + 1)"

    def date_text(self, col: str) -> str:
        return f"to_char({col}, 'YYYY-MM-DD')" if self.pg else col

    def insert_ignore(self, table: str) -> tuple[str, str]:
        """(prefix, suffix) around 'INSERT … SELECT …' that skips rows violating a unique key."""
        if self.pg:
            return f"INSERT INTO {table}", " ON CONFLICT DO NOTHING"
        return f"INSERT OR IGNORE INTO {table}", ""

    def leap(self, year_expr: str) -> str:
        return f"(({year_expr}) % 4 = 0 AND (({year_expr}) % 100 <> 0 OR ({year_expr}) % 400 = 0))"


TYPES = {"as_of": Date, "now": DateTime, "cut": Date, "d3": Date, "d10": Date, "d_task": Date, "due": DateTime,
         "start_idx": Integer, "fen": Integer, "label": String, "program": String, "max_grade": Integer,
         "as_of_text": String, "run_id": String, "fact_code": String, "fact_source": String, "true": Boolean, "since": Date, "period": String,
         # the elderly-allowance scan
         "cut80": Date, "cut0": Date, "cut1": Date, "cut2": Date, "prev_cut": Date, "changed_since": DateTime,
         "lo": Integer, "hi": Integer, "as_of_year": Integer, "as_of_md": Integer, "program_start_idx": Integer}


def stmt(sql: str, params: dict):
    """A text() statement with typed binds for the parameters it uses."""
    return text(sql).bindparams(*[bindparam(k, type_=TYPES[k]) for k in params if k in TYPES and f":{k}" in sql])


def json_array(d: Dialect, *items: str) -> str:
    return ("json_build_array(" if d.pg else "json_array(") + ", ".join(items) + ")"


def month_of(d: Dialect, date_expr: str) -> str:
    """'YYYY-MM' of a date expression."""
    return f"substr({d.date_text(date_expr)}, 1, 7)" if d.pg else f"substr({date_expr}, 1, 7)"


def next_month_of(d: Dialect, date_expr: str) -> str:
    """'YYYY-MM' of the month after a date expression."""
    y, m, _ = d.ymd(date_expr)
    return d.month_text(f"{y} * 12 + {m}")


def nth_birthday_next_month(d: Dialect, n: int, col: str = "r.birth_date") -> str:
    """Month index of the month after the n-th birthday (29 February → 1 March in common years)."""
    y, m, dd = d.ymd(col)
    bump = f"CASE WHEN {m} = 2 AND {dd} = 29 AND NOT {d.leap(f'{y} + {n}')} THEN 1 ELSE 0 END"
    return f"(({y} + {n}) * 12 + {m} + {bump})"


def at_least(idx_expr: str, floor_param: str = ":start_idx") -> str:
    return f"CASE WHEN {idx_expr} < {floor_param} THEN {floor_param} ELSE {idx_expr} END"


def insert_ignore(session_or_conn, table):
    """An INSERT … ON CONFLICT DO NOTHING for the bound dialect (no SAVEPOINT needed)."""
    dialect = session_or_conn.get_bind().dialect.name if hasattr(session_or_conn, "get_bind") else \
        session_or_conn.dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()


def is_postgres(session_or_conn) -> bool:
    bind = session_or_conn.get_bind() if hasattr(session_or_conn, "get_bind") else session_or_conn
    return bind.dialect.name == "postgresql"


# ---- the same spellings as SQLAlchemy Core expressions (values bound, never pasted into SQL text) -------------

def insert_ignore_into(d: Dialect, table):
    """A Core INSERT that skips rows violating a unique key: INSERT OR IGNORE (SQLite), ON CONFLICT DO NOTHING
    (PostgreSQL)."""
    if d.pg:
        return postgresql.insert(table).on_conflict_do_nothing()
    return insert(table).prefix_with("OR IGNORE")


def json_object_of(d: Dialect, pairs: dict):
    """A JSON object of Core expressions (keys bound as text)."""
    fn = func.json_build_object if d.pg else func.json_object
    return fn(*[x for k, v in pairs.items() for x in (literal(k, String), v)])


def json_array_of(d: Dialect, *items):
    """A JSON array of Core expressions."""
    return (func.json_build_array if d.pg else func.json_array)(*items)


def date_text_of(d: Dialect, col):
    """'YYYY-MM-DD' of a date column (SQLite stores it so)."""
    return func.to_char(col, literal("YYYY-MM-DD", String)) if d.pg else col


def ymd_of(d: Dialect, col) -> tuple:
    """(year, month, day) of a date column as integers."""
    if d.pg:
        return tuple(cast(extract(part, col), Integer) for part in ("year", "month", "day"))
    return tuple(cast(func.substr(col, start, length), Integer) for start, length in ((1, 4), (6, 2), (9, 2)))


def month_text_of(d: Dialect, index):
    """'YYYY-MM' from a month index (year*12 + month-1)."""
    if d.pg:
        return (func.lpad(cast(index // 12, Text), 4, literal("0", String)) + literal("-", String)
                + func.lpad(cast(index % 12 + 1, Text), 2, literal("0", String)))
    return func.printf(literal("%04d-%02d", String), index // 12, index % 12 + 1)


def yuan_text_of(d: Dialect, fen):
    """'123.45' from an integer amount in fen."""
    if d.pg:
        return cast(fen // 100, Text) + literal(".", String) + func.lpad(cast(fen % 100, Text), 2,
                                                                         literal("0", String))
    return func.printf(literal("%d.%02d", String), fen // 100, fen % 100)


def at_least_of(index, floor):
    """The larger of two month indexes."""
    return case((index < floor, floor), else_=index)


_RESCANS_OFF = (text("SET LOCAL enable_seqscan TO off"), text("SET LOCAL enable_material TO off"))


def probe_indexes(conn) -> None:
    """PostgreSQL, for the rest of the caller's transaction: sequential scans and materialised rescans priced
    out, so that an `INSERT … SELECT … WHERE NOT EXISTS (the same table)` is an index probe per candidate or one
    hash of the existing rows, whatever the table's statistics say. Planned while the table looked empty
    (statistics of 0 rows: a fresh database after ANALYZE, or statistics not yet refreshed after a first batch),
    the NOT EXISTS became a nested loop re-reading the whole table for every candidate — including the rows the
    statement itself was adding, so quadratic: at 10 M residents the bare backfill statement ran for hours (perf:
    all in heapgetpage and tuple visibility). Tables without a usable index are still scanned."""
    if conn.dialect.name == "postgresql":
        for statement in _RESCANS_OFF:
            conn.execute(statement)


def exists_where(*criteria, from_=None):
    """EXISTS (SELECT 1 …) of Core criteria (exists() would select *, which keeps SQLite from answering from an
    index alone); `from_` gives the FROM when the criteria do not (a join)."""
    query = select(true())
    if from_ is not None:
        query = query.select_from(from_)
    return query.where(*criteria).exists()


def leap_of(year):
    """Whether a Core integer year expression is a leap year."""
    return and_(year % 4 == 0, or_(year % 100 != 0, year % 400 == 0))


def nth_birthday_next_month_of(d: Dialect, n: int, col):
    """Month index of the month after the n-th birthday of a date column (29 February → 1 March in common
    years), as a Core expression."""
    y, m, dd = ymd_of(d, col)
    bump = case((and_(m == 2, dd == 29, not_(leap_of(y + n))), 1), else_=0)
    return (y + n) * 12 + m + bump


def binary_copy_types(table, columns: tuple[str, ...]) -> tuple[str, ...]:
    """PostgreSQL's names of `table`'s `columns` types (`varchar`, `bytea`, `timestamp without time zone`, …), as
    `copy_rows(…, types=…)` takes them for COPY's binary format: derived from the model, never listed by hand (a
    length and a collation, as in `VARCHAR(64) COLLATE "C"`, are not part of the name)."""
    compiled = (table.c[name].type.compile(dialect=postgresql.dialect()).lower() for name in columns)
    return tuple(text_.split(" collate ")[0].split("(")[0] for text_ in compiled)


def copy_rows(conn, table: str, columns: tuple[str, ...], rows: Iterable[tuple],
              types: tuple[str, ...] | None = None) -> None:
    """Append `rows` (tuples in `columns` order) to `table` with PostgreSQL's COPY, inside the connection's
    transaction: one round trip for the batch instead of one INSERT per page of rows. With the columns'
    PostgreSQL `types`, in COPY's binary format: the server parses no text (dates, hex-escaped bytea)."""
    with copying_rows(conn, table, columns, rows, background=False, types=types):
        pass


@contextmanager
def copying_rows(conn, table: str, columns: tuple[str, ...], rows: Iterable[tuple], *, background: bool = True,
                 types: tuple[str, ...] | None = None):
    """`copy_rows`, the COPY left open while the block runs: with `background`, psycopg's writer thread sends the
    rows, so the server stores them while this thread works on (the connection stays busy until the block ends,
    when the COPY finishes and raises any error)."""
    from psycopg import sql  # PostgreSQL only
    from psycopg.copy import QueuedLibpqWriter

    statement = sql.SQL("COPY {} ({}) FROM STDIN" + (" (FORMAT BINARY)" if types else "")).format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns))
    cursor = conn.connection.driver_connection.cursor()
    try:
        with cursor.copy(statement, writer=QueuedLibpqWriter(cursor) if background else None) as copy:
            if types:
                copy.set_types(types)
            for row in rows:
                copy.write_row(row)
            yield
    finally:
        cursor.close()
