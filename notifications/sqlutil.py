"""Small dialect helpers shared by the notification modules (SQLite and PostgreSQL)."""

from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite


def insert_ignore(session_or_conn, table):
    """An INSERT … ON CONFLICT DO NOTHING for the bound dialect (no SAVEPOINT needed)."""
    dialect = session_or_conn.get_bind().dialect.name if hasattr(session_or_conn, "get_bind") else \
        session_or_conn.dialect.name
    module = postgresql if dialect == "postgresql" else sqlite
    return module.insert(table).on_conflict_do_nothing()


def is_postgres(session_or_conn) -> bool:
    bind = session_or_conn.get_bind() if hasattr(session_or_conn, "get_bind") else session_or_conn
    return bind.dialect.name == "postgresql"
