"""The income-change event (动态管理: 增发/减发/停发) for programs paid to a household case that declare it
(`Program.income_change == "recheck"`).

New income data of a member of a household with an active benefit (the economic-records import and the exchange
push both write through `flows.imports.economic.write`, which calls `on_income_change` in its transaction):

1. the program's own rule is re-run on the household's facts as of the new data (`Program.household_facts`,
   `Program.decide` with its income window ending with the newest month reported, the amounts in force next
   month), for the members who still count;
2. the same amount → one audit event `benefit.recheck` (result `unchanged`), nothing else; an open re-check of the
   case that the new data made moot is cancelled;
3. another amount, or no longer eligible → one staff task `benefit_recheck` per case (its words, the proposed
   amount or the stop and the rule's trace in `details`; new data while it is open updates it), in the pool of
   the street's reviewers. Never a silent change of payment.
4. the reviewer confirms the task (`confirm`: maker) or dismisses it; a confirmation is a maker-checker approval
   (flows.approvals, kind `benefit_recheck`) that a different person with `casework:approve` in the household's
   jurisdiction approves (`apply`): the rule is re-run on the same facts date, and the benefit is re-priced
   (`repriced`) or stopped (`stopped`, with the stop letter, flows.letters) from the month after the approval;
   the family gets the program's own words (change_texts / stop_texts) with the remedies of a decision.

Generic: no program is named here; the programs say what they do (fields and texts of flows.programs.base).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session, aliased

from app.audit import record
from app.authz import Caller, in_jurisdiction, role_allows, separation_of_duties
from app.db import utcnow
from app.errors import Conflict, Forbidden, Unprocessable
from app.models import Approval, Benefit, BenefitChange, Resident, StaffMember, StaffTask
from flows import approvals, programs, workdays
from flows.dates import month_from_index, month_index, month_of, next_month, today_shanghai
from flows.lifecycle.household import case_decision, members_here
from flows.money import yuan
from notifications.outbox import enqueue

RECHECK = "recheck"
TASK_KIND = "benefit_recheck"
APPROVAL_KIND = "benefit_recheck"
INCOME_CHANGE = "income_change"  # the change's reason when re-priced
INCOME_CHANGE_STOP = "income_change_stop"  # … when stopped
DUE_WORKING_DAYS = 10  # the street reviews a re-check within 10 working days
OUTCOMES = ("confirm", "dismiss")
_CHUNK = 500


def _reacting() -> list:
    return [p for p in programs.PROGRAMS.values() if p.income_change == RECHECK and p.household_facts is not None]


def facts_day(today: date, periods) -> date:
    """The day the rule is run as of: its income window ends with the newest month reported (the current month
    at the latest), never before today."""
    newest = max((p for p in periods if p), default="")
    if not newest:
        return today
    after = month_from_index(month_index(newest) + 1)
    return max(today, date(int(after[:4]), int(after[5:7]), 1))


def on_income_change(conn, resident_ids, today: date, periods=()) -> dict:
    """Re-check the active benefits of the programs reacting to income, for the households of `resident_ids`
    (whose income records were just written), in the caller's transaction."""
    counts = {"income_rechecked": 0, "income_unchanged": 0, "income_recheck_tasks": 0}
    ids = sorted(set(resident_ids))
    reacting = _reacting()
    if not ids or not reacting:
        return counts
    on = facts_day(today, periods)
    session = Session(bind=conn)
    try:
        for program in reacting:
            for benefit in _active_cases(session, program.code, ids):
                outcome = recheck(session, program, benefit, on, today)
                counts["income_rechecked"] += 1
                counts["income_unchanged"] += outcome == "unchanged"
                counts["income_recheck_tasks"] += outcome == "task"
        session.flush()
    finally:
        session.close()
    return counts


def _active_cases(session: Session, code: str, ids: list[int]) -> list[Benefit]:
    """The program's active benefits held by any member of these residents' households (set-based per chunk)."""
    member, holder = aliased(Resident), aliased(Resident)
    out: dict[str, Benefit] = {}
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        holders = (select(holder.id).join(member, member.household_id == holder.household_id)
                   .where(member.id.in_(chunk)))
        for b in session.scalars(select(Benefit).where(
                Benefit.program == code, Benefit.state == "active",
                or_(Benefit.resident_id.in_(chunk), Benefit.resident_id.in_(holders)))):
            out[b.id] = b
    return [out[k] for k in sorted(out)]


