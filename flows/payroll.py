"""The monthly payment roll (发放名册): per program, every benefit owed money up to the month — this month's
amount plus arrears for earlier unpaid months (a benefit approved in March that starts in January is paid
January–March in the March roll) — with totals, a CSV for the bank, and an anomaly report.

A draft roll may be recomputed; a closed roll never is: it keeps its lines, a digest of them and a record of
the data it was computed from (row counts and latest change times of the inputs, the import batches up to then).
`verify` recomputes a closed month and reports any drift instead of changing it.

Amounts per month come from the benefit's own dated history (its tier changes), the anomaly report checks them
against the program rules independently: paid after death, paid twice, paid in two exclusive programs, paid at
the wrong tier. Expected: 0 of each.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import json
from collections import defaultdict
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy import Integer, String, any_, bindparam, delete, func, insert, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.crypto import FieldCipher
from app.db import utcnow
from app.errors import Conflict
from app.models import (
    Benefit,
    BenefitChange,
    DeathRecord,
    DisabilityCertificate,
    EconomicRecord,
    HukouMove,
    ImportBatch,
    ParameterValue,
    PayoutAccount,
    PayrollLine,
    PayrollRun,
    Resident,
)
from app.models.ids import new_id
from app.sql import Dialect, copying_rows, is_postgres
from flows import one_offs, parameters, programs
from flows.dates import month_from_index, month_index, month_of
from flows.money import yuan
from notifications.outbox import insert_rows

PAYABLE_STATES = ("active", "suspended", "stopped")
# Dated changes of a benefit's monthly amount: a tier raised by age, a parameter change (flows.parameters).
AMOUNT_CHANGES = ("tier_raised", "repriced")
ANOMALY_KINDS = ("paid_after_death", "paid_twice", "paid_exclusive", "wrong_tier")


@dataclass
class Roll:
    run: PayrollRun
    lines: int
    totals: dict
    anomalies: dict
    recomputed: bool = True
    drift: dict = field(default_factory=dict)


def months_between(first: str, last: str) -> list[str]:
    return [month_from_index(i) for i in range(month_index(first), month_index(last) + 1)]


def amount_in(benefit, changes: list, month: str) -> tuple[str, int]:
    """(tier, fen) of a benefit for a month from its dated tier changes."""
    if not changes:  # most benefits: never repriced
        return benefit.tier, benefit.monthly_amount_fen
    raises = sorted((c for c in changes if c.kind in AMOUNT_CHANGES), key=lambda c: (c.effective_month, c.created_at))
    current = None
    for c in raises:
        if c.effective_month <= month:
            current = (c.tier, c.monthly_amount_fen)
    if current:
        return current
    if raises:
        return raises[0].old_tier, raises[0].old_amount_fen
    return benefit.tier, benefit.monthly_amount_fen


def expected_amount(program: str, benefit_tier: str, birth_date: date, month: str) -> tuple[str, int] | None:
    """What the rule says for the month, or None when the rule does not fix the amount (低保: household gap)."""
    declared = programs.get(program)
    return declared.amount_for(benefit_tier, birth_date, month) if declared and declared.amount_for else None


def _paid_through(session: Session) -> dict[str, str]:
    rows = session.execute(
        select(PayrollLine.benefit_id, func.max(PayrollLine.covered_to))
        .join(PayrollRun, PayrollRun.id == PayrollLine.run_id)
        .where(PayrollRun.state == "closed", PayrollLine.status == "paid").group_by(PayrollLine.benefit_id))
    return dict(rows.all())


def _inputs(session: Session, as_of: date) -> dict:
    def stat(model, stamp):
        count, latest = session.execute(select(func.count(), func.max(stamp)).select_from(model)).one()
        return {"rows": count, "latest": latest.isoformat() if latest else None}

    batches = session.execute(select(ImportBatch.id, ImportBatch.kind, ImportBatch.file_sha256)
                              .order_by(ImportBatch.started_at.desc()).limit(50)).all()
    return {
        "as_of": as_of.isoformat(),
        "benefits": stat(Benefit, Benefit.updated_at),
        "benefit_changes": stat(BenefitChange, BenefitChange.created_at),
        "residents": stat(Resident, Resident.updated_at),
        "death_records": stat(DeathRecord, DeathRecord.updated_at),
        "hukou_moves": stat(HukouMove, HukouMove.created_at),
        "disability_certificates": stat(DisabilityCertificate, DisabilityCertificate.updated_at),
        "economic_records": stat(EconomicRecord, EconomicRecord.updated_at),
        "payout_accounts": stat(PayoutAccount, PayoutAccount.updated_at),
        "import_batches": [{"id": b.id, "kind": b.kind, "sha256": b.file_sha256} for b in batches],
    }


def _compute_lines(session: Session, month: str) -> tuple[list[dict], dict]:
    """The roll's lines, and (id, birth date, death date) of each recipient of a benefit, read with the benefits
    for the anomaly report."""
    paid = _paid_through(session)
    b, r = Benefit.__table__, Resident.__table__  # plain rows (the roll reads, never changes, them): no ORM objects
    benefits = session.execute(
        select(b.c.id, b.c.program, b.c.resident_id, b.c.tier, b.c.monthly_amount_fen, b.c.start_month,
               b.c.end_month, b.c.legacy_paid_through, r.c.birth_date, r.c.death_date)
        .join(r, r.c.id == b.c.resident_id)
        .where(b.c.state.in_(PAYABLE_STATES), b.c.start_month <= month)
        .order_by(b.c.program, b.c.id)).all()
    people = {row.resident_id: (row.resident_id, row.birth_date, row.death_date) for row in benefits}
    changes: dict[str, list] = defaultdict(list)
    for c in session.scalars(select(BenefitChange).where(BenefitChange.kind.in_((*AMOUNT_CHANGES, "resumed")))
                             .execution_options(populate_existing=True)):
        changes[c.benefit_id].append(c)
    away = _suspended_months(session, {b for b, cs in changes.items() if any(c.kind == "resumed" for c in cs)})
    accounts = dict(session.execute(select(PayoutAccount.resident_id, PayoutAccount.number_mask)).all())
    lines = []
    for benefit in benefits:
        last = min(month, benefit.end_month) if benefit.end_month else month
        if benefit.death_date is not None:  # never a month after the death (a draft before the daily job ran)
            last = min(last, month_of(benefit.death_date))
        first = benefit.start_month
        # after the last month a closed roll paid, or the old manual process did (a legacy benefit's import)
        done = max(paid.get(benefit.id, ""), benefit.legacy_paid_through or "")
        if done:
            first = max(first, month_from_index(month_index(done) + 1))
        if first > last:
            continue
        history = changes.get(benefit.id)
        if first == last and history is None and benefit.id not in away:  # most lines: one month, never repriced
            covered = {last: (benefit.tier, benefit.monthly_amount_fen)}
        else:
            covered = {m: amount_in(benefit, history or [], m) for m in months_between(first, last)
                       if m not in away.get(benefit.id, ())}
        if not covered:
            continue
        first, last = min(covered), max(covered)
        this = covered.get(month, ("", 0))
        mask = accounts.get(benefit.resident_id)
        lines.append({
            "month": month, "program": benefit.program, "benefit_id": benefit.id, "resident_id": benefit.resident_id,
            "tier": this[0] or benefit.tier, "amount_fen": this[1],
            "arrears_fen": sum(f for m, (_, f) in covered.items() if m != month),
            "covered_from": first, "covered_to": last, "months": {m: list(v) for m, v in covered.items()},
            "account_mask": mask, "status": "scheduled" if mask else "no_account",
        })
    _add_differences(session, lines, {b.id: b for b in benefits}, changes, paid)
    return lines + one_offs.lines(session, month, accounts), people  # one-offs (flows.one_offs): a line each


def _add_differences(session: Session, lines: list[dict], benefits: dict, changes: dict, paid: dict) -> None:
    """A parameter change approved `--arrears` from a month an earlier roll already paid: this roll pays, as
    arrears, what each such month is owed now minus what was paid for it (this month's line of the benefit;
    recorded per month in `differences`, so the next roll owes nothing more). Closed rolls never change; a
    lower amount is not recovered."""
    keys = {f"param:{a}"[:40] for a in session.scalars(
        select(ParameterValue.approval_id).where(ParameterValue.arrears.is_(True)))}
    since: dict[str, str] = {}
    for bid, cs in changes.items():
        for c in cs:
            if c.change_key in keys and c.effective_month <= paid.get(bid, ""):
                since[bid] = min(since.get(bid, c.effective_month), c.effective_month)
    if not since:
        return
    got: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for bid, months, differences in session.execute(
            select(PayrollLine.benefit_id, PayrollLine.months, PayrollLine.differences)
            .join(PayrollRun, PayrollRun.id == PayrollLine.run_id)
            .where(PayrollRun.state == "closed", PayrollLine.status == "paid",
                   PayrollLine.benefit_id.in_(sorted(since)))):
        for m, (_tier, fen) in [*months.items(), *(differences or {}).items()]:
            got[bid][m] += int(fen)
    for ln in lines:
        bid = ln["benefit_id"]
        if bid not in since:
            continue
        owed = {m: amount_in(benefits[bid], changes[bid], m) for m in sorted(got[bid]) if m >= since[bid]}
        differences = {m: [tier, fen - got[bid][m]] for m, (tier, fen) in owed.items() if fen > got[bid][m]}
        if differences:
            ln["differences"] = differences
            ln["arrears_fen"] += sum(fen for _tier, fen in differences.values())


def _suspended_months(session: Session, benefit_ids: set[str]) -> dict[str, set[str]]:
    """Months a resumed benefit was suspended (moved out → moved back): from each suspension's effective month
    up to the month before the next resumption. Never paid, not even as arrears."""
    out: dict[str, set[str]] = {}
    if not benefit_ids:
        return out
    rows = session.scalars(select(BenefitChange).where(BenefitChange.benefit_id.in_(sorted(benefit_ids)),
                                                       BenefitChange.kind.in_(("suspended", "resumed")))
                           .order_by(BenefitChange.benefit_id, BenefitChange.effective_month,
                                     BenefitChange.created_at))
    pending: dict[str, str] = {}
    for c in rows:
        if c.kind == "suspended":
            pending.setdefault(c.benefit_id, c.effective_month)
        elif c.benefit_id in pending:
            start = pending.pop(c.benefit_id)
            if c.effective_month > start:
                out.setdefault(c.benefit_id, set()).update(
                    months_between(start, month_from_index(month_index(c.effective_month) - 1)))
    return out


def _registry_of(session: Session, lines: list[dict], month: str, known: dict | None = None) -> tuple[dict, dict]:
    """What the checks read: the roll's residents (id, birth, death; those not already `known`) and the months
    each benefit was paid in other closed rolls."""
    people = dict(known or {})
    ids = sorted({ln["resident_id"] for ln in lines} - people.keys())
    columns = select(Resident.id, Resident.birth_date, Resident.death_date)
    people.update({row[0]: row for query in _by_keys(session, columns, Resident.id, ids, Integer)
                   for row in session.execute(query).tuples()})
    # A closed line can share a month with a line of this roll only if it covers a month from that line's first
    # on: for lines starting this month, closed lines reaching this month or later (rolls closed out of order);
    # for lines with arrears, the closed lines of their benefits. Not every closed line of every month since
    # the service began (after a year, a city's twelve rolls).
    paid = (select(PayrollLine.benefit_id, PayrollLine.months).join(PayrollRun, PayrollRun.id == PayrollLine.run_id)
            .where(PayrollRun.state == "closed", PayrollRun.month != month, PayrollLine.status == "paid"))
    in_arrears = sorted({ln["benefit_id"] for ln in lines if ln["covered_from"] < month})
    closed: dict[str, set] = defaultdict(set)
    for query in [paid.where(PayrollLine.covered_to >= month),
                  *_by_keys(session, paid, PayrollLine.benefit_id, in_arrears, String)]:
        for benefit_id, months in session.execute(query):
            closed[benefit_id] |= set(months)
    return people, closed


def _check(lines: list[dict], people: dict, closed: dict) -> dict:
    """The anomaly report: a roll's lines against the registry and the rules, and against closed rolls (plain
    Python over what `_registry_of` read: it runs while PostgreSQL stores the lines)."""
    found: dict[str, list] = {k: [] for k in ANOMALY_KINDS}
    rule: dict[tuple, tuple[str, int] | None] = {}  # the rules' answer is the same for everyone born the same day

    def by_rule(program: str, tier: str, born: date, m: str) -> tuple[str, int] | None:
        key = (program, tier, born, m)
        if key not in rule:
            rule[key] = expected_amount(program, tier, born, m)
        return rule[key]

    exclusive = {code for pair in programs.EXCLUSIVE_PAIRS for code in pair}
    per_person: dict[tuple[int, str], set] = defaultdict(set)  # programs paid per (resident, month), if exclusive
    seen: set[tuple[int, str, str]] = set()
    for ln in lines:
        resident_id, program, benefit_id = ln["resident_id"], ln["program"], ln["benefit_id"]
        person = people.get(resident_id)
        death_month = f"{person[2]:%Y-%m}" if person and person[2] else None
        for m, (tier, fen) in ln["months"].items():
            if death_month and m > death_month:
                found["paid_after_death"].append({"benefit_id": benefit_id, "month": m})
            paid_for = (resident_id, program, m)
            if paid_for in seen or m in closed.get(benefit_id, ()):
                found["paid_twice"].append({"benefit_id": benefit_id, "month": m})
            seen.add(paid_for)
            if program in exclusive:
                per_person[(resident_id, m)].add(program)
            expected = by_rule(program, ln["tier"], person[1], m) if person else None
            # a legacy benefit (old manual process) may carry no tier label: then the amount alone is compared
            if expected is not None and (expected[1] != fen or (tier and expected[0] != tier)):
                found["wrong_tier"].append({"benefit_id": benefit_id, "month": m, "paid": [tier, fen],
                                            "expected": list(expected)})
    for (resident_id, m), progs in per_person.items():
        for a, b in programs.EXCLUSIVE_PAIRS:
            if a in progs and b in progs:
                found["paid_exclusive"].append({"resident_id": resident_id, "month": m, "programs": [a, b]})
    return found


def _by_keys(session: Session, query, column, keys: list, kind) -> list:
    """`query` restricted to rows whose `column` is one of `keys`: one array parameter on PostgreSQL (a city's
    roll names ~10⁵ residents), pages of 5,000 bound values on SQLite; no query for no keys."""
    if not keys:
        return []
    if is_postgres(session):
        return [query.where(column == any_(bindparam(f"{column.key}_keys", keys, type_=ARRAY(kind))))]
    return [query.where(column.in_(keys[i:i + 5000])) for i in range(0, len(keys), 5000)]


def _totals(lines: list[dict]) -> dict:
    totals: dict[str, dict] = {}
    for ln in lines:
        t = totals.setdefault(ln["program"], {"benefits": 0, "amount_fen": 0, "arrears_fen": 0, "total_fen": 0,
                                              "no_account": 0})
        t["benefits"] += 1
        t["amount_fen"] += ln["amount_fen"]
        t["arrears_fen"] += ln["arrears_fen"]
        t["total_fen"] += ln["amount_fen"] + ln["arrears_fen"]
        t["no_account"] += ln["status"] == "no_account"
    return totals


def digest(lines: list[dict]) -> str:
    body = json.dumps(sorted((ln["benefit_id"], ln["amount_fen"], ln["arrears_fen"], ln["covered_from"],
                              ln["covered_to"]) for ln in lines), separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


@contextmanager
def _collector_paused():
    """A roll allocates a few small objects per line (≈ 10⁵ lines for a city) that live until it ends; the cyclic
    collector's passes over that growing heap found nothing to free and cost ≈ 15% of the roll (measured on
    PostgreSQL at 300,000 residents). Paused while the lines are computed, as it was before if already off."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()


