"""身后一件事: one message to the family of each resident whose death was processed today.

Run by the daily lifecycle after the programs' own steps, so that the message can name what is left for the
family to confirm (an application about the deceased proposed to other residents, e.g. the funeral subsidy).
The message replaces the per-benefit "benefit stopped" messages of a death: its content (stopped benefits and
from which month, overpayment to return, what to confirm, whom to call) is built at send time
(notifications.occasions.after_death); the dispatcher sends it to the family (notifications.recipients).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.models import Application, ApplicationApplicant, Benefit, BenefitChange, Resident
from app.sql import Dialect
from flows import programs
from notifications.outbox import insert_rows


def notify_after_death(conn, d: Dialect, as_of: date) -> dict:
    stopped = select(Benefit.resident_id).join(BenefitChange, BenefitChange.benefit_id == Benefit.id).where(
        BenefitChange.reason == "death", BenefitChange.as_of == as_of)
    offered = select(Application.resident_id).join(
        ApplicationApplicant, ApplicationApplicant.application_id == Application.id).where(
        Application.as_of == as_of)
    ids = sorted(set(conn.execute(stopped).scalars()) | set(conn.execute(offered).scalars()))
    if not ids:
        return {"after_death_messages": 0}
    dead = set()
    for i in range(0, len(ids), 1000):
        dead |= set(conn.execute(select(Resident.id).where(Resident.id.in_(ids[i:i + 1000]),
                                                           Resident.death_date.is_not(None))).scalars())
    names = {code: p.name for code, p in programs.PROGRAMS.items()}
    rows = [{"kind": "after_death", "idempotency_key": f"death:{rid}:after_death", "resident_id": rid,
             "data": {"reason": "death", "program_names": names}} for rid in sorted(dead)]
    return {"after_death_messages": insert_rows(conn, rows)}
