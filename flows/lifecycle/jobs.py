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

from app.db import make_engine, utcnow
from app.sql import (
    OUTBOX_INTO,
    Dialect,
    json_array,
    month_of,
    next_month_of,
    stmt,
)
from flows import case_states, programs
from flows.lifecycle.after_death import notify_after_death
from flows.lifecycle.certificate_reminders import remind_certificate_expiry
from flows.lifecycle.household import reprice_on_member_departure

REMINDER_DAYS = (3, 10)
HOME_HELP_DAY = 14
HOME_HELP_DUE_DAYS = 5
PROPOSAL_OPEN = ("proposed",)
IN_PROGRESS = case_states.IN_PROGRESS  # open cases (flows.case_states)


@dataclass
class LifecycleResult:
    as_of: date
    counts: dict = field(default_factory=dict)
    seconds: float = 0.0


def _change_insert(d: Dialect) -> tuple[str, str]:
    prefix, suffix = d.insert_ignore("benefit_changes")
    cols = ("(id, benefit_id, change_key, kind, effective_month, old_tier, old_amount_fen, tier, monthly_amount_fen, "
            "reason, as_of, trace, created_at)")
    return f"{prefix} {cols} ", suffix


def _outbox_from_changes(d: Dialect, kind: str, key_suffix: str, data: dict, where: str) -> str:
    """Outbox rows for the changes written today (key: benefit:<id>:<key_suffix>)."""
    prefix, suffix = d.insert_ignore("outbox")
    return (
        f"{prefix} {OUTBOX_INTO}"
        f"SELECT {d.new_id()}, 'benefit:' || b.id || '\\:' || {key_suffix}, '{kind}', b.resident_id, "
        f"b.application_id, {d.json_object(data)}, 'pending', 0, :now, :now "
        f"FROM benefit_changes c JOIN benefits b ON b.id = c.benefit_id WHERE c.as_of = :as_of AND {where}{suffix}"
    )


def _registry_trace(d: Dialect, code: str, value: str, extra: dict | None = None) -> str:
    pairs = {"code": f"'{code}'", "passed": d.json_text("false"), "value": value,
             "source": "r.source", "source_date": d.date_text("r.source_date")}
    pairs.update(extra or {})
    return json_array(d, d.json_object(pairs))


# ---- deaths -------------------------------------------------------------------------------------------------

def stop_on_death(conn, d: Dialect, as_of: date) -> dict:
    """Benefits of the deceased stop from the month after the death; open proposals and cases expire."""
    params = {"as_of": as_of, "now": utcnow()}
    head, tail = _change_insert(d)
    trace = _registry_trace(d, "alive", "'false'", {"death_date": d.date_text("r.death_date")})
    sql = (head + f"SELECT {d.new_id()}, b.id, 'stop', 'stopped', {next_month_of(d, 'r.death_date')}, b.tier, "
           f"b.monthly_amount_fen, b.tier, 0, 'death', :as_of, {trace}, :now "
           "FROM benefits b JOIN residents r ON r.id = b.resident_id "
           "WHERE b.state IN ('active', 'suspended') AND r.death_date IS NOT NULL AND r.death_date <= :as_of" + tail)
    stopped = max(conn.execute(stmt(sql, params), params).rowcount, 0)
    death_month = month_of(d, "r.death_date")
    conn.execute(stmt(
        "UPDATE benefits SET state = 'stopped', updated_at = :now, end_month = ("
        f"SELECT CASE WHEN benefits.end_month IS NOT NULL AND benefits.end_month < {death_month} "
        f"THEN benefits.end_month ELSE {death_month} END FROM residents r WHERE r.id = benefits.resident_id) "
        "WHERE state IN ('active', 'suspended') AND resident_id IN "
        "(SELECT id FROM residents WHERE death_date IS NOT NULL AND death_date <= :as_of)", params), params)
    expired = _expire_cases(conn, d, params, "deceased",
                            "SELECT id FROM residents WHERE death_date IS NOT NULL AND death_date <= :as_of")
    notify_after_death(conn, d, as_of)  # the family's one 身后一件事 message, in the same transaction
    return {"stopped_death": stopped, "expired_death": expired}


