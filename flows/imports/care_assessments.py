"""Care-need assessments (老年人能力评估, GB/T 42195-2022) → `care_assessments`, one per resident and date
(a re-import of the same row changes nothing; a newer date is a new assessment). Same rules as every partner
import (flows.imports.partner)."""

from __future__ import annotations

import hashlib
from datetime import date

from sqlalchemy import bindparam, insert, select, tuple_, update

from app import idnumbers
from app.db import utcnow
from app.models.care_assessment import CareAssessment
from flows.imports import partner
from flows.imports.writer import WriteCounts

KIND = "care_assessments"
COLUMNS = ("id_number", "assessed_on", "level", "assessor")
LEVELS = {"0": 0, "1": 1, "2": 2, "3": 3, "4": 4}
partner.REASONS.update({
    "ASSESSED_ON_INVALID": (partner.ERROR, "assessed_on is not YYYY-MM-DD or is in the future"),
    "LEVEL_INVALID": (partner.ERROR, "level is not 0–4 (GB/T 42195-2022: 0 能力完好 … 4 完全失能)"),
    "ASSESSOR_INVALID": (partner.ERROR, "assessor is empty or longer than 64 characters"),
})
_A = CareAssessment.__table__
_EXISTING = select(_A.c.resident_id, _A.c.assessed_on, _A.c.row_digest).where(
    tuple_(_A.c.resident_id, _A.c.assessed_on).in_(bindparam("keys", expanding=True)))
_UPDATE = update(_A).where(_A.c.resident_id == bindparam("b_id"), _A.c.assessed_on == bindparam("b_on")).values(
    level=bindparam("b_level"), assessor=bindparam("b_assessor"), row_digest=bindparam("b_hash"),
    source_date=bindparam("b_sd"), updated_at=bindparam("b_now"))


def key(row: dict) -> tuple:
    return (idnumbers.normalize(row["id_number"]), row["assessed_on"].strip())  # full-width = the same person


def validate(row: dict, today: date) -> tuple[dict | None, list]:
    issues: list = []
    number = partner.id_or_issue(row, today, issues)
    on = partner.check_date(row["assessed_on"], "ASSESSED_ON_INVALID", today, issues, "assessed_on")
    level = LEVELS.get(row["level"].strip())
    if level is None:
        issues.append(("LEVEL_INVALID", "level must be one ASCII digit 0–4"))
    assessor = row["assessor"].strip()
    if not assessor or len(assessor) > 64:
        issues.append(("ASSESSOR_INVALID", "assessor must be 1–64 characters"))
    if issues:
        return None, issues
    return {"id_number": number, "on": on, "level": level, "assessor": assessor}, issues


def write(conn, cipher, items, found, report, today) -> WriteCounts:
    counts, now = WriteCounts(), utcnow()
    matched = partner.known_residents(items, found, cipher, report)
    keys = [(p.id, rec["on"]) for _, p, rec in matched]
    existing = {(r.resident_id, r.assessed_on): r.row_digest for r in conn.execute(_EXISTING, {"keys": keys})} \
        if keys else {}
    inserts, updates = [], []
    for _line, person, rec in matched:
        row_digest = hashlib.sha256(f"{rec['level']}|{rec['assessor']}".encode()).hexdigest()
        current = existing.get((person.id, rec["on"]))
        if current == row_digest:
            counts.unchanged += 1
        elif current is None:
            inserts.append({"resident_id": person.id, "assessed_on": rec["on"], "level": rec["level"],
                            "assessor": rec["assessor"], "row_digest": row_digest, "source": "care_assessment",
                            "source_date": today, "updated_at": now})
        else:
            updates.append({"b_id": person.id, "b_on": rec["on"], "b_level": rec["level"],
                            "b_assessor": rec["assessor"], "b_hash": row_digest, "b_sd": today, "b_now": now})
    return partner.save(conn, counts, insert(_A), inserts, _UPDATE, updates)


SPEC = partner.Spec(KIND, COLUMNS, key, validate, write,
                    duplicate_detail="this resident and date appear more than once in the file; all are rejected")


def import_care_assessments(cfg, path, progress=None, on_total=None) -> dict:
    return partner.run(cfg, SPEC, path, progress, on_total)
