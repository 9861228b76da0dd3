"""What an accepted pushed event does, applied by the exchange worker — the one place the exchange touches the
lifecycle (the program engine will re-point this module; nothing else in flows/exchange calls lifecycle code).

- death: the existing lifecycle job `stop_on_death` (benefits stopped from the month after the death, open
  cases expired, and the family's `benefit_stopped` message with reason death queued in the same transaction).
- move_out: the existing `suspend_on_move_out`.
- death_cancelled: the benefits stopped for that death resume from the stop month (a `resumed` change, so the
  next payroll roll pays the months in between as arrears) and the family gets `benefit_resumed`.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, insert, select, update

from app.db import utcnow
from app.models import Benefit, BenefitChange, Resident
from app.models.ids import new_id
from app.sql import Dialect
from flows.dates import month_from_index, month_index, next_month
from flows.lifecycle.jobs import stop_on_death, suspend_on_move_out
from notifications.outbox import insert_rows

_B, _C = Benefit.__table__, BenefitChange.__table__


def apply(conn, d: Dialect, effect: str, resident_ids: list[int], as_of: date) -> dict:
    """Apply one kind of effect for these residents (idempotent: a second run changes nothing)."""
    if effect == "death":
        counts = stop_on_death(conn, d, as_of)
        counts["realigned_death"] = realign_death_stops(conn, resident_ids)
        return counts
    if effect == "move_out":
        return suspend_on_move_out(conn, d, as_of)
    if effect == "death_cancelled":
        return {"resumed_death_cancelled": resume_after_withdrawn_death(conn, resident_ids, as_of)}
    raise ValueError(f"unknown effect {effect}")


def realign_death_stops(conn, resident_ids: list[int]) -> int:
    """A corrected death date (an update of the report) moves the stop with it: the benefits already stopped for
    the death end with the new death month (a later date: the months in between are owed, and the next roll pays
    them; an earlier one: the anomaly report shows what was paid after it)."""
    if not resident_ids:
        return 0
    r = Resident.__table__
    rows = conn.execute(
        select(_B.c.id, _B.c.end_month, _C.c.id.label("change_id"), _C.c.effective_month, r.c.death_date)
        .join(_C, and_(_C.c.benefit_id == _B.c.id, _C.c.change_key == "stop", _C.c.reason == "death"))
        .join(r, r.c.id == _B.c.resident_id)
        .where(_B.c.resident_id.in_(resident_ids), _B.c.state == "stopped", r.c.death_date.is_not(None))).all()
    moved = 0
    for row in rows:
        end = f"{row.death_date:%Y-%m}"
        effective = next_month(row.death_date)
        ended_by_death = row.end_month == month_from_index(month_index(row.effective_month) - 1)
        if not ended_by_death or (row.end_month == end and row.effective_month == effective):
            continue  # already there, or ended earlier for another reason (a move out): that end stands
        conn.execute(update(_B).where(_B.c.id == row.id).values(end_month=end, updated_at=utcnow()))
        conn.execute(update(_C).where(_C.c.id == row.change_id).values(effective_month=effective))
        moved += 1
    return moved


def resume_after_withdrawn_death(conn, resident_ids: list[int], as_of: date) -> int:
    """Benefits stopped for a death that was withdrawn are active again from the stop month."""
    now = utcnow()
    rows = conn.execute(
        select(_B.c.id, _B.c.resident_id, _B.c.application_id, _B.c.program, _B.c.tier, _B.c.monthly_amount_fen,
               _C.c.id.label("change_id"), _C.c.effective_month)
        .join(_C, and_(_C.c.benefit_id == _B.c.id, _C.c.change_key == "stop", _C.c.reason == "death"))
        .where(_B.c.resident_id.in_(resident_ids), _B.c.state == "stopped")).all()
    messages = []
    for r in rows:
        # the stop's key is freed (so a later, real death stops the benefit again); the history stays
        conn.execute(update(_C).where(_C.c.id == r.change_id).values(change_key=f"stop:withdrawn:{r.change_id}"[:40]))
        conn.execute(insert(_C).values(
            id=new_id(), benefit_id=r.id, change_key=f"resume:death:{r.change_id}"[:40], kind="resumed",
            effective_month=r.effective_month, old_tier=r.tier, old_amount_fen=0, tier=r.tier,
            monthly_amount_fen=r.monthly_amount_fen, reason="death_cancelled", as_of=as_of,
            trace=[{"code": "alive", "passed": True, "value": "true", "source": "death_cancelled"}], created_at=now))
        conn.execute(update(_B).where(_B.c.id == r.id).values(state="active", end_month=None, updated_at=now))
        messages.append({"kind": "benefit_resumed", "idempotency_key": f"benefit:{r.id}:resumed:{r.change_id}",
                         "resident_id": r.resident_id, "application_id": r.application_id,
                         "data": {"program": r.program, "reason": "death_cancelled",
                                  "effective_month": r.effective_month, "monthly_amount_fen": r.monthly_amount_fen}})
    insert_rows(conn, messages)
    return len(rows)
