"""scan_turning_80: propose the elderly allowance (高龄津贴) to everyone who has become eligible.

Set-based SQL committed in idempotent batches: residents alive, with local hukou, aged ≥ 80 on the as-of
date, with no application or benefit for the program → `proposed` applications whose pre-filled fields
each carry their source and date, plus an outbox row each, in the same transaction. The first run is a
backfill over all residents (in id ranges); later runs look only at birthdays crossed since the last run
and residents changed since then.
"""

from __future__ import annotations

import functools
import time
from datetime import date

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    String,
    bindparam,
    case,
    insert,
    literal,
    literal_column,
    select,
    union,
)

from app.db import make_engine, utcnow
from app.models import Application, Benefit, OutboxMessage, Resident
from app.sql import (
    OUTBOX_COLUMNS,
    Dialect,
    alias_of,
    date_text_of,
    exists_where,
    insert_ignore_into,
    json_object_of,
    month_text_of,
    nth_birthday_next_month_of,
    probe_indexes,
    ymd_of,
)
from flows import parameters
from flows.dates import birth_cutoff
from flows.programs import elderly_allowance as program
from flows.scans import runs
from flows.scans.batches import run_batches, workers_for
from flows.scans.runs import ScanResult

PROGRAM = program.CODE
APPLICATION_COLUMNS = ["id", "program", "resident_id", "period", "origin", "state", "as_of", "prefill", "trace",
                       "scan_run_id", "created_at", "updated_at"]
# The values a run binds (_params); per batch also its birth dates and the time written. The statements are built
# once per process and shape of the parameters (_statements), so a run only binds values.
P = {name: bindparam(name, type_=type_) for name, type_ in (
    ("run_id", String), ("as_of", Date), ("as_of_text", String), ("as_of_year", Integer), ("as_of_md", Integer),
    ("cut_min", Date), ("prev_cut", Date), ("changed_since", DateTime), ("born_after", Date), ("born_by", Date),
    ("now", DateTime))}


def _tiers(as_of: date) -> list[tuple[date, str, str]]:
    on = max(as_of, program.PARAMETERS["start_date"])
    return [(birth_cutoff(as_of, age), label, f"{fen // 100}.{fen % 100:02d}")
            for age, label, fen in program.effective_tiers(on)]


def _minimum_age(as_of: date) -> int:
    return program.PARAMETERS["minimum_age"].at(max(as_of, program.PARAMETERS["start_date"]))


def _params(as_of: date, run_id: str) -> dict:
    values = {"run_id": run_id, "as_of": as_of, "as_of_text": as_of.isoformat(), "as_of_year": as_of.year,
              "as_of_md": as_of.month * 100 + as_of.day,
              "cut_min": birth_cutoff(as_of, _minimum_age(as_of))}  # the minimum age in force (80 by default)
    for i, (cut, label, amount) in enumerate(_tiers(as_of)):
        values.update({f"cut{i}": cut, f"tier{i}": label, f"amount{i}": amount})
    return values


def _month_idx(d: date) -> int:
    return d.year * 12 + d.month - 1


def _start_idx(d: Dialect, segments: tuple, birth_date):
    """Month index of the first month paid (elderly_allowance.first_month in SQL): per dated minimum age, the
    month after reaching it but not before it took effect; the first segment that starts before the next."""
    starts = []
    for since, age in segments:
        turned, floor = nth_birthday_next_month_of(d, int(age), birth_date), _month_idx(since)
        starts.append(case((turned < floor, floor), else_=turned))
    if len(starts) == 1:
        return starts[0]
    ends = [_month_idx(until) for until, _ in segments[1:]]
    return case(*[(start < end, start) for start, end in zip(starts[:-1], ends, strict=True)], else_=starts[-1])


def _prefill(d: Dialect, r, segments: tuple, n_tiers: int):
    """Each field with its source and date: the registry's as of its extract, the rule's as of the scan."""
    y, m, dd = ymd_of(d, r.c.birth_date)
    age = P["as_of_year"] - y - case((P["as_of_md"] < m * 100 + dd, 1), else_=0)
    cuts = [bindparam(f"cut{i}", type_=Date) for i in range(n_tiers)]

    def reg(value):
        return json_object_of(d, {"value": value, "source": literal(program.REGISTRY, String),
                                  "source_date": date_text_of(d, r.c.source_date)})

    def rule(value):
        return json_object_of(d, {"value": value, "source": literal(f"rule:{PROGRAM}", String),
                                  "source_date": P["as_of_text"]})

    def by_tier(name: str):
        return case(*[(r.c.birth_date <= cut, bindparam(f"{name}{i}", type_=String)) for i, cut in enumerate(cuts)])

    return json_object_of(d, {
        "name": reg(r.c.name),
        "sex": reg(r.c.sex),
        "birth_date": reg(date_text_of(d, r.c.birth_date)),
        "district_code": reg(r.c.district_code),
        "street_code": reg(r.c.street_code),
        "community_code": reg(r.c.community_code),
        "hukou_local": reg(literal_column(d.json_text("true"))),
        "age": rule(age),
        "tier": rule(by_tier("tier")),
        "monthly_amount": rule(by_tier("amount")),
        "start_month": rule(month_text_of(d, _start_idx(d, segments, r.c.birth_date))),
    })


