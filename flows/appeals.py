"""Appeals (复核): a second look at a decision, asked for from the phone or at the counter.

- Who: the resident, a proxy whose grant includes `confirm`, or a clerk at the counter on the resident's behalf
  (app.authz decides; the API records who acted for whom).
- What: a decided application (approved or rejected) or a change to a benefit in payment (stopped, suspended,
  re-priced), within `filing_days` calendar days of the decision (ZEROTRIP_APPEAL_FILING_DAYS, default 60); one open appeal per decision (the partial
  unique index `uq_appeals_open` decides between parallel requests: one 201, the others 409 `appeal_exists`).
- Handling: a task of kind `appeal` in the pool of reviewers and approvers of the resident's area, never of the
  staff who took the decision appealed (403 `original_decider`); claiming it moves the appeal to `reviewing`;
  the decision (upheld / partially_upheld / rejected) carries a written reason; the resident may withdraw.
- Time limit: `limit_working_days` working days from receipt (ZEROTRIP_APPEAL_LIMIT_WORKING_DAYS, default 20;
  flows.workdays), fixed on the appeal as `due_on` when it is received, swept every day by the
  scheduler (`sweep`): a reminder `REMIND_BEFORE` working days before the limit, a 催办 the day after it, an
  escalation to the supervisors of the area `ESCALATE_AFTER` working days after it.
- Effect: an upheld (or partially upheld) appeal re-opens the case at the right step (flows.casework.reopen) or
  resumes the benefit; the roll then pays the months since as arrears (flows.payroll).
- Every message to the resident names the external remedies (行政复议, 行政诉讼), which an internal appeal
  pauses neither.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.db import utcnow
from app.errors import Conflict, Forbidden, Unprocessable
from app.models import Appeal, Application, Benefit, BenefitChange, Resident, StaffTask
from flows import casework, programs, workdays
from flows.conflicts import add_or_conflict, is_unique_violation
from flows.dates import end_of_day, month_of, today_shanghai
from notifications.outbox import enqueue

FILING_DAYS = 60  # defaults of the operator settings (app.config: appeal_filing_days, appeal_limit_working_days)
LIMIT_WORKING_DAYS = 20
REMIND_BEFORE = 3
ESCALATE_AFTER = 3
OPEN_STATES = ("received", "reviewing")
OUTCOMES = ("upheld", "partially_upheld", "rejected")
REOPENING = ("upheld", "partially_upheld")
REASONS = {
    "facts_wrong": "认定所依据的信息有误",
    "rule_misapplied": "政策条件适用有误",
    "amount_wrong": "待遇标准或金额有误",
    "circumstances_changed": "家庭情况已发生变化",
    "procedure": "办理程序有问题",
    "other": "其他理由",
}
OUTCOME_TEXT = {"upheld": "维持您的复核请求，原决定已撤销并重新办理",
                "partially_upheld": "部分支持您的复核请求，案件已重新办理",
                "rejected": "经复核，维持原决定", "withdrawn": "您已撤回复核申请"}
STATE_TEXT = {"received": "已受理", "reviewing": "复核中", "decided": "已作出复核决定"}
REMEDIES = ("如对复核决定仍有异议，可自收到原决定之日起60日内依法申请行政复议，或在6个月内向人民法院提起行政诉讼；"
            "申请复核不影响、也不中止上述期限。")
BENEFIT_CHANGES = ("stopped", "suspended", "tier_raised", "repriced")
TASK_KIND, OVERDUE_TASK_KIND = "appeal", "appeal_overdue"


def _local(at: datetime | None) -> date | None:
    """A stored (naive UTC) time as the Asia/Shanghai date."""
    return today_shanghai(at.replace(tzinfo=UTC)) if at else None


def is_decided(application) -> bool:
    """Approved or rejected, with the time of the decision: what an appeal can be filed against (an ORM object or a
    row with `state` and `decided_at`)."""
    return application.state in ("approved", "rejected") and application.decided_at is not None


def decision_of(session: Session, application: Application | None, benefit: Benefit | None) -> tuple[str, date]:
    """(decision key, date of the decision) of what is appealed; 409 `not_decided` when there is none yet."""
    if application is not None:
        if not is_decided(application):
            raise Conflict("Only a decided application can be appealed; this one is "
                           f"{application.state}.", error_code="not_decided")
        return f"application:{application.id}", _local(application.decided_at)
    change = last_change(session, benefit)
    if change is None:
        raise Conflict("Nothing was decided about this benefit since it started: appeal the application that started "
                       "it instead.", error_code="not_decided")
    return f"benefit:{benefit.id}", change.as_of


def last_filing_day(decided_on: date, filing_days: int = FILING_DAYS) -> date:
    return decided_on + timedelta(days=filing_days)


def application_appeal_until(application, today: date, filing_days: int = FILING_DAYS) -> date | None:
    """The last day to appeal a decided application (approved or rejected), or None when it is not decided or the
    filing period is over (an ORM object or a row with `state` and `decided_at`)."""
    if not is_decided(application):
        return None
    last = last_filing_day(_local(application.decided_at), filing_days)
    return last if last >= today else None


def benefit_appeal_windows(session: Session, benefit_ids: list[str], today: date,
                           filing_days: int = FILING_DAYS) -> dict[str, date]:
    """{benefit id: last day to appeal} for the benefits whose latest stop or change (`BENEFIT_CHANGES`) is still
    within the filing period on `today` (one query)."""
    if not benefit_ids:
        return {}
    latest: dict[str, date] = {}
    for benefit_id, as_of in session.execute(select(BenefitChange.benefit_id, BenefitChange.as_of)
                                             .where(BenefitChange.benefit_id.in_(benefit_ids),
                                                    BenefitChange.kind.in_(BENEFIT_CHANGES))
                                             .order_by(BenefitChange.created_at, BenefitChange.id)):
        latest[benefit_id] = as_of  # the last row wins: the same change decision_of() names
    return {b: last_filing_day(day, filing_days) for b, day in latest.items()
            if last_filing_day(day, filing_days) >= today}


def last_change(session: Session, benefit: Benefit) -> BenefitChange | None:
    """The latest change decided about a benefit in payment (stopped, suspended, re-priced): what is appealed."""
    return session.scalars(select(BenefitChange).where(BenefitChange.benefit_id == benefit.id,
                                                       BenefitChange.kind.in_(BENEFIT_CHANGES))
                           .order_by(BenefitChange.created_at.desc(), BenefitChange.id.desc()).limit(1)).first()


def appealable(session: Session, resident_id: int, today: date, filing_days: int = FILING_DAYS) -> list[dict]:
    """The resident's decisions that may be appealed today, newest first: decided applications and changes to her
    benefits (the checks of `file`: `decision_of`, `last_filing_day`), of which no appeal is open. What the counter
    offers; `file` still decides (a parallel appeal gets 409 `appeal_exists`)."""
    since = datetime(today.year, today.month, today.day) - timedelta(days=filing_days + 2)
    candidates = [(a, None) for a in session.scalars(select(Application).where(
        Application.resident_id == resident_id, Application.decided_at >= since))]
    candidates += [(None, b) for b in session.scalars(select(Benefit).where(Benefit.resident_id == resident_id))]
    open_keys = set(session.scalars(select(Appeal.decision_key).where(Appeal.resident_id == resident_id,
                                                                      Appeal.state.in_(OPEN_STATES))))
    out = []
    for application, benefit in candidates:
        try:
            key, decided_on = decision_of(session, application, benefit)
        except Conflict:
            continue
        if key in open_keys or today > last_filing_day(decided_on, filing_days):
            continue
        subject = application if application is not None else benefit
        out.append({"decision_key": key, "application_id": application.id if application is not None else None,
                    "benefit_id": benefit.id if benefit is not None else None, "program": subject.program,
                    "program_name": _program_name(subject.program),
                    "decision": application.state if application is not None else last_change(session, benefit).kind,
                    "decided_on": decided_on, "appeal_until": last_filing_day(decided_on, filing_days)})
    return sorted(out, key=lambda d: (d["decided_on"], d["decision_key"]), reverse=True)


def original_deciders(session: Session, application: Application | None, benefit: Benefit | None) -> list[str]:
    """Staff ids recorded on the decision appealed (the trace's staff steps, both investigators of a home visit
    included): none of them may decide the appeal."""
    if application is None and benefit is not None and benefit.application_id:
        application = session.get(Application, benefit.application_id)
    entries = list(application.trace or []) if application is not None else []
    if benefit is not None:
        for trace in session.scalars(select(BenefitChange.trace).where(BenefitChange.benefit_id == benefit.id)):
            entries += list(trace or [])
    return sorted({e[key] for e in entries if isinstance(e, dict)
                   for key in ("staff_id", "second_staff_id") if e.get(key)})


def file(session: Session, *, application: Application | None, benefit: Benefit | None, reason_code: str,
         comment: str, filed_by: str, filed_via: str, grant_id: str | None = None,
         today: date | None = None, limit_working_days: int = LIMIT_WORKING_DAYS,
         filing_days: int = FILING_DAYS) -> Appeal:
    """Receive an appeal (in the caller's transaction): the appeal, its task and the resident's message; the
    decision is due `limit_working_days` working days from today."""
    today = today or today_shanghai()
    if reason_code not in REASONS:
        raise Unprocessable("Choose one of the documented reasons.", errors={"reason_code": sorted(REASONS)})
    key, decided_on = decision_of(session, application, benefit)
    last_day = last_filing_day(decided_on, filing_days)
    if today > last_day:
        raise Conflict(f"An appeal must be made within {filing_days} days of the decision (by {last_day.isoformat()}); "
                       "行政复议 and 行政诉讼 remain open within their own limits.", error_code="appeal_period_over")
    subject = application if application is not None else benefit
    appeal = Appeal(decision_key=key, application_id=application.id if application is not None else None,
                    benefit_id=benefit.id if benefit is not None else None, resident_id=subject.resident_id,
                    program=subject.program, decided_on=decided_on, reason_code=reason_code,
                    comment=(comment or "").strip(), filed_by=filed_by, filed_via=filed_via, grant_id=grant_id,
                    state="received", due_on=workdays.add_working_days(today, limit_working_days))
    # the partial unique index decides between parallel appeals of one decision
    add_or_conflict(session, appeal, "appeals", ("decision_key",),
                    Conflict("An appeal of this decision is already open.", error_code="appeal_exists"))
    resident = session.get(Resident, appeal.resident_id)
    session.add(StaffTask(kind=TASK_KIND, resident_id=resident.id, application_id=appeal.application_id or
                          (benefit.application_id if benefit is not None else None),
                          district_code=resident.district_code, street_code=resident.street_code,
                          community_code=resident.community_code, dedupe_key=f"appeal:{appeal.id}",
                          details={"appeal_id": appeal.id, "program": appeal.program, "reason_code": reason_code,
                                   "excluded_staff": original_deciders(session, application, benefit)},
                          due_at=end_of_day(appeal.due_on)))
    _tell(session, appeal, "received",
          f"您对{_program_name(appeal.program)}决定提出的复核申请已受理，将在{_zh(appeal.due_on)}前作出复核决定。"
          + REMEDIES)
    return appeal


def _zh(day: date) -> str:
    return f"{day.year}年{day.month}月{day.day}日"


def _program_name(code: str) -> str:
    program = programs.get(code)
    return program.name if program else "补贴"


def _tell(session: Session, appeal: Appeal, event: str, text: str) -> None:
    enqueue(session, kind="appeal_update", idempotency_key=f"appeal:{appeal.id}:{event}",
            resident_id=appeal.resident_id, application_id=appeal.application_id,
            data={"program": appeal.program, "appeal_id": appeal.id, "event": event, "text": text})


def _tasks(session: Session, appeal: Appeal, kinds=(TASK_KIND, OVERDUE_TASK_KIND)) -> list[StaffTask]:
    return [t for t in session.scalars(select(StaffTask).where(StaffTask.kind.in_(kinds), StaffTask.state == "open",
                                                               StaffTask.dedupe_key.in_(
                                                                   [f"{k}:{appeal.id}" for k in kinds])))]


def task_appeal(session: Session, task: StaffTask) -> Appeal | None:
    appeal_id = (task.details or {}).get("appeal_id") if task.kind in (TASK_KIND, OVERDUE_TASK_KIND) else None
    return session.get(Appeal, appeal_id) if appeal_id else None


def refuse_original_decider(staff_id: str, excluded: list[str]) -> None:
    if staff_id in excluded:
        raise Forbidden("You took the decision appealed: a different member of staff must look at it again.",
                        error_code="original_decider")


def excluded_staff(session: Session, appeal: Appeal) -> list[str]:
    application = session.get(Application, appeal.application_id) if appeal.application_id else None
    benefit = session.get(Benefit, appeal.benefit_id) if appeal.benefit_id else None
    return original_deciders(session, application, benefit)


def before_assign(session: Session, task: StaffTask, staff_id: str) -> None:
    """A supervisor may not hand an appeal to the staff member who took the decision appealed."""
    appeal = task_appeal(session, task)
    if appeal is not None and task.kind == TASK_KIND:
        refuse_original_decider(staff_id, excluded_staff(session, appeal))


def on_claim(session: Session, task: StaffTask, staff_id: str) -> None:
    """A claimed appeal task: the original decider may not take it; the appeal moves to `reviewing`."""
    appeal = task_appeal(session, task)
    if appeal is None or task.kind != TASK_KIND:
        return
    refuse_original_decider(staff_id, excluded_staff(session, appeal))
    moved = session.execute(update(Appeal).where(Appeal.id == appeal.id, Appeal.state == "received")
                            .values(state="reviewing", reviewer_id=staff_id, updated_at=utcnow())
                            .execution_options(synchronize_session=False)).rowcount
    session.refresh(appeal)
    if moved:
        _tell(session, appeal, "reviewing", f"您的{_program_name(appeal.program)}复核申请已由工作人员开始复核。")


def decide(session: Session, appeal: Appeal, staff_id: str, outcome: str, reason: str,
           today: date | None = None) -> Appeal:
    """The appeal's decision, with a written reason; upheld re-opens the case (or resumes the benefit)."""
    today = today or today_shanghai()
    if outcome not in OUTCOMES:
        raise Unprocessable("Choose an outcome.", errors={"outcome": list(OUTCOMES)})
    reason = (reason or "").strip()
    if not 5 <= len(reason) <= 2000:
        raise Unprocessable("Write the reason for the decision (5–2000 characters).", errors={"reason": ["5–2000"]})
    refuse_original_decider(staff_id, excluded_staff(session, appeal))
    claimed_by_other = [t for t in _tasks(session, appeal, (TASK_KIND,)) if t.claimed_by not in (None, staff_id)]
    if claimed_by_other:
        raise Conflict("Another member of staff has claimed this appeal.", error_code="task_claimed")
    _close(session, appeal, "decided", outcome, reason, f"staff:{staff_id}")
    if outcome in REOPENING:
        _reopen(session, appeal, today)
    _tell(session, appeal, "decided",
          f"您的{_program_name(appeal.program)}复核申请已作出决定：{OUTCOME_TEXT[outcome]}。理由：{reason.rstrip('。')}。"
          + REMEDIES)
    return appeal


def withdraw(session: Session, appeal: Appeal, actor: str) -> Appeal:
    """Withdraw an open appeal; withdrawing it again gives the same answer (a double tap), a decided one 409."""
    if appeal.outcome == "withdrawn":
        return appeal
    try:
        _close(session, appeal, "decided", "withdrawn", "申请人撤回", actor)
    except Conflict:
        if appeal.outcome == "withdrawn":  # her parallel tap withdrew it a moment ago: the same answer
            return appeal
        raise
    _tell(session, appeal, "withdrawn", f"您已撤回{_program_name(appeal.program)}复核申请。" + REMEDIES)
    return appeal


def _close(session: Session, appeal: Appeal, state: str, outcome: str, reason: str, by: str) -> None:
    now = utcnow()
    done = session.execute(update(Appeal).where(Appeal.id == appeal.id, Appeal.state.in_(OPEN_STATES))
                           .values(state=state, outcome=outcome, decision_reason=reason, decided_by=by,
                                   decided_at=now, updated_at=now)
                           .execution_options(synchronize_session=False)).rowcount
    session.refresh(appeal)
    if not done:
        raise Conflict(f"The appeal is already decided ({appeal.outcome}).", error_code="appeal_decided")
    for task in _tasks(session, appeal):
        task.state, task.closed_at = "done", now


def _reopen(session: Session, appeal: Appeal, today: date) -> None:
    cause = f"appeal:{appeal.id}"
    if appeal.application_id and appeal.decision_key.startswith("application:"):
        application = session.get(Application, appeal.application_id)
        if application.state == "rejected":
            casework.reopen(session, application, today, cause)
            appeal.reopened_case = True  # the case's next decision is a new one (flows.decision_round)
        else:  # an approved case whose amount or tier is disputed: the case worker corrects it
            _follow_up(session, appeal, application.id)
        return
    benefit = session.get(Benefit, appeal.benefit_id)
    if benefit.state in ("stopped", "suspended"):
        _resume(session, appeal, benefit, today)
    else:
        _follow_up(session, appeal, benefit.application_id)


def _follow_up(session: Session, appeal: Appeal, application_id: str | None) -> None:
    resident = session.get(Resident, appeal.resident_id)
    session.add(StaffTask(kind="appeal_follow_up", resident_id=resident.id, application_id=application_id,
                          district_code=resident.district_code, street_code=resident.street_code,
                          community_code=resident.community_code, dedupe_key=f"appeal_follow_up:{appeal.id}",
                          details={"appeal_id": appeal.id, "program": appeal.program},
                          due_at=end_of_day(workdays.add_working_days(today_shanghai(), 5))))


def _resume(session: Session, appeal: Appeal, benefit: Benefit, today: date) -> None:
    """The stop or suspension was wrong: the benefit is in payment again and the months since are arrears."""
    last = session.scalars(select(BenefitChange).where(BenefitChange.benefit_id == benefit.id,
                                                       BenefitChange.kind.in_(("stopped", "suspended")))
                           .order_by(BenefitChange.created_at.desc()).limit(1)).first()
    effective = last.effective_month if last is not None else month_of(today)
    try:
        with session.begin_nested():
            benefit.state, benefit.end_month, benefit.updated_at = "active", None, utcnow()
            session.flush()
    except IntegrityError as exc:
        if not is_unique_violation(exc, "benefits", "program", "resident_id"):
            raise
        raise Conflict("Another period of this benefit is open: close it before resuming this one.",
                       error_code="benefit_already_open") from None
    # resumed from the month it was suspended: the roll then pays the suspended months (flows.payroll)
    session.add(BenefitChange(benefit_id=benefit.id, change_key=f"appeal:{appeal.id}", kind="resumed",
                              effective_month=effective, tier=benefit.tier, monthly_amount_fen=benefit.monthly_amount_fen,
                              reason="appeal_upheld", as_of=today,
                              trace=[{"code": "appeal", "passed": True, "value": appeal.id, "source": "staff",
                                      "source_date": today.isoformat(), "text": "复核后恢复发放"}]))
    enqueue(session, kind="benefit_resumed", idempotency_key=f"appeal:{appeal.id}:benefit_resumed",
            resident_id=benefit.resident_id, application_id=benefit.application_id,
            data={"program": benefit.program, "effective_month": effective,
                  "monthly_amount": f"{benefit.monthly_amount_fen / 100:.2f}"})


# ---- the daily sweep (scheduler) -------------------------------------------------------------------------------

def sweep(session: Session, today: date) -> dict:
    """Reminders, 催办 and escalations of open appeals as of `today` (idempotent per appeal and step)."""
    counts = {"reminded": 0, "urged": 0, "escalated": 0}
    remind_from = today  # remind when the limit is at most REMIND_BEFORE working days away
    open_appeals = session.scalars(select(Appeal).where(Appeal.state.in_(OPEN_STATES),
                                                        Appeal.due_on <= workdays.add_working_days(remind_from,
                                                                                                   REMIND_BEFORE))
                                   .order_by(Appeal.due_on, Appeal.id)).all()
    for appeal in open_appeals:
        tasks = _tasks(session, appeal, (TASK_KIND,))
        if appeal.reminded_on is None and today <= appeal.due_on:
            appeal.reminded_on = today
            _note(tasks, "reminded_on", today)
            counts["reminded"] += 1
        if today > appeal.due_on and appeal.urged_on is None:
            appeal.urged_on = today
            _note(tasks, "urged_on", today)
            counts["urged"] += 1
        if (today > appeal.due_on and appeal.escalated_on is None
                and workdays.working_days_between(appeal.due_on, today) >= ESCALATE_AFTER):
            appeal.escalated_on = today
            _note(tasks, "escalated_on", today)
            _escalate(session, appeal, today)
            counts["escalated"] += 1
    return counts


CHASE_KEYS = ("reminded_on", "urged_on", "escalated_on")


def chased(task: StaffTask) -> dict:
    """What the sweep noted on an appeal task (reminded / 催办 / escalated, each a date or None): the workbench
    shows it on the task, to whoever holds it or, unclaimed, to the pool."""
    details = (task.details or {}) if task.kind == TASK_KIND else {}
    return {k: date.fromisoformat(details[k]) if details.get(k) else None for k in CHASE_KEYS}


def _note(tasks: list[StaffTask], key: str, day: date) -> None:
    for task in tasks:
        task.details = {**(task.details or {}), key: day.isoformat()}


def _escalate(session: Session, appeal: Appeal, today: date) -> None:
    resident = session.get(Resident, appeal.resident_id)
    session.add(StaffTask(kind=OVERDUE_TASK_KIND, resident_id=resident.id, application_id=appeal.application_id,
                          district_code=resident.district_code, street_code=resident.street_code,
                          community_code=resident.community_code, dedupe_key=f"{OVERDUE_TASK_KIND}:{appeal.id}",
                          details={"appeal_id": appeal.id, "program": appeal.program,
                                   "due_on": appeal.due_on.isoformat(), "reviewer_id": appeal.reviewer_id},
                          due_at=end_of_day(workdays.add_working_days(today, 2))))
    _tell(session, appeal, "escalated",
          f"您的{_program_name(appeal.program)}复核申请已超过办理时限，已报请上级督办，我们会尽快作出决定。"
          "如有疑问，请拨打12345。" + REMEDIES)


def view(appeal: Appeal) -> dict:
    return {"id": appeal.id, "application_id": appeal.application_id, "benefit_id": appeal.benefit_id,
            "program": appeal.program, "program_name": _program_name(appeal.program),
            "decided_on": appeal.decided_on, "reason_code": appeal.reason_code,
            "reason_text": REASONS.get(appeal.reason_code, ""), "comment": appeal.comment,
            "filed_via": appeal.filed_via, "state": appeal.state, "state_text": STATE_TEXT[appeal.state],
            "outcome": appeal.outcome, "outcome_text": OUTCOME_TEXT.get(appeal.outcome or "", None),
            "decision_reason": appeal.decision_reason, "decided_at": appeal.decided_at, "due_on": appeal.due_on,
            "received_at": appeal.created_at, "remedies": REMEDIES, "reminded_on": appeal.reminded_on,
            "urged_on": appeal.urged_on, "escalated_on": appeal.escalated_on}
