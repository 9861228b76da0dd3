"""The daily lifecycle jobs: stop on death, suspend on moving out, stop on certificate expiry or end of 低保,
then each program's own daily step (Program.daily: e.g. a tier raised at an age), remind unanswered proposals (day 3, day 10) and then give the
community worker a home-help task (day 14), so that nobody without a phone is dropped.

Order matters and is fixed in `run_daily`: deaths first (no reminder or tier raise for the dead), then moves,
expiries, tier raises, reminders.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import (
    Date,
    DateTime,
    Integer,
    String,
    and_,
    case,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    type_coerce,
    update,
)

from app.db import make_engine, utcnow
from app.models import (
    Application,
    Benefit,
    BenefitChange,
    DisabilityCertificate,
    HukouMove,
    Resident,
    StaffTask,
)
from app.models.messaging import OutboxMessage
from app.sql import (
    OUTBOX_COLUMNS,
    Dialect,
    alias_of,
    date_text_of,
    exists_where,
    insert_ignore_into,
    json_array_of,
    json_object_of,
    month_text_of,
    ymd_of,
)
from flows import case_states, programs
from flows.dates import month_of as month_of_date
from flows.dates import next_month
from flows.lifecycle.after_death import notify_after_death
from flows.lifecycle.certificate_reminders import remind_certificate_expiry
from flows.lifecycle.household import reprice_on_member_departure

REMINDER_DAYS = (3, 10)
HOME_HELP_DAY = 14
HOME_HELP_DUE_DAYS = 5
PROPOSAL_OPEN = ("proposed",)
IN_PROGRESS = case_states.IN_PROGRESS  # open cases (flows.case_states)
OPEN_BENEFIT = ("active", "suspended")
HOME_HELP_CHECKLIST = '["上门说明政策","核实本人意愿","协助确认或记录放弃原因"]'

_B, _R, _C = Benefit.__table__, Resident.__table__, BenefitChange.__table__
_A, _T, _M, _DC = Application.__table__, StaffTask.__table__, HukouMove.__table__, DisabilityCertificate.__table__
_O = OutboxMessage.__table__
CHANGE_COLUMNS = ("id", "benefit_id", "change_key", "kind", "effective_month", "old_tier", "old_amount_fen", "tier",
                  "monthly_amount_fen", "reason", "as_of", "trace", "created_at")


@dataclass
class LifecycleResult:
    as_of: date
    counts: dict = field(default_factory=dict)
    seconds: float = 0.0


def _s(value: str):
    return literal(value, String)


def new_id(d: Dialect):
    """A new 128-bit hex id computed by the database (a constant expression of the dialect, no value in it)."""
    return literal_column(d.new_id())


def json_constant(d: Dialect, value: str):
    """A JSON constant (false, true, a fixed list) as the dialect spells it."""
    return literal_column(d.json_text(value))


def date_str(d: Dialect, date_col):
    """'YYYY-MM-DD' of a date expression as text (so that `||` joins it: SQLite stores it as text already)."""
    return date_text_of(d, date_col) if d.pg else type_coerce(date_col, String)


def month_of(d: Dialect, date_col):
    """'YYYY-MM' of a date expression."""
    return func.substr(date_text_of(d, date_col), 1, 7)


def next_month_of(d: Dialect, date_col):
    """'YYYY-MM' of the month after a date expression."""
    y, m, _ = ymd_of(d, date_col)
    return month_text_of(d, y * 12 + m)


def change_insert(d: Dialect, rows):
    """Benefit changes from a select giving CHANGE_COLUMNS in order; a change key already taken is skipped."""
    return insert_ignore_into(d, _C).from_select(list(CHANGE_COLUMNS), rows)


def change_row(d: Dialect, b, *, key, kind, effective, tier, amount, reason, as_of: date, trace, now):
    """The select list of one benefit change of benefit `b` (CHANGE_COLUMNS in order)."""
    return select(new_id(d), b.c.id, key, _s(kind), effective, b.c.tier, b.c.monthly_amount_fen, tier, amount,
                  reason if not isinstance(reason, str) else _s(reason), literal(as_of, Date), trace,
                  literal(now, DateTime))


def outbox_from_changes(d: Dialect, kind: str, key_suffix, data, where, *, as_of: date, now):
    """Outbox rows for the changes written on `as_of` (key: benefit:<id>:<key_suffix(c)>, data: data(b, c), the
    changes' criteria: where(c); `b` the benefit and `c` the change)."""
    b, c = alias_of(_B, "b"), alias_of(_C, "c")
    rows = (select(new_id(d), _s("benefit:") + b.c.id + _s(":") + key_suffix(c), _s(kind), b.c.resident_id,
                   b.c.application_id, json_object_of(d, data(b, c)), _s("pending"), literal(0, Integer),
                   literal(now, DateTime), literal(now, DateTime))
            .select_from(c.join(b, b.c.id == c.c.benefit_id)).where(c.c.as_of == as_of, *where(c)))
    return insert_ignore_into(d, _O).from_select(list(OUTBOX_COLUMNS), rows)


def registry_trace(d: Dialect, r, code: str, value, extra: dict | None = None):
    """The trace of a change read from the registry row `r`: one failed condition (unless `extra` says passed)."""
    pairs = {"code": _s(code), "passed": json_constant(d, "false"), "value": value, "source": r.c.source,
             "source_date": date_text_of(d, r.c.source_date)}
    pairs.update(extra or {})
    return json_array_of(d, json_object_of(d, pairs))


def _dead(r, as_of: date):
    return and_(r.c.death_date.is_not(None), r.c.death_date <= as_of)


def _moved_away(r, as_of: date):
    return and_(~r.c.hukou_local, or_(r.c.death_date.is_(None), r.c.death_date > as_of))


# ---- deaths -------------------------------------------------------------------------------------------------

def stop_on_death(conn, d: Dialect, as_of: date) -> dict:
    """Benefits of the deceased stop from the month after the death; open proposals and cases expire."""
    now = utcnow()
    b, r = alias_of(_B, "b"), alias_of(_R, "r")
    trace = registry_trace(d, r, "alive", _s("false"), {"death_date": date_text_of(d, r.c.death_date)})
    rows = (change_row(d, b, key=_s("stop"), kind="stopped", effective=next_month_of(d, r.c.death_date),
                       tier=b.c.tier, amount=literal(0, Integer), reason="death", as_of=as_of, trace=trace, now=now)
            .select_from(b.join(r, r.c.id == b.c.resident_id)).where(b.c.state.in_(OPEN_BENEFIT), _dead(r, as_of)))
    stopped = max(conn.execute(change_insert(d, rows)).rowcount, 0)
    rd = alias_of(_R, "r")
    death_month = month_of(d, rd.c.death_date)
    end_month = (select(case((and_(_B.c.end_month.is_not(None), _B.c.end_month < death_month), _B.c.end_month),
                             else_=death_month)).where(rd.c.id == _B.c.resident_id).scalar_subquery())
    conn.execute(update(_B).where(_B.c.state.in_(OPEN_BENEFIT), _B.c.resident_id.in_(
        select(_R.c.id).where(_dead(_R, as_of)))).values(state="stopped", updated_at=now, end_month=end_month))
    expired = _expire_cases(conn, now, "deceased", lambda: select(_R.c.id).where(_dead(_R, as_of)))
    notify_after_death(conn, d, as_of)  # the family's one 身后一件事 message, in the same transaction
    return {"stopped_death": stopped, "expired_death": expired}


def _expire_cases(conn, now, reason: str, residents) -> int:
    """Open proposals and cases of `residents()` (a select of resident ids) expire; their open tasks close."""
    # applications about a deceased person (Program.about_the_deceased, e.g. a funeral subsidy) are not expired
    keep = [p.code for p in programs.PROGRAMS.values() if p.about_the_deceased and reason == "deceased"]
    kept = [_A.c.program.not_in(keep)] if keep else []
    n = conn.execute(update(_A).where(_A.c.state.in_(case_states.sources_of("expired")), *kept,
                                      _A.c.resident_id.in_(residents()))
                     .values(state="expired", decision=reason, updated_at=now)).rowcount
    kept_tasks = [or_(_T.c.application_id.is_(None),
                      _T.c.application_id.not_in(select(_A.c.id).where(_A.c.program.in_(keep))))] if keep else []
    conn.execute(update(_T).where(_T.c.state == "open", _T.c.kind.in_(("home_help", "review", "home_visit")),
                                  *kept_tasks, _T.c.resident_id.in_(residents()))
                 .values(state="cancelled", closed_at=now))
    return max(n, 0)


# ---- moves out of the city ----------------------------------------------------------------------------------

def _moved_on(r, as_of: date):
    """The latest move out of the city by `as_of` of the resident row `r` (`as_of` when the registry lost it)."""
    m = alias_of(_M, "m")
    latest = select(func.max(m.c.move_date)).where(m.c.resident_id == r.c.id, m.c.direction == "out",
                                                    m.c.move_date <= as_of).scalar_subquery()
    return func.coalesce(latest, literal(as_of, Date), type_=Date)


def suspend_on_move_out(conn, d: Dialect, as_of: date) -> dict:
    """Benefits of residents whose hukou left the city are suspended from the month after the move."""
    now = utcnow()
    b, r = alias_of(_B, "b"), alias_of(_R, "r")
    moved = _moved_on(r, as_of)
    trace = registry_trace(d, r, "hukou_local", _s("false"), {"move_date": date_text_of(d, moved)})
    rows = (change_row(d, b, key=_s("suspend:") + date_str(d, moved), kind="suspended",
                       effective=next_month_of(d, moved), tier=b.c.tier, amount=literal(0, Integer),
                       reason="moved_out", as_of=as_of, trace=trace, now=now)
            .select_from(b.join(r, r.c.id == b.c.resident_id)).where(b.c.state == "active", _moved_away(r, as_of)))
    suspended = max(conn.execute(change_insert(d, rows)).rowcount, 0)
    rd = alias_of(_R, "r")
    end_month = select(month_of(d, _moved_on(rd, as_of))).where(rd.c.id == _B.c.resident_id).scalar_subquery()
    conn.execute(update(_B).where(_B.c.state == "active", _B.c.resident_id.in_(
        select(_R.c.id).where(_moved_away(_R, as_of)))).values(state="suspended", updated_at=now, end_month=end_month))
    conn.execute(outbox_from_changes(
        d, "benefit_stopped", lambda c: _s("suspended:") + c.c.effective_month,
        lambda b, c: {"program": b.c.program, "reason": _s("moved_out"), "effective_month": c.c.effective_month,
                      "last_month": b.c.end_month},
        lambda c: (c.c.kind == "suspended", c.c.reason == "moved_out"), as_of=as_of, now=now))
    expired = _expire_cases(conn, now, "moved_out", lambda: select(_R.c.id).where(~_R.c.hukou_local))
    return {"suspended_move": suspended, "expired_move": expired}


# ---- moves back into the city -------------------------------------------------------------------------------

def resume_on_move_in(conn, d: Dialect, as_of: date) -> dict:
    """A suspended benefit of a program that resumes on moving back (Program.resume_on_move_in) is active again
    from the month after the hukou moved back into the city (the latest move in after the suspension); the months
    away stay unpaid (flows.payroll reads the changes)."""
    resumable = [p.code for p in programs.PROGRAMS.values() if p.resume_on_move_in]
    if not resumable:
        return {"resumed_move_in": 0}
    now = utcnow()
    b, r, m, m2 = alias_of(_B, "b"), alias_of(_R, "r"), alias_of(_M, "m"), alias_of(_M, "m2")
    last_out = select(func.max(m2.c.move_date)).where(m2.c.resident_id == r.c.id,
                                                      m2.c.direction == "out").correlate(r).scalar_subquery()
    back = select(func.max(m.c.move_date)).where(m.c.resident_id == r.c.id, m.c.direction == "in",
                                                 m.c.move_date <= as_of, m.c.move_date >= last_out).scalar_subquery()
    trace = registry_trace(d, r, "hukou_local", _s("true"), {"passed": json_constant(d, "true"),
                                                             "move_date": date_text_of(d, back)})
    rows = (change_row(d, b, key=_s("resume:") + date_str(d, back), kind="resumed",
                       effective=next_month_of(d, back), tier=b.c.tier, amount=b.c.monthly_amount_fen,
                       reason="moved_in", as_of=as_of, trace=trace, now=now)
            .select_from(b.join(r, r.c.id == b.c.resident_id))
            .where(b.c.program.in_(resumable), b.c.state == "suspended", r.c.hukou_local,
                   or_(r.c.death_date.is_(None), r.c.death_date > as_of), back.is_not(None)))
    resumed = max(conn.execute(change_insert(d, rows)).rowcount, 0)
    conn.execute(update(_B).where(_B.c.state == "suspended", _B.c.id.in_(
        select(_C.c.benefit_id).where(_C.c.as_of == as_of, _C.c.kind == "resumed")))
        .values(state="active", end_month=None, updated_at=now))
    conn.execute(outbox_from_changes(
        d, "benefit_resumed", lambda c: _s("resumed:") + c.c.effective_month,
        lambda b, c: {"program": b.c.program, "reason": _s("moved_in"), "effective_month": c.c.effective_month,
                      "monthly_amount_fen": c.c.monthly_amount_fen},
        lambda c: (c.c.kind == "resumed",), as_of=as_of, now=now))
    return {"resumed_move_in": resumed}


# ---- certificates and household benefits ------------------------------------------------------------

def in_household_benefit(r, household_program: str):
    """A member of the household of the resident row `r` receives the benefit of `household_program`: household
    first (index on household_id), then the member's benefit (unique index on program, resident)."""
    rd, bd = alias_of(_R, "rd"), alias_of(_B, "bd")
    receiving = exists_where(bd.c.program == household_program, bd.c.resident_id == rd.c.id, bd.c.state == "active")
    return exists_where(rd.c.household_id == r.c.household_id, receiving)


def _valid_cert(resident_id, as_of: date, max_grade: int):
    c2 = alias_of(_DC, "c2")
    return exists_where(c2.c.resident_id == resident_id, c2.c.issue_date <= as_of, c2.c.expiry_date >= as_of,
                        c2.c.grade <= int(max_grade))


def _last_expiry(resident_id, as_of: date):
    c = alias_of(_DC, "c")
    return select(func.max(c.c.expiry_date)).where(c.c.resident_id == resident_id,
                                                   c.c.expiry_date < as_of).scalar_subquery()


def stop_on_certificate_expiry(conn, d: Dialect, as_of: date) -> dict:
    """A certificate-based benefit (Program.certificate_based) stops from the month after the last valid
    certificate expired."""
    now = utcnow()
    total = 0
    for program in programs.PROGRAMS.values():
        if not program.certificate_based:
            continue
        max_grade = program.parameters["max_grade"].at(max(as_of, program.parameters["start_date"]))
        b, r = alias_of(_B, "b"), alias_of(_R, "r")
        trace = json_array_of(d, json_object_of(d, {
            "code": _s("certificate_valid"), "passed": json_constant(d, "false"),
            "value": date_text_of(d, _last_expiry(r.c.id, as_of)), "source": _s("disabled_persons_federation"),
            "source_date": _s(as_of.isoformat())}))
        effective = func.coalesce(next_month_of(d, _last_expiry(b.c.resident_id, as_of)), _s(next_month(as_of)))
        rows = (change_row(d, b, key=_s("stop"), kind="stopped", effective=effective, tier=b.c.tier,
                           amount=literal(0, Integer), reason="certificate_expired", as_of=as_of, trace=trace, now=now)
                .select_from(b.join(r, r.c.id == b.c.resident_id))
                .where(b.c.program == program.code, b.c.state == "active",
                       ~_valid_cert(b.c.resident_id, as_of, max_grade)))
        total += max(conn.execute(change_insert(d, rows)).rowcount, 0)
        end_month = func.coalesce(month_of(d, _last_expiry(_B.c.resident_id, as_of)), _s(month_of_date(as_of)))
        conn.execute(update(_B).where(_B.c.program == program.code, _B.c.state == "active",
                                      ~_valid_cert(_B.c.resident_id, as_of, max_grade))
                     .values(state="stopped", updated_at=now, end_month=end_month))
    conn.execute(outbox_from_changes(
        d, "benefit_stopped", lambda c: _s("stopped"),
        lambda b, c: {"program": b.c.program, "reason": _s("certificate_expired"), "last_month": b.c.end_month},
        lambda c: (c.c.change_key == "stop", c.c.reason == "certificate_expired"), as_of=as_of, now=now))
    return {"stopped_certificate": total}


def stop_without_household_benefit(conn, d: Dialect, as_of: date) -> dict:
    """A benefit that needs a household member receiving another program's benefit
    (Program.requires_household_benefit) stops from the next month once no member does."""
    counts = {}
    now = utcnow()
    for program in programs.PROGRAMS.values():
        household_program = program.requires_household_benefit
        if not household_program:
            continue
        reason = f"{household_program}_ended"
        fact, source = program.household_fact  # the condition of its rule and where it comes from
        b, r = alias_of(_B, "b"), alias_of(_R, "r")
        trace = json_array_of(d, json_object_of(d, {"code": _s(fact), "passed": json_constant(d, "false"),
                                                    "value": _s("false"), "source": _s(source),
                                                    "source_date": _s(as_of.isoformat())}))
        rows = (change_row(d, b, key=_s("stop"), kind="stopped", effective=_s(next_month(as_of)), tier=b.c.tier,
                           amount=literal(0, Integer), reason=reason, as_of=as_of, trace=trace, now=now)
                .select_from(b.join(r, r.c.id == b.c.resident_id))
                .where(b.c.program == program.code, b.c.state == "active",
                       ~in_household_benefit(r, household_program)))
        n = conn.execute(change_insert(d, rows)).rowcount
        conn.execute(update(_B).where(_B.c.id.in_(select(_C.c.benefit_id).where(_C.c.as_of == as_of,
                                                                                _C.c.reason == reason)),
                                      _B.c.state == "active")
                     .values(state="stopped", updated_at=now, end_month=month_of_date(as_of)))
        conn.execute(outbox_from_changes(
            d, "benefit_stopped", lambda c: _s("stopped"),
            lambda b, c: {"program": b.c.program, "reason": c.c.reason, "last_month": b.c.end_month},
            lambda c, reason=reason: (c.c.change_key == "stop", c.c.reason == reason), as_of=as_of, now=now))
        counts[f"stopped_{reason}"] = counts.get(f"stopped_{reason}", 0) + max(n, 0)
    return counts


# ---- reminders and the community worker -----------------------------------------------------------------------

def remind_and_escalate(conn, d: Dialect, as_of: date) -> dict:
    """Reminders on day 3 and day 10 of an unanswered proposal, then a home-help task for the community worker."""
    now = utcnow()
    counts = {}
    a, r, t = alias_of(_A, "a"), alias_of(_R, "r"), alias_of(_T, "t")
    for day in REMINDER_DAYS:
        rows = (select(new_id(d), _s("application:") + a.c.id + _s(f":reminder:{day}"),
                       literal("reminder", String), a.c.resident_id, a.c.id, json_object_of(d, {"program": a.c.program,
                                                                   "day": literal(day, Integer)}),
                       _s("pending"), literal(0, Integer), literal(now, DateTime), literal(now, DateTime))
                .where(a.c.state == "proposed", a.c.as_of <= as_of - timedelta(days=day)))
        n = conn.execute(insert_ignore_into(d, _O).from_select(list(OUTBOX_COLUMNS), rows)).rowcount
        counts[f"reminders_day{day}"] = max(n, 0)
    due = utcnow() + timedelta(days=HOME_HELP_DUE_DAYS)
    details = json_object_of(d, {"program": a.c.program, "reason": _s("proposal_unanswered"),
                                 "proposed_on": date_text_of(d, a.c.as_of),
                                 "checklist": json_constant(d, HOME_HELP_CHECKLIST)})
    rows = (select(new_id(d), _s("home_help"), _s("open"), a.c.resident_id, a.c.id, null(), r.c.district_code,
                   r.c.street_code, r.c.community_code, details, _s("home_help:") + a.c.id, literal(due, DateTime),
                   literal(now, DateTime))
            .select_from(a.join(r, r.c.id == a.c.resident_id))
            .where(a.c.state == "proposed", a.c.as_of <= as_of - timedelta(days=HOME_HELP_DAY)))
    n = conn.execute(insert_ignore_into(d, _T).from_select(
        ["id", "kind", "state", "resident_id", "application_id", "account_id", "district_code", "street_code",
         "community_code", "details", "dedupe_key", "due_at", "created_at"], rows)).rowcount
    counts["home_help_tasks"] = max(n, 0)
    rows = (select(new_id(d), _s("application:") + t.c.application_id + _s(":home_visit_scheduled"),
                   literal("home_visit_scheduled", String), t.c.resident_id, t.c.application_id,
                   json_object_of(d, {"program": a.c.program, "community_code": t.c.community_code}),
                   _s("pending"), literal(0, Integer), literal(now, DateTime), literal(now, DateTime))
            .select_from(t.join(a, a.c.id == t.c.application_id))
            .where(t.c.kind == "home_help", t.c.created_at == now))
    conn.execute(insert_ignore_into(d, _O).from_select(list(OUTBOX_COLUMNS), rows))
    return counts


JOBS = (reprice_on_member_departure, stop_on_death, suspend_on_move_out, resume_on_move_in, stop_on_certificate_expiry,
        remind_certificate_expiry, stop_without_household_benefit, remind_and_escalate)


def run_daily(cfg, as_of: date, engine=None) -> LifecycleResult:
    """Run every lifecycle job for `as_of`, each in its own transaction."""
    started = time.perf_counter()
    engine = engine or make_engine(cfg.database_url)
    d = Dialect(engine.dialect.name)
    result = LifecycleResult(as_of)
    for job in JOBS:
        with engine.begin() as conn:
            result.counts.update(job(conn, d, as_of))
    for program in programs.PROGRAMS.values():  # the programs' own daily steps (flows.programs.base.daily)
        if program.daily:
            with engine.begin() as conn:
                result.counts.update(program.hook("daily")(conn, d, as_of))
    with engine.begin() as conn:  # after the programs' steps: the 身后一件事 message names what is left to confirm
        result.counts.update(notify_after_death(conn, d, as_of))
    result.seconds = time.perf_counter() - started
    return result
