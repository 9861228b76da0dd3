"""Read the facts a program rule needs from the registry copy."""

from __future__ import annotations

import functools

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from app.db import has_pending, select_first
from app.models import Resident
from flows.programs.base import PersonFacts as Facts

FACT_COLUMNS = ("id", "birth_date", "death_date", "hukou_local", "source_date", "source")  # what it reads


@functools.cache
def _facts_query():
    r = Resident.__table__.c
    return select(*(r[name] for name in FACT_COLUMNS)).where(r.id == bindparam("resident_id"))


def resident_for_facts(session: Session, resident_id: int):
    """The resident's `FACT_COLUMNS` as a plain row read on the session's connection (this runs for every
    proposal a list shows and every confirmation), or her ORM object when the session holds unflushed changes
    that a read must see; None when there is no such resident."""
    if has_pending(session):
        return session.get(Resident, resident_id)
    return select_first(session, _facts_query(), {"resident_id": resident_id})


def resident_facts(resident: Resident) -> Facts:
    return Facts(
        birth_date=resident.birth_date,
        death_date=resident.death_date,
        hukou_local=bool(resident.hukou_local),
        source_date=resident.source_date,
        source=resident.source or "population_registry",
    )
