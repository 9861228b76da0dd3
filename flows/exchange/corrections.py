"""Staff correction of a wrongly reported death through the one maker-checker mechanism (flows.approvals): a staff
member proposes with a reason (an approval of kind `death_correction`, subject `resident:<id>`), a second one —
an approver, not the maker — approves (`zerotrip exchange death-correction approve`, `zerotrip approvals approve`
or `POST /api/v1/staff/approvals/<id>/approve`); then the death record and date are removed and the exchange
worker resumes the benefits stopped for it from the stop month (arrears in the next roll) and tells the family —
the same effect as the source's `DEATH_CANCELLED`. Both steps are audited on behalf of the resident."""

from __future__ import annotations

from sqlalchemy import delete

from app import audit
from app.db import utcnow
from app.digits import ASCII_DIGITS
from app.errors import Conflict, NotFound, Unprocessable
from app.models import Approval, DeathRecord, ExchangeRecord, Resident, StaffMember
from flows import approvals

KIND = "death_correction"


def propose(session, *, resident_id: int, reason: str, maker: StaffMember) -> Approval:
    resident = session.get(Resident, resident_id)
    if resident is None or resident.death_date is None:
        raise NotFound("no recorded death for this resident")
    if len((reason or "").strip()) < 4:
        raise Unprocessable("a reason is required")
    approval = approvals.propose(session, KIND, f"resident:{resident_id}",
                                 {"reason": reason.strip()[:500], "death_date": resident.death_date.isoformat()},
                                 maker)
    audit.record(session, actor=approvals.actor_of(maker), action="staff.death_correction_propose",
                 on_behalf_of=f"resident:{resident_id}", object_ref=f"approval:{approval.id}",
                 details={"reason": "recorded"})
    return approval


def _apply(session, approval: Approval, checker: StaffMember) -> None:
    resident_id = int(approval.subject_ref.partition(":")[2])
    resident = session.get(Resident, resident_id)
    if resident is None or resident.death_date is None or \
            resident.death_date.isoformat() != (approval.payload or {}).get("death_date"):
        raise Conflict("The recorded death changed since the correction was proposed; propose it again.",
                       error_code="death_changed")
    session.execute(delete(DeathRecord).where(DeathRecord.resident_id == resident.id))
    resident.death_date, resident.updated_at = None, utcnow()
    session.add(ExchangeRecord(client_id=f"staff:{checker.id}"[:40], dataset="deaths",
                               reference_id=f"approval:{approval.id}", body_sha256="-", status="accepted",
                               reasons=[], resident_id=resident.id, effect="death_cancelled", state="pending"))
    audit.record(session, actor=approvals.actor_of(checker), action="staff.death_correction_approve",
                 on_behalf_of=f"resident:{resident.id}", object_ref=f"approval:{approval.id}")


def _visible_to(session, approval: Approval, staff: StaffMember) -> bool:
    """A death correction is listed (and approved) only by staff who may see the resident (her jurisdiction)."""
    resident_id = approval.subject_ref.partition(":")[2]
    resident = session.get(Resident, int(resident_id)) if ASCII_DIGITS.fullmatch(resident_id) else None
    return approvals.staff_may(session, staff, "resident:view", resident)


def _resident_of(session, subject_ref: str, payload: dict) -> int | None:
    """The resident a correction is about (`resident:<id>`)."""
    number = subject_ref.partition(":")[2]
    return int(number) if ASCII_DIGITS.fullmatch(number) else None


approvals.register(approvals.Kind(KIND, "approver", _apply,
                                  describe=lambda a: f"更正死亡登记（{a.subject_ref}）：{(a.payload or {}).get('reason', '')}",
                                  visible_to=_visible_to, resident_of=_resident_of))
