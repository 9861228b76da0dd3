"""The elderly allowance in the simulated year: who became eligible, computed from the simulated registry
independently of the program's scan (clock: the birthday of the minimum age, alive and local the day after)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.models import Resident
from flows.dates import nth_birthday
from flows.programs.elderly_allowance import PARAMETERS


def eligible(sim, s, ok) -> dict[int, date]:
    age = PARAMETERS["minimum_age"].at(max(sim.start, PARAMETERS["start_date"]))
    lo, hi = sim.start, sim.end
    out = {}
    for r in s.execute(select(Resident.id, Resident.birth_date, Resident.death_date, Resident.hukou_local)
                       .where(Resident.birth_date >= date(lo.year - age, 1, 1),
                              Resident.birth_date <= date(hi.year - age + 1, 12, 31))):
        turned = nth_birthday(r.birth_date, age)
        if lo <= turned <= hi and ok(r, turned):
            out[r.id] = turned
    return out
