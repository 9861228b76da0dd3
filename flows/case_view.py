"""The workbench's case page and its decision in writing (issue 12 items 4–5), for any program.

- `case(...)`: the resident masked, pre-filled fields with source and date, the rule's trace, the household and
  the economic-check report per member (when the program recorded one), every deadline with its badge, and the
  timeline of every event on the case (who, when, on whose behalf) from the audit log.
- `reveal(...)`: the full ID number or phone for a stated purpose (the caller audits it on the resident's behalf,
  so it shows in her feed).
- the decision in writing (决定书) and the stop letters of the case, with their delivery (送达): flows.letters.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app import authz
from app.authz import Caller
from app.crypto import FieldCipher
from app.errors import Conflict, Unprocessable
from app.masking import mask_name
from app.models import Account, Application, AuditEvent, Resident, StaffMember, StaffTask, StepDeadline
from flows import activity, areas, letters, programs, sources
from flows.dates import SHANGHAI
from flows.lifecycle import income
from flows.workbench import badge

REVEAL_FIELDS = ("id_number", "phone")
REVEAL_PURPOSES = ("home_visit", "office_visit", "application_review", "complaint", "data_correction",
                   "decision_letter")
DECIDED = letters.DECIDED
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
        out.append({"field": key, "label": sources.field_label(key), "value": None if value is None else str(value)[:500],
                    "value_name": (names.get(value) if key in AREA_KEYS and isinstance(value, str)
                                   else sources.value_words(key, entry.get("value"))),
                    "source": entry.get("source"), "source_name": sources.source_name(entry.get("source")),
                    "source_date": entry.get("source_date")})
    return out


def _phone_mask(resident: Resident) -> str | None:
    return getattr(resident, "phone_mask", None) or ("1**********" if resident.phone_enc else None)


def case(session: Session, application: Application, today: date,
         caller: Caller | None = None) -> tuple[dict, list[int]]:
    """The case page, and the residents of the applicant's household other than her: the page shows them too
    (names masked, birth years, the economic check per member), so each sees that read in her own feed."""
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
    others = [m.id for m in members if m.id != resident.id]
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
        "trace": [{**e, "source_name": sources.source_name(e.get("source"))} for e in application.trace or []],
        "economic_check": report if isinstance(report, list) else [],
        "deadlines": [{"step": d.step, "started_on": d.started_on.isoformat(), "due_on": d.due_on.isoformat(),
                       "working_days": d.working_days, "done_on": d.done_on.isoformat() if d.done_on else None,
                       "badge": "done" if d.done_on else badge(d.started_on, d.due_on, today)[0],
                       "calendar_note": d.calendar_note or None} for d in deadlines],
        "timeline": timeline(session, application),
        # what the caller may do besides the step's decision (authz decides; e.g. "extend" the time limit)
        "actions": actions(session, caller, application),
        "decision_letter": application.state in DECIDED,
        # sent (送达) or not and when, overdue past send_by; the stop letters of the benefits it granted
        **letters.letters_of_application(session, application, today),
        # the staff decision this state waits for, as the program declares it (path under the case, coded reasons)
        "step_action": (program.step_actions or {}).get(application.state) if program else None,
        # 近亲属 of staff: flagged at intake (单独登记备案), visited by the district (flows.near_relatives)
        "near_relative_of_staff": any((t.details or {}).get("near_relative_of_staff") for t in session.scalars(
            select(StaffTask).where(StaffTask.application_id == application.id))),
        # the checklist of an open home-visit task (declared by the program), for the visit screen on a phone
        "home_visit_checklist": next((t.details.get("checklist") for t in session.scalars(
            select(StaffTask).where(StaffTask.application_id == application.id, StaffTask.kind == "home_visit",
                                    StaffTask.state == "open")) if (t.details or {}).get("checklist")), None),
        # re-checks of its benefit after new income data (动态管理), in words (flows.lifecycle.income)
        "rechecks": income.rechecks_of(session, application.id),
    }, others


def timeline(session: Session, application: Application, limit: int = 200) -> list[dict]:
    """Every audited event on the case, oldest first, said so a page can put it in words: who (`actor_kind`
    staff | self | proxy | system, `actor_name`, a staff member's `actor_role`), what (`action`), when (`at` in
    UTC, `when` in Beijing time), on whose behalf (`on_behalf_of_name`, masked) and the stated `purpose`. Then
    the staff decisions recorded in the trace."""
    resident_ref = f"resident:{application.resident_id}"
    own = session.scalar(select(Account.id).where(Account.resident_id == application.resident_id))
    who = or_(AuditEvent.on_behalf_of == resident_ref, AuditEvent.actor == f"account:{own}") if own \
        else AuditEvent.on_behalf_of == resident_ref
    rows = session.scalars(select(AuditEvent).where(who, AuditEvent.object_ref == f"application:{application.id}")
                           .order_by(AuditEvent.seq).limit(limit)).all()
    staff_trace = [e for e in application.trace or [] if e.get("source") == "staff"]
    staff_ids = {e.actor.partition(":")[2] for e in rows if e.actor.startswith("staff:")} | \
        {str(e.get("staff_id")) for e in staff_trace if e.get("staff_id")}
    staff = {s.id: s for s in session.scalars(select(StaffMember).where(StaffMember.id.in_(staff_ids)))} \
        if staff_ids else {}
    resident = session.get(Resident, application.resident_id)
    subject = mask_name(resident.name) if resident else None
    events = []
    for e in rows:
        kind, _, ref = e.actor.partition(":")
        member = staff.get(ref) if kind == "staff" else None
        if kind == "staff":
            actor_kind, name = "staff", (member.display_name or member.username) if member else None
        elif kind == "account" and ref == own and e.on_behalf_of is None:
            actor_kind, name = "self", subject
        elif kind == "account":
            actor_kind, name = "proxy", activity.proxy_name_at(session, ref, e)
        else:
            actor_kind, name = "system", None
        details = e.details or {}
        events.append({"at": e.ts.isoformat(timespec="seconds"), "when": _beijing(e.ts), "actor": e.actor,
                       "actor_kind": actor_kind, "actor_name": name, "actor_role": member.role if member else None,
                       "action": activity.action_of(e),
                       "on_behalf_of": e.on_behalf_of, "on_behalf_of_name": subject if e.on_behalf_of else None,
                       "purpose": details.get("purpose") if isinstance(details.get("purpose"), str) else None,
                       "result": e.result})
    for entry in staff_trace:
        member = staff.get(str(entry.get("staff_id")))
        events.append({"at": None, "when": entry.get("source_date"), "actor": f"staff:{entry.get('staff_id')}",
                       "actor_kind": "staff", "actor_name": (member.display_name or member.username) if member
                       else None, "actor_role": member.role if member else None,
                       "action": f"step.{entry.get('code')}", "on_behalf_of": None,
                       "on_behalf_of_name": None, "purpose": None, "result": entry.get("value") or ""})
    return events


def _beijing(ts: datetime) -> str:
    """A stored UTC time as Beijing time, to the minute."""
    return ts.replace(tzinfo=UTC).astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M")


def actions(session: Session, caller: Caller | None, application: Application) -> list[str]:
    """What this caller may do on the case page besides the step's decision (authz decides): `extend` the case's
    time limit, when the program's casework can extend it now."""
    program = programs.get(application.program)
    module = program.casework_module() if program else None
    out = []
    extendable = getattr(module, "extendable", None)
    if extendable and authz.can(session, caller, "case:extend", application) and extendable(session, application):
        out.append("extend")
    return out


def reveal(session: Session, cipher: FieldCipher, resident: Resident, field: str) -> str:
    if field not in REVEAL_FIELDS:
        raise Unprocessable("field must be id_number or phone")
    blob = resident.id_enc if field == "id_number" else resident.phone_enc
    if not blob:
        raise Conflict("Nothing on file to show.", error_code="nothing_on_file")
    return cipher.decrypt(blob)
