"""近亲属 of staff (issue 12 item 4): an application whose household (the registry household of its subject)
includes a member of staff is flagged at intake (单独登记备案), and its home visit goes to the district (county)
level instead of the street that staff member may belong to. The registry household stands for near relatives
(spouse, parents, children living together); the staff member's own record is found by her ID number's lookup
hash or her linked resident."""

from __future__ import annotations

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.models import Resident, StaffMember


def staff_in_household(session: Session, resident: Resident) -> list[str]:
    """Ids of staff members who are registered in `resident`'s household (the resident included)."""
    if resident.household_id:
        members = session.execute(select(Resident.id, Resident.id_hash)
                                  .where(Resident.household_id == resident.household_id)).all()
    else:
        members = [(resident.id, resident.id_hash)]
    ids = [m.id for m in members]
    hashes = [m.id_hash for m in members if m.id_hash]
    clauses = [StaffMember.resident_id.in_(ids)]
    if hashes:
        clauses.append(StaffMember.id_hash.in_(hashes))
    return sorted(session.scalars(select(StaffMember.id).where(or_(*clauses))).all())
