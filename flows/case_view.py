"""The workbench's case page and its decision in writing (issue 12 items 4–5), for any program.

- `case(...)`: the resident masked, pre-filled fields with source and date, the rule's trace, the household and
  the economic-check report per member (when the program recorded one), every deadline with its badge, and the
  timeline of every event on the case (who, when, on whose behalf) from the audit log.
- `reveal(...)`: the full ID number or phone for a stated purpose (the caller audits it on the resident's behalf,
  so it shows in her feed).
- `decision_letter(...)`: the 决定书 of a decided case: the decision, its reasons (from the trace), the remedies
  (行政复议 within 60 days, 行政诉讼 within 6 months) and the day by which it must be sent (3 working days).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.crypto import FieldCipher
from app.errors import Conflict, Unprocessable
from app.masking import mask_name
from app.models import Application, AuditEvent, Resident, StaffTask, StepDeadline
from flows import areas, programs, workdays
from flows.workbench import badge

REVEAL_FIELDS = ("id_number", "phone")
REVEAL_PURPOSES = ("home_visit", "office_visit", "application_review", "complaint", "data_correction",
                   "decision_letter")
REVIEW_DAYS = 60  # 行政复议: within 60 days of receiving the decision
LAWSUIT_MONTHS = 6  # 行政诉讼: within 6 months
SEND_WITHIN_WORKING_DAYS = 3
DECIDED = ("approved", "rejected", "stopped")
MASKED_KEYS = ("name",)


AREA_KEYS = ("district_code", "street_code", "community_code")


def _prefilled(application: Application, names: dict[str, str]) -> list[dict]:
    """Pre-filled fields with source and date; an area code's name is `value_name` (the code stays in `value`)."""
    out = []
    for key, entry in (application.prefill or {}).items():
        if not isinstance(entry, dict) or key == "economic_check":
            continue
        value = entry.get("value")
        if key in MASKED_KEYS and isinstance(value, str):
            value = mask_name(value)
        out.append({"field": key, "value": None if value is None else str(value)[:500],
                    "value_name": names.get(value) if key in AREA_KEYS and isinstance(value, str) else None,
                    "source": entry.get("source"), "source_date": entry.get("source_date")})
    return out


def _phone_mask(resident: Resident) -> str | None:
    return getattr(resident, "phone_mask", None) or ("1**********" if resident.phone_enc else None)


