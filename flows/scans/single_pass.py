"""A scan done in a single pass: one INSERT … SELECT of the proposals, then their outbox rows, in one transaction
(SQLAlchemy Core statements, values bound).

A run per (program, as-of date) is recorded and never repeated; a failed pass is recorded as failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date, datetime

from sqlalchemy import DateTime, Integer, String, literal, literal_column, select

from app.db import make_engine, utcnow
from app.models import Application, OutboxMessage
from app.sql import OUTBOX_COLUMNS, Dialect, alias_of, insert_ignore_into, json_object_of, probe_indexes
from flows.scans import runs
from flows.scans.runs import ScanResult

# The columns of a proposed application, in the order a scan's SELECT gives them.
PROPOSAL_COLUMNS = ("id", "program", "resident_id", "period", "origin", "state", "as_of", "prefill", "trace",
                    "scan_run_id", "created_at", "updated_at")


def outbox_insert(d: Dialect, run_id: str, now: datetime):
    """A `proposal_ready` outbox row for every application the run proposed."""
    a = alias_of(Application.__table__, "a")
    rows = select(literal_column(d.new_id()),
                  literal("application:", String) + a.c.id + literal(":proposal_ready", String),
                  literal("proposal_ready", String), a.c.resident_id, a.c.id,
                  json_object_of(d, {"program": a.c.program}), literal("pending", String), literal(0, Integer),
                  literal(now, DateTime), literal(now, DateTime)).where(a.c.scan_run_id == run_id)
    return insert_ignore_into(d, OutboxMessage.__table__).from_select(list(OUTBOX_COLUMNS), rows)


def propose_in_one_pass(cfg, program: str, as_of: date, engine,
                        proposals: Callable[[Dialect, str, datetime], object]) -> ScanResult:
    """Run `proposals(dialect, run_id, now)` (a Core INSERT … SELECT of applications) once for `as_of`, with the
    outbox rows."""
    started = time.perf_counter()
    run, fresh = runs.open_run(cfg, program, as_of)
    if not fresh:
        return ScanResult(program, as_of, run.mode, skipped=True, counts=dict(run.counts or {}),
                          seconds=time.perf_counter() - started)
    engine = engine or make_engine(cfg.database_url)
    d = Dialect(engine.dialect.name)
    now = run_started = utcnow()
    try:
        with engine.begin() as conn:
            probe_indexes(conn)  # its NOT EXISTS on applications, which it fills, stays an index probe
            proposed = max(conn.execute(proposals(d, run.id, now)).rowcount, 0)
            conn.execute(outbox_insert(d, run.id, now))
    except Exception as exc:
        runs.fail(cfg, run.id, f"{type(exc).__name__}: {exc}")
        raise
    counts = {"proposed": proposed, "batches": 1}
    runs.finish(cfg, run.id, counts, "full", run_started)
    return ScanResult(program, as_of, "full", proposed=proposed, candidates_batches=1,
                      seconds=time.perf_counter() - started, counts=counts)
