"""Supervision (监督制约, issue 13 item 3): what a supervisor sees of her jurisdiction — open work per step and
office with its deadline state, overdue work and who holds it, median working days per step, staff look-ups
and reveals per purpose and per staff member per day (outliers marked), the audit chain's last verification,
the month's roll sign-off — and bulk reassignment of an absent worker's tasks. Generic: no program is named."""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.authz import Caller, jurisdiction_clause
from app.models import Account, Application, AuditEvent, Resident, StaffMember, StaffTask, StepDeadline
from flows import letters, workdays
from flows.dates import shanghai_date
from flows.workbench import badge

LOOKUP_ACTIONS = ("staff.resident_search", "staff.resident_lookup", "staff.resident_reveal")
ACTIVITY_DAYS = 14
# A staff member's day is an outlier when she looked up at least OUTLIER_MIN times and more than OUTLIER_FACTOR ×
# the median of the other staff-days of the jurisdiction in the window.
OUTLIER_FACTOR, OUTLIER_MIN = 3, 10


def _tasks(session: Session, caller: Caller):
    return session.scalars(select(StaffTask).where(
        StaffTask.state == "open",
        jurisdiction_clause(caller, StaffTask.district_code, StaffTask.street_code, StaffTask.community_code))
        .order_by(StaffTask.due_at.is_(None), StaffTask.due_at, StaffTask.id)).all()


def dashboard(session: Session, caller: Caller, today: date, *, audit_anchor_path: str | None = None) -> dict:
    tasks = _tasks(session, caller)
    names = {i: d or u for i, d, u in session.execute(select(StaffMember.id, StaffMember.display_name,
                                                                StaffMember.username)).all()}
    grid: dict[tuple, Counter] = defaultdict(Counter)
    overdue = []
    for task in tasks:
        due_on = shanghai_date(task.due_at) if task.due_at else None
        state, left = badge(shanghai_date(task.created_at), due_on, today)
        grid[(task.street_code or task.district_code, task.kind)][state] += 1
        if state == "overdue":
            overdue.append({"task_id": task.id, "kind": task.kind, "office": task.street_code or task.district_code,
                            "application_id": task.application_id, "due_on": due_on,
                            "working_days_overdue": -left, "claimed_by": task.claimed_by,
                            "responsible": (names.get(task.claimed_by) or task.claimed_by) if task.claimed_by
                            else None})
    per_step = [{"office": office, "step": kind, **{b: counts.get(b, 0) for b in ("on_track", "at_risk", "overdue",
                                                                                   "none")}}
                for (office, kind), counts in sorted(grid.items())]
    return {"today": today, "per_step": per_step, "overdue": overdue, "median_days": median_days(session, caller),
            "activity": activity(session, caller, today), "audit": audit_state(session, audit_anchor_path),
            "staff": [{"id": m.id, "name": m.display_name or m.username, "role": m.role}
                      for m in session.scalars(select(StaffMember).join(Account, Account.id == StaffMember.account_id)
                                               .where(StaffMember.district_code == caller.district_code,
                                                      Account.disabled_at.is_(None))
                                               .order_by(StaffMember.username)).all()],
            "roll": roll_state(session, today), "trips_this_month": trips_this_month(session, today),
            # rejections and stops not sent (送达) within 3 working days (flows.letters)
            "letters_overdue": letters.waiting(session, caller, today, overdue_only=True),
            # appeals per office and their outcomes (flows.appeals): received, reviewing, overdue, each outcome
            "appeals": appeals_per_office(session, caller)}


def trips_this_month(session: Session, today: date) -> int:
    """Citizens' trips to an office this month: one per resident and day at a counter (flows.counter)."""
    from flows import counter

    return counter.trips(session, today.replace(day=1), today)


def appeals_per_office(session: Session, caller: Caller) -> list[dict]:
    """Appeals (复核, flows.appeals) per office (the resident's street) in the caller's jurisdiction: open ones by
    state, decided ones by outcome, and how many are past their limit."""
    from app.models import Appeal
    from flows.dates import today_shanghai

    today = today_shanghai()
    rows = session.execute(select(Resident.street_code, Appeal.state, Appeal.outcome, Appeal.due_on)
                           .join(Resident, Resident.id == Appeal.resident_id)
                           .where(jurisdiction_clause(caller, Resident.district_code, Resident.street_code,
                                                      Resident.community_code))).all()
    out: dict[str, Counter] = defaultdict(Counter)
    for street, state, outcome, due_on in rows:
        out[street][outcome if state == "decided" else state] += 1
        if state != "decided" and due_on < today:
            out[street]["overdue"] += 1
    keys = ("received", "reviewing", "overdue", "upheld", "partially_upheld", "rejected", "withdrawn")
    return [{"office": street, **{k: counts.get(k, 0) for k in keys}} for street, counts in sorted(out.items())]


