"""Household-registration moves out of / back into the city → `hukou_moves` and the resident's `hukou_local`.

A move is keyed by (resident, date, direction), so a re-run inserts nothing. The resident's `hukou_local`
follows the latest move on file; the move-out lifecycle job suspends benefits from the month after.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, select, update

from app import digits, idnumbers
from app.db import utcnow
from app.models.programs_extra import HukouMove
from app.models.resident import Resident
from flows.imports import partner
from flows.imports.writer import WriteCounts

KIND = "hukou_moves"
COLUMNS = ("id_number", "move_date", "direction", "area_code")
DIRECTIONS = {"out": "out", "迁出": "out", "in": "in", "迁入": "in"}
_M, _R = HukouMove.__table__, Resident.__table__
_EXISTING = select(_M.c.resident_id, _M.c.move_date, _M.c.direction).where(
    _M.c.resident_id.in_(bindparam("ids", expanding=True)))
_RESIDENT = update(_R).where(_R.c.id == bindparam("b_id")).values(hukou_local=bindparam("b_local"),
                                                                   updated_at=bindparam("b_now"))


def key(row: dict):
    number = idnumbers.normalize(row["id_number"])
    return (number, row["move_date"].strip(), DIRECTIONS.get(row["direction"].strip().lower())) if number else None


def validate(row: dict, today: date) -> tuple[dict | None, list]:
    issues: list = []
    number = partner.id_or_issue(row, today, issues)
    moved = partner.check_date(row["move_date"], "MOVE_DATE_INVALID", today, issues, "move_date")
    direction = DIRECTIONS.get(row["direction"].strip().lower())
    if direction is None:
        issues.append(("DIRECTION_INVALID", "direction must be out/in or 迁出/迁入"))
    area = row["area_code"].strip()
    if len(area) != 6 or not digits.is_ascii_digits(area):
        issues.append(("AREA_INVALID", "area_code must be 6 digits"))
    if issues:
        return None, issues
    return {"id_number": number, "moved": moved, "direction": direction, "area": area}, issues


def write(conn, cipher, items, found, report, today) -> WriteCounts:
    counts, now = WriteCounts(), utcnow()
    matched = [(person, rec) for _, person, rec in partner.known_residents(items, found, cipher, report)]
    ids = list({p.id for p, _ in matched})
    history: dict[int, list] = {}
    for r in (conn.execute(_EXISTING, {"ids": ids}) if ids else []):
        history.setdefault(r.resident_id, []).append((r.move_date, r.direction))
    inserts, touched = [], set()
    for person, rec in matched:
        entry = (rec["moved"], rec["direction"])
        if entry in history.get(person.id, []):
            counts.unchanged += 1
            continue
        history.setdefault(person.id, []).append(entry)
        touched.add(person.id)
        inserts.append({"resident_id": person.id, "move_date": rec["moved"], "direction": rec["direction"],
                        "area_code": rec["area"], "source": "population_registry", "source_date": today,
                        "created_at": now})
    if inserts:
        conn.execute(_M.insert(), inserts)
        # out before in on the same day: the later state wins
        latest = {pid: max(history[pid], key=lambda e: (e[0], e[1] == "in")) for pid in touched}
        conn.execute(_RESIDENT, [{"b_id": pid, "b_local": e[1] == "in", "b_now": now} for pid, e in latest.items()])
    counts.imported = len(inserts)
    return counts


SPEC = partner.Spec(KIND, COLUMNS, key, validate, write,
                    "the same ID number, move date and direction appear more than once; all its rows are rejected")


def import_hukou_moves(cfg, path, progress=None, on_total=None) -> dict:
    return partner.run(cfg, SPEC, path, progress, on_total)