def _open_task(session: Session, benefit_id: str) -> StaffTask | None:
    return session.scalar(select(StaffTask).where(StaffTask.dedupe_key == _open_key(benefit_id)))


def _open_key(benefit_id: str) -> str:
    return f"recheck:{benefit_id}"


def recheck(session: Session, program, benefit: Benefit, facts_on: date, today: date) -> str:
    """One case: "unchanged", "task" (created or brought up to date) or "waiting" (a confirmed re-check waits
    for its approval: the approval re-runs the rule itself)."""
    holder = session.get(Resident, benefit.resident_id)
    here = members_here(session, holder, today) or [holder]
    effective = next_month(today)
    decision = case_decision(session, program, benefit, here, holder, effective, today, facts_on=facts_on)
    same = decision.eligible and (decision.tier, decision.monthly_amount_fen) == (benefit.tier,
                                                                                  benefit.monthly_amount_fen)
    task = _open_task(session, benefit.id)
    if same:
        record(session, actor="system", action="benefit.recheck", object_ref=f"benefit:{benefit.id}",
               result="unchanged", details={"program": program.code, "reason": INCOME_CHANGE,
                                            "facts_on": facts_on.isoformat(), "members": len(here),
                                            "monthly_amount_fen": benefit.monthly_amount_fen})
        if task is not None:  # an open re-check the new data made moot
            _close(session, task, "cancelled", {"decision": "superseded", "reason": "金额经再次核对未变化"})
        return "unchanged"
    if approvals.pending_for(session, APPROVAL_KIND, f"benefit:{benefit.id}") is not None:
        return "waiting"
    details = {"program": program.code, "benefit_id": benefit.id, "reason": INCOME_CHANGE,
               "facts_on": facts_on.isoformat(), "effective_month": effective, "members": len(here),
               "proposed": "reprice" if decision.eligible else "stop",
               "old_tier": benefit.tier, "old_amount_fen": benefit.monthly_amount_fen,
               "tier": decision.tier if decision.eligible else benefit.tier,
               "monthly_amount_fen": decision.monthly_amount_fen if decision.eligible else 0,
               "text": words(program, benefit, decision, effective, len(here)),
               "reasons": [c.citizen_text for c in decision.conditions
                           if decision.eligible or not c.passed] or [c.citizen_text for c in decision.conditions],
               "trace": decision.trace()}
    if task is not None:
        if {k: v for k, v in (task.details or {}).items() if k != "trace"} != \
                {k: v for k, v in details.items() if k != "trace"}:
            task.details = details
        return "task"
    due = workdays.add_working_days(today, DUE_WORKING_DAYS)
    session.add(StaffTask(kind=TASK_KIND, state="open", resident_id=holder.id, application_id=benefit.application_id,
                          district_code=holder.district_code, street_code=holder.street_code,
                          community_code=holder.community_code, details=details, dedupe_key=_open_key(benefit.id),
                          due_at=datetime.combine(due, time(9, 0)) - timedelta(hours=8)))
    session.flush()
    record(session, actor="system", action="benefit.recheck", object_ref=f"benefit:{benefit.id}",
           result="task", details={"program": program.code, "reason": INCOME_CHANGE, "proposed": details["proposed"],
                                   "facts_on": facts_on.isoformat()})
    return "task"


def words(program, benefit: Benefit, decision, effective: str, members: int) -> str:
    """The re-check in a sentence for the staff (the inbox and the case page)."""
    month = f"{int(effective[:4])}年{int(effective[5:7])}月"
    head = f"家庭成员收入数据更新,按{members}人重新核定{program.short_name}:"
    if not decision.eligible:
        return head + f"已不符合条件,拟自{month}起停发(现每月{yuan(benefit.monthly_amount_fen)}元)"
    return head + (f"拟自{month}起由每月{yuan(benefit.monthly_amount_fen)}元调整为每月"
                   f"{yuan(decision.monthly_amount_fen)}元")


