"""One writer at a time per process on SQLite, queued in the process instead of in SQLite's busy handler.

SQLite lets one connection write at a time; the others wait in its busy handler, which sleeps (1, 2, 5, 10, …,
100 ms) and tries again. Under a burst of one-tap confirmations, the API's threads (gunicorn gthread: several
per process) all sleep in it while the writer finishes in well under a millisecond, and the database sits idle.
So a connection takes this process's gate before its first write in a transaction and gives it back when the
transaction ends (commit, rollback, or the pool's reset when the connection goes back): the process's
writers wait in line on a lock that wakes the next one at once, and only one of them at a time meets the other
processes in SQLite. Reads never take the gate (WAL: readers do not block the writer).

Never worse than before: a writer waits at most as long as SQLite's own busy timeout for the gate and then
goes on to SQLite as it did without it. PostgreSQL has row locks and needs none of this.
"""

from __future__ import annotations

import os
import threading

from sqlalchemy import event

WAIT_SECONDS = 30.0  # the engine's busy timeout (app/db.py): never longer than SQLite itself would wait
_HELD = "zerotrip_write_gate"  # key in the pooled connection's info: this connection holds the gate
_COMMITTED = "zerotrip_write_gate_committed"  # its transaction is committing: give the gate back after
_READS = ("SELECT", "PRAGMA", "WITH", "EXPLAIN")
_gate = threading.Lock()


def _reset_after_fork() -> None:
    global _gate
    _gate = threading.Lock()


os.register_at_fork(after_in_child=_reset_after_fork)


def _is_write(statement: str) -> bool:
    return not statement.lstrip()[:8].upper().startswith(_READS)


def _give_back(info) -> None:
    info.pop(_COMMITTED, None)
    if info.pop(_HELD, None):
        _gate.release()


def _before_execute(conn, _cursor, statement, _parameters, _context, _executemany) -> None:
    info = conn.info
    if info.get(_COMMITTED):  # the transaction that took it has committed since: this statement is a new one
        _give_back(info)
    if _HELD not in info and _is_write(statement):
        info[_HELD] = _gate.acquire(timeout=WAIT_SECONDS)


def _committing(conn) -> None:
    """The `commit` event comes before SQLite's commit: the gate goes back once it is done — when the
    connection returns to the pool (at once for a session or `engine.begin()`) or runs its next statement."""
    if conn.info.get(_HELD) is not None:
        conn.info[_COMMITTED] = True


def _on_reset(_dbapi_connection, record, _reset_state) -> None:
    _give_back(record.info)


def _on_close(_dbapi_connection, record) -> None:
    _give_back(record.info)


def _on_invalidate(_dbapi_connection, record, _exception) -> None:
    _give_back(record.info)


def install(engine) -> None:
    """Gate the engine's writers (SQLite engines only: app/db.make_engine)."""
    event.listen(engine, "before_cursor_execute", _before_execute)
    event.listen(engine, "commit", _committing)
    event.listen(engine, "rollback", lambda conn: _give_back(conn.info))
    event.listen(engine.pool, "reset", _on_reset)
    event.listen(engine.pool, "close", _on_close)
    event.listen(engine.pool, "detach", _on_close)
    event.listen(engine.pool, "invalidate", _on_invalidate)
