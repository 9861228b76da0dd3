"""A first load into an empty table: its secondary indexes are built after the rows, not kept up row by row, and
the writer need not look for rows the table cannot hold yet.

Building an index once over loaded rows is much cheaper than maintaining it through every insert (limits.md:
"load before building secondary indexes"). Only when the table is empty at the start, only the non-unique indexes
the model declares (the unique keys the writer looks rows up by stay), and only by the process holding the
`import:first_load` lease — a concurrent import simply writes with whatever indexes exist. The indexes are built
again whatever happens to the load (a failure included), and the seconds that took are reported; a load killed
before that (SIGKILL) leaves them to the next import, which builds the missing ones first.

`FirstLoad.all_new` tells the writer that every record it is given is new (the table was empty when the lease was
taken, and the import's survey rejects every repeated ID number), so it may skip its look-up (`ResidentWriter`
keeps a fall-back for a row someone else inserted meanwhile).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from sqlalchemy import Table, literal, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.schema import CreateIndex, DropIndex

from flows import joblock

LEASE = "import:first_load"


def index_names(conn, table: str) -> set[str]:
    """The table's index names as the database's catalogue holds them now (sqlite_master, pg_indexes): one plain
    query, the same on both databases, rather than SQLAlchemy's reflection."""
    if conn.dialect.name == "sqlite":
        sql = "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = :t AND sql IS NOT NULL"
    else:
        sql = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema() AND tablename = :t"
    return set(conn.execute(text(sql), {"t": table}).scalars())


def _is_empty(engine: Engine, table: Table) -> bool:
    with engine.connect() as conn:
        return conn.execute(select(literal(1)).select_from(table).limit(1)).first() is None


@dataclass
class FirstLoad:
    """What a load learns from `indexes_after`: whether every row it writes is new, and for its summary the
    seconds the index build took (`index_seconds`, absent when nothing was dropped)."""

    all_new: bool = False
    summary: dict = field(default_factory=dict)


@contextmanager
def indexes_after(cfg, engine: Engine, table: Table) -> Iterator[FirstLoad]:
    """Around a load: on an empty `table`, drop its secondary indexes first and build them after."""
    load = FirstLoad()
    if not joblock.acquire(cfg, LEASE, ttl_seconds=6 * 3600, take_over_gone=True):  # a killed load's lease too
        yield load
        return
    try:
        empty = load.all_new = _is_empty(engine, table)
        with engine.begin() as conn:
            present = index_names(conn, table.name)
            secondary = [ix for ix in table.indexes if not ix.unique]
            if empty:
                for index in secondary:
                    if index.name in present:
                        conn.execute(DropIndex(index, if_exists=True))
            else:  # a first load killed before its indexes were built: they are built now, before loading
                secondary = [ix for ix in secondary if ix.name not in present]
                _build(conn, secondary, load.summary)
                secondary = []
        try:
            yield load
        finally:
            if secondary:
                with engine.begin() as conn:
                    _build(conn, secondary, load.summary)
    finally:
        joblock.release(cfg, LEASE)


def _build(conn, indexes: list, timing: dict) -> None:
    if not indexes:
        return
    started = time.perf_counter()
    for index in indexes:  # IF NOT EXISTS: building twice is no error
        conn.execute(CreateIndex(index, if_not_exists=True))
    timing["index_seconds"] = round(time.perf_counter() - started, 2)
