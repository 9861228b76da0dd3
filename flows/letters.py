"""Decisions in writing and their delivery (送达, issue 12 item 5), for any program.

A letter is either
- a decided application's 决定书 (`letter_id` = the application id; for a case an upheld appeal re-opened and
  decided anew, the id of that appeal: flows.decision_round): approved, rejected or stopped; or
- a stopped or suspended benefit's 停发 letter (`letter_id` = the `benefit_changes` row's id): death, moving away,
  a certificate expired, the household's 低保 ended …

A rejection or a stop states its reasons and the remedies (行政复议 within 60 days, 行政诉讼 within 6 months; the
words and numbers are notifications.templates.REMEDIES / REVIEW_DAYS / LAWSUIT_MONTHS) and must be sent within
3 working days of the decision (`send_by`). It is sent (送达) when
- its message reached the resident through her channel: the outbox row of the decision (`rejected` for the
  application, `benefit_stopped` for the benefit, the family's `after_death` for a death) is `sent` (accepted by WeChat or SMS) or `delegated` (copies
  to the proxies she chose) — `method` "electronic", the day the provider accepted it; an inbox-only message
  is not a delivery; or
- staff recorded handing it over (当面 `in_person`), posting it (邮寄 `post`) or leaving it at home (留置
  `left_at_home`): a `letter_deliveries` row, once per letter (a second record is 409 `letter_already_sent`).
An unsent rejection or stop past `send_by` is overdue (`waiting`); approvals are printable but not tracked.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from sqlalchemy import String, and_, cast, exists, func, literal, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.authz import Caller, jurisdiction_clause
from app.db import utcnow
from app.errors import Conflict, Unprocessable
from app.masking import mask_name
from app.models import Appeal, Application, Benefit, BenefitChange, LetterDelivery, OutboxMessage, Resident
from flows import decision_round, programs, workdays
from flows.dates import shanghai_date
from notifications.outbox import DELEGATED, SENT
from notifications.templates import LAWSUIT_MONTHS, REVIEW_DAYS

SEND_WITHIN_WORKING_DAYS = 3
DECIDED = ("approved", "rejected", "stopped")
TRACKED_DECISIONS = ("rejected", "stopped")  # the applications whose letter must be sent within 3 working days
STOP_KINDS = ("stopped", "suspended")
METHODS = ("in_person", "post", "left_at_home")  # 当面 / 邮寄 / 留置
DELIVERED = (SENT, DELEGATED)
# An unsent letter is listed while its decision is at most this many days old (the 6 months of a lawsuit).
WINDOW_DAYS = 183
WAITING_LIMIT = 200
# Why a benefit stopped, in the letter's words (codes from flows.lifecycle and the programs' own stops).
# "<program>_ended": the household no longer receives that program's benefit (Program.requires_household_benefit).
STOP_GROUNDS = {"death": "享受人已去世", "moved_out": "户籍已迁出本市", "certificate_expired": "残疾人证已过有效期",
                "assessment_expired": "护理需求评估已过有效期"}
OTHER_GROUND = "享受条件发生变化"
# Where the fact behind a stop comes from ("<program>_registry": that program's register of recipients).
SOURCES = {"population_registry": "公安人口库", "disabled_persons_federation": "残联残疾人证数据",
           "care_assessment": "老年人能力评估"}


def remedies() -> dict:
    return {"administrative_review_days": REVIEW_DAYS, "lawsuit_months": LAWSUIT_MONTHS}


def send_by(decided_on: date) -> date:
    return workdays.add_working_days(decided_on, SEND_WITHIN_WORKING_DAYS)


# ---- finding a letter --------------------------------------------------------------------------------------------

def find(session: Session, letter_id: str):
    """(kind, object to authorize, the letter's row): ("decision", application, application) or ("stop", benefit,
    change); None when there is no such letter."""
    if not letter_id or len(letter_id) > 32:
        return None
    application = session.get(Application, letter_id)
    if application is not None:
        return "decision", application, application
    change = session.get(BenefitChange, letter_id)
    if change is not None and change.kind in STOP_KINDS:
        return "stop", session.get(Benefit, change.benefit_id), change
    appeal = session.get(Appeal, letter_id)
    if appeal is not None and appeal.reopened_case and appeal.application_id:
        application = session.get(Application, appeal.application_id)
        if application is not None and decision_round.letter_id(session, application.id) == letter_id:
            return "decision", application, application
    return None


# The decision's message is found by its idempotency key (the outbox's unique index), never by a scan:
# application:<id>:rejected, benefit:<id>:stopped, benefit:<id>:suspended:<month>, death:<resident>:after_death.
def _decision_outbox(application_id, reopened_by):
    """The current decision's rejection message: `application:<id>:rejected`, or after a re-opening appeal
    `…:rejected:<appeal id>` (flows.decision_round) — columns or values."""
    key = literal("application:") + application_id + literal(":rejected")
    return and_(OutboxMessage.idempotency_key == func.coalesce(key + literal(":") + reopened_by, key),
                OutboxMessage.state.in_(DELIVERED))


def _stop_outbox(benefit_id, resident_id, effective_month):
    """The benefit's stop message, or (a death) the family's one 身后一件事 message listing every stop."""
    key = literal("benefit:") + benefit_id
    family = literal("death:") + cast(resident_id, String) + literal(":after_death")
    return and_(OutboxMessage.state.in_(DELIVERED), or_(
        OutboxMessage.idempotency_key == key + literal(":stopped"),
        OutboxMessage.idempotency_key == key + literal(":suspended:") + effective_month,
        OutboxMessage.idempotency_key == family))


def delivery(session: Session, letter_id: str, outbox_clause) -> dict | None:
    """How and when the letter was sent, or None: staff's record first, else the delivered message."""
    row = session.scalar(select(LetterDelivery).where(LetterDelivery.letter_id == letter_id))
    if row is not None:
        return {"method": row.method, "delivered_on": row.delivered_on, "recorded_by": f"staff:{row.staff_id}",
                "recorded_at": row.recorded_at, "note": row.note or None}
    if outbox_clause is None:
        return None
    message = session.scalars(select(OutboxMessage).where(outbox_clause).order_by(OutboxMessage.sent_at)).first()
    if message is None:
        return None
    at = message.sent_at or message.created_at
    return {"method": "electronic", "delivered_on": shanghai_date(at), "recorded_by": None, "recorded_at": at,
            "note": None, "channel": message.channel}