def case(session: Session, application: Application, today: date) -> dict:
    resident = session.get(Resident, application.resident_id)
    members = session.scalars(select(Resident).where(Resident.household_id == resident.household_id,
                                                     Resident.household_id.is_not(None))
                              .order_by(Resident.birth_date)).all() if resident.household_id else [resident]
    report = ((application.prefill or {}).get("economic_check") or {}).get("value")
    deadlines = session.scalars(select(StepDeadline).where(StepDeadline.application_id == application.id)
                                .order_by(StepDeadline.started_on, StepDeadline.id)).all()
    program = programs.get(application.program)
    prefilled = [(application.prefill or {}).get(k) for k in AREA_KEYS]
    place = areas.names(session, (resident.district_code, resident.street_code, resident.community_code,
                                  *(e.get("value") for e in prefilled if isinstance(e, dict)
                                    and isinstance(e.get("value"), str))), today)
    return {
        "application_id": application.id, "program": application.program,
        "program_name": program.name if program else application.program, "state": application.state,
        "decision": application.decision,
        "resident": {"name_masked": mask_name(resident.name), "id_number_masked": resident.id_mask,
                     "phone_masked": _phone_mask(resident), "sex": resident.sex,
                     "birth_year": resident.birth_date.year if resident.birth_date else None,
                     "district_code": resident.district_code, "street_code": resident.street_code,
                     "community_code": resident.community_code,
                     "district_name": place.get(resident.district_code),
                     "street_name": place.get(resident.street_code),
                     "community_name": place.get(resident.community_code)},
        "household": [{"name_masked": mask_name(m.name), "relation": m.relation_to_head,
                       "birth_year": m.birth_date.year if m.birth_date else None, "applicant": m.id == resident.id}
                      for m in members],
        "prefill": _prefilled(application, place),
        "trace": list(application.trace or []),
        "economic_check": report if isinstance(report, list) else [],
        "deadlines": [{"step": d.step, "started_on": d.started_on.isoformat(), "due_on": d.due_on.isoformat(),
                       "working_days": d.working_days, "done_on": d.done_on.isoformat() if d.done_on else None,
                       "badge": "done" if d.done_on else badge(d.started_on, d.due_on, today)[0],
                       "calendar_note": d.calendar_note or None} for d in deadlines],
        "timeline": timeline(session, application),
        "decision_letter": application.state in DECIDED,
        # the staff decision this state waits for, as the program declares it (path under the case, coded reasons)
        "step_action": (program.step_actions or {}).get(application.state) if program else None,
        # 近亲属 of staff: flagged at intake (单独登记备案), visited by the district (flows.near_relatives)
        "near_relative_of_staff": any((t.details or {}).get("near_relative_of_staff") for t in session.scalars(
            select(StaffTask).where(StaffTask.application_id == application.id))),
        # the checklist of an open home-visit task (declared by the program), for the visit screen on a phone
        "home_visit_checklist": next((t.details.get("checklist") for t in session.scalars(
            select(StaffTask).where(StaffTask.application_id == application.id, StaffTask.kind == "home_visit",
                                    StaffTask.state == "open")) if (t.details or {}).get("checklist")), None),
    }


def timeline(session: Session, application: Application, limit: int = 200) -> list[dict]:
    """Every audited event on the case (the resident's feed index, then this application)."""
    rows = session.scalars(select(AuditEvent).where(
        AuditEvent.on_behalf_of == f"resident:{application.resident_id}",
        AuditEvent.object_ref == f"application:{application.id}").order_by(AuditEvent.seq).limit(limit)).all()
    events = [{"at": e.ts.isoformat(timespec="seconds"), "actor": e.actor, "action": e.action, "on_behalf_of": e.on_behalf_of,
               "result": e.result} for e in rows]
    for entry in application.trace or []:
        if entry.get("source") == "staff":
            events.append({"at": None, "actor": f"staff:{entry.get('staff_id')}", "action": f"step.{entry.get('code')}",
                           "on_behalf_of": None, "result": entry.get("value") or ""})
    return events


def reveal(session: Session, cipher: FieldCipher, resident: Resident, field: str) -> str:
    if field not in REVEAL_FIELDS:
        raise Unprocessable("field must be id_number or phone")
    blob = resident.id_enc if field == "id_number" else resident.phone_enc
    if not blob:
        raise Conflict("Nothing on file to show.", error_code="nothing_on_file")
    return cipher.decrypt(blob)


def decision_letter(session: Session, application: Application) -> dict:
    if application.state not in DECIDED or application.decided_at is None:
        raise Conflict("The case is not decided yet; there is no decision to print.", error_code="not_decided")
    resident = session.get(Resident, application.resident_id)
    program = programs.get(application.program)
    decided_on = application.decided_at.date()
    approved = application.state == "approved"
    reasons = [] if approved else [e.get("text") or e.get("code") for e in (application.trace or [])
                                   if not e.get("passed", True)]
    return {
        "application_id": application.id, "program_name": program.name if program else application.program,
        "applicant_name": resident.name, "id_number_masked": resident.id_mask, "decision": application.state,
        "decision_code": application.decision, "decided_on": decided_on, "reasons": reasons[:20],
        "remedies": None if approved else {"administrative_review_days": REVIEW_DAYS,
                                           "lawsuit_months": LAWSUIT_MONTHS},
        "send_by": workdays.add_working_days(decided_on, SEND_WITHIN_WORKING_DAYS),
    }
