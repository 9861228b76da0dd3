"""Engine, declarative base and session handling (one transaction per request or job step)."""

from __future__ import annotations

import json
import os
import select
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

import orjson
from sqlalchemy import JSON, MetaData, String, bindparam, create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import DeclarativeBase, Session, scoped_session, sessionmaker

from app import direct_select

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict: JSON, list: JSON, str: String()}


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


SessionLocal = scoped_session(sessionmaker(expire_on_commit=False))
_engines: dict[str, Engine] = {}


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    # Reads without a system call per page: the file mapped into memory (shared by the OS between processes)
    # and a larger page cache per connection; pooled connections keep both warm across requests.
    cur.execute("PRAGMA mmap_size=1073741824")
    cur.execute("PRAGMA cache_size=-32768")
    cur.execute("PRAGMA temp_store=MEMORY")
    cur.close()


def _closed_by_server(dbapi_conn, _record, _proxy) -> None:
    """Pool checkout check without a round trip (pool_pre_ping costs a `SELECT 1` per request): an idle
    PostgreSQL connection whose socket has something to read was closed or told to terminate by the server
    (restart, pg_terminate_backend, idle timeout). Raising DisconnectionError makes the pool discard it and
    hand out a fresh connection instead."""
    pgconn = getattr(dbapi_conn, "pgconn", None)
    if pgconn is None:
        return
    if pgconn.status != 0 or select.select([pgconn.socket], [], [], 0)[0]:  # 0: CONNECTION_OK
        raise DisconnectionError("the server closed this connection")


# orjson reads an integer beyond 64 bits as a float, without an error: a value holding a run of 19 digits or more
# (every integer from 2**63 up has 19) is read by the standard library instead. Found by mapping every byte to
# "0" (a digit) or " " and looking for nineteen "0"s: both in C, a tenth of a regular expression's search.
_DIGITS_AS_ZEROS = bytes(48 if 48 <= code <= 57 else 32 for code in range(256))
_NINETEEN_DIGITS = b"0" * 19


def json_loads(value):
    """A JSON column's value as Python objects: by orjson, half the standard library's time (a list page's JSON
    columns cost a tenth of its CPU on PostgreSQL); what orjson refuses or reads otherwise (NaN, a lone surrogate
    escape, an integer beyond 64 bits) by the standard library, so nothing reads differently."""
    if isinstance(value, str):
        try:
            raw = value.encode()
        except UnicodeEncodeError:
            return json.loads(value)
    elif isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
    else:  # not JSON text: the standard library's own error, as before
        return json.loads(value)
    if _NINETEEN_DIGITS not in raw.translate(_DIGITS_AS_ZEROS):
        try:
            return orjson.loads(raw)
        except orjson.JSONDecodeError:
            pass
    return json.loads(raw)


def make_engine(url: str) -> Engine:
    """One engine per URL per process; SQLite gets WAL and a busy timeout."""
    if url in _engines:
        return _engines[url]
    # preserve_rowcount: a Core INSERT … SELECT (the scans) reports how many rows it wrote; SQLAlchemy closes an
    # INSERT's cursor at once, after which psycopg 3 no longer has the count.
    options = {"preserve_rowcount": True}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False},
                               execution_options=options, json_deserializer=json_loads)
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_size=10, max_overflow=20, execution_options=options,
                               json_deserializer=json_loads)
        event.listen(engine, "checkout", _closed_by_server)
    _engines[url] = engine
    return engine


MAX_AUTO_WORKERS = 4


def side_by_side(configured: int, engine: Engine) -> int:
    """How many connections a job's independent units of work use at once: `configured` when set (an operator's
    ZEROTRIP_*_WORKERS), else one per core up to 4 on PostgreSQL; always 1 on SQLite (one writer)."""
    if engine.dialect.name != "postgresql":
        return 1
    return configured or min(MAX_AUTO_WORKERS, os.cpu_count() or 1)


def dispose_engines() -> None:
    for engine in _engines.values():
        engine.dispose()
    _engines.clear()


def forget_engines_after_fork() -> None:
    """In a forked child: drop the engines inherited from the parent without closing their connections (they
    still belong to the parent); the next make_engine builds a fresh pool."""
    for engine in _engines.values():
        engine.dispose(close=False)
    _engines.clear()


def init_app(flask_app, cfg) -> None:
    engine = make_engine(cfg.database_url)
    flask_app.extensions["zerotrip_engine"] = engine
    SessionLocal.configure(bind=engine)

    @flask_app.after_request
    def _end_transaction(response):
        end_transaction(response.status_code)
        return response

    @flask_app.teardown_appcontext
    def _remove_session(_exc):
        SessionLocal.remove()


