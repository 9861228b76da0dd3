"""A Core SELECT (or a write: `execute_write`, `write_first`) built once per process, run straight on the driver's
cursor of the session's connection.

`Connection.execute` of an already compiled statement still pays, per call, for SQLAlchemy's cache-key walk,
an execution context, parameter construction and a `CursorResult` with its metadata: on an authenticated list
request that was a quarter of the CPU, more than the two queries themselves. Here the statement is compiled
once per dialect (the same SQL text, so PostgreSQL's prepared statements are reused) and each call only binds
its parameters with the types' own bind processors, runs the cursor and applies the types' own result
processors. The statement stays SQLAlchemy Core: one way to write SQL, compiled by SQLAlchemy.

Statements this does not mirror — expanding `IN` parameters, post-compile or literal-execute parameters,
output parameters, column keys that are not plain identifiers — go through `Connection.execute` as before.
A driver error is raised as SQLAlchemy's `DBAPIError` subclass (what callers catch); a lost connection is
invalidated as SQLAlchemy would.

On PostgreSQL a read before any write of its transaction runs on its own, without psycopg's BEGIN
(`_may_read_alone`), so a request that only reads costs no BEGIN and no COMMIT round trip.
"""

from __future__ import annotations

import functools
import keyword
from collections import namedtuple

from sqlalchemy import exc

_UNSUPPORTED = object()  # _compiled_for's answer for a statement that goes through Connection.execute


class _Compiled:
    __slots__ = ("sql", "compiled", "bind_processors", "positional", "order", "escaped", "row", "processors",
                 "names_of_key", "required", "constants")

    def __init__(self, statement, dialect, write: bool = False):
        compiled = statement.compile(dialect=dialect)
        if (compiled.post_compile_params or compiled.literal_execute_params or compiled.has_out_parameters
                or not (write or compiled._result_columns)):
            raise ValueError("not a plain SELECT")
        if write and (getattr(compiled, "insert_prefetch", None) or getattr(compiled, "update_prefetch", None)):
            # Python-side defaults SQLAlchemy's execution context would fill (values the server computes — a SET
            # of an expression, a server default — need nothing from us)
            raise ValueError("column defaults computed at execution")
        keys = [column[0] for column in compiled._result_columns]
        if (len(set(keys)) != len(keys)
                or any(not k.isidentifier() or keyword.iskeyword(k) or k.startswith("_") for k in keys)):
            raise ValueError("column keys are not plain identifiers")
        self.sql = compiled.string
        self.compiled = compiled
        self.bind_processors = dict(compiled._bind_processors)
        # A call binds the caller's parameters (by each bindparam's key, as `construct_params` does) over the
        # values the statement carries itself — the literals of its comparisons and JSON paths, bindparam
        # defaults — which are processed once, here: on a list page they were most of the binding's cost.
        self.names_of_key: dict[str, list[str]] = {}
        self.required: list[str] = []
        self.constants: dict = {}
        for bind, name in compiled.bind_names.items():
            if bind.callable is not None or bind.expanding:
                raise ValueError("a parameter computed at execution")
            self.names_of_key.setdefault(bind.key, []).append(name)
            if bind.required:
                self.required.append(bind.key)
            else:
                self.constants[name] = self._processed(name, bind.effective_value)
        self.positional = compiled.positional
        self.order = list(compiled.positiontup or ()) if compiled.positional else None
        self.escaped = dict(compiled.escaped_bind_names or {})
        self.row = namedtuple("Row", keys) if keys else None  # None: a write without RETURNING (its rowcount)
        processors = [column[3]._cached_result_processor(dialect, None) for column in compiled._result_columns]
        self.processors = processors if any(processors) else None  # None: the driver's values as they are

    def _processed(self, name: str, value):
        process = self.bind_processors.get(name)
        return value if process is None else process(value)

    def parameters(self, params: dict):
        if any(key not in params for key in self.required):
            self.compiled.construct_params(params, escape_names=False)  # SQLAlchemy's own error for the missing one
        values = self.constants.copy()
        for key, value in params.items():
            for name in self.names_of_key.get(key, ()):
                values[name] = self._processed(name, value)
        if self.positional:
            return tuple(values[name] for name in self.order)
        return {self.escaped.get(name, name): value for name, value in values.items()} if self.escaped else values

    def rows(self, raw_rows) -> list:
        make, processors = self.row._make, self.processors
        if processors is None:
            return [make(raw) for raw in raw_rows]
        return [make([value if process is None or value is None else process(value)
                      for process, value in zip(processors, raw, strict=True)]) for raw in raw_rows]