def _catch_up_stops(session: Session, as_of: date) -> None:
    """Before a roll closes, the deaths and moves out of the city the registry already holds by `as_of` stop or
    suspend their benefits, as the next daily job would (the same set-based steps, with their messages, in this
    transaction): a roll closed after a death import and before that job paid the months after the death."""
    from flows.lifecycle.jobs import stop_on_death, suspend_on_move_out

    conn = session.connection()
    dialect = Dialect(conn.dialect.name)
    stop_on_death(conn, dialect, as_of)
    suspend_on_move_out(conn, dialect, as_of)


def compute(session: Session, month: str, as_of: date, close: bool = False) -> Roll:
    """Compute (or recompute) the draft roll of `month`; with close=True, close it. A closed roll is returned as is.
    A roll is closed in its month or later (409 `roll_month_ahead` before): closing a later month would pay its
    months ahead of time, before a death or a move in between could stop them. A draft of it may be looked at."""
    if close and month > month_of(as_of):
        raise Conflict(f"The roll of {month} is closed in {month} or later, not on data of {as_of.isoformat()}.",
                       error_code="roll_month_ahead")
    # Two `payroll` runs at once (two operators, two hosts): the month's row is created by an insert that
    # ignores a conflict on the unique month, then claimed by a conditional UPDATE (state = 'draft') that holds
    # the row (PostgreSQL row lock, SQLite write lock) until this transaction ends. The second run waits, finds
    # the roll closed and returns it as is: one close, one set of lines, one message per first payment.
    parameters.load(session)  # the rules' amounts (anomaly report) as the operators last approved them
    make = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    session.execute(make(PayrollRun).values(id=new_id(), month=month, state="draft", as_of=as_of, computed_at=utcnow(),
                                            inputs={}, totals={}, anomalies={})
                    .on_conflict_do_nothing(index_elements=[PayrollRun.month]))
    claimed = session.execute(update(PayrollRun).where(PayrollRun.month == month, PayrollRun.state == "draft")
                              .values(computed_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    run = session.scalar(select(PayrollRun).where(PayrollRun.month == month)
                         .execution_options(populate_existing=True))
    if not claimed:
        count = session.scalar(select(func.count()).select_from(PayrollLine).where(PayrollLine.run_id == run.id))
        return Roll(run, count, run.totals, run.anomalies, recomputed=False)
    session.execute(delete(PayrollLine).where(PayrollLine.run_id == run.id))
    if close:
        _catch_up_stops(session, as_of)
    paid_before = _paid_through(session) if close else {}
    with _collector_paused():
        lines, people = _compute_lines(session, month)
        registry = _registry_of(session, lines, month, people)
        with _writing_lines(session, run.id, lines, close):  # PostgreSQL stores them while these run
            found, totals, lines_digest = _check(lines, *registry), _totals(lines), digest(lines)
    run.as_of, run.computed_at = as_of, utcnow()
    run.totals = totals
    run.anomalies = {k: {"count": len(v), "items": v[:100]} for k, v in found.items()}
    run.inputs = {**_inputs(session, as_of), "lines": len(lines), "digest": lines_digest}
    if close:
        run.state, run.closed_at = "closed", utcnow()
        _announce_first_payments(session, [ln for ln in lines if ln["tier"] != "one_off"], paid_before, month)
        one_offs.close(session, [ln for ln in lines if ln["tier"] == "one_off"], month)
        _announce_repricing(session, lines, month)
    return Roll(run, len(lines), totals, run.anomalies)


_LINE_COLUMNS = ("run_id", "month", "program", "benefit_id", "resident_id", "tier", "amount_fen", "arrears_fen",
                 "covered_from", "covered_to", "months", "differences", "account_mask", "status")


@contextmanager
def _writing_lines(session: Session, run_id: str, lines: list[dict], close: bool):
    """The roll's lines, paid at once when the roll closes. On PostgreSQL by COPY, fed by psycopg's writer thread:
    the server stores them (≈ 20 µs a line: partition, indexes, foreign keys) while the block runs; on leaving
    it, the COPY ends and any error is raised."""
    if not lines:
        yield
        return
    if not is_postgres(session):
        session.execute(insert(PayrollLine.__table__), [
            {**ln, "run_id": run_id, "differences": ln.get("differences"),
             "status": "paid" if close and ln["status"] == "scheduled" else ln["status"]} for ln in lines])
        yield
        return
    encoded: dict[tuple, str] = {}  # most lines pay one month at one of a few amounts: each JSON spelled once

    def months_json(months: dict) -> str:
        key = tuple((m, *v) for m, v in months.items())
        if key not in encoded:
            encoded[key] = json.dumps(months)
        return encoded[key]

    with copying_rows(session.connection(), PayrollLine.__tablename__, _LINE_COLUMNS, (
            (run_id, ln["month"], ln["program"], ln["benefit_id"], ln["resident_id"], ln["tier"], ln["amount_fen"],
             ln["arrears_fen"], ln["covered_from"], ln["covered_to"], months_json(ln["months"]),
             json.dumps(ln["differences"]) if ln.get("differences") else None, ln["account_mask"],
             "paid" if close and ln["status"] == "scheduled" else ln["status"]) for ln in lines)):
        yield


def _announce_first_payments(session: Session, lines: list[dict], paid_before: dict, month: str) -> int:
    """待遇发放通知: one message when a benefit started by this service is paid for the first time
    (residents paid under the old manual process already know), in the same transaction as the close."""
    first = {ln["benefit_id"]: ln for ln in lines if ln["status"] == "scheduled" and ln["benefit_id"] not in paid_before}
    if not first:
        return 0
    legacy = set(session.scalars(select(Benefit.id).where(Benefit.id.in_(list(first)), Benefit.origin == "legacy")))
    rows = [{"kind": "payment_started", "idempotency_key": f"benefit:{bid}:payment_started",
             "resident_id": ln["resident_id"],
             "data": {"program": ln["program"], "benefit_id": bid, "monthly_amount": yuan(ln["amount_fen"]),
                      "month": month, "arrears": yuan(ln["arrears_fen"])}}
            for bid, ln in first.items() if bid not in legacy]
    return insert_rows(session, rows)


def _announce_repricing(session: Session, lines: list[dict], month: str) -> int:
    """One message per recipient and parameter change, when the first roll at the new amount closes."""
    paid = {ln["benefit_id"]: ln for ln in lines if ln["status"] == "scheduled"}
    if not paid:
        return 0
    rows = []
    for c in session.scalars(select(BenefitChange).where(BenefitChange.kind == "repriced",
                                                         BenefitChange.effective_month <= month)):
        ln = paid.get(c.benefit_id)
        if ln is None or c.effective_month not in ln["months"]:
            continue
        rows.append({"kind": "tier_raised", "idempotency_key": f"benefit-change:{c.id}:repriced",
                     "resident_id": ln["resident_id"],
                     "data": {"program": ln["program"], "benefit_id": c.benefit_id, "reason": "parameter_change",
                              "monthly_amount": yuan(c.monthly_amount_fen), "old_amount": yuan(c.old_amount_fen),
                              "effective_month": c.effective_month}})
    return insert_rows(session, rows)


def verify(session: Session, month: str) -> dict:
    """Recompute a closed month in memory: {'same': bool, 'digest': stored, 'now': recomputed}; nothing changes."""
    run = session.scalar(select(PayrollRun).where(PayrollRun.month == month))
    if run is None or run.state != "closed":
        return {"same": None}
    lines = [{"benefit_id": ln.benefit_id, "amount_fen": ln.amount_fen, "arrears_fen": ln.arrears_fen,
              "covered_from": ln.covered_from, "covered_to": ln.covered_to}
             for ln in session.scalars(select(PayrollLine).where(PayrollLine.run_id == run.id))]
    return {"same": digest(lines) == run.inputs.get("digest"), "digest": run.inputs.get("digest")}


def write_bank_files(session: Session, run: PayrollRun, cipher: FieldCipher, out_dir: Path) -> list[Path]:
    """One CSV per program for the bank: full account numbers appear only here (never ID numbers)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rows = session.execute(
        select(PayrollLine, Resident.name, PayoutAccount.kind, PayoutAccount.bank_name, PayoutAccount.number_enc)
        .join(Resident, Resident.id == PayrollLine.resident_id)
        .join(PayoutAccount, PayoutAccount.resident_id == PayrollLine.resident_id)
        .where(PayrollLine.run_id == run.id).order_by(PayrollLine.program, PayrollLine.id)).all()
    by_program: dict[str, list] = defaultdict(list)
    for line, name, kind, bank, enc in rows:
        by_program[line.program].append((line, name, kind, bank, enc))
    paths = []
    for program, items in sorted(by_program.items()):
        path = out_dir / f"bank-{run.month}-{program}.csv"
        with open(path, "w", encoding="utf-8-sig", newline="") as f:
            w = csv.writer(f)
            w.writerow(("seq", "program", "name", "account_kind", "bank_name", "account_number", "amount",
                        "month", "covered_from", "covered_to"))
            for seq, (line, name, kind, bank, enc) in enumerate(items, start=1):
                w.writerow((seq, program, name, kind, bank, cipher.decrypt(enc),
                            yuan(line.amount_fen + line.arrears_fen), run.month, line.covered_from, line.covered_to))
        path.chmod(0o600)
        paths.append(path)
    return paths


def payments_of(session: Session, benefit_id: str) -> list[dict]:
    """What the citizen sees per month: month, amount, arrears, status (newest first) — the lines of closed rolls,
    and of the next roll (`scheduled`) only while it stands: a draft computed after the last roll closed, for a
    later month, while the benefit is still paid. An older draft (computed before a later month closed, or before
    the benefit stopped) would announce months already paid or not owed."""
    rows = session.execute(
        select(PayrollLine, PayrollRun.state, PayrollRun.computed_at).join(PayrollRun, PayrollRun.id == PayrollLine.run_id)
        .where(PayrollLine.benefit_id == benefit_id).order_by(PayrollLine.month.desc())).all()
    last_closed = session.execute(select(PayrollRun.month, PayrollRun.closed_at).where(PayrollRun.state == "closed")
                                  .order_by(PayrollRun.month.desc()).limit(1)).first()
    benefit = session.get(Benefit, benefit_id)
    drafts = sorted(ln.month for ln, state, computed_at in rows if state != "closed" and _draft_stands(
        ln, computed_at, last_closed, benefit))
    shown = [(ln, state) for ln, state, _ in rows if state == "closed" or drafts and ln.month == drafts[0]]
    return [{"month": ln.month, "amount": yuan(ln.amount_fen), "arrears": yuan(ln.arrears_fen),
             "total": yuan(ln.amount_fen + ln.arrears_fen), "covered_from": ln.covered_from,
             "covered_to": ln.covered_to, "status": ("paid" if state == "closed" and ln.status == "paid"
                                                     else "no_account" if ln.status == "no_account" else "scheduled"),
             "account": ln.account_mask} for ln, state in shown]


def _draft_stands(line: PayrollLine, computed_at, last_closed, benefit) -> bool:
    if benefit is None or benefit.state != "active":
        return False
    if last_closed is not None and (line.month <= last_closed.month or computed_at < last_closed.closed_at):
        return False
    return not (benefit.end_month and line.covered_to > benefit.end_month)
