"""Casework for every program: one `confirm` entry point, the one-step staff review, the community worker's
home-help task, and the facts each rule needs (the program's own facts hook, else the registry's).

- a program with its own confirmation (Program.confirm) → that;
- a reviewed program (Program.reviewed: a declared "review" step) → rule checked (trace kept) → `reviewing`
  with a review task and a time limit → staff approve (rule re-checked) or reject with a coded reason; with a
  declared "approve" step too, a passing review → `approving` with an approval task → a different person
  approves (rule re-checked again) or rejects;
- any other → decided by rule at once (flows.applications.confirm).
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Conflict, Forbidden, Unprocessable
from app.models import Application, OneOffPayment, Resident, StaffTask, StepDeadline
from flows import applicants, case_states, decision_round, programs, workdays
from flows import applications as elderly_flow
from flows.dates import clock_now, end_of_day, today_shanghai
from flows.facts import resident_for_facts
from flows.money import yuan
from flows.programs.base import STAFF_REVIEW_REASONS
from notifications.outbox import enqueue

REVIEW_REJECTION_REASONS = STAFF_REVIEW_REASONS
HOME_HELP_OUTCOMES = ("confirmed", "declined", "unreachable")


# ---- facts ----------------------------------------------------------------------------------------------------

def is_reviewed(code: str) -> bool:
    """Whether `code` is decided by the rule plus one staff review (Program.reviewed)."""
    program = programs.get(code)
    return program is not None and program.reviewed


def program_facts(session: Session, application: Application, as_of: date, resident=None):
    """What the application's program rule reads: its own facts hook, else the registry's facts (of `resident`
    when the caller has read her already)."""
    program = programs.get(application.program)
    if program is not None and program.facts:  # flows.programs.base.Program.hook
        return program.hook("facts")(session, application, as_of)
    return elderly_flow.resident_facts(resident or resident_for_facts(session, application.resident_id))


def rule_trace(session: Session, application: Application, resident=None) -> list[dict]:
    """The application's trace: the decision's, or — for a proposal not yet decided — the program's own rule run
    now on the facts as of the proposal, so that every reason shown is a condition of this program's rule.
    `resident`: its subject's facts columns (`flows.facts.FACT_COLUMNS`) when the caller has read them already."""
    if application.trace:
        return list(application.trace)
    decision = decide_now(session, application, application.as_of, resident)
    return decision.trace() if decision is not None else []


def decide_now(session: Session, application: Application, as_of: date, resident=None):
    """The program's rule run now on the registry's facts as of `as_of` (None without a program or subject)."""
    program = programs.get(application.program)
    if resident is None:
        resident = resident_for_facts(session, application.resident_id)
    if program is None or resident is None:
        return None
    return program.decide(program_facts(session, application, as_of, resident), as_of)


# ---- confirm ----------------------------------------------------------------------------------------------------

def confirm(session: Session, application: Application, actor: str, today: date | None = None,
            declared: dict | None = None) -> Application:
    """The citizen's (or a proxy's, or the community worker's) one tap, whatever the program. `declared`: what
    the state cannot know, for a program whose confirmation asks for it (e.g. {"monthly_income_fen", "note"})."""
    today = today or today_shanghai()
    own = programs.get(application.program)
    if own is not None and own.confirm:  # the program's own confirmation (flows.programs.base.Program.hook)
        return own.hook("confirm")(session, application, actor, today, declared=declared)
    if own is None or not own.reviewed:
        return elderly_flow.confirm(session, application, actor, today)
    if application.state in ("reviewing", "approving", "approved", "rejected"):
        return application
    if application.state != "proposed":
        raise Conflict(f"The application is {application.state} and cannot be confirmed; reopen it first.",
                       error_code="application_state")
    applicant = applicants.applicant_of(session, application.id, actor)  # applicant ≠ subject (flows.applicants)
    taken = (applicants.claim(session, application, actor, applicant) if applicant is not None
             else elderly_flow.take_proposal(session, application, actor))
    if not taken:
        return confirm(session, application, actor, today)
    resident = session.get(Resident, application.resident_id)
    program = programs.get(application.program)
    decision = program.decide(program_facts(session, application, today), today)
    application.trace = decision.trace()
    application.updated_at = utcnow()
    if not decision.eligible:
        _reject(session, application, "rule_not_met", _first_failed(decision))
        return application
    case_states.move(application, "reviewing")
    _open_step(session, application, resident, program, "review", decision, today)
    return application