def end_transaction(status: int) -> None:
    """A successful request's transaction still open when its response is ready — a read's, or a write's read-back
    after its use case committed — ends with COMMIT instead of the ROLLBACK of closing the session. The same for
    a read, but psycopg forgets every prepared statement of the connection on ROLLBACK, so PostgreSQL planned
    each of the API's statements anew on every request (a list page's planning cost 0.7 ms of server CPU, twelve
    times its execution: pg_stat_statements, plans = calls). A transaction that holds nothing to commit
    (`_only_read`) is left to the session's close. A request answered 4xx/5xx (including an exception no handler
    answered) is still rolled back, whatever it had written."""
    if status >= 400 or not SessionLocal.registry.has():
        return
    session = SessionLocal()
    if session.in_transaction() and not _only_read(session):
        try:
            session.commit()
        except Exception:  # e.g. the connection went away: nothing of the response depends on it
            session.rollback()


def _only_read(session) -> bool:
    """True when committing would change nothing and keep nothing: the driver has no transaction open, nothing
    waits to be flushed, and nothing listens for the commit (`app.audit.record_at_commit`). Closing the session
    at teardown then ends it as the commit would, for a quarter of the cost (10 µs of 41). pysqlite begins a
    transaction before the first write (a read-only one keeps no prepared statements); on PostgreSQL a request
    whose reads all ran on their own (`app.direct_select`) leaves psycopg idle, and psycopg's ROLLBACK of an idle
    connection — the pool's reset when the session closes — sends nothing and keeps the prepared statements, as
    its COMMIT would."""
    if has_pending(session) or session.dispatch.before_commit:
        return False
    return not direct_select.transaction_open(session.connection().connection.dbapi_connection)


def begin_writing(session) -> None:
    """Open the session's transaction as a writer before work that reads, then writes, inside savepoints (a bulk
    action's items). On SQLite a SAVEPOINT outside a transaction begins a deferred one: its first read takes a
    snapshot, and its first write then fails at once ("database is locked", no busy timeout) when another
    connection has committed since. `BEGIN IMMEDIATE` waits for the write lock first (busy_timeout), so the reads
    see what the earlier writer committed. PostgreSQL takes row locks as it writes: nothing to do."""
    connection = session.connection()
    if connection.dialect.name == "sqlite" and not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def core_execute(session, statement, params: dict | None = None):
    """A Core statement (table columns, no ORM entity) on the session's connection, inside its transaction.

    The same as `session.execute` for such a statement (which neither autoflushes nor loads objects) minus the
    ORM's dispatch around it: on a hot request path that dispatch cost more than the query itself."""
    return session.connection().execute(statement, params or {})


def select_rows(session, statement, params: dict | None = None) -> list:
    """All rows of a Core SELECT built once per process (`app.direct_select`), on the session's connection (inside
    its transaction once one is open): named tuples, the same values as `core_execute(...).all()`, at a fraction
    of the cost."""
    return direct_select.select_rows(session.connection(), statement, params)


def select_first(session, statement, params: dict | None = None):
    """The first row of such a SELECT (`select_rows`), or None."""
    return direct_select.select_first(session.connection(), statement, params)


def execute_write(session, statement, params: dict | None = None) -> int:
    """A Core INSERT/UPDATE/DELETE built once per process, in the session's transaction
    (`app.direct_select.execute_write`): its rowcount. Pending ORM changes are not flushed first
    (`flush_pending`)."""
    return direct_select.execute_write(session.connection(), statement, params)


def has_pending(session) -> bool:
    """Whether the session holds ORM changes not yet written (new, changed or deleted objects)."""
    return bool(session.new or session.dirty or session.deleted)


def note_changed(session, kind: str, key: str) -> None:
    """Record that this session's own conditional UPDATE moved `key` (an application taken, a task claimed)."""
    session.info.setdefault(("changed", kind), set()).add(key)


def changed_here(session, kind: str, key: str) -> bool:
    """Whether `note_changed` recorded it: of racing repeats only the winner is attributed and audited — the
    others answer the same new state and record nothing."""
    return key in session.info.get(("changed", kind), ())


def flush_pending(session) -> None:
    """Write the session's pending ORM changes now — what autoflush does before a query — ahead of a Core
    statement the ORM does not see (a read that must see them, a write that must come after them)."""
    if has_pending(session):
        session.flush()


def bound_insert(table):
    """An INSERT of one row into `table` with every column a bound parameter of its own name: built once by the
    caller (`functools.cache`), run with `execute_write` and a dict holding a value for every column."""
    return table.insert().values({column.name: bindparam(column.name) for column in table.columns})


def session_factory(cfg) -> sessionmaker:
    return sessionmaker(bind=make_engine(cfg.database_url), expire_on_commit=False)


@contextmanager
def session_scope(cfg) -> Iterator[Session]:
    """A unit of work for jobs and CLI commands: commit on success, roll back on error."""
    session = session_factory(cfg)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()