def _close(session: Session, task: StaffTask, state: str, extra: dict) -> None:
    """Close the task and free the case's open key (a later re-check makes a new task)."""
    session.execute(update(StaffTask).where(StaffTask.id == task.id).values(
        state=state, closed_at=utcnow(), dedupe_key=f"recheck:{task.details.get('benefit_id')}:{task.id}",
        details={**(task.details or {}), **extra}).execution_options(synchronize_session=False))
    session.refresh(task)


# ---- the staff's confirmation, then the second person's approval --------------------------------------------

def handle(session: Session, task: StaffTask, staff: StaffMember, outcome: str, reason: str) -> Approval | None:
    """The reviewer's answer to an open re-check task: "confirm" proposes the change for approval by a different
    person (maker-checker); "dismiss" keeps the payment as it is. Either closes the task."""
    if task is None or task.kind != TASK_KIND or task.state != "open":
        raise Conflict("Not an open re-check task.", error_code="task_decided")
    if outcome not in OUTCOMES:
        raise Unprocessable(f"outcome must be one of {', '.join(OUTCOMES)}")
    d = task.details or {}
    decided = {"decision": outcome, "reason": reason[:500], "decided_by": staff.id,
               "decided_at": utcnow().isoformat(timespec="seconds")}
    approval = None
    if outcome == "confirm":
        approval = approvals.propose(session, APPROVAL_KIND, f"benefit:{d['benefit_id']}",
                                     {"task_id": task.id, "benefit_id": d["benefit_id"], "program": d["program"],
                                      "facts_on": d["facts_on"], "proposed": d["proposed"],
                                      "monthly_amount_fen": d["monthly_amount_fen"], "text": d.get("text"),
                                      "reason": reason[:500]}, staff)
        decided["approval_id"] = approval.id
    won = session.execute(update(StaffTask).where(StaffTask.id == task.id, StaffTask.state == "open").values(
        state="closed", closed_at=utcnow(), dedupe_key=f"recheck:{d.get('benefit_id')}:{task.id}",
        details={**d, **decided}).execution_options(synchronize_session=False)).rowcount
    session.refresh(task)
    if not won:
        raise Conflict("The task was decided already.", error_code="task_decided")
    return approval


def apply(session: Session, approval: Approval, checker: StaffMember) -> None:
    """The second person's approval: the rule re-run on the confirmed facts date at the amounts of the month after
    today, the benefit re-priced or stopped from that month, the family told in the program's words."""
    p = approval.payload or {}
    benefit = session.get(Benefit, p.get("benefit_id"))
    program = programs.get(p.get("program") or "")
    if benefit is None or program is None:
        raise Conflict("The benefit of this re-check no longer exists.", error_code="benefit_gone")
    holder = session.get(Resident, benefit.resident_id)
    caller = Caller.of_staff(checker)
    if not role_allows(checker.role, "casework:approve") or not in_jurisdiction(
            caller, holder.district_code, holder.street_code, holder.community_code):
        raise Forbidden("Approving a re-check needs casework:approve in the household's jurisdiction.",
                        error_code="approval_role")
    separation_of_duties(session, caller, "casework:approve", benefit)
    if benefit.state != "active":
        raise Conflict(f"The benefit is {benefit.state}; withdraw this re-check.", error_code="benefit_not_active")
    today = today_shanghai()
    effective = next_month(today)
    here = members_here(session, holder, today) or [holder]
    decision = case_decision(session, program, benefit, here, holder, effective, today,
                             facts_on=date.fromisoformat(p["facts_on"]))
    if decision.eligible and (decision.tier, decision.monthly_amount_fen) == (benefit.tier,
                                                                              benefit.monthly_amount_fen):
        record(session, actor=approvals.actor_of(checker), action="benefit.recheck", result="unchanged",
               object_ref=f"benefit:{benefit.id}", details={"approval": approval.id})
        return
    trace = decision.trace()
    if decision.eligible:
        session.add(BenefitChange(
            benefit_id=benefit.id, change_key=f"recheck:{approval.id}"[:40], kind="repriced",
            effective_month=effective, old_tier=benefit.tier, old_amount_fen=benefit.monthly_amount_fen,
            tier=decision.tier, monthly_amount_fen=decision.monthly_amount_fen, reason=INCOME_CHANGE, as_of=today,
            trace=trace))
        benefit.tier, benefit.monthly_amount_fen = decision.tier, decision.monthly_amount_fen
        first = trace[0] if trace else {}
        enqueue(session, kind="tier_raised", idempotency_key=f"benefit:{benefit.id}:recheck:{approval.id}",
                resident_id=holder.id, application_id=benefit.application_id,
                data={"program": program.code, "reason": INCOME_CHANGE, "tier": decision.tier,
                      "monthly_amount": yuan(decision.monthly_amount_fen), "effective_month": effective,
                      "value": first.get("value", ""), "note": "经复核按家庭收入重新核定"})
    else:
        failed = [c for c in trace if not c.get("passed")]
        session.add(BenefitChange(
            benefit_id=benefit.id, change_key="stop", kind="stopped", effective_month=effective,
            old_tier=benefit.tier, old_amount_fen=benefit.monthly_amount_fen, tier=benefit.tier,
            monthly_amount_fen=0, reason=INCOME_CHANGE_STOP, as_of=today,
            trace=failed + [c for c in trace if c.get("passed")]))
        benefit.state, benefit.end_month = "stopped", month_of(today)
        enqueue(session, kind="benefit_stopped", idempotency_key=f"benefit:{benefit.id}:stopped",
                resident_id=holder.id, application_id=benefit.application_id,
                data={"program": program.code, "reason": INCOME_CHANGE_STOP, "effective_month": effective,
                      "last_month": benefit.end_month})
    benefit.updated_at = utcnow()
    session.flush()
    record(session, actor=approvals.actor_of(checker), action="benefit.recheck_applied",
           object_ref=f"benefit:{benefit.id}", on_behalf_of=f"resident:{holder.id}",
           result="repriced" if decision.eligible else "stopped",
           details={"approval": approval.id, "effective_month": effective,
                    "monthly_amount_fen": decision.monthly_amount_fen if decision.eligible else 0})


