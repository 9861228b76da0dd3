"""Which unique key an IntegrityError broke, so that each key a client can reach maps to its own 409.

There is deliberately no catch-all: a flow that inserts against a unique key catches IntegrityError, asks
`is_unique_violation(exc, table, *columns)` for the one key it expects, and raises its own documented
Conflict (with an `error_code`); anything else re-raises (a real defect stays a 500 and gets logged).
"""

from __future__ import annotations

from sqlalchemy.exc import IntegrityError


def is_unique_violation(exc: Exception, table: str, *columns: str) -> bool:
    """`exc`: SQLAlchemy's IntegrityError, or the driver's own error where SQLAlchemy is not between (a `COPY` on
    the driver's cursor, app.sql.copy_rows)."""
    orig = exc.orig if isinstance(exc, IntegrityError) else exc
    diag = getattr(orig, "diag", None)
    if diag is not None:  # PostgreSQL (psycopg): SQLSTATE 23505 with the table and "Key (a, b)=(…)"
        detail = diag.message_detail or ""
        return (getattr(orig, "sqlstate", None) == "23505" and diag.table_name == table
                and detail.startswith(f"Key ({', '.join(columns)})="))
    message = str(orig)  # SQLite: "UNIQUE constraint failed: t.a, t.b"
    return message == "UNIQUE constraint failed: " + ", ".join(f"{table}.{c}" for c in columns)


def add_or_conflict(session, row, table: str, columns: tuple[str, ...], conflict: Exception) -> None:
    """Add and flush `row` in a savepoint; when it breaks the unique key (table, columns), raise `conflict` (the
    flow's documented 409) instead — the key, not a prior SELECT, decides between parallel requests."""
    try:
        with session.begin_nested():
            session.add(row)
            session.flush()
    except IntegrityError as exc:
        if not is_unique_violation(exc, table, *columns):
            raise
        raise conflict from None
