"""Read the facts a program rule needs from the registry copy."""

from __future__ import annotations

from app.models import Resident
from flows.programs.base import PersonFacts as Facts

FACT_COLUMNS = ("id", "birth_date", "death_date", "hukou_local", "source_date", "source")  # what it reads


def resident_facts(resident: Resident) -> Facts:
    return Facts(
        birth_date=resident.birth_date,
        death_date=resident.death_date,
        hukou_local=bool(resident.hukou_local),
        source_date=resident.source_date,
        source=resident.source or "population_registry",
    )
