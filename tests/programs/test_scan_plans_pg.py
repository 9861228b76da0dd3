"""PostgreSQL: the backfill's NOT EXISTS on the table it fills stays an index probe or one hash, never a rescan.

Planned while `applications` looked empty (statistics of 0 rows, as after ANALYZE on a fresh database), the
statement's NOT EXISTS was a nested loop re-reading the table for every candidate, the statement's own new
rows included: quadratic (at 10 M residents the bare backfill ran for hours). `app.sql.probe_indexes`, which the
scan's batches run under, prices sequential scans and materialised rescans out."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import text

from app.db import make_engine, utcnow
from app.sql import Dialect, probe_indexes
from flows.programs.elderly_allowance import scan


@pytest.fixture
def pg(cfg):
    engine = make_engine(cfg.database_url)
    if engine.dialect.name != "postgresql":
        pytest.skip("a PostgreSQL planner question")
    return engine


def _plan(conn, statement, params) -> str:
    compiled = statement.compile(dialect=conn.dialect)
    values = compiled.construct_params(params)
    rows = conn.exec_driver_sql("EXPLAIN " + str(compiled), values).all()
    return "\n".join(r[0] for r in rows)


def test_backfill_with_empty_statistics_never_rescans_applications(pg):
    with pg.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE applications"))  # statistics now say: empty
        conn.execute(text("VACUUM ANALYZE benefits"))
    as_of = date(2026, 12, 6)
    applications, _outbox = scan._statements(Dialect("postgresql"), as_of, "born")
    params = {**scan._params(as_of, "plan"), "now": utcnow(), "born_after": date.min, "born_by": date(1946, 12, 6)}
    with pg.begin() as conn:
        unguarded = _plan(conn, applications, params)
        probe_indexes(conn)
        guarded = _plan(conn, applications, params)
        conn.rollback()
    # without the setting the planner picks the shape that rescans (what this test guards against) …
    assert "Seq Scan on applications" in unguarded or "Materialize" in unguarded, unguarded
    # … with it, applications is read by an index, once per candidate or once for a hash, and nothing is rescanned
    assert "Seq Scan on applications" not in guarded and "Materialize" not in guarded, guarded
    assert "applications a" in guarded and "Index" in guarded, guarded
