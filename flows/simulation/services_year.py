"""The issue-11 services in the simulated year (flows.simulation.city_year): care-need assessments of older
members of 低保 households arrive during the year (→ the care subsidy's proposals and community tasks), and the
price subsidy is triggered once (maker, then a second admin) for the month before the middle of the year.

"Eligible" is computed from the simulated registry here, independently of the programs' own SQL:
- care subsidy: members of a 低保 household aged ≥ the minimum age on the day of an assessment at an eligible
  level, alive and local that day (clock: the assessment);
- price subsidy: persons counted in the 低保 households active in the index month (living members on its first
  day); coverage = persons paid in the trigger's roll ÷ persons counted.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, insert, select

from app.db import utcnow
from app.models import CareAssessment, OneOffPayment, PayrollLine, Resident
from flows import approvals
from flows.dates import age_on, month_of
from flows.programs import elderly_care_service_subsidy as care
from flows.programs import price_subsidy
from flows.programs.price_subsidy import trigger as price
from flows.staff import create_staff

ASSESSED_SHARE = 0.5  # of the older members of 低保 households, assessed during the year
LEVEL_WEIGHTS = (20, 25, 25, 18, 12)  # levels 0–4
SIM_PASSWORD = "simulated staff password"


class ServicesInYear:
    def __init__(self, sim):
        self.sim, self.rng = sim, sim.rng
        self.assessments: dict[date, list[tuple[int, int]]] = {}
        self.trigger_day = sim.start + timedelta(days=sim.days // 2) if sim.days >= 45 else None
        # the month before the trigger (not before the program's start)
        self.index_month = max(month_of(self.trigger_day.replace(day=1) - timedelta(days=1)),
                               month_of(price_subsidy.PARAMETERS["start_date"])) if self.trigger_day else None
        self.approval_id: str | None = None

    def plan(self, rows) -> None:
        heads = set(self.sim.dibao_heads)
        households = {r.household_id for r in rows if r.id in heads}
        minimum = care.PARAMETERS["minimum_age"].at(self.sim.start)
        for r in rows:
            if r.household_id in households and r.death_date is None and age_on(r.birth_date, self.sim.end) >= minimum \
                    and self.rng.random() < ASSESSED_SHARE:
                day = self.sim.start + timedelta(days=self.rng.randrange(self.sim.days))
                level = self.rng.choices(range(5), weights=LEVEL_WEIGHTS)[0]
                self.assessments.setdefault(day, []).append((r.id, level))

    def apply(self, day: date) -> None:
        todays = self.assessments.pop(day, [])
        if todays:
            with self.sim.engine.begin() as conn:
                conn.execute(insert(CareAssessment.__table__), [
                    {"resident_id": rid, "assessed_on": day, "level": level, "assessor": "模拟评估机构",
                     "row_digest": "sim", "source": "care_assessment", "source_date": day, "updated_at": utcnow()}
                    for rid, level in todays])
            self.sim.counts["care_assessments"] += len(todays)
        if day == self.trigger_day:
            with self.sim.Session() as s:
                maker = create_staff(s, username="sim_admin_maker", password=SIM_PASSWORD, role="admin",
                                     district="140105")
                checker = create_staff(s, username="sim_admin_checker", password=SIM_PASSWORD, role="admin",
                                       district="140105")
                approval = price.trigger(s, maker, {"index_month": self.index_month, "amount_per_person": "30.00"})
                approvals.approve(s, approval, checker)
                self.approval_id = approval.id
                s.commit()

    # ---- KPIs ---------------------------------------------------------------------------------------------------
    def care_eligible(self, s) -> dict[int, date]:
        heads = set(self.sim.dibao_heads)
        head_households = {h for (h,) in s.execute(select(Resident.household_id).where(Resident.id.in_(heads)))} \
            if heads else set()
        minimum_level = care.PARAMETERS["minimum_level"].at(self.sim.start)
        minimum_age = care.PARAMETERS["minimum_age"].at(self.sim.start)
        out = {}
        for rid, on, level, born, died, local, household in s.execute(
                select(CareAssessment.resident_id, CareAssessment.assessed_on, CareAssessment.level,
                       Resident.birth_date, Resident.death_date, Resident.hukou_local, Resident.household_id)
                .join(Resident, Resident.id == CareAssessment.resident_id)
                .where(CareAssessment.assessed_on >= self.sim.start, CareAssessment.assessed_on <= self.sim.end)):
            if level >= minimum_level and household in head_households and age_on(born, on) >= minimum_age and \
                    (died is None or died > on + timedelta(days=1)) and local:
                out.setdefault(rid, on)
        return out

    def price_row(self, s) -> dict:
        """Persons counted vs persons paid in the trigger's roll (the first roll closed after the approval)."""
        row = {"name": price_subsidy.PROGRAM.short_name, "eligible": 0, "proposed_on_time": 0, "coverage": 1.0,
               "wrongful_months": 0, "median_days_to_pay": None, "paid": 0, "trips": 0, "benefits_started": 0,
               "messages_per_benefit": None}
        if self.approval_id is None:
            return row
        first = date(int(self.index_month[:4]), int(self.index_month[5:7]), 1)
        heads = set(self.sim.dibao_heads)
        counted = 0
        for hid in s.execute(select(Resident.household_id).where(Resident.id.in_(heads))).scalars():
            counted += s.scalar(select(func.count()).select_from(Resident).where(
                Resident.household_id == hid, (Resident.death_date.is_(None)) | (Resident.death_date >= first)))
        after = sorted(m for m, closed in self.sim.closed_on.items() if closed > self.trigger_day)
        roll = after[0] if after else None  # the first roll closed after the approval
        paid = s.scalar(select(func.coalesce(func.sum(OneOffPayment.persons), 0)).where(
            OneOffPayment.cause_ref == self.approval_id, OneOffPayment.state == "paid",
            OneOffPayment.paid_in_month == roll)) if roll else 0
        lines = s.scalar(select(func.count()).select_from(PayrollLine).where(
            PayrollLine.program == price_subsidy.CODE)) or 0
        row.update({"eligible": counted, "proposed_on_time": int(paid), "coverage": (paid / counted) if counted else 1.0,
                    "paid": int(paid), "benefits_started": lines,
                    "median_days_to_pay": (self.sim.closed_on[roll] - self.trigger_day).days
                    if roll in self.sim.closed_on else None})
        return row
