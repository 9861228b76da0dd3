"""The care subsidy in the simulated year: care-need assessments of older members of 低保 households arrive
during the year (→ the program's proposals and community tasks). Eligible, from the simulated registry and
independently of the program's own SQL: members of a 低保 household (its head not moved out of the city by then)
aged ≥ the minimum age on the day of an assessment at an eligible level, alive and local that day, unless an
exclusive program already pays them at least as much (择高) (clock: the assessment)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, insert, select

from app.db import utcnow
from app.models import Benefit, CareAssessment, HukouMove, Resident
from flows.dates import age_on, month_of
from flows.programs.elderly_care_service_subsidy import CODE, PARAMETERS, PROGRAM, amount_for_level

HOUSEHOLD_PROGRAM = "dibao"
ASSESSED_SHARE = 0.5  # of the older members of 低保 households, assessed during the year
LEVEL_WEIGHTS = (20, 25, 25, 18, 12)  # levels 0–4


def plan(sim, rows, today: date) -> None:
    heads = set(sim.household_heads.get(HOUSEHOLD_PROGRAM, []))
    households = {r.household_id for r in rows if r.id in heads}
    minimum = PARAMETERS["minimum_age"].at(sim.start)
    assessments: dict[date, list[tuple[int, int]]] = {}
    for r in rows:
        if r.household_id in households and r.death_date is None and age_on(r.birth_date, sim.end) >= minimum \
                and sim.rng.random() < ASSESSED_SHARE:
            day = sim.start + timedelta(days=sim.rng.randrange(sim.days))
            level = sim.rng.choices(range(5), weights=LEVEL_WEIGHTS)[0]
            assessments.setdefault(day, []).append((r.id, level))
    sim.world[CODE] = assessments


def apply(sim, day: date) -> None:
    todays = sim.world[CODE].pop(day, [])
    if todays:
        with sim.engine.begin() as conn:
            conn.execute(insert(CareAssessment.__table__), [
                {"resident_id": rid, "assessed_on": day, "level": level, "assessor": "模拟评估机构",
                 "row_digest": "sim", "source": "care_assessment", "source_date": day, "updated_at": utcnow()}
                for rid, level in todays])
        sim.counts["care_assessments"] += len(todays)


def eligible(sim, s, ok) -> dict[int, date]:
    heads = set(sim.household_heads.get(HOUSEHOLD_PROGRAM, []))
    head_of = {hh: h for h, hh in s.execute(select(Resident.id, Resident.household_id).where(Resident.id.in_(heads)))} \
        if heads else {}
    # a household whose head moved out of the city has its 低保 suspended from then (no active case to count in)
    moved = dict(s.execute(select(HukouMove.resident_id, func.min(HukouMove.move_date)).where(
        HukouMove.direction == "out", HukouMove.resident_id.in_(heads)).group_by(HukouMove.resident_id)).all()) \
        if heads else {}
    # the 择高 rule keeps a benefit of an exclusive program that pays at least as much
    other: dict[int, list] = {}
    for b in s.execute(select(Benefit.resident_id, Benefit.monthly_amount_fen, Benefit.start_month, Benefit.end_month)
                       .where(Benefit.program.in_(PROGRAM.exclusive_with))):
        other.setdefault(b.resident_id, []).append((b.monthly_amount_fen, b.start_month, b.end_month))
    minimum_level = PARAMETERS["minimum_level"].at(sim.start)
    minimum_age = PARAMETERS["minimum_age"].at(sim.start)
    out = {}
    for rid, on, level, born, died, local, household in s.execute(
            select(CareAssessment.resident_id, CareAssessment.assessed_on, CareAssessment.level,
                   Resident.birth_date, Resident.death_date, Resident.hukou_local, Resident.household_id)
            .join(Resident, Resident.id == CareAssessment.resident_id)
            .where(CareAssessment.assessed_on >= sim.start, CareAssessment.assessed_on <= sim.end)):
        head = head_of.get(household)
        if head is None or (head in moved and moved[head] <= on):
            continue
        month = month_of(on)
        kept = any(amount >= amount_for_level(level, on) and start <= month and (end is None or end >= month)
                   for amount, start, end in other.get(rid, ()))
        if level >= minimum_level and age_on(born, on) >= minimum_age and not kept and \
                (died is None or died > on + timedelta(days=1)) and local:
            out.setdefault(rid, on)
    return out
