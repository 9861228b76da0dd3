"""The scan of a program that declares its candidates (Program.candidates): one set-based INSERT … SELECT
(SQLAlchemy Core) of `proposed` applications for everyone the selection returns who has no application and no
open benefit of the program yet; for a program whose applicant is not the subject (the selection returns an
`applicant_id` column) the applicants too; and the outbox rows — to the applicant, else to the subject — all in
one transaction, once per (program, as-of date). The rule's trace is computed when a proposal is shown
(flows.casework.rule_trace), so every reason is a condition of the program's own rule."""

from __future__ import annotations

import time
from datetime import date

from sqlalchemy import Date, DateTime, String, and_, exists, insert, literal, literal_column, select

from app.db import make_engine, utcnow
from app.models import Application, ApplicationApplicant, Benefit, OutboxMessage
from app.sql import OUTBOX_COLUMNS, Dialect, alias_of, probe_indexes
from flows.programs import PROGRAMS
from flows.scans import runs
from flows.scans.runs import ScanResult


def scan(cfg, code: str, as_of: date, engine=None, progress=None) -> ScanResult:
    """Propose `code` to everyone its declared selection returns on `as_of` (idempotent per date)."""
    program = PROGRAMS[code]
    started = time.perf_counter()
    run, fresh = runs.open_run(cfg, code, as_of)
    if not fresh:
        return ScanResult(code, as_of, run.mode, skipped=True, counts=dict(run.counts or {}),
                          seconds=time.perf_counter() - started)
    engine = engine or make_engine(cfg.database_url)
    d = Dialect(engine.dialect.name)
    run_started, now = utcnow(), utcnow()
    try:
        with engine.begin() as conn:
            probe_indexes(conn)  # its NOT EXISTS on applications, which it fills, stays an index probe
            proposed = conn.execute(_applications(d, program, as_of, run.id, now)).rowcount
            applicants = 0
            if "applicant_id" in program.hook("candidates")(as_of).selected_columns:
                applicants = conn.execute(_applicants(d, program, as_of, run.id, now)).rowcount
            conn.execute(_outbox(d, run.id, now, to_applicants=True))
            conn.execute(_outbox(d, run.id, now, to_applicants=False))
    except Exception as exc:
        runs.fail(cfg, run.id, f"{type(exc).__name__}: {exc}")
        raise
    counts = {"proposed": max(proposed, 0), "applicants": max(applicants, 0), "batches": 1}
    runs.finish(cfg, run.id, counts, "full", run_started)
    return ScanResult(code, as_of, "full", proposed=counts["proposed"], candidates_batches=1,
                      seconds=time.perf_counter() - started, counts=counts)


def _applications(d: Dialect, program, as_of: date, run_id: str, now):
    a, b = Application.__table__, Benefit.__table__
    c = select(program.hook("candidates")(as_of).subquery("s").c.resident_id).distinct().subquery("c")  # once per subject
    taken = exists().where(a.c.program == program.code, a.c.resident_id == c.c.resident_id)
    in_payment = exists().where(b.c.program == program.code, b.c.resident_id == c.c.resident_id,
                                b.c.state.in_(("active", "suspended")))
    rows = select(literal_column(d.new_id()), literal(program.code, String), c.c.resident_id,
                  literal("once", String), literal("proactive", String), literal("proposed", String),
                  literal(as_of, Date), literal_column(d.json_text("{}")), literal_column(d.json_text("[]")),
                  literal(run_id, String), literal(now, DateTime), literal(now, DateTime)
                  ).where(~taken, ~in_payment)
    return insert(a).from_select(["id", "program", "resident_id", "period", "origin", "state", "as_of", "prefill",
                                  "trace", "scan_run_id", "created_at", "updated_at"], rows)


def _applicants(d: Dialect, program, as_of: date, run_id: str, now):
    a, t = Application.__table__, ApplicationApplicant.__table__
    c = program.hook("candidates")(as_of).subquery("c")
    rows = select(literal_column(d.new_id()), a.c.id, c.c.applicant_id, literal(program.applicant_role, String),
                  literal("proposed", String), literal(now, DateTime)
                  ).join_from(a, c, and_(c.c.resident_id == a.c.resident_id)).where(a.c.scan_run_id == run_id,
                                                                                   c.c.applicant_id.is_not(None))
    return insert(t).from_select(["id", "application_id", "resident_id", "role", "state", "created_at"], rows)


def _outbox(d: Dialect, run_id: str, now, *, to_applicants: bool):
    """One proposal_ready row per new application and applicant (applicant ≠ subject), or to the subject."""
    ap, tt, o = alias_of(Application.__table__, "a"), alias_of(ApplicationApplicant.__table__, "t"), OutboxMessage.__table__
    data = literal_column(d.json_object({"program": "a.program"}))
    tail = (literal("proposal_ready", String), literal("pending", String), literal(0), literal(now, DateTime),
            literal(now, DateTime))
    if to_applicants:
        rows = (select(literal_column(d.new_id()), literal_column("'application:' || a.id || ':proposal:' || t.resident_id"),
                       tail[0], tt.c.resident_id, ap.c.id, data, *tail[1:])
                .select_from(ap.join(tt, tt.c.application_id == ap.c.id)).where(ap.c.scan_run_id == run_id))
    else:
        rows = (select(literal_column(d.new_id()), literal_column("'application:' || a.id || ':proposal_ready'"),
                       tail[0], ap.c.resident_id, ap.c.id, data, *tail[1:])
                .select_from(ap).where(ap.c.scan_run_id == run_id, ~exists().where(tt.c.application_id == ap.c.id)))
    return insert(o).from_select(list(OUTBOX_COLUMNS), rows)
