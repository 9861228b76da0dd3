"""低保 in the simulated year (flows.simulation.city_year, Program.simulation): about 1.5% of households receive
it at the start (legacy benefits, so the programs that need a 低保 household have candidates), and each month
their heads' income of the month before arrives from 税务."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import insert

from app.db import utcnow
from app.models import Benefit, EconomicRecord
from app.models.ids import new_id
from flows.dates import month_of
from flows.programs.dibao import CODE

HOUSEHOLD_SHARE = 0.015


def plan(sim, rows, today: date) -> None:
    heads = [r for r in rows if r.relation_to_head == "户主" and r.death_date is None and r.hukou_local]
    chosen = sim.rng.sample(heads, int(len(heads) * HOUSEHOLD_SHARE))
    now = utcnow()
    sim.bulk(Benefit, [{"id": new_id(), "program": CODE, "resident_id": r.id, "application_id": None,
                        "origin": "legacy", "tier": "2p", "monthly_amount_fen": 60000,
                        "start_month": month_of(today), "end_month": None, "state": "active",
                        "created_at": now, "updated_at": now} for r in chosen])
    sim.household_heads[CODE] = [r.id for r in chosen]


def apply(sim, day: date) -> None:
    heads = sim.household_heads.get(CODE, [])
    if day.day != 1 or not heads:
        return
    prev, now = month_of(day - timedelta(days=1)), utcnow()
    with sim.engine.begin() as conn:
        conn.execute(insert(EconomicRecord.__table__), [
            {"resident_id": rid, "kind": "income_wage", "period": prev, "ref_hash": "",
             "amount_fen": sim.rng.randrange(0, 90_000), "quantity": 1, "source": "tax", "source_date": day,
             "updated_at": now} for rid in heads])


def eligible(sim, s, ok) -> dict[int, date]:
    """Households that became eligible during the year. The simulated city has none: its only economic records
    are the monthly incomes of households already receiving 低保 (the legacy ones above), so the proactive
    scan has nobody new to find — the row says so (0 eligible) rather than being left out."""
    return {}
