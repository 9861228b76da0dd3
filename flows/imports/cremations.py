"""Cremation records (殡仪馆火化信息) → `cremation_records`, one per deceased (upsert by the deceased; a re-import
of the same row changes nothing). The 治丧人 (funeral arranger) is matched to the registry by her ID number when
she is on file; the funeral subsidy is then proposed to her (by the program that reads cremation records).

Same rules as every partner import (flows.imports.partner): surveyed first, every row validated, problems to
the reject report with a masked ID and a fixed reason code, good rows upserted in batches.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date

from sqlalchemy import bindparam, insert, select, update

from app import digits, idnumbers
from app.db import utcnow
from app.masking import mask_phone
from app.models.cremation import CremationRecord
from app.models.resident import Resident
from flows.imports import partner
from flows.imports.validation import id_issue, id_key
from flows.imports.writer import WriteCounts
from flows.money import fen

KIND = "cremations"
COLUMNS = ("id_number", "funeral_home", "cremation_date", "arranger_name", "arranger_id_number", "arranger_phone",
           "services", "waived_amount")
SERVICES = ("接运", "冷藏", "火化", "骨灰寄存")
MAX_WAIVED_FEN = 10_000_00
# This import's reason codes, registered with the partner imports' report (docs/data-contracts.md).
partner.REASONS.update({
    "FUNERAL_HOME_INVALID": (partner.ERROR, "funeral_home is empty or longer than 64 characters"),
    "CREMATION_DATE_INVALID": (partner.ERROR, "cremation_date is not YYYY-MM-DD or is in the future"),
    "ARRANGER_NAME_INVALID": (partner.ERROR, "arranger_name is empty or longer than 64 characters"),
    "ARRANGER_ID_INVALID": (partner.ERROR, "arranger_id_number is not a valid ID number"),
    "ARRANGER_IS_DECEASED": (partner.ERROR, "the arranger's ID number is the deceased's"),
    "PHONE_INVALID": (partner.ERROR, "arranger_phone is not 11 digits starting with 1 (empty allowed)"),
    "SERVICES_INVALID": (partner.ERROR, "services must be ;-separated items of 接运, 冷藏, 火化, 骨灰寄存"),
    "WAIVED_AMOUNT_INVALID": (partner.ERROR, "waived_amount is not an amount from 0.00 to 10000.00"),
    "CREMATION_BEFORE_DEATH": (partner.ERROR, "cremation_date is before the registry's death date"),
})
_C, _R = CremationRecord.__table__, Resident.__table__
_EXISTING = select(_C.c.resident_id, _C.c.row_digest).where(_C.c.resident_id.in_(bindparam("ids", expanding=True)))
_ARRANGERS = select(_R.c.id_hash, _R.c.id).where(_R.c.id_hash.in_(bindparam("hashes", expanding=True)))
_FIELDS = ("funeral_home", "cremation_date", "arranger_resident_id", "arranger_name", "arranger_id_mask",
           "arranger_phone_mask", "services", "waived_fen", "row_digest", "source_date", "updated_at")
_UPDATE = update(_C).where(_C.c.resident_id == bindparam("b_id")).values(
    **{name: bindparam(f"b_{name}") for name in _FIELDS})


def validate(row: dict, today: date) -> tuple[dict | None, list]:
    issues: list = []
    number = partner.id_or_issue(row, today, issues)
    home = row["funeral_home"].strip()
    if not home or len(home) > 64:
        issues.append(("FUNERAL_HOME_INVALID", "funeral_home must be 1–64 characters"))
    cremated = partner.check_date(row["cremation_date"], "CREMATION_DATE_INVALID", today, issues, "cremation_date")
    name = row["arranger_name"].strip()
    if not name or len(name) > 64 or digits.foreign_digit(name) or re.search("[0-9]", name):
        issues.append(("ARRANGER_NAME_INVALID", "arranger_name must be 1–64 characters, no digits"))
    arranger, problem = id_issue(row["arranger_id_number"], today)
    if problem:
        issues.append(("ARRANGER_ID_INVALID", f"arranger_id_number: {problem[1]}"))
    elif number and arranger == number:
        issues.append(("ARRANGER_IS_DECEASED", "the arranger must be someone else than the deceased"))
    phone = row["arranger_phone"].strip()
    if phone and not (digits.is_ascii_digits(phone) and len(phone) == 11 and phone.startswith("1")):
        issues.append(("PHONE_INVALID", "arranger_phone must be 11 ASCII digits starting with 1"))
    services = tuple(s.strip() for s in row["services"].replace("；", ";").split(";") if s.strip())
    if not services or any(s not in SERVICES for s in services) or len(set(services)) != len(services):
        issues.append(("SERVICES_INVALID", "services must be ;-separated items of " + ", ".join(SERVICES)))
    waived = _amount(row["waived_amount"])
    if waived is None:
        issues.append(("WAIVED_AMOUNT_INVALID", "waived_amount must be 0.00–10000.00 (ASCII digits)"))
    if issues:
        return None, issues
    return {"id_number": number, "home": home, "cremated": cremated, "name": name, "arranger": arranger,
            "phone": phone, "services": ";".join(s for s in SERVICES if s in services), "waived": waived}, issues


def _amount(text: str) -> int | None:
    text = text.strip() or "0"
    if not digits.AMOUNT.match(text):  # 0.00–10000.00 as written: no exponent, Infinity or NaN
        return None
    try:
        value = fen(text)
    except ValueError:
        return None
    return value if 0 <= value <= MAX_WAIVED_FEN else None


def _row_hash(rec: dict) -> str:
    body = "|".join(str(rec[k]) for k in ("home", "cremated", "name", "arranger", "phone", "services", "waived"))
    return hashlib.sha256(body.encode()).hexdigest()


def cremation_before_death(person, rec: dict) -> tuple[str, str] | None:
    if person.death_date is not None and rec["cremated"] < person.death_date:
        return "CREMATION_BEFORE_DEATH", "cremation_date is before the registry's death date"
    return None


def write(conn, cipher, items, found, report, today) -> WriteCounts:
    counts, now = WriteCounts(), utcnow()
    matched = partner.known_residents(items, found, cipher, report, cremation_before_death)
    existing = {r.resident_id: r.row_digest for r in conn.execute(_EXISTING, {"ids": [p.id for _, p, _ in matched]})} \
        if matched else {}
    hashes = {rec["arranger"]: cipher.lookup_hash(rec["arranger"], "id") for _, _, rec in matched}
    index = cipher.hash_index(hashes, "id")  # an arranger's row under any key of the ring
    arrangers = {index[r.id_hash]: r.id for r in conn.execute(_ARRANGERS, {"hashes": list(index)})} if hashes else {}
    inserts, updates = [], []
    for _line, person, rec in matched:
        row_hash = _row_hash(rec)
        if existing.get(person.id) == row_hash:
            counts.unchanged += 1
            continue
        values = {"funeral_home": rec["home"], "cremation_date": rec["cremated"],
                  "arranger_resident_id": arrangers.get(hashes[rec["arranger"]]), "arranger_name": rec["name"],
                  "arranger_id_mask": idnumbers.mask(rec["arranger"]), "arranger_phone_mask": mask_phone(rec["phone"]),
                  "services": rec["services"], "waived_fen": rec["waived"], "row_digest": row_hash,
                  "source_date": today, "updated_at": now}
        if person.id in existing:
            updates.append({"b_id": person.id, **{f"b_{k}": v for k, v in values.items()}})
        else:
            inserts.append({"resident_id": person.id, "source": "funeral_home", **values})
    return partner.save(conn, counts, insert(_C), inserts, _UPDATE, updates)


SPEC = partner.Spec(KIND, COLUMNS, id_key, validate, write)


def import_cremations(cfg, path, progress=None, on_total=None) -> dict:
    return partner.run(cfg, SPEC, path, progress, on_total)