def _expire_cases(conn, d: Dialect, params: dict, reason: str, residents_sql: str) -> int:
    states = ", ".join(f"'{s}'" for s in case_states.sources_of("expired"))
    # applications about a deceased person (Program.about_the_deceased, e.g. a funeral subsidy) are not expired
    keep = [p.code for p in programs.PROGRAMS.values() if p.about_the_deceased and reason == "deceased"]
    keep_sql = ("AND program NOT IN (" + ", ".join(f":keep{i}" for i in range(len(keep))) + ") ") if keep else ""
    params = {**params, **{f"keep{i}": code for i, code in enumerate(keep)}}
    n = conn.execute(stmt(
        f"UPDATE applications SET state = 'expired', decision = '{reason}', updated_at = :now "
        f"WHERE state IN ({states}) {keep_sql}AND resident_id IN ({residents_sql})", params), params).rowcount
    keep_tasks = (f"AND (application_id IS NULL OR application_id NOT IN (SELECT id FROM applications WHERE "
                  f"program IN ({keep_sql[len('AND program NOT IN ('):-2]}))) ") if keep else ""
    conn.execute(stmt(
        "UPDATE staff_tasks SET state = 'cancelled', closed_at = :now WHERE state = 'open' "
        f"AND kind IN ('home_help', 'review', 'home_visit') {keep_tasks}AND resident_id IN ({residents_sql})",
        params), params)
    return max(n, 0)


# ---- moves out of the city ----------------------------------------------------------------------------------

def suspend_on_move_out(conn, d: Dialect, as_of: date) -> dict:
    """Benefits of residents whose hukou left the city are suspended from the month after the move."""
    params = {"as_of": as_of, "now": utcnow()}
    moved = ("COALESCE((SELECT MAX(m.move_date) FROM hukou_moves m WHERE m.resident_id = r.id "
             "AND m.direction = 'out' AND m.move_date <= :as_of), :as_of)")
    head, tail = _change_insert(d)
    trace = _registry_trace(d, "hukou_local", "'false'", {"move_date": d.date_text(moved)})
    where = ("b.state = 'active' AND NOT r.hukou_local AND (r.death_date IS NULL OR r.death_date > :as_of)")
    sql = (head + f"SELECT {d.new_id()}, b.id, 'suspend:' || {d.date_text(moved)}, 'suspended', "
           f"{next_month_of(d, moved)}, b.tier, b.monthly_amount_fen, b.tier, 0, 'moved_out', :as_of, {trace}, :now "
           f"FROM benefits b JOIN residents r ON r.id = b.resident_id WHERE {where}" + tail)
    suspended = max(conn.execute(stmt(sql, params), params).rowcount, 0)
    conn.execute(stmt(
        f"UPDATE benefits SET state = 'suspended', updated_at = :now, end_month = (SELECT {month_of(d, moved)} "
        "FROM residents r WHERE r.id = benefits.resident_id) "
        "WHERE state = 'active' AND resident_id IN (SELECT id FROM residents r WHERE NOT r.hukou_local "
        "AND (r.death_date IS NULL OR r.death_date > :as_of))", params), params)
    conn.execute(stmt(_outbox_from_changes(
        d, "benefit_stopped", "'suspended\\:' || c.effective_month",
        {"program": "b.program", "reason": "'moved_out'", "effective_month": "c.effective_month",
         "last_month": "b.end_month"},
        "c.kind = 'suspended' AND c.reason = 'moved_out'"), params), params)
    expired = _expire_cases(conn, d, params, "moved_out",
                            "SELECT id FROM residents WHERE NOT hukou_local")
    return {"suspended_move": suspended, "expired_move": expired}


# ---- moves back into the city -------------------------------------------------------------------------------

def resume_on_move_in(conn, d: Dialect, as_of: date) -> dict:
    """A suspended benefit of a program that resumes on moving back (Program.resume_on_move_in) is active again
    from the month after the hukou moved back into the city (the latest move in after the suspension); the months
    away stay unpaid (flows.payroll reads the changes)."""
    resumable = [p.code for p in programs.PROGRAMS.values() if p.resume_on_move_in]
    if not resumable:
        return {"resumed_move_in": 0}
    params = {"as_of": as_of, "now": utcnow()}
    programs_in = ", ".join(f"'{p}'" for p in resumable)
    back = ("(SELECT MAX(m.move_date) FROM hukou_moves m WHERE m.resident_id = r.id AND m.direction = 'in' "
            "AND m.move_date <= :as_of AND m.move_date >= (SELECT MAX(m2.move_date) FROM hukou_moves m2 "
            "WHERE m2.resident_id = r.id AND m2.direction = 'out'))")
    head, tail = _change_insert(d)
    trace = _registry_trace(d, "hukou_local", "'true'", {"passed": d.json_text("true"),
                                                         "move_date": d.date_text(back)})
    where = (f"b.program IN ({programs_in}) AND b.state = 'suspended' AND r.hukou_local "
             f"AND (r.death_date IS NULL OR r.death_date > :as_of) AND {back} IS NOT NULL")
    sql = (head + f"SELECT {d.new_id()}, b.id, 'resume:' || {d.date_text(back)}, 'resumed', "
           f"{next_month_of(d, back)}, b.tier, b.monthly_amount_fen, b.tier, b.monthly_amount_fen, 'moved_in', "
           f":as_of, {trace}, :now FROM benefits b JOIN residents r ON r.id = b.resident_id WHERE {where}" + tail)
    resumed = max(conn.execute(stmt(sql, params), params).rowcount, 0)
    conn.execute(stmt(
        "UPDATE benefits SET state = 'active', end_month = NULL, updated_at = :now WHERE state = 'suspended' "
        "AND id IN (SELECT c.benefit_id FROM benefit_changes c WHERE c.as_of = :as_of AND c.kind = 'resumed')",
        params), params)
    conn.execute(stmt(_outbox_from_changes(
        d, "benefit_resumed", "'resumed\\:' || c.effective_month",
        {"program": "b.program", "reason": "'moved_in'", "effective_month": "c.effective_month",
         "monthly_amount_fen": "c.monthly_amount_fen"},
        "c.kind = 'resumed'"), params), params)
    return {"resumed_move_in": resumed}