def _state(decided_on: date, sent: dict | None, today: date, tracked: bool) -> dict:
    due = send_by(decided_on)
    return {"send_by": due, "delivery": sent, "sent": sent is not None,
            "overdue": tracked and sent is None and today > due}


# ---- the letters -------------------------------------------------------------------------------------------------

def decision_letter(session: Session, application: Application, today: date) -> dict:
    if application.state not in DECIDED or application.decided_at is None:
        raise Conflict("The case is not decided yet; there is no decision to print.", error_code="not_decided")
    resident = session.get(Resident, application.resident_id)
    program = programs.get(application.program)
    decided_on = shanghai_date(application.decided_at)
    approved = application.state == "approved"
    reasons = [] if approved else [e.get("text") or e.get("code") for e in (application.trace or [])
                                   if not e.get("passed", True)]
    tracked = application.state in TRACKED_DECISIONS
    reopened_by = decision_round.reopened_by(session, application.id)
    letter_id = reopened_by or application.id
    sent = delivery(session, letter_id,
                    _decision_outbox(literal(application.id), literal(reopened_by)) if tracked else None)
    return {
        "letter_id": letter_id, "kind": "decision",
        "application_id": application.id, "program_name": program.name if program else application.program,
        "applicant_name": resident.name, "id_number_masked": resident.id_mask, "decision": application.state,
        "decision_code": application.decision, "decided_on": decided_on, "reasons": reasons[:20],
        "remedies": None if approved else remedies(),
        **_state(decided_on, sent, today, tracked),
    }


def _about_program(code: str, suffix: str, words: str) -> str | None:
    other = programs.get(code[: -len(suffix)]) if code and code.endswith(suffix) else None
    return words.format(other.name) if other is not None else None


def _grounds(change: BenefitChange, program) -> list[str]:
    """The ground in words, then the registry fact behind it (source named as the program names it)."""
    out = [STOP_GROUNDS.get(change.reason) or _about_program(change.reason, "_ended", "家庭已不再享受{}")
           or OTHER_GROUND]
    sources = {**SOURCES, **(dict(program.sources or {}) if program is not None else {})}
    for entry in change.trace or []:
        if not isinstance(entry, dict) or entry.get("passed", True):
            continue
        fact = entry.get("death_date") or entry.get("move_date") or entry.get("value")
        if entry.get("text"):
            out.append(str(entry["text"])[:200])
        elif fact and fact not in ("false", "true"):
            code = entry.get("source") or ""
            source = sources.get(code) or _about_program(code, "_registry", "{}对象数据库") or "登记信息"
            out.append(f"依据:{source}记载日期 {str(fact)[:40]}"
                       + (f"(数据日期 {entry['source_date']})" if entry.get("source_date") else ""))
    return out[:20]


def stop_letter(session: Session, benefit: Benefit, change: BenefitChange, today: date) -> dict:
    resident = session.get(Resident, benefit.resident_id)
    program = programs.get(benefit.program)
    sent = delivery(session, change.id, _stop_outbox(benefit.id, benefit.resident_id, change.effective_month))
    return {
        "letter_id": change.id, "kind": "stop", "benefit_id": benefit.id, "application_id": benefit.application_id,
        "program_name": program.name if program else benefit.program, "applicant_name": resident.name,
        "id_number_masked": resident.id_mask, "decision": change.kind, "decision_code": change.reason or None,
        "decided_on": change.as_of, "effective_month": change.effective_month, "reasons": _grounds(change, program),
        "remedies": remedies(), **_state(change.as_of, sent, today, True),
    }