def _open_step(session: Session, application: Application, resident: Resident, program, step_code: str, decision,
               today: date) -> None:
    """Start a staff step of a reviewed program: its time limit and a task in the pool of whoever may do it."""
    step = next(s for s in program.steps if s.code == step_code)
    open_deadline(session, application, step_code, today, step.working_days)
    session.add(StaffTask(kind=step_code, resident_id=resident.id, application_id=application.id,
                          district_code=resident.district_code, street_code=resident.street_code,
                          community_code=resident.community_code, dedupe_key=f"{step_code}:{application.id}",
                          details={"program": program.code, "tier": decision.tier,
                                   "monthly_amount": yuan(decision.monthly_amount_fen)},
                          due_at=_due_datetime(today, step.working_days)))


def _due_datetime(start: date, working_days: int):
    return end_of_day(workdays.add_working_days(start, working_days))


def open_deadline(session: Session, application: Application, step: str, start: date, working_days: int) -> StepDeadline:
    """The statutory time limit of a step, in working days from `start` (idempotent per step)."""
    found = session.scalar(select(StepDeadline).where(StepDeadline.application_id == application.id,
                                                      StepDeadline.step == step))
    if found:
        return found
    due = workdays.add_working_days(start, working_days)
    row = StepDeadline(application_id=application.id, step=step, started_on=start, due_on=due,
                       working_days=working_days, calendar_note=workdays.calendar_note(start, due))
    session.add(row)
    return row


def close_deadline(session: Session, application: Application, step: str, today: date) -> None:
    row = session.scalar(select(StepDeadline).where(StepDeadline.application_id == application.id,
                                                    StepDeadline.step == step))
    if row and row.done_on is None:
        row.done_on = today
        row.overdue = today > row.due_on


def _first_failed(decision) -> str:
    return next((c.citizen_text for c in decision.conditions if not c.passed), "")


def _reject(session: Session, application: Application, code: str, text: str) -> None:
    case_states.move(application, "rejected", decision=code)
    application.decided_at = clock_now()
    enqueue(session, kind="rejected", idempotency_key=decision_round.rejection_key(session, application.id),
            resident_id=application.resident_id, application_id=application.id,
            data={"program": application.program, "reason_code": code, "reason": text})


def start_benefit(session: Session, application: Application, decision) -> str:
    """Approve: the benefit period (its id), the one-off if any, the message."""
    benefit_id = elderly_flow.add_open_benefit(
        session, program=application.program, resident_id=application.resident_id, application_id=application.id,
        tier=decision.tier, monthly_amount_fen=decision.monthly_amount_fen, start_month=decision.start_month)
    case_states.move(application, "approved", decision="rule_met")
    application.decided_at = clock_now()
    if getattr(decision, "one_off_fen", 0) > 0:  # a one-off on approval, paid by the next roll (flows.one_offs)
        session.add(OneOffPayment(program=application.program, key=f"application:{application.id}:one_off",
                                  payee_resident_id=application.resident_id,
                                  subject_resident_id=application.resident_id, application_id=application.id,
                                  amount_fen=decision.one_off_fen, covers_month=decision.start_month))
    enqueue(session, kind="approved", idempotency_key=f"application:{application.id}:approved",
            resident_id=application.resident_id, application_id=application.id,
            data={"program": application.program, "monthly_amount": yuan(decision.monthly_amount_fen),
                  "start_month": decision.start_month, "tier": decision.tier})
    return benefit_id


# ---- staff review (reviewed programs) ---------------------------------------------------------------------------

def review(session: Session, application: Application, staff_id: str, approve: bool, reason_code: str | None = None,
           note: str | None = None, today: date | None = None) -> Application:
    """A staff review of a reviewed application; approval re-checks the rule on today's data. Where the program
    declares an "approve" step (Program.approval_step), a passing review sends the case to the approvers' pool
    (`approving`); otherwise the review is the decision and starts the benefit. A rejection decides at once."""
    today = today or today_shanghai()
    if not is_reviewed(application.program):
        raise Conflict("This program is not decided by a staff review.", error_code="application_state")
    if application.state != "reviewing":
        raise Conflict(f"The application is {application.state}, not waiting for review.",
                       error_code="application_state")
    if not approve and reason_code not in REVIEW_REJECTION_REASONS:
        raise Unprocessable("A rejection needs a reason code.",
                            errors={"reason_code": sorted(REVIEW_REJECTION_REASONS)})
    not_claimed_by_another(session, application, "review", staff_id)
    program = programs.get(application.program)
    decision = program.decide(program_facts(session, application, today), today)
    passes = approve and decision.eligible
    _take_step(session, application, "reviewing",
               ("approving" if program.approval_step is not None else "approved") if passes else "rejected")
    staff_entry = {"code": "staff_review", "passed": bool(approve), "value": "approve" if approve else reason_code,
                   "source": "staff", "source_date": today.isoformat(), "staff_id": staff_id,
                   "text": "工作人员审核通过" if approve else
                   f"工作人员审核未通过:{REVIEW_REJECTION_REASONS[reason_code]}" + (f"({note[:200]})" if note else "")}
    application.trace = decision.trace() + [staff_entry]
    close_deadline(session, application, "review", today)
    close_tasks(session, application, "review")
    if passes and program.approval_step is not None:
        case_states.move(application, "approving")
        _open_step(session, application, session.get(Resident, application.resident_id), program, "approve",
                   decision, today)
    elif approve and decision.eligible:
        start_benefit(session, application, decision)
    elif approve:
        _reject(session, application, "rule_not_met", _first_failed(decision))
    else:
        _reject(session, application, reason_code, staff_entry["text"])
    return application


