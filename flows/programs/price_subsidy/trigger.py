"""困难群众价格临时补贴: trigger (maker) → approval (checker) → one-off lines per 低保 household in the next roll.

- `trigger`: an admin names the index month and the amounts; a pending approval (flows.approvals, kind
  `price_subsidy_trigger`). A second trigger for the same index month is refused (409 `trigger_exists`) unless
  the first was withdrawn — pending (by its maker) or approved but withdrawn before its roll closed.
- The approval's handler pays every 低保 case active in the index month: one `OneOffPayment` per case to its
  holder, persons × amount, covering the index month (flows.one_offs puts it in the first roll closed after).
- `withdraw_approved`: before that roll closes, an approved trigger may be withdrawn (its one-offs withdrawn).
"""

from __future__ import annotations

import re
from datetime import date

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, aliased

from app import digits
from app.audit import record
from app.db import utcnow
from app.errors import Conflict, Forbidden, Unprocessable
from app.models import Approval, Benefit, OneOffPayment, Resident, StaffMember
from app.models.ids import new_id
from app.sql import insert_ignore
from flows import approvals, one_offs
from flows.dates import today_shanghai
from flows.money import fen, yuan
from flows.programs import price_subsidy as program

KIND = "price_subsidy_trigger"
MONTH = re.compile(r"[0-9]{4}-(0[1-9]|1[0-2])", re.ASCII)
PAYABLE = ("active", "suspended", "stopped")


def _amount(text: str | None, what: str) -> int | None:
    if text is None or text == "":
        return None
    text = digits.to_ascii(text)  # full-width ０-９ read as 0-9, as every amount typed in
    try:  # as written, like every amount: no exponent, sign, space, Infinity or NaN
        value = fen(text) if digits.AMOUNT.match(text) else None
    except ValueError:
        value = None
    limit = program.PARAMETERS["max_amount"].at(today_shanghai())
    if value is None or not 0 < value <= limit:
        raise Unprocessable(f"{what} must be an amount like 30.00, above 0 and at most {yuan(limit)}.",
                            errors={what: ["invalid"]})
    return value


def subject_of(index_month: str) -> str:
    return f"{program.CODE}:{index_month}"


def trigger(session: Session, staff: StaffMember, options: dict) -> Approval:
    """options: index_month (YYYY-MM, not after this month), amount_per_person, amount_rural (optional)."""
    if staff.role != "admin":
        raise Forbidden("The price subsidy is triggered by an admin.", error_code="approval_role")
    month = options.get("index_month") or ""
    month = digits.to_ascii(month) if isinstance(month, str) else month
    if not (isinstance(month, str) and MONTH.fullmatch(month)) or month > f"{today_shanghai():%Y-%m}" \
            or month < f"{program.PARAMETERS['start_date']:%Y-%m}":
        raise Unprocessable("index_month must be YYYY-MM, from the program's start and not after this month.",
                            errors={"index_month": ["invalid"]})
    urban = _amount(options.get("amount_per_person"), "amount_per_person")
    if urban is None:
        raise Unprocessable("amount_per_person is required.", errors={"amount_per_person": ["required"]})
    rural = _amount(options.get("amount_rural"), "amount_rural") or urban
    standing = session.scalar(select(Approval.id).where(
        Approval.kind == KIND, Approval.subject_ref == subject_of(month), Approval.state.in_(("pending", "approved"))))
    if standing is not None:
        raise Conflict(f"The price subsidy for {month} has already been triggered ({standing}); withdraw it "
                       "first (before its roll closes).", error_code="trigger_exists")
    return approvals.propose(session, KIND, subject_of(month),
                             {"program": program.CODE, "index_month": month, "amount_per_person_fen": urban,
                              "amount_rural_fen": rural,
                              "note": "the registry has no urban/rural flag yet: the urban amount applies to all"},
                             staff)