def median_days(session: Session, caller: Caller) -> list[dict]:
    """Median working days a step took, over the steps done in the caller's jurisdiction."""
    rows = session.execute(select(StepDeadline.step, StepDeadline.started_on, StepDeadline.done_on)
                           .join(Application, Application.id == StepDeadline.application_id)
                           .join(Resident, Resident.id == Application.resident_id)
                           .where(StepDeadline.done_on.is_not(None),
                                  jurisdiction_clause(caller, Resident.district_code, Resident.street_code,
                                                      Resident.community_code))).all()
    days: dict[str, list[int]] = defaultdict(list)
    for step, started, done in rows:
        days[step].append(workdays.working_days_between(started, done))
    return [{"step": step, "median_working_days": float(statistics.median(v)), "cases": len(v)}
            for step, v in sorted(days.items())]


def activity(session: Session, caller: Caller, today: date) -> list[dict]:
    """Look-ups and reveals per day, staff member and purpose over the last ACTIVITY_DAYS days; outliers marked."""
    since = datetime(today.year, today.month, today.day) - timedelta(days=ACTIVITY_DAYS)
    staff = {f"staff:{s.id}": s for s in session.scalars(select(StaffMember).where(
        jurisdiction_clause(caller, StaffMember.district_code, StaffMember.street_code,
                            StaffMember.community_code))).all()}
    rows = session.execute(select(AuditEvent.ts, AuditEvent.actor, AuditEvent.action, AuditEvent.details)
                           .where(AuditEvent.action.in_(LOOKUP_ACTIONS), AuditEvent.ts >= since,
                                  AuditEvent.actor.in_(list(staff) or [""]))).all()
    counts: Counter = Counter()
    for ts, actor, action, details in rows:
        purpose = (details or {}).get("purpose") or "none"
        counts[(shanghai_date(ts).isoformat(), actor, purpose, action.removeprefix("staff.resident_"))] += 1
    per_day: Counter = Counter()
    for (day, actor, _p, _a), n in counts.items():
        per_day[(day, actor)] += n
    def typical(key) -> float:
        others = [n for k, n in per_day.items() if k != key]
        return statistics.median(others) if others else 0

    out = []
    for (day, actor, purpose, kind), n in sorted(counts.items()):
        member = staff[actor]
        total = per_day[(day, actor)]
        out.append({"day": day, "staff_id": member.id, "staff_name": member.display_name or member.username,
                    "purpose": purpose, "kind": kind, "count": n, "day_total": total,
                    "outlier": total >= OUTLIER_MIN and total > OUTLIER_FACTOR * typical((day, actor))})
    return out


def audit_state(session: Session, anchor_path: str | None) -> dict:
    """The last `zerotrip audit verify` (recorded in the chain) and the last anchor written outside the DB."""
    from app.audit import read_anchors

    last = session.scalars(select(AuditEvent).where(AuditEvent.action == "audit.verify")
                           .order_by(AuditEvent.seq.desc()).limit(1)).first()
    anchors = read_anchors(anchor_path) if anchor_path else []
    return {"last_verified_at": last.ts if last else None, "last_verify_ok": (last.result == "ok") if last else None,
            "last_anchor_at": anchors[-1]["ts"] if anchors else None}


def roll_state(session: Session, today: date) -> dict:
    from flows import payroll_gate

    return payroll_gate.status(session, f"{today.year:04d}-{today.month:02d}")


def tasks_held_by(session: Session, caller: Caller, staff_id: str) -> list[StaffTask]:
    """Open tasks claimed by one staff member, in the caller's jurisdiction (bulk reassignment)."""
    return list(session.scalars(select(StaffTask).where(
        StaffTask.state == "open", StaffTask.claimed_by == staff_id,
        jurisdiction_clause(caller, StaffTask.district_code, StaffTask.street_code, StaffTask.community_code))
        .order_by(StaffTask.id)).all())
