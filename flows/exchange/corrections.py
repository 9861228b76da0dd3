"""Staff correction of a wrongly reported death (maker-checker): one staff member proposes with a reason, a second
one (an approver, not the proposer) approves; then the death record and date are removed and the worker resumes
the benefits stopped for it from the stop month (arrears in the next roll) and tells the family — the same effect
as the source's `DEATH_CANCELLED`. The proposal is a staff task (`death_correction`); both steps are audited on
behalf of the resident. (A stopgap on the command line until the workbench's approvals exist.)"""

from __future__ import annotations

from sqlalchemy import delete, select

from app import audit
from app.db import utcnow
from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.models import DeathRecord, ExchangeRecord, Resident, StaffMember, StaffTask

KIND = "death_correction"
APPROVERS = ("approver", "admin")


def _staff(session, username: str) -> StaffMember:
    staff = session.scalar(select(StaffMember).where(StaffMember.username == username))
    if staff is None:
        raise NotFound(f"no staff member {username}")
    return staff


def propose(session, *, resident_id: int, reason: str, username: str) -> StaffTask:
    staff = _staff(session, username)
    resident = session.get(Resident, resident_id)
    if resident is None or resident.death_date is None:
        raise NotFound("no recorded death for this resident")
    if len((reason or "").strip()) < 4:
        raise Unprocessable("a reason is required")
    task = StaffTask(kind=KIND, state="open", resident_id=resident_id, district_code=resident.district_code,
                     street_code=resident.street_code, community_code=resident.community_code,
                     details={"reason": reason.strip()[:500], "proposed_by": staff.id,
                              "death_date": resident.death_date.isoformat()},
                     dedupe_key=f"{KIND}:{resident_id}:{resident.death_date.isoformat()}")
    session.add(task)
    session.flush()
    audit.record(session, actor=f"staff:{staff.id}", action="staff.death_correction_propose",
                 on_behalf_of=f"resident:{resident_id}", object_ref=f"task:{task.id}", details={"reason": "recorded"})
    return task


def approve(session, *, task_id: str, username: str) -> StaffTask:
    staff = _staff(session, username)
    task = session.get(StaffTask, task_id)
    if task is None or task.kind != KIND:
        raise NotFound("no such death correction")
    if task.state != "open":
        raise Conflict("this correction is already decided")
    if staff.id == task.details.get("proposed_by"):
        raise Forbidden("the second approval must come from another staff member", error_code="same_staff")
    if staff.role not in APPROVERS:
        raise Forbidden("only an approver may approve", error_code="role_not_allowed")
    resident = session.get(Resident, task.resident_id)
    session.execute(delete(DeathRecord).where(DeathRecord.resident_id == resident.id))
    resident.death_date, resident.updated_at = None, utcnow()
    session.add(ExchangeRecord(client_id=f"staff:{staff.id}"[:40], dataset="deaths", reference_id=f"task:{task.id}",
                               body_sha256="-", status="accepted", reasons=[], resident_id=resident.id,
                               effect="death_cancelled", state="pending"))
    task.state, task.closed_at = "done", utcnow()
    task.details = {**task.details, "approved_by": staff.id}
    audit.record(session, actor=f"staff:{staff.id}", action="staff.death_correction_approve",
                 on_behalf_of=f"resident:{resident.id}", object_ref=f"task:{task.id}")
    return task