def _scope(scope: str | None, r, a):
    """The residents (r) and applications (a) a statement looks at: all; a backfill batch's birth dates (the
    birth-date index, as the whole statement's own plan reads it: a batch never walks the residents too young);
    or the next-day scan's birthdays crossed since the last run (the birth-date index) and records changed since
    it (the updated_at index)."""
    res = Resident.__table__
    if scope == "born":
        born = [res.c.birth_date > P["born_after"], res.c.birth_date <= P["born_by"]]
        return ([r.c.birth_date > P["born_after"], r.c.birth_date <= P["born_by"]],
                [a.c.resident_id.in_(select(res.c.id).where(*born))])
    if scope == "daily":
        crossed = select(res.c.id).where(res.c.birth_date > P["prev_cut"], res.c.birth_date <= P["cut_min"])
        changed = select(res.c.id).where(res.c.updated_at > P["changed_since"])
        return [r.c.id.in_(union(crossed, changed))], []
    return [], []


def _insert(d: Dialect, table, ignore: bool):
    """INSERT OR IGNORE / ON CONFLICT DO NOTHING (idempotent batches), or a plain INSERT (the benchmark's
    baseline)."""
    return insert_ignore_into(d, table) if ignore else insert(table)


@functools.lru_cache(maxsize=32)
def _build(dialect: str, segments: tuple, n_tiers: int, scope: str | None, ignore: bool) -> tuple:
    d = Dialect(dialect)
    r, a, b = alias_of(Resident.__table__, "r"), alias_of(Application.__table__, "a"), alias_of(Benefit.__table__, "b")
    box = alias_of(Application.__table__, "a")  # the run's applications, read by the outbox statement
    in_r, in_box = _scope(scope, r, box)
    # `proposed` applications for the residents eligible on the as-of date who have no application and no benefit
    rows = select(literal_column(d.new_id()), literal(PROGRAM, String), r.c.id, literal("once", String),
                  literal("proactive", String), literal("proposed", String), P["as_of"],
                  _prefill(d, r, segments, n_tiers), literal_column(d.json_text("[]")), P["run_id"], P["now"], P["now"]
                  ).where(r.c.birth_date <= P["cut_min"], r.c.death_date.is_(None) | (r.c.death_date > P["as_of"]),
                          r.c.hukou_local, *in_r,
                          ~exists_where(a.c.program == PROGRAM, a.c.resident_id == r.c.id),
                          ~exists_where(b.c.program == PROGRAM, b.c.resident_id == r.c.id))
    applications = _insert(d, Application.__table__, ignore).from_select(APPLICATION_COLUMNS, rows)
    # one proposal_ready row per application of the run
    key = literal("application:", String) + box.c.id + literal(":proposal_ready", String)
    rows = select(literal_column(d.new_id()), key, literal("proposal_ready", String), box.c.resident_id, box.c.id,
                  literal_column(d.json_text("{}")), literal("pending", String), literal(0, Integer), P["now"], P["now"]
                  ).where(box.c.scan_run_id == P["run_id"], *in_box)
    outbox = _insert(d, OutboxMessage.__table__, ignore).from_select(list(OUTBOX_COLUMNS), rows)
    return applications, outbox


def _statements(d: Dialect, as_of: date, scope: str | None = None, *, ignore: bool = True) -> tuple:
    """(applications INSERT … SELECT, outbox INSERT … SELECT) for the parameters' shape on `as_of`."""
    return _build(d.name, tuple(program.minimum_age_segments()), len(_tiers(as_of)), scope, ignore)


def _run_batch(conn, statements: tuple, params: dict) -> int:
    """The applications, then their outbox rows, in the caller's transaction; the number of applications."""
    params = {**params, "now": utcnow()}
    applications, outbox = statements
    probe_indexes(conn)  # the NOT EXISTS on applications, which these statements fill, stays an index probe
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


def _batch_bounds(conn, cut_min: date, size: int) -> list[date]:
    """The last birth date of each batch of about `size` residents old enough (read from the birth-date index,
    oldest first; residents born on one day stay in one batch); the last bound is `cut_min`."""
    bd = Resident.__table__.c.birth_date
    bounds, after = [], None
    while True:
        query = select(bd).where(bd <= cut_min).order_by(bd).offset(size - 1).limit(1)
        found = conn.execute(query.where(bd > after) if after is not None else query).scalar()
        if found is None or found >= cut_min:
            return [*bounds, cut_min]
        bounds.append(found)
        after = found


def _backfill(cfg, engine, d: Dialect, as_of: date, params: dict, progress) -> tuple[int, int]:
    """Every resident old enough on `as_of`, in committed batches of about `scan_batch_size` of them by birth
    date, side by side on PostgreSQL (flows.scans.batches; a crash resumes: every batch is idempotent)."""
    with engine.connect() as conn:
        bounds = _batch_bounds(conn, params["cut_min"], cfg.scan_batch_size)
    statements = _statements(d, as_of, "born")

    def batch(born: tuple[date, date]) -> int:
        with engine.begin() as conn:
            return _run_batch(conn, statements, {**params, "born_after": born[0], "born_by": born[1]})

    proposed = 0
    slices = zip([date.min, *bounds[:-1]], bounds, strict=True)
    for done, count in enumerate(run_batches(batch, slices, workers_for(cfg, engine)), start=1):
        proposed += count
        if progress:
            progress(done, len(bounds), proposed)
    return proposed, len(bounds)


def _daily(engine, d: Dialect, as_of: date, params: dict, previous) -> int:
    """Only residents whose birthday reaching the minimum age fell after the last run, or whose record changed
    since it."""
    params = {**params, "prev_cut": birth_cutoff(previous.as_of, _minimum_age(previous.as_of)),
              "changed_since": previous.started_at}
    with engine.begin() as conn:
        return _run_batch(conn, _statements(d, as_of, "daily"), params)


def scan(cfg, code: str, as_of: date, engine=None, progress=None) -> ScanResult:
    """The program's scan hook (flows.scans.run_scan): batches of its own engine, so `engine` is not used."""
    return scan_turning_80(cfg, as_of, progress=progress)