def _describe(approval: Approval) -> str:
    return (approval.payload or {}).get("text") or approval.kind


def _visible_to(session: Session, approval: Approval, staff: StaffMember) -> bool:
    """A re-check is listed to staff of the household's jurisdiction only."""
    benefit = session.get(Benefit, (approval.payload or {}).get("benefit_id"))
    holder = session.get(Resident, benefit.resident_id) if benefit is not None else None
    return holder is not None and in_jurisdiction(Caller.of_staff(staff), holder.district_code, holder.street_code,
                                                  holder.community_code)


def _holder_of(session: Session, subject_ref: str, payload: dict) -> int | None:
    """The holder of the benefit a re-check is about."""
    benefit = session.get(Benefit, (payload or {}).get("benefit_id") or subject_ref.partition(":")[2])
    return benefit.resident_id if benefit is not None else None


approvals.register(approvals.Kind(APPROVAL_KIND, "approver", apply, _describe, visible_to=_visible_to,
                                  resident_of=_holder_of))


# ---- what the case page shows ---------------------------------------------------------------------------------

def rechecks_of(session: Session, application_id: str | None) -> list[dict]:
    """The re-checks of the benefits an application granted, newest first, in words: open, confirmed (with its
    approval's state), dismissed or superseded."""
    if not application_id:
        return []
    tasks = session.scalars(select(StaffTask).where(StaffTask.application_id == application_id,
                                                    StaffTask.kind == TASK_KIND)
                            .order_by(StaffTask.created_at.desc(), StaffTask.id)).all()
    ids = [(t.details or {}).get("approval_id") for t in tasks if (t.details or {}).get("approval_id")]
    states = dict(session.execute(select(Approval.id, Approval.state).where(Approval.id.in_(ids))).all()) \
        if ids else {}
    out = []
    for t in tasks:
        d = t.details or {}
        out.append({"task_id": t.id, "state": t.state, "text": d.get("text"), "reasons": d.get("reasons") or [],
                    "proposed": d.get("proposed"), "effective_month": d.get("effective_month"),
                    "monthly_amount": yuan(d.get("monthly_amount_fen")) if d.get("proposed") == "reprice" else None,
                    "decision": d.get("decision"), "approval_id": d.get("approval_id"),
                    "approval_state": states.get(d.get("approval_id"))})
    return out
