"""One-off payments (一次性发放), a generic hook of the payment roll (flows.payroll).

A program records a `OneOffPayment` (payee, amount, the month it covers, a key that makes it idempotent per
cause). The first roll computed after it holds it as one line (benefit_id = the one-off's id); when that roll
closes the one-off is `paid` and one notice goes to its payee (for a household payment: one per household).
Without a payout account on file the line is `no_account` and the one-off waits for the next roll. A pending
one-off may be withdrawn (`withdraw`) until the roll that pays it closes.
"""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.models import OneOffPayment
from flows.money import yuan
from notifications.outbox import insert_rows


def lines(session: Session, month: str, accounts: dict) -> list[dict]:
    """The roll's lines for the pending one-offs (payroll line dicts)."""
    out = []
    for p in session.scalars(select(OneOffPayment).where(OneOffPayment.state == "pending")
                             .order_by(OneOffPayment.program, OneOffPayment.id)
                             .execution_options(populate_existing=True)):
        mask = accounts.get(p.payee_resident_id)
        out.append({"month": month, "program": p.program, "benefit_id": p.id, "resident_id": p.payee_resident_id,
                    "tier": "one_off", "amount_fen": p.amount_fen, "arrears_fen": 0, "covered_from": p.covers_month,
                    "covered_to": p.covers_month, "months": {p.covers_month: ["one_off", p.amount_fen]},
                    "account_mask": mask, "status": "scheduled" if mask else "no_account"})
    return out


def close(session: Session, roll_lines: list[dict], month: str) -> int:
    """The roll closed: its scheduled one-offs are paid, each payee told once (kind `one_off_paid`)."""
    paid = [ln for ln in roll_lines if ln["status"] == "scheduled"]
    if not paid:
        return 0
    ids = [ln["benefit_id"] for ln in paid]
    session.execute(update(OneOffPayment).where(OneOffPayment.id.in_(ids), OneOffPayment.state == "pending")
                    .values(state="paid", paid_in_month=month).execution_options(synchronize_session=False))
    details = {p.id: p for p in session.scalars(select(OneOffPayment).where(OneOffPayment.id.in_(ids)))}
    rows = [{"kind": "one_off_paid", "idempotency_key": f"one-off:{ln['benefit_id']}:paid",
             "resident_id": ln["resident_id"], "application_id": details[ln["benefit_id"]].application_id,
             "data": {"program": ln["program"], "amount": yuan(ln["amount_fen"]), "month": month,
                      "persons": details[ln["benefit_id"]].persons, **(details[ln["benefit_id"]].details or {})}}
            for ln in paid]
    return insert_rows(session, rows)


def withdraw(session: Session, cause_ref: str) -> int:
    """Withdraw the pending one-offs of a cause (e.g. an approval); paid ones stay paid."""
    return session.execute(update(OneOffPayment).where(OneOffPayment.cause_ref == cause_ref,
                                                       OneOffPayment.state == "pending")
                           .values(state="withdrawn").execution_options(synchronize_session=False)).rowcount