def letters_of_application(session: Session, application: Application, today: date) -> dict:
    """For the case page: the decision letter's delivery, and the stop letters of the benefits it granted."""
    decision = decision_letter(session, application, today) if (
        application.state in DECIDED and application.decided_at is not None) else None
    stops = []
    for change, benefit in session.execute(
            select(BenefitChange, Benefit).join(Benefit, Benefit.id == BenefitChange.benefit_id)
            .where(Benefit.application_id == application.id, BenefitChange.kind.in_(STOP_KINDS))
            .order_by(BenefitChange.as_of, BenefitChange.id)).all():
        letter = stop_letter(session, benefit, change, today)
        stops.append({k: letter[k] for k in ("letter_id", "decision", "decision_code", "decided_on",
                                             "effective_month", "send_by", "sent", "delivery", "overdue")})
    return {"letter": None if decision is None else {k: decision[k] for k in (
        "letter_id", "send_by", "sent", "delivery", "overdue")}, "stop_letters": stops}


# ---- recording a delivery ------------------------------------------------------------------------------------------

def record_sent(session: Session, found, *, method: str, delivered_on: date | None, staff_id: str, note: str,
                today: date) -> dict:
    """Staff handed the letter over, posted it or left it (留置). Once per letter: a second record, or one for a
    letter already delivered through the resident's channel, is 409 `letter_already_sent`."""
    kind, _obj, row = found
    if kind == "decision":
        letter = decision_letter(session, row, today)
        resident_id = row.resident_id
    else:
        benefit = _obj
        letter = stop_letter(session, benefit, row, today)
        resident_id = benefit.resident_id
    if method not in METHODS:
        raise Unprocessable("method must be in_person, post or left_at_home", error_code="method_invalid")
    on = delivered_on or today
    if on > today or on < letter["decided_on"]:
        raise Unprocessable("The day of delivery must be between the decision and today.",
                            error_code="delivered_on_invalid")
    if letter["sent"]:
        raise Conflict("This letter has already been sent.", error_code="letter_already_sent")
    session.add(LetterDelivery(letter_id=letter["letter_id"], kind=kind, resident_id=resident_id, method=method,
                               delivered_on=on, staff_id=staff_id, note=note or "", recorded_at=utcnow()))
    try:
        session.flush()
    except IntegrityError:  # a colleague recorded it a moment ago (the unique letter_id)
        session.rollback()
        raise Conflict("This letter has already been sent.", error_code="letter_already_sent") from None
    return decision_letter(session, row, today) if kind == "decision" else stop_letter(session, _obj, row, today)


# ---- what is waiting to be sent ------------------------------------------------------------------------------------

def waiting(session: Session, caller: Caller, today: date, *, overdue_only: bool = False) -> list[dict]:
    """Unsent rejections and stops of the caller's jurisdiction decided within WINDOW_DAYS, oldest first."""
    since = today - timedelta(days=WINDOW_DAYS)
    place = jurisdiction_clause(caller, Resident.district_code, Resident.street_code, Resident.community_code)
    reopened_by = decision_round.reopening_appeal(Application.id)
    letter_id = func.coalesce(reopened_by, Application.id)
    staff_sent = exists().where(LetterDelivery.letter_id == letter_id)
    decisions = session.execute(
        select(letter_id, Application.program, Application.state, Application.decided_at, Resident.name,
               Resident.community_code)
        .join(Resident, Resident.id == Application.resident_id)
        .where(Application.state.in_(TRACKED_DECISIONS), Application.decided_at >= datetime.combine(since, time()), place, ~staff_sent,
               ~exists().where(_decision_outbox(Application.id, reopened_by)))
        .order_by(Application.decided_at).limit(WAITING_LIMIT)).all()
    stops = session.execute(
        select(BenefitChange.id, Benefit.program, BenefitChange.kind, BenefitChange.as_of, Resident.name,
               Resident.community_code)
        .join(Benefit, Benefit.id == BenefitChange.benefit_id).join(Resident, Resident.id == Benefit.resident_id)
        .where(BenefitChange.kind.in_(STOP_KINDS), BenefitChange.as_of >= since, place,
               ~exists().where(LetterDelivery.letter_id == BenefitChange.id),
               ~exists().where(_stop_outbox(Benefit.id, Benefit.resident_id, BenefitChange.effective_month)))
        .order_by(BenefitChange.as_of).limit(WAITING_LIMIT)).all()
    rows = [("decision", i, p, s, shanghai_date(at), n, c) for i, p, s, at, n, c in decisions]
    rows += [("stop", i, p, s, on, n, c) for i, p, s, on, n, c in stops]
    out = []
    for kind, letter_id, code, decision, decided_on, name, community in sorted(rows, key=lambda r: (r[4], r[1])):
        due = send_by(decided_on)
        late = workdays.working_days_between(due, today) if today > due else 0
        if overdue_only and today <= due:
            continue
        program = programs.get(code)
        out.append({"letter_id": letter_id, "kind": kind, "program": code,
                    "program_name": program.name if program else code, "decision": decision,
                    "resident_name_masked": mask_name(name), "community_code": community, "decided_on": decided_on,
                    "send_by": due, "overdue": today > due, "working_days_overdue": late})
    return out[:WAITING_LIMIT]