# ---- certificates and household benefits ------------------------------------------------------------

# A member of the household of `r` receives the benefit of the program bound as :household_program: household
# first (index on household_id), then the member's benefit (unique index on program, resident).
IN_HOUSEHOLD_BENEFIT = (
    "EXISTS (SELECT 1 FROM residents rd WHERE rd.household_id = r.household_id AND EXISTS ("
    "SELECT 1 FROM benefits bd WHERE bd.program = :household_program AND bd.resident_id = rd.id "
    "AND bd.state = 'active'))")

def _valid_cert(max_grade: int) -> str:
    return ("EXISTS (SELECT 1 FROM disability_certificates c2 WHERE c2.resident_id = b.resident_id "
            f"AND c2.issue_date <= :as_of AND c2.expiry_date >= :as_of AND c2.grade <= {int(max_grade)})")


def stop_on_certificate_expiry(conn, d: Dialect, as_of: date) -> dict:
    """A certificate-based benefit (Program.certificate_based) stops from the month after the last valid
    certificate expired."""
    params = {"as_of": as_of, "now": utcnow()}
    total = 0
    for program in programs.PROGRAMS.values():
        if not program.certificate_based:
            continue
        max_grade = program.parameters["max_grade"].at(max(as_of, program.parameters["start_date"]))
        expired = ("(SELECT MAX(c.expiry_date) FROM disability_certificates c WHERE c.resident_id = b.resident_id "
                   "AND c.expiry_date < :as_of)")
        expired_r = expired.replace("b.resident_id", "r.id")
        head, tail = _change_insert(d)
        trace = json_array(d, d.json_object({
            "code": "'certificate_valid'", "passed": d.json_text("false"), "value": d.date_text(expired_r),
            "source": "'disabled_persons_federation'", "source_date": ":as_of_text"}))
        where = f"b.program = '{program.code}' AND b.state = 'active' AND NOT {_valid_cert(max_grade)}"
        sql = (head + f"SELECT {d.new_id()}, b.id, 'stop', 'stopped', "
               f"COALESCE({next_month_of(d, expired)}, {next_month_of(d, ':as_of')}), b.tier, b.monthly_amount_fen, "
               f"b.tier, 0, 'certificate_expired', :as_of, {trace}, :now "
               f"FROM benefits b JOIN residents r ON r.id = b.resident_id WHERE {where}" + tail)
        p = {**params, "as_of_text": as_of.isoformat()}
        total += max(conn.execute(stmt(sql, p), p).rowcount, 0)
        conn.execute(stmt(
            f"UPDATE benefits SET state = 'stopped', updated_at = :now, end_month = COALESCE("
            f"{month_of(d, expired.replace('b.resident_id', 'benefits.resident_id'))}, {month_of(d, ':as_of')}) "
            f"WHERE benefits.program = '{program.code}' AND benefits.state = 'active' "
            f"AND NOT {_valid_cert(max_grade).replace('b.resident_id', 'benefits.resident_id')}", params), params)
    conn.execute(stmt(_outbox_from_changes(
        d, "benefit_stopped", "'stopped'",
        {"program": "b.program", "reason": "'certificate_expired'", "last_month": "b.end_month"},
        "c.change_key = 'stop' AND c.reason = 'certificate_expired'"), params), params)
    return {"stopped_certificate": total}