def counted_cases(session: Session, month: str) -> list[tuple[int, int]]:
    """(holder resident id, persons) of every 低保 case active in `month`: persons are the living members of the
    holder's registry household on the first day of the month."""
    first = date(int(month[:4]), int(month[5:7]), 1)
    holder, member = aliased(Resident), aliased(Resident)
    persons = (select(func.count(member.id)).where(member.household_id == holder.household_id,
                                                   or_(member.death_date.is_(None), member.death_date >= first))
               .correlate(holder).scalar_subquery())
    rows = session.execute(
        select(Benefit.resident_id, persons).join(holder, holder.id == Benefit.resident_id)
        .where(Benefit.program == "dibao", Benefit.state.in_(PAYABLE), Benefit.start_month <= month,
               or_(Benefit.end_month.is_(None), Benefit.end_month >= month))
        .order_by(Benefit.resident_id)).all()
    return [(rid, max(int(n or 0), 1)) for rid, n in rows]


def _apply(session: Session, approval: Approval, checker: StaffMember) -> None:
    p = approval.payload
    month, per = p["index_month"], int(p["amount_per_person_fen"])
    rows = []
    for holder, persons in counted_cases(session, month):
        rows.append({"id": new_id(), "program": program.CODE, "key": f"{program.CODE}:{month}:{approval.id}:{holder}",
                     "payee_resident_id": holder, "subject_resident_id": holder, "application_id": None,
                     "cause_ref": approval.id, "amount_fen": persons * per, "covers_month": month,
                     "persons": persons, "details": {"program_name": program.NAME, "index_month": month,
                                                     "per_person": yuan(per)},
                     "state": "pending", "created_at": utcnow()})
    for i in range(0, len(rows), 1000):
        session.execute(insert_ignore(session, OneOffPayment.__table__), rows[i:i + 1000])
    approval.payload = {**p, "households": len(rows), "persons": sum(r["persons"] for r in rows)}


def withdraw_approved(session: Session, approval: Approval, staff: StaffMember) -> Approval:
    """An approved trigger withdrawn before its roll closed: its one-offs are withdrawn; 409 once any is paid."""
    if approval.kind != KIND:
        raise Conflict("Not a price subsidy trigger.", error_code="approval_kind")
    if approval.state == "pending":
        return approvals.withdraw(session, approval, staff)
    if staff.role != "admin":
        raise Forbidden("Withdrawing a triggered price subsidy needs an admin.")
    paid = session.scalar(select(func.count()).select_from(OneOffPayment).where(
        OneOffPayment.cause_ref == approval.id, OneOffPayment.state == "paid"))
    if approval.state != "approved" or paid:
        raise Conflict(f"The trigger is {approval.state}" + (" and its roll has closed" if paid else "") +
                       "; it cannot be withdrawn.", error_code="trigger_paid")
    n = one_offs.withdraw(session, approval.id)
    session.execute(update(Approval).where(Approval.id == approval.id, Approval.state == "approved")
                    .values(state="withdrawn", decided_at=utcnow()).execution_options(synchronize_session=False))
    session.refresh(approval)
    record(session, actor=approvals.actor_of(staff), action="approval.withdraw", object_ref=f"approval:{approval.id}",
           details={"kind": KIND, "subject": approval.subject_ref, "one_offs_withdrawn": n})
    return approval


def _describe(a: Approval) -> str:
    p = a.payload or {}
    return (f"困难群众价格临时补贴 {p.get('index_month')}: 每人{yuan(p.get('amount_per_person_fen'))}元"
            + (f", {p['households']}户{p['persons']}人" if "households" in p else ""))


approvals.register(approvals.Kind(KIND, "admin", _apply, _describe))


def facts_for(session: Session, application, as_of: date) -> program.Facts:
    """The rule's facts for one resident's household in the month of `as_of` (a trace shown without a decision)."""
    month = f"{as_of:%Y-%m}"
    person = session.get(Resident, application.resident_id)
    persons = dict(counted_cases(session, month)).get(person.id, 0) if person else 0
    return program.Facts(index_month=month, dibao_active=persons > 0, persons=persons,
                         amount_per_person_fen=0, source_date=as_of)
