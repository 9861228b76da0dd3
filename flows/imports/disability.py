"""残联 disability certificates → `disability_certificates` (upsert by certificate number).

The 第二代残疾人证 number is the holder's ID number followed by the category digit and the grade digit, so it is
stored only as a keyed hash and a mask, like an ID number.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, insert, select, update

from app import digits, idnumbers
from app.db import utcnow
from app.models.programs_extra import DisabilityCertificate
from flows.imports import partner
from flows.imports.validation import parse_date
from flows.imports.writer import WriteCounts

KIND = "disability"
COLUMNS = ("id_number", "certificate_number", "category", "grade", "issue_date", "expiry_date")
SOURCE = "disabled_persons_federation"
_T = DisabilityCertificate.__table__
_EXISTING = select(_T.c.cert_hash, _T.c.id, _T.c.row_hash).where(_T.c.cert_hash.in_(bindparam("h", expanding=True)))
_UPDATE = update(_T).where(_T.c.id == bindparam("b_id")).values(
    resident_id=bindparam("b_resident"), category=bindparam("b_category"), grade=bindparam("b_grade"),
    issue_date=bindparam("b_issue"), expiry_date=bindparam("b_expiry"), row_hash=bindparam("b_row_hash"),
    cert_hash=bindparam("b_cert_hash"), source_date=bindparam("b_source_date"), updated_at=bindparam("b_now"))


def mask_certificate(number: str) -> str:
    return idnumbers.mask(number[:18]) + "**"


def key(row: dict) -> str | None:
    return row["certificate_number"].strip().upper() or None


def validate(row: dict, today: date) -> tuple[dict | None, list]:
    issues: list = []
    number = partner.id_or_issue(row, today, issues)
    category, grade_text = row["category"].strip(), row["grade"].strip()
    if category not in ("1", "2", "3", "4", "5", "6", "7"):
        issues.append(("CATEGORY_INVALID", "category must be a digit 1–7"))
    if grade_text not in ("1", "2", "3", "4"):
        issues.append(("GRADE_INVALID", "grade must be 1, 2, 3 or 4"))
    cert = row["certificate_number"].strip().upper()
    if len(cert) != 20 or not digits.is_ascii_digits(cert[:17]) or not digits.is_ascii_digits(cert[18:]):
        issues.append(("CERT_NUMBER_INVALID", "certificate_number must be the ID number plus two digits"))
    elif number and cert != f"{number}{category}{grade_text}":
        issues.append(("CERT_MISMATCH", "certificate_number differs from ID number + category + grade"))
    issued = partner.check_date(row["issue_date"], "ISSUE_DATE_INVALID", today, issues, "issue_date")
    expiry = parse_date(row["expiry_date"].strip())
    if expiry is None or (issued and expiry < issued):
        issues.append(("EXPIRY_DATE_INVALID", "expiry_date must be a real date YYYY-MM-DD, not before issue_date"))
    if issues:
        return None, issues
    return {"id_number": number, "cert": cert, "category": category, "grade": int(grade_text),
            "issue": issued, "expiry": expiry}, issues


def write(conn, cipher, items, found, report, today) -> WriteCounts:
    counts, now = WriteCounts(), utcnow()
    keyed = [(line, cipher.lookup_hash(rec["cert"], "cert"), rec) for line, rec in items]
    index = cipher.hash_index({rec["cert"] for _, rec in items}, "cert")  # a row under any key of the ring
    existing = {index[h]: (i, rh) for h, i, rh in conn.execute(_EXISTING, {"h": list(index)})}
    inserts, updates = [], []
    for line, cert_hash, rec in keyed:
        person = partner.resident_of(found, cipher, rec)
        if person is None:
            report.add_row(line, rec["id_number"], [partner.UNKNOWN])
            continue
        row_hashes = cipher.lookup_hashes(f"{rec['category']}|{rec['grade']}|{rec['issue']}|{rec['expiry']}|"
                                          f"{person.id}", "row")
        row_hash, current = row_hashes[0], existing.get(cert_hash)
        if current is None:
            inserts.append({"resident_id": person.id, "cert_hash": cert_hash, "cert_mask": mask_certificate(rec["cert"]),
                            "category": rec["category"], "grade": rec["grade"], "issue_date": rec["issue"],
                            "expiry_date": rec["expiry"], "row_hash": row_hash, "source": SOURCE,
                            "source_date": today, "updated_at": now})
        elif current[1] in row_hashes:  # unchanged (a row under an earlier key is left to the rotation)
            counts.unchanged += 1
        else:
            updates.append({"b_id": current[0], "b_resident": person.id, "b_category": rec["category"],
                            "b_grade": rec["grade"], "b_issue": rec["issue"], "b_expiry": rec["expiry"],
                            "b_row_hash": row_hash, "b_cert_hash": cert_hash, "b_source_date": today, "b_now": now})
    return partner.save(conn, counts, insert(_T), inserts, _UPDATE, updates)


SPEC = partner.Spec(KIND, COLUMNS, key, validate, write,
                    "this certificate number appears more than once in the file; all its rows are rejected")


def import_disability(cfg, path, progress=None, on_total=None) -> dict:
    return partner.run(cfg, SPEC, path, progress, on_total)