def stop_without_household_benefit(conn, d: Dialect, as_of: date) -> dict:
    """A benefit that needs a household member receiving another program's benefit
    (Program.requires_household_benefit) stops from the next month once no member does."""
    counts = {}
    for program in programs.PROGRAMS.values():
        benefit = program.requires_household_benefit
        if not benefit:
            continue
        reason = f"{benefit}_ended"
        fact, source = program.household_fact  # the condition of its rule and where it comes from
        params = {"as_of": as_of, "now": utcnow(), "household_program": benefit, "program": program.code,
                  "reason": reason, "fact_code": fact, "fact_source": source}
        head, tail = _change_insert(d)
        trace = json_array(d, d.json_object({"code": ":fact_code", "passed": d.json_text("false"),
                                             "value": "'false'", "source": ":fact_source",
                                             "source_date": ":as_of_text"}))
        where = f"b.program = :program AND b.state = 'active' AND NOT {IN_HOUSEHOLD_BENEFIT}"
        p = {**params, "as_of_text": as_of.isoformat()}
        n = conn.execute(stmt(
            head + f"SELECT {d.new_id()}, b.id, 'stop', 'stopped', {next_month_of(d, ':as_of')}, b.tier, "
            f"b.monthly_amount_fen, b.tier, 0, :reason, :as_of, {trace}, :now "
            f"FROM benefits b JOIN residents r ON r.id = b.resident_id WHERE {where}" + tail, p), p).rowcount
        conn.execute(stmt(
            f"UPDATE benefits SET state = 'stopped', updated_at = :now, end_month = {month_of(d, ':as_of')} "
            "WHERE id IN (SELECT c.benefit_id FROM benefit_changes c WHERE c.as_of = :as_of AND c.reason = :reason) "
            "AND state = 'active'", params), params)
        conn.execute(stmt(_outbox_from_changes(
            d, "benefit_stopped", "'stopped'",
            {"program": "b.program", "reason": "c.reason", "last_month": "b.end_month"},
            "c.change_key = 'stop' AND c.reason = :reason"), params), params)
        counts[f"stopped_{reason}"] = counts.get(f"stopped_{reason}", 0) + max(n, 0)
    return counts


# ---- reminders and the community worker -----------------------------------------------------------------------

def remind_and_escalate(conn, d: Dialect, as_of: date) -> dict:
    """Reminders on day 3 and day 10 of an unanswered proposal, then a home-help task for the community worker."""
    prefix, suffix = d.insert_ignore("outbox")
    params = {"as_of": as_of, "now": utcnow()}
    counts = {}
    for day in REMINDER_DAYS:
        p = {**params, "d3": as_of - timedelta(days=day)}
        n = conn.execute(stmt(
            f"{prefix} {OUTBOX_INTO}"
            f"SELECT {d.new_id()}, 'application:' || a.id || '\\:reminder\\:{day}', 'reminder', a.resident_id, a.id, "
            f"{d.json_object({'program': 'a.program', 'day': str(day)})}, 'pending', 0, :now, :now "
            f"FROM applications a WHERE a.state = 'proposed' AND a.as_of <= :d3{suffix}", p), p).rowcount
        counts[f"reminders_day{day}"] = max(n, 0)
    task_prefix, task_suffix = d.insert_ignore("staff_tasks")
    p = {**params, "d_task": as_of - timedelta(days=HOME_HELP_DAY),
         "due": utcnow() + timedelta(days=HOME_HELP_DUE_DAYS)}
    details = d.json_object({"program": "a.program", "reason": "'proposal_unanswered'",
                             "proposed_on": d.date_text("a.as_of"), "checklist": d.json_text(
                                 '["上门说明政策","核实本人意愿","协助确认或记录放弃原因"]')})
    n = conn.execute(stmt(
        f"{task_prefix} (id, kind, state, resident_id, application_id, account_id, district_code, street_code, "
        "community_code, details, dedupe_key, due_at, created_at) "
        f"SELECT {d.new_id()}, 'home_help', 'open', a.resident_id, a.id, NULL, r.district_code, r.street_code, "
        f"r.community_code, {details}, 'home_help:' || a.id, :due, :now "
        "FROM applications a JOIN residents r ON r.id = a.resident_id "
        f"WHERE a.state = 'proposed' AND a.as_of <= :d_task{task_suffix}", p), p).rowcount
    counts["home_help_tasks"] = max(n, 0)
    conn.execute(stmt(
        f"{prefix} {OUTBOX_INTO}"
        f"SELECT {d.new_id()}, 'application:' || t.application_id || '\\:home_visit_scheduled', "
        f"'home_visit_scheduled', t.resident_id, t.application_id, "
        f"{d.json_object({'program': 'a.program', 'community_code': 't.community_code'})}, 'pending', 0, :now, :now "
        "FROM staff_tasks t JOIN applications a ON a.id = t.application_id "
        f"WHERE t.kind = 'home_help' AND t.created_at = :now{suffix}", p), p)
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