def approve(session: Session, application: Application, staff_id: str, approve: bool,
            reason_code: str | None = None, note: str | None = None, today: date | None = None) -> Application:
    """The approval of a reviewed case (Program.approval_step) by a different person than its reviewer (403
    `segregation_of_duties`): the rule is re-checked on today's data; approval starts the benefit, a rejection
    carries a coded reason. The review's trace entry is kept beside the approval's."""
    today = today or today_shanghai()
    program = programs.get(application.program)
    if program is None or program.approval_step is None:
        raise Conflict("This program has no approval step.", error_code="application_state")
    if application.state != "approving":
        raise Conflict(f"The application is {application.state}, not waiting for approval.",
                       error_code="application_state")
    if not approve and reason_code not in REVIEW_REJECTION_REASONS:
        raise Unprocessable("A rejection needs a reason code.",
                            errors={"reason_code": sorted(REVIEW_REJECTION_REASONS)})
    staff_entries = [e for e in (application.trace or []) if e.get("source") == "staff"]
    if any(e.get("code") == "staff_review" and e.get("staff_id") == staff_id for e in staff_entries):
        raise Forbidden("You did the review of this case, so a different person must approve it.",
                        error_code="segregation_of_duties")
    not_claimed_by_another(session, application, program.approval_step.code, staff_id)
    decision = program.decide(program_facts(session, application, today), today)
    _take_step(session, application, "approving", "approved" if approve and decision.eligible else "rejected")
    entry = {"code": "staff_approval", "passed": bool(approve), "value": "approve" if approve else reason_code,
             "source": "staff", "source_date": today.isoformat(), "staff_id": staff_id,
             "text": "工作人员审批通过" if approve else
             f"工作人员审批未通过:{REVIEW_REJECTION_REASONS[reason_code]}" + (f"({note[:200]})" if note else "")}
    application.trace = decision.trace() + staff_entries + [entry]
    close_deadline(session, application, "approve", today)
    close_tasks(session, application, "approve")
    if approve and decision.eligible:
        start_benefit(session, application, decision)
    elif approve:
        _reject(session, application, "rule_not_met", _first_failed(decision))
    else:
        _reject(session, application, reason_code, entry["text"])
    return application


def _take_step(session: Session, application: Application, waiting: str, to: str) -> None:
    """Move the application out of the state `waiting` in one conditional UPDATE, so that of two staff members
    deciding the same step at once one stands (the other: 409 `application_state`); a move flows.case_states
    lists."""
    if not case_states.may_move(waiting, to):
        raise ValueError(f"{waiting} → {to} is not a move of the case state table")
    won = session.execute(update(Application).where(Application.id == application.id, Application.state == waiting)
                          .values(state=to).execution_options(synchronize_session=False)).rowcount
    if not won:
        raise Conflict(f"The application is no longer {waiting}: someone decided this step a moment ago.",
                       error_code="application_state")


def not_claimed_by_another(session: Session, application: Application, kind: str, staff_id: str) -> None:
    """409 `task_not_yours` when a colleague has claimed the case's open `kind` task: a claim is hers until she
    releases it or a supervisor reassigns it (an unclaimed task may be done by anyone who may)."""
    holders = set(session.scalars(select(StaffTask.claimed_by).where(
        StaffTask.application_id == application.id, StaffTask.kind == kind, StaffTask.state == "open")))
    if holders - {None, staff_id}:
        raise Conflict(f"Another staff member has claimed this case's {kind} task.", error_code="task_not_yours")


