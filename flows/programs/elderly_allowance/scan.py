"""scan_turning_80: propose the elderly allowance (高龄津贴) to everyone who has become eligible.

Set-based SQL committed in idempotent batches: residents alive, with local hukou, aged ≥ 80 on the as-of
date, with no application or benefit for the program → `proposed` applications whose pre-filled fields
each carry their source and date, plus an outbox row each, in the same transaction. The first run is a
backfill over all residents (in id ranges); later runs look only at birthdays crossed since the last run
and residents changed since then.
"""

from __future__ import annotations

import time
from datetime import date

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    String,
    and_,
    bindparam,
    case,
    exists,
    func,
    literal,
    select,
    union,
)

from app.db import make_engine, utcnow
from app.models import Application, Benefit, OutboxMessage, Resident
from app.sql import (
    OUTBOX_COLUMNS,
    Dialect,
    date_text_expr,
    insert_ignore_from_select,
    json_literal_expr,
    json_object_expr,
    month_text_expr,
    new_id_expr,
    nth_birthday_next_month_expr,
    ymd_expr,
)
from flows import parameters
from flows.dates import birth_cutoff
from flows.programs import elderly_allowance as program
from flows.scans import runs
from flows.scans.runs import ScanResult

PROGRAM = program.CODE
APPLICATION_COLUMNS = ["id", "program", "resident_id", "period", "origin", "state", "as_of", "prefill", "trace",
                       "scan_run_id", "created_at", "updated_at"]
# Per batch: the id range of a backfill batch and the time written.
LO, HI, NOW = bindparam("lo", type_=Integer), bindparam("hi", type_=Integer), bindparam("now", type_=DateTime)


def _tiers(as_of: date) -> list[tuple[date, str, str]]:
    on = max(as_of, program.PARAMETERS["start_date"])
    return [(birth_cutoff(as_of, age), label, f"{fen // 100}.{fen % 100:02d}")
            for age, label, fen in program.effective_tiers(on)]


def _minimum_age(as_of: date) -> int:
    return program.PARAMETERS["minimum_age"].at(max(as_of, program.PARAMETERS["start_date"]))


def _month_idx(d: date) -> int:
    return d.year * 12 + d.month - 1


def _start_idx(d: Dialect, birth_date):
    """Month index of the first month paid (elderly_allowance.first_month in SQL): per dated minimum age, the
    month after reaching it but not before it took effect; the first segment that starts before the next."""
    segments = program.minimum_age_segments()
    starts = []
    for since, age in segments:
        turned, floor = nth_birthday_next_month_expr(d, int(age), birth_date), _month_idx(since)
        starts.append(case((turned < floor, floor), else_=turned))
    if len(starts) == 1:
        return starts[0]
    ends = [_month_idx(until) for until, _ in segments[1:]]
    return case(*[(start < end, start) for start, end in zip(starts[:-1], ends, strict=True)], else_=starts[-1])


def _prefill(d: Dialect, r, as_of: date):
    """Each field with its source and date: the registry's as of its extract, the rule's as of the scan."""
    y, m, dd = ymd_expr(d, r.c.birth_date)
    tiers = _tiers(as_of)
    age = literal(as_of.year, Integer) - y - case((literal(as_of.month * 100 + as_of.day, Integer) < m * 100 + dd, 1),
                                                   else_=0)

    def reg(value):
        return json_object_expr(d, {"value": value, "source": literal(program.REGISTRY, String),
                                    "source_date": date_text_expr(d, r.c.source_date)})

    def rule(value):
        return json_object_expr(d, {"value": value, "source": literal(f"rule:{PROGRAM}", String),
                                    "source_date": literal(as_of.isoformat(), String)})

    def by_tier(pick: int):
        return case(*[(r.c.birth_date <= literal(t[0], Date), literal(t[pick], String)) for t in tiers])

    return json_object_expr(d, {
        "name": reg(r.c.name),
        "sex": reg(r.c.sex),
        "birth_date": reg(date_text_expr(d, r.c.birth_date)),
        "district_code": reg(r.c.district_code),
        "street_code": reg(r.c.street_code),
        "community_code": reg(r.c.community_code),
        "hukou_local": reg(json_literal_expr(d, "true")),
        "age": rule(age),
        "tier": rule(by_tier(1)),
        "monthly_amount": rule(by_tier(2)),
        "start_month": rule(month_text_expr(d, _start_idx(d, r.c.birth_date))),
    })


def _insert_applications(d: Dialect, as_of: date, run_id: str, scope=None, *, ignore: bool = True):
    """`proposed` applications for the residents eligible on `as_of` (within `scope(r)`, a condition on the
    residents alias) who have no application and no benefit of the program."""
    r = Resident.__table__.alias("r")
    a, b = Application.__table__.alias("a"), Benefit.__table__.alias("b")
    conditions = [r.c.birth_date <= literal(birth_cutoff(as_of, _minimum_age(as_of)), Date),  # minimum age in force
                  (r.c.death_date.is_(None) | (r.c.death_date > literal(as_of, Date))), r.c.hukou_local]
    if scope is not None:
        conditions.append(scope(r))
    conditions += [~exists().where(a.c.program == PROGRAM, a.c.resident_id == r.c.id),
                   ~exists().where(b.c.program == PROGRAM, b.c.resident_id == r.c.id)]
    rows = select(new_id_expr(d), literal(PROGRAM, String), r.c.id, literal("once", String),
                  literal("proactive", String), literal("proposed", String), literal(as_of, Date),
                  _prefill(d, r, as_of), json_literal_expr(d, "[]"), literal(run_id, String), NOW, NOW
                  ).where(and_(*conditions))
    return insert_ignore_from_select(d, Application.__table__, APPLICATION_COLUMNS, rows, ignore=ignore)


