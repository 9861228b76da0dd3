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

from sqlalchemy import func, select

from app.db import make_engine, utcnow
from app.models import Resident
from app.sql import OUTBOX_INTO, Dialect, nth_birthday_next_month, stmt
from flows import parameters
from flows.dates import birth_cutoff
from flows.programs import elderly_allowance as program
from flows.scans import runs
from flows.scans.runs import ScanResult

PROGRAM = program.CODE


def _tiers(as_of: date) -> list[tuple[date, str, str]]:
    on = max(as_of, program.PARAMETERS["start_date"])
    return [(birth_cutoff(as_of, age), label, f"{fen // 100}.{fen % 100:02d}")
            for age, label, fen in program.effective_tiers(on)]


def _minimum_age(as_of: date) -> int:
    return program.PARAMETERS["minimum_age"].at(max(as_of, program.PARAMETERS["start_date"]))


def _start_idx(d: Dialect) -> str:
    """Month index of the first month paid (elderly_allowance.first_month in SQL): per dated minimum age, the
    month after reaching it but not before it took effect; the first segment that starts before the next."""
    segments = program.minimum_age_segments()
    whens = []
    for i, (since, age) in enumerate(segments):
        turned = nth_birthday_next_month(d, int(age))
        floor = since.year * 12 + since.month - 1
        start = f"(CASE WHEN {turned} < {floor} THEN {floor} ELSE {turned} END)"
        if i + 1 < len(segments):
            until = segments[i + 1][0]
            whens.append(f"WHEN {start} < {until.year * 12 + until.month - 1} THEN {start}")
        else:
            whens.append(f"ELSE {start}")
    return f"(CASE {' '.join(whens)} END)" if len(whens) > 1 else whens[0][5:]


def _insert_applications_sql(d: Dialect, as_of: date, where_extra: str) -> str:
    y, m, dd = d.ymd("r.birth_date")
    tiers = _tiers(as_of)
    tier_case = "CASE " + " ".join(f"WHEN r.birth_date <= :cut{i} THEN '{t[1]}'" for i, t in enumerate(tiers)) + " END"
    amount_case = "CASE " + " ".join(f"WHEN r.birth_date <= :cut{i} THEN '{t[2]}'" for i, t in enumerate(tiers)) + " END"
    start_idx = _start_idx(d)
    age = f"(:as_of_year - {y} - CASE WHEN :as_of_md < {m} * 100 + {dd} THEN 1 ELSE 0 END)"

    def reg(value: str) -> str:
        return d.json_object({"value": value, "source": "'population_registry'", "source_date": d.date_text("r.source_date")})

    def rule(value: str) -> str:
        return d.json_object({"value": value, "source": "'rule\\:elderly_allowance'", "source_date": ":as_of_text"})

    prefill = d.json_object({
        "name": reg("r.name"),
        "sex": reg("r.sex"),
        "birth_date": reg(d.date_text("r.birth_date")),
        "district_code": reg("r.district_code"),
        "street_code": reg("r.street_code"),
        "community_code": reg("r.community_code"),
        "hukou_local": reg(d.json_text("true")),
        "age": rule(age),
        "tier": rule(tier_case),
        "monthly_amount": rule(amount_case),
        "start_month": rule(d.month_text(start_idx)),
    })
    prefix, suffix = d.insert_ignore("applications")
    return (
        f"{prefix} (id, program, resident_id, period, origin, state, as_of, prefill, trace, scan_run_id, "
        "created_at, updated_at) "
        f"SELECT {d.new_id()}, :program, r.id, 'once', 'proactive', 'proposed', :as_of, {prefill}, "
        f"{d.json_text('[]')}, :run_id, :now, :now FROM residents r "
        "WHERE r.birth_date <= :cut80 AND (r.death_date IS NULL OR r.death_date > :as_of) AND r.hukou_local "
        f"{where_extra} "
        "AND NOT EXISTS (SELECT 1 FROM applications a WHERE a.program = :program AND a.resident_id = r.id) "
        "AND NOT EXISTS (SELECT 1 FROM benefits b WHERE b.program = :program AND b.resident_id = r.id)"
        f"{suffix}"
    )


