"""The price subsidy in the simulated year: triggered once (maker, then a second admin) for the month before the
middle of the year. Its row: persons counted in the 低保 households active in the index month (those receiving it
at the start and those approved in the simulation before it; living members on its first day) against persons paid in the trigger's roll (the first roll closed after the approval)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select

from app.models import HukouMove, OneOffPayment, PayrollLine, Resident
from flows import approvals
from flows.dates import month_of
from flows.programs.price_subsidy import CODE, PARAMETERS, PROGRAM
from flows.programs.price_subsidy import trigger as price
from flows.staff import create_staff

HOUSEHOLD_PROGRAM = "dibao"
SIM_PASSWORD = "simulated staff password"


def plan(sim, rows, today: date) -> None:
    day = sim.start + timedelta(days=sim.days // 2) if sim.days >= 45 else None
    # the month before the trigger (not before the program's start)
    index = max(month_of(day.replace(day=1) - timedelta(days=1)), month_of(PARAMETERS["start_date"])) if day else None
    sim.world[CODE] = {"trigger_day": day, "index_month": index, "approval_id": None}


def apply(sim, day: date) -> None:
    state = sim.world[CODE]
    if day != state["trigger_day"]:
        return
    with sim.Session() as s:
        maker = create_staff(s, username="sim_admin_maker", password=SIM_PASSWORD, role="admin", district="140105")
        checker = create_staff(s, username="sim_admin_checker", password=SIM_PASSWORD, role="admin",
                               district="140105")
        approval = price.trigger(s, maker, {"index_month": state["index_month"], "amount_per_person": "30.00"})
        approvals.approve(s, approval, checker)
        state["approval_id"] = approval.id
        s.commit()


def row(sim, s) -> dict:
    state = sim.world[CODE]
    out = {"name": PROGRAM.short_name, "eligible": 0, "proposed_on_time": 0, "coverage": 1.0, "wrongful_months": 0,
           "median_days_to_approval": None, "median_days_to_pay": None, "paid": 0, "trips": 0, "benefits_started": 0, "messages_per_benefit": None}
    if state["approval_id"] is None:
        return out
    index = state["index_month"]
    first = date(int(index[:4]), int(index[5:7]), 1)
    # the households receiving 低保 at the start, and those approved during the year whose benefit (from the
    # month after the approval) covers the index month
    heads = set(sim.household_heads.get(HOUSEHOLD_PROGRAM, []))
    heads |= {rid for (rid, program), day in sim.approved_on.items()
              if program == HOUSEHOLD_PROGRAM and month_of(day.replace(day=28) + timedelta(days=4)) <= index}
    # a household whose head moved out of the city before the index month has its 低保 suspended: not counted
    moved = {rid for (rid,) in s.execute(select(HukouMove.resident_id).where(
        HukouMove.direction == "out", HukouMove.move_date < first, HukouMove.resident_id.in_(heads)))}
    counted = 0
    for hid in s.execute(select(Resident.household_id).where(Resident.id.in_(heads - moved))).scalars():
        counted += s.scalar(select(func.count()).select_from(Resident).where(
            Resident.household_id == hid, (Resident.death_date.is_(None)) | (Resident.death_date >= first)))
    # the first roll closed after the approval: a day's events (the approval) come before its roll (the 5th)
    after = sorted(m for m, closed in sim.closed_on.items() if closed >= state["trigger_day"])
    roll = after[0] if after else None
    paid = s.scalar(select(func.coalesce(func.sum(OneOffPayment.persons), 0)).where(
        OneOffPayment.cause_ref == state["approval_id"], OneOffPayment.state == "paid",
        OneOffPayment.paid_in_month == roll)) if roll else 0
    lines = s.scalar(select(func.count()).select_from(PayrollLine).where(PayrollLine.program == CODE)) or 0
    out.update({"eligible": counted, "proposed_on_time": int(paid), "coverage": (paid / counted) if counted else 1.0,
                "paid": int(paid), "benefits_started": lines, "median_days_to_approval": 0,  # the second admin, same day
                "median_days_to_pay": (sim.closed_on[roll] - state["trigger_day"]).days
                if roll in sim.closed_on else None})
    return out