def close_tasks(session: Session, application: Application, kind: str) -> None:
    """Close the application's open tasks of `kind` (its step was done, or the case ended)."""
    for task in session.scalars(select(StaffTask).where(StaffTask.application_id == application.id,
                                                        StaffTask.kind == kind, StaffTask.state == "open")):
        task.state, task.closed_at = "done", utcnow()


def review_queue(session: Session, street_code: str | None = None):
    """Applications waiting for a staff review, oldest deadline first."""
    query = (select(Application, StepDeadline.due_on).join(StepDeadline, StepDeadline.application_id == Application.id)
             .where(Application.state == "reviewing", StepDeadline.step == "review", StepDeadline.done_on.is_(None))
             .order_by(StepDeadline.due_on, Application.id))
    if street_code:
        query = query.join(Resident, Resident.id == Application.resident_id).where(Resident.street_code == street_code)
    return query


# ---- the community worker's home help --------------------------------------------------------------------------------

def complete_home_help(session: Session, task: StaffTask, outcome: str, staff_id: str,
                       today: date | None = None, note: str | None = None, actor: str | None = None) -> StaffTask:
    """The worker went to the door: the resident confirmed (on paper/with help), declined, or was not reachable.
    `actor` (≤ 32 characters, e.g. the staff member's account id) is recorded as who confirmed/declined."""
    if outcome not in HOME_HELP_OUTCOMES:
        raise Unprocessable("Unknown outcome.", errors={"outcome": list(HOME_HELP_OUTCOMES)})
    if task.kind != "home_help" or task.state != "open":
        raise Conflict("The task is not an open home-help task.")
    application = session.get(Application, task.application_id)
    actor = actor or f"staff:{staff_id}"
    if outcome == "confirmed" and application.state == "proposed":
        confirm(session, application, actor, today)
    elif outcome == "declined" and application.state == "proposed":
        elderly_flow.decline(session, application, "not_needed", note, actor)
    task.details = {**(task.details or {}), "outcome": outcome, "note": (note or "")[:500], "staff_id": staff_id}
    if outcome == "unreachable":
        task.due_at = utcnow() + timedelta(days=7)
        return task
    task.state, task.closed_at = "done", utcnow()
    return task


# ---- re-opening a decided case (an upheld appeal, flows.appeals) ----------------------------------------------------

def reopen_at_step(session: Session, application: Application, state: str, step: str, working_days: int,
                   today: date, cause: str, task_kind: str | None = None) -> Application:
    """Put a decided application back at one of its steps: the step's time limit starts again today and, where the
    step is a human's, a task is in the pool again (its own dedupe key per cause, e.g. `appeal:<id>`)."""
    case_states.move(application, state, decision=None)
    application.decided_at = None
    row = session.scalar(select(StepDeadline).where(StepDeadline.application_id == application.id,
                                                    StepDeadline.step == step))
    if row is None:
        open_deadline(session, application, step, today, working_days)
    else:
        row.started_on, row.due_on, row.done_on, row.overdue = today, workdays.add_working_days(today, working_days), \
            None, False
        row.working_days, row.calendar_note = working_days, workdays.calendar_note(today, row.due_on)
    if task_kind:
        resident = session.get(Resident, application.resident_id)
        session.add(StaffTask(kind=task_kind, resident_id=resident.id, application_id=application.id,
                              district_code=resident.district_code, street_code=resident.street_code,
                              community_code=resident.community_code, dedupe_key=f"{task_kind}:{application.id}:{cause}",
                              details={"program": application.program, "reopened_by": cause},
                              due_at=_due_datetime(today, working_days)))
    return application


def reopen(session: Session, application: Application, today: date, cause: str) -> Application:
    """Re-open a decided application at the right step: the program's own `reopen` hook (a multi-step process);
    a program with a staff `review` step goes back to review; a program decided by rule alone is decided again
    by its rule on today's registry data as of the original date (so that the benefit starts when it would
    have, and the roll pays the months since as arrears). 409 `rule_still_not_met` when the data still fail."""
    program = programs.get(application.program)
    if program is not None and program.reopen:
        return program.hook("reopen")(session, application, today, cause)
    review = next((s for s in (program.steps if program else ()) if s.code == "review"), None)
    if review is not None:
        return reopen_at_step(session, application, "reviewing", "review", review.working_days, today, cause,
                              task_kind="review")
    decision = decide_now(session, application, application.as_of)
    if decision is None or not decision.eligible:
        raise Conflict("By the registry's data the rule is still not met: correct the data it rests on first (the "
                       "trace says which), then decide the appeal.", error_code="rule_still_not_met")
    application.trace = decision.trace()
    start_benefit(session, application, decision)
    return application