def _insert_outbox_sql(d: Dialect, where_extra: str) -> str:
    prefix, suffix = d.insert_ignore("outbox")
    return (
        f"{prefix} {OUTBOX_INTO}"
        f"SELECT {d.new_id()}, 'application:' || a.id || '\\:proposal_ready', 'proposal_ready', a.resident_id, "
        f"a.id, {d.json_text('{}')}, 'pending', 0, :now, :now FROM applications a "
        f"WHERE a.scan_run_id = :run_id {where_extra}{suffix}"
    )


def _params(as_of: date, run_id: str) -> dict:
    tiers = _tiers(as_of)
    start = program.PARAMETERS["start_date"]
    values = {
        "program": PROGRAM,
        "as_of": as_of,
        "as_of_text": as_of.isoformat(),
        "as_of_year": as_of.year,
        "as_of_md": as_of.month * 100 + as_of.day,
        "program_start_idx": start.year * 12 + start.month - 1,
        "cut80": birth_cutoff(as_of, _minimum_age(as_of)),  # the minimum age in force (80 by default)
        "run_id": run_id,
        "now": utcnow(),
    }
    values.update({f"cut{i}": t[0] for i, t in enumerate(tiers)})
    return values


def _run_batch(conn, d: Dialect, as_of: date, params: dict, app_extra: str, outbox_extra: str) -> int:
    params = {**params, "now": utcnow()}
    app_sql = _insert_applications_sql(d, as_of, app_extra)
    inserted = conn.execute(stmt(app_sql, params), params).rowcount
    box_sql = _insert_outbox_sql(d, outbox_extra)
    conn.execute(stmt(box_sql, params), params)
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
    params = _params(as_of, run.id)
    run_started = utcnow()
    try:
        if previous is None:
            mode, proposed, batches = "backfill", *_backfill(cfg, engine, d, as_of, params, progress)
        else:
            mode, batches = "daily", 1
            proposed = _daily(engine, d, as_of, params, previous)
    except Exception as exc:
        runs.fail(cfg, run.id, f"{type(exc).__name__}: {exc}")
        raise
    counts = {"proposed": proposed, "batches": batches}
    runs.finish(cfg, run.id, counts, mode, run_started)
    return ScanResult(PROGRAM, as_of, mode, proposed=proposed, candidates_batches=batches,
                      seconds=time.perf_counter() - started, counts=counts)


def _backfill(cfg, engine, d: Dialect, as_of: date, params: dict, progress) -> tuple[int, int]:
    with engine.connect() as conn:  # two statements: SQLite answers a lone MIN or MAX from the index, not both
        lo = conn.execute(select(func.min(Resident.id))).scalar()
        hi = conn.execute(select(func.max(Resident.id))).scalar()
    if lo is None:
        return 0, 0
    size, proposed, batches = cfg.scan_batch_size, 0, 0
    extra = "AND r.id >= :lo AND r.id < :hi"
    box_extra = "AND a.resident_id >= :lo AND a.resident_id < :hi"
    for start in range(lo, hi + 1, size):
        with engine.begin() as conn:
            proposed += _run_batch(conn, d, as_of, {**params, "lo": start, "hi": start + size}, extra, box_extra)
        batches += 1
        if progress:
            progress(min(start + size - lo, hi - lo + 1), hi - lo + 1, proposed)
    return proposed, batches


def _daily(engine, d: Dialect, as_of: date, params: dict, previous) -> int:
    """Only residents whose 80th birthday fell after the last run, or whose record changed since it."""
    extra = ("AND r.id IN (SELECT id FROM residents WHERE birth_date > :prev_cut AND birth_date <= :cut80 "
             "UNION SELECT id FROM residents WHERE updated_at > :changed_since)")
    box_extra = ""
    params = {**params, "prev_cut": birth_cutoff(previous.as_of, _minimum_age(previous.as_of)),
              "changed_since": previous.started_at}
    with engine.begin() as conn:
        return _run_batch(conn, d, as_of, params, extra, box_extra)


def scan(cfg, code: str, as_of: date, engine=None, progress=None) -> ScanResult:
    """The program's scan hook (flows.scans.run_scan): batches of its own engine, so `engine` is not used."""
    return scan_turning_80(cfg, as_of, progress=progress)
