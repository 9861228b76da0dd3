"""A scan done in a single pass: one INSERT … SELECT of the proposals, then their outbox rows, in one transaction.

A run per (program, as-of date) is recorded and never repeated; a failed pass is recorded as failed.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date

from app.db import make_engine, utcnow
from app.sql import OUTBOX_INTO, Dialect, stmt
from flows.scans import runs
from flows.scans.runs import ScanResult


def outbox_sql(d: Dialect) -> str:
    """A `proposal_ready` outbox row for every application the run proposed."""
    prefix, suffix = d.insert_ignore("outbox")
    return (
        f"{prefix} {OUTBOX_INTO}"
        f"SELECT {d.new_id()}, 'application:' || a.id || '\\:proposal_ready', 'proposal_ready', a.resident_id, "
        f"a.id, {d.json_object({'program': 'a.program'})}, 'pending', 0, :now, :now FROM applications a "
        f"WHERE a.scan_run_id = :run_id{suffix}"
    )


def propose_in_one_pass(cfg, program: str, as_of: date, engine,
                        proposals_sql: Callable[[Dialect], tuple[str, dict]]) -> ScanResult:
    """Run `proposals_sql` (the INSERT and its own parameters) once for `as_of`, with the outbox rows."""
    started = time.perf_counter()
    run, fresh = runs.open_run(cfg, program, as_of)
    if not fresh:
        return ScanResult(program, as_of, run.mode, skipped=True, counts=dict(run.counts or {}),
                          seconds=time.perf_counter() - started)
    engine = engine or make_engine(cfg.database_url)
    d = Dialect(engine.dialect.name)
    sql, extra = proposals_sql(d)
    params = {"as_of": as_of, "as_of_text": as_of.isoformat(), "run_id": run.id, "now": utcnow(), **extra}
    run_started = utcnow()
    try:
        with engine.begin() as conn:
            proposed = max(conn.execute(stmt(sql, params), params).rowcount, 0)
            conn.execute(stmt(outbox_sql(d), params), params)
    except Exception as exc:
        runs.fail(cfg, run.id, f"{type(exc).__name__}: {exc}")
        raise
    counts = {"proposed": proposed, "batches": 1}
    runs.finish(cfg, run.id, counts, "full", run_started)
    return ScanResult(program, as_of, "full", proposed=proposed, candidates_batches=1,
                      seconds=time.perf_counter() - started, counts=counts)
