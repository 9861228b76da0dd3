"""Deaths (公安/卫健/殡葬 reports) → `death_records` and the resident's `death_date` (upsert by resident)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, insert, select, update

from app.db import utcnow
from app.models.programs_extra import DeathRecord
from app.models.resident import Resident
from flows.imports import partner
from flows.imports.validation import id_key
from flows.imports.writer import WriteCounts

KIND = "deaths"
COLUMNS = ("id_number", "death_date", "source")
SOURCES = ("public_security", "health", "funeral", "civil_affairs")
_D, _R = DeathRecord.__table__, Resident.__table__
_EXISTING = select(_D.c.resident_id, _D.c.death_date, _D.c.source).where(
    _D.c.resident_id.in_(bindparam("ids", expanding=True)))
_UPDATE = update(_D).where(_D.c.resident_id == bindparam("b_id")).values(
    death_date=bindparam("b_date"), source=bindparam("b_source"), source_date=bindparam("b_sd"),
    updated_at=bindparam("b_now"))
_RESIDENT = update(_R).where(_R.c.id == bindparam("b_id")).values(death_date=bindparam("b_date"),
                                                                   updated_at=bindparam("b_now"))


def validate(row: dict, today: date) -> tuple[dict | None, list]:
    issues: list = []
    number = partner.id_or_issue(row, today, issues)
    died = partner.check_date(row["death_date"], "DEATH_DATE_INVALID", today, issues, "death_date")
    source = row["source"].strip().lower()
    if source not in SOURCES:
        issues.append(("SOURCE_UNKNOWN", "source must be one of " + ", ".join(SOURCES)))
    if issues:
        return None, issues
    return {"id_number": number, "died": died, "source": source}, issues


def death_before_birth(person, rec: dict) -> tuple[str, str] | None:
    """DEATH_BEFORE_BIRTH when the reported death date is before the resident's birth date."""
    return ("DEATH_BEFORE_BIRTH", "death_date is before the birth date") if rec["died"] < person.birth_date else None


def write(conn, cipher, items, found, report, today) -> WriteCounts:
    counts, now = WriteCounts(), utcnow()
    matched = [(person, rec) for _, person, rec in partner.known_residents(items, found, cipher, report, death_before_birth)]
    existing = {r.resident_id: r for r in conn.execute(_EXISTING, {"ids": [p.id for p, _ in matched]})} \
        if matched else {}
    inserts, updates, residents = [], [], []
    for person, rec in matched:
        current = existing.get(person.id)
        if current is None:
            inserts.append({"resident_id": person.id, "death_date": rec["died"], "source": rec["source"],
                            "source_date": today, "updated_at": now})
        elif (current.death_date, current.source) == (rec["died"], rec["source"]):
            counts.unchanged += 1
        else:
            updates.append({"b_id": person.id, "b_date": rec["died"], "b_source": rec["source"], "b_sd": today,
                            "b_now": now})
        if person.death_date != rec["died"]:
            residents.append({"b_id": person.id, "b_date": rec["died"], "b_now": now})
    partner.save(conn, counts, insert(_D), inserts, _UPDATE, updates)
    if residents:
        conn.execute(_RESIDENT, residents)
    return counts


SPEC = partner.Spec(KIND, COLUMNS, id_key, validate, write)


def import_deaths(cfg, path, progress=None, on_total=None) -> dict:
    return partner.run(cfg, SPEC, path, progress, on_total)