@functools.lru_cache(maxsize=512)  # per statement built once, engine dialect, and whether it writes
def _compiled_for(statement, dialect, write: bool = False):
    try:
        return _Compiled(statement, dialect, write)
    except (ValueError, exc.SQLAlchemyError, AttributeError, TypeError):
        return _UNSUPPORTED


def select_rows(connection, statement, params: dict | None = None) -> list:
    """All rows of `statement` (built once per process) as named tuples, on `connection` (a SQLAlchemy
    Connection: inside its transaction once one is open on the driver)."""
    return _run(connection, statement, params, first=False)


def select_first(connection, statement, params: dict | None = None):
    """The first row of `statement` (built once per process) as a named tuple, or None."""
    return _run(connection, statement, params, first=True)


def execute_write(connection, statement, params: dict | None = None) -> int:
    """A Core INSERT, UPDATE or DELETE without RETURNING, built once per process, on `connection` inside its
    transaction; the driver's rowcount. Run straight on the driver when every value is a bound parameter the
    call gives; a statement with columns whose defaults SQLAlchemy computes at execution (an `onupdate`, an
    INSERT given some columns only) goes through `Connection.execute`, which fills them. On a confirmation
    SQLAlchemy's execution layer cost more CPU than the driver's whole call, four times over."""
    return _run(connection, statement, params, first=False, write=True)


def write_first(connection, statement, params: dict | None = None):
    """`execute_write` of a statement that returns rows (RETURNING, or a data-modifying WITH): its first row."""
    return _run(connection, statement, params, first=True, write=True)


def _may_read_alone(dbapi_connection) -> bool:
    """psycopg, no transaction open yet, READ COMMITTED: this SELECT runs on its own (autocommit), without the
    BEGIN psycopg would send first — and a request that only reads then ends without a COMMIT either (psycopg
    sends neither COMMIT nor ROLLBACK when no transaction is open): two round trips of four for an authenticated
    list page. Nothing changes for what follows: under READ COMMITTED each statement sees its own snapshot
    anyway, a plain SELECT takes no lock a transaction would keep, and the first write after it begins the
    transaction as before. Not under REPEATABLE READ or SERIALIZABLE (one snapshot from the first statement),
    nor once a transaction is open."""
    return (hasattr(dbapi_connection, "pgconn") and not transaction_open(dbapi_connection)
            and not dbapi_connection.autocommit
            and dbapi_connection.isolation_level in _STATEMENT_SNAPSHOTS)


def transaction_open(dbapi_connection) -> bool:
    """Whether the driver's connection is inside a transaction: psycopg's status is not PQTRANS_IDLE (0), or
    pysqlite has begun one (which it does before the first write); True when the driver does not say."""
    pgconn = getattr(dbapi_connection, "pgconn", None)
    if pgconn is not None:
        return pgconn.transaction_status != 0
    return getattr(dbapi_connection, "in_transaction", True) is not False


# psycopg.IsolationLevel (an IntEnum): READ UNCOMMITTED (1, which PostgreSQL runs as READ COMMITTED) and READ
# COMMITTED (2); None is the server's default, PostgreSQL's own READ COMMITTED unless an operator changed it.
_STATEMENT_SNAPSHOTS = (None, 1, 2)