def _insert_outbox(d: Dialect, run_id: str, scope=None, *, ignore: bool = True):
    """One proposal_ready row per application of the run (within `scope(a)`, on the applications alias)."""
    a = Application.__table__.alias("a")
    key = literal("application:", String) + a.c.id + literal(":proposal_ready", String)
    rows = select(new_id_expr(d), key, literal("proposal_ready", String), a.c.resident_id, a.c.id,
                  json_literal_expr(d, "{}"), literal("pending", String), literal(0, Integer), NOW, NOW
                  ).where(a.c.scan_run_id == literal(run_id, String), *([scope(a)] if scope is not None else []))
    return insert_ignore_from_select(d, OutboxMessage.__table__, list(OUTBOX_COLUMNS), rows, ignore=ignore)


def _run_batch(conn, statements: tuple, params: dict) -> int:
    """The applications, then their outbox rows, in the caller's transaction; the number of applications."""
    params = {**params, "now": utcnow()}
    applications, outbox = statements
    inserted = conn.execute(applications, params).rowcount
    conn.execute(outbox, params)
    return max(inserted, 0)


def scan_turning_80(cfg, as_of: date, progress=None) -> ScanResult:
    """Run (or resume) the scan for `as_of`; a second run for the same date touches nothing."""
    started = time.perf_counter()
    parameters.load_for(cfg)  # the minimum age and amounts as operators last approved them
    run, fresh = runs.open_run(cfg, PROGRAM, as_of)
    if not fresh:
        return ScanResult(PROGRAM, as_of, run.mode, proposed=0, skipped=True, counts=dict(run.counts or {}),
                          seconds=time.perf_counter() - started)
    engine = make_engine(cfg.database_url)
    d = Dialect(engine.dialect.name)
    previous = runs.previous_done(cfg, PROGRAM, as_of)
    run_started = utcnow()
    try:
        if previous is None:
            mode, proposed, batches = "backfill", *_backfill(cfg, engine, d, as_of, run.id, progress)
        else:
            mode, batches = "daily", 1
            proposed = _daily(engine, d, as_of, run.id, previous)
    except Exception as exc:
        runs.fail(cfg, run.id, f"{type(exc).__name__}: {exc}")
        raise
    counts = {"proposed": proposed, "batches": batches}
    runs.finish(cfg, run.id, counts, mode, run_started)
    return ScanResult(PROGRAM, as_of, mode, proposed=proposed, candidates_batches=batches,
                      seconds=time.perf_counter() - started, counts=counts)


def _backfill(cfg, engine, d: Dialect, as_of: date, run_id: str, progress) -> tuple[int, int]:
    with engine.connect() as conn:  # two statements: SQLite answers a lone MIN or MAX from the index, not both
        lo = conn.execute(select(func.min(Resident.id))).scalar()
        hi = conn.execute(select(func.max(Resident.id))).scalar()
    if lo is None:
        return 0, 0
    statements = (_insert_applications(d, as_of, run_id, lambda r: and_(r.c.id >= LO, r.c.id < HI)),
                  _insert_outbox(d, run_id, lambda a: and_(a.c.resident_id >= LO, a.c.resident_id < HI)))
    size, proposed, batches = cfg.scan_batch_size, 0, 0
    for start in range(lo, hi + 1, size):
        with engine.begin() as conn:
            proposed += _run_batch(conn, statements, {"lo": start, "hi": start + size})
        batches += 1
        if progress:
            progress(min(start + size - lo, hi - lo + 1), hi - lo + 1, proposed)
    return proposed, batches


def _daily(engine, d: Dialect, as_of: date, run_id: str, previous) -> int:
    """Only residents whose birthday reaching the minimum age fell after the last run (the birth-date index), or
    whose record changed since it (the updated_at index)."""
    res = Resident.__table__
    crossed = select(res.c.id).where(
        res.c.birth_date > literal(birth_cutoff(previous.as_of, _minimum_age(previous.as_of)), Date),
        res.c.birth_date <= literal(birth_cutoff(as_of, _minimum_age(as_of)), Date))
    changed = select(res.c.id).where(res.c.updated_at > literal(previous.started_at, DateTime))
    statements = (_insert_applications(d, as_of, run_id, lambda r: r.c.id.in_(union(crossed, changed))),
                  _insert_outbox(d, run_id))
    with engine.begin() as conn:
        return _run_batch(conn, statements, {})


def scan(cfg, code: str, as_of: date, engine=None, progress=None) -> ScanResult:
    """The program's scan hook (flows.scans.run_scan): batches of its own engine, so `engine` is not used."""
    return scan_turning_80(cfg, as_of, progress=progress)
