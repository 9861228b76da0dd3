"""The funeral subsidy in the simulated year: every local resident who died in the year (clock: the death; the
simulated city has no cremation records)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.models import Resident


def eligible(sim, s, ok) -> dict[int, date]:
    return {r.id: r.death_date for r in s.execute(select(Resident.id, Resident.death_date).where(
        Resident.death_date >= sim.start, Resident.death_date <= sim.end, Resident.hukou_local))}
