"""低保 in the simulated year (flows.simulation.city_year, Program.simulation).

- About 1.5% of households receive it at the start (legacy benefits, so the programs that need a 低保 household
  have candidates); each month their heads' income of the month before arrives from 税务.
- About 0.4% of the other households have an earner whose wage (1.1–1.6 × the standard for the household) is
  reported each month, until a day in the year when the job is lost: from that month on nothing more is
  reported. Once the rule's window (the complete months before, `income_months`) no longer holds enough income,
  the household is eligible, and the proactive scan should propose it to the head that day.
- The staff steps run through the same casework functions as the workbench, with realistic delays: the home
  visit 2–12 days after the economic check, the street review 1–6 days after the visit, the 7-day 公示 closed
  by the program's daily sweep, the county's approval 1–8 days after. Every visit finds what was declared.

"Eligible" is computed here from the simulated wages and the registry (living members on the day), not from the
scan's SQL: a household is eligible from the first day on which the income of its window, divided by the
window's months and the living members, is below the standard (the day the data that shows it arrives).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, timedelta

from sqlalchemy import insert, select

from app.db import utcnow
from app.models import Application, Benefit, EconomicRecord, Resident
from app.models.ids import new_id
from flows.dates import month_of
from flows.programs import dibao
from flows.programs.dibao import cases

CODE = dibao.CODE
HOUSEHOLD_SHARE = 0.015
NEWLY_POOR_SHARE = 0.004
STAFF_DELAYS = {"home_visit": (2, 12), "reviewing": (1, 6), "approving": (1, 8)}


def _standard(day: date) -> int:
    return dibao.PARAMETERS["standard"].at(max(day, dibao.PARAMETERS["start_date"]))


def plan(sim, rows, today: date) -> None:
    heads = [r for r in rows if r.relation_to_head == "户主" and r.death_date is None and r.hukou_local]
    chosen = sim.rng.sample(heads, int(len(heads) * HOUSEHOLD_SHARE))
    now = utcnow()
    sim.bulk(Benefit, [{"id": new_id(), "program": CODE, "resident_id": r.id, "application_id": None,
                        "origin": "legacy", "tier": "2p", "monthly_amount_fen": 60000,
                        "start_month": month_of(today), "end_month": None, "state": "active",
                        "created_at": now, "updated_at": now} for r in chosen])
    sim.household_heads[CODE] = [r.id for r in chosen]
    # the earners who will lose their job during the year: wage records for the window before the start
    taken = {r.id for r in chosen}
    members = Counter(r.household_id for r in rows if r.death_date is None)
    others = [r for r in heads if r.id not in taken]
    earners = {}
    last_loss = max(sim.start, sim.end - timedelta(days=60))
    for r in sim.rng.sample(others, int(len(others) * NEWLY_POOR_SHARE)):
        wage = int(_standard(today) * members[r.household_id] * sim.rng.uniform(1.1, 1.6))
        loss = sim.start + timedelta(days=sim.rng.randrange((last_loss - sim.start).days + 1))
        earners[r.id] = {"household_id": r.household_id, "wage": wage, "first_zero": month_of(loss)}
    sim.bulk(EconomicRecord, [_wage(rid, month, e["wage"], today, now)  # the window as the year begins
                              for rid, e in earners.items() for month in dibao.window(today)])
    sim.world[CODE] = {"earners": earners, "due": {}}


def _wage(resident_id: int, period: str, amount: int, day: date, now) -> dict:
    return {"resident_id": resident_id, "kind": "income_wage", "period": period, "ref_hash": "", "amount_fen": amount,
            "quantity": 1, "source": "tax", "source_date": day, "updated_at": now}


def apply(sim, day: date) -> None:
    """On the 1st, 税务's records of the month before: the legacy heads' small incomes, the earners' wages (none
    once the job is lost)."""
    heads = sim.household_heads.get(CODE, [])
    if day.day != 1:
        return
    prev, now = month_of(day - timedelta(days=1)), utcnow()
    earners = sim.world.get(CODE, {}).get("earners", {})
    rows = [_wage(rid, prev, sim.rng.randrange(0, 90_000), day, now) for rid in heads]
    rows += [_wage(rid, prev, e["wage"], day, now) for rid, e in earners.items() if prev < e["first_zero"]]
    if rows:
        with sim.engine.begin() as conn:
            conn.execute(insert(EconomicRecord.__table__), rows)


def staff(sim, s, day: date) -> None:
    """The street's and the county's steps on open 低保 cases, each a few days after the case reached it."""
    due = sim.world.setdefault(CODE, {"earners": {}, "due": {}})["due"]
    open_cases = s.scalars(select(Application).where(Application.program == CODE,
                                                     Application.state.in_(tuple(STAFF_DELAYS)))).all()
    for app in open_cases:
        key = (app.id, app.state)
        if key not in due:
            due[key] = day + timedelta(days=sim.rng.randint(*STAFF_DELAYS[app.state]))
        if due[key] > day:
            continue
        if app.state == "home_visit":
            cases.record_home_visit(s, app, "sim-worker", dict.fromkeys(dibao.HOME_VISIT_CHECKLIST, True), today=day)
            sim.actions[CODE]["home_visit"] += 1  # the street's visit, not the citizen's trip
        elif app.state == "reviewing":
            cases.street_review(s, app, "sim-street", True, today=day)
        else:
            cases.county_decide(s, app, "sim-county", True, today=day)


def eligible(sim, s, ok) -> dict[int, date]:
    """Households whose window fell below the standard during the year: {head: the first such day}."""
    earners = sim.world.get(CODE, {}).get("earners", {})
    if not earners:
        return {}
    households = {e["household_id"] for e in earners.values()}
    people = defaultdict(list)
    for p in s.execute(select(Resident.household_id, Resident.birth_date, Resident.death_date)
                       .where(Resident.household_id.in_(households))):
        people[p.household_id].append(p)
    heads = {r.id: r for r in s.execute(select(Resident.id, Resident.death_date, Resident.hukou_local)
                                        .where(Resident.id.in_(list(earners))))}
    out = {}
    day = sim.start
    firsts = []
    while day <= sim.end:
        firsts.append(day)
        day = (day.replace(day=1) + timedelta(days=32)).replace(day=1)
    for rid, e in earners.items():
        for d in firsts:
            months = dibao.window(d)
            income = sum(e["wage"] for m in months if m < e["first_zero"])
            living = sum(1 for p in people[e["household_id"]]
                         if p.birth_date <= d and (p.death_date is None or p.death_date > d))
            if living and income < _standard(d) * len(months) * living:
                if ok(heads[rid], d):
                    out[rid] = d
                break
    return out