def _back_to_transactions(connection, dbapi_connection) -> None:
    """Autocommit off again after a read on its own. A connection that refuses (it broke during the statement:
    psycopg allows the change only when idle) is discarded rather than ever returned to the pool in autocommit,
    and the statement's own error, if any, is what the caller sees."""
    try:
        dbapi_connection.autocommit = False
    except Exception:
        connection.invalidate()


_CURSORS = "zerotrip_direct_select_cursors"
_KEPT_ROWS = 1000  # a cursor that fetched more is closed, not kept: it would hold the rows until its next use


def _cursor_for(pooled, dbapi_connection, compiled: _Compiled):
    """psycopg: the cursor this statement last ran on, on this DBAPI connection, kept in the pooled connection's
    `info` (which lives and dies with the DBAPI connection), one per statement. psycopg keeps a cursor's
    adaptation state (its Transformer and the column loaders it made) for as long as the same query object runs
    on it again; a new cursor per call built them anew each time (a list page: 840 → 770 µs of CPU). A cursor is
    used by one thread at a time, as its connection is; it holds its fetched rows client-side and nothing on the
    server. SQLite's cursor is closed after each call instead: `fetchmany(1)` leaves its statement running, and
    with it a read snapshot that holds back the WAL's checkpoints."""
    cursors = pooled.info.get(_CURSORS)
    if cursors is None or cursors[0] is not dbapi_connection:
        cursors = pooled.info[_CURSORS] = (dbapi_connection, {})
    cursor = cursors[1].get(compiled)
    if cursor is None:
        cursor = cursors[1][compiled] = dbapi_connection.cursor()
    return cursor


def _forget_cursor(pooled, compiled: _Compiled, cursor) -> None:
    """Close the cursor and drop it from the connection's kept ones (after an error, a large result, or on SQLite
    after every call): the next call starts with a fresh one."""
    cursors = pooled.info.get(_CURSORS)
    if cursors is not None and cursors[1].get(compiled) is cursor:
        del cursors[1][compiled]
    try:
        cursor.close()
    except Exception:  # the connection is gone with it
        pass


def _run(connection, statement, params: dict | None, first: bool, write: bool = False):
    compiled = _compiled_for(statement, connection.dialect, write)
    if write and compiled is not _UNSUPPORTED and any(key not in (params or {}) for key in compiled.required):
        # an INSERT of some columns only: SQLAlchemy compiles it for the keys given and fills the others' defaults
        compiled = _UNSUPPORTED
    if compiled is _UNSUPPORTED:
        result = connection.execute(statement, params or {})
        if not result.returns_rows:
            return result.rowcount
        return result.first() if first else result.all()
    arguments = compiled.parameters(params or {})
    pooled = connection.connection
    dbapi_connection = pooled.dbapi_connection
    alone = not write and _may_read_alone(dbapi_connection)  # a write never leaves its transaction
    if alone:
        dbapi_connection.autocommit = True
    reused = hasattr(dbapi_connection, "pgconn")
    cursor = _cursor_for(pooled, dbapi_connection, compiled) if reused else dbapi_connection.cursor()
    keep = False  # kept only after a call that succeeded with a small result
    try:
        cursor.execute(compiled.sql, arguments)
        if compiled.row is None:
            raw = cursor.rowcount
            keep = reused
        else:
            raw = cursor.fetchmany(1) if first else cursor.fetchall()
            keep = reused and len(raw) <= _KEPT_ROWS
    except connection.dialect.loaded_dbapi.Error as error:
        disconnected = connection.dialect.is_disconnect(error, dbapi_connection, cursor)
        if disconnected:
            connection.invalidate(error)
        raise exc.DBAPIError.instance(compiled.sql, arguments, error, connection.dialect.loaded_dbapi.Error,
                                      dialect=connection.dialect, ismulti=False,
                                      connection_invalidated=disconnected) from error
    finally:
        if not keep:
            _forget_cursor(pooled, compiled, cursor)
        if alone:
            _back_to_transactions(connection, dbapi_connection)
    if compiled.row is None:
        return raw
    rows = compiled.rows(raw)
    return (rows[0] if rows else None) if first else rows
