"""Payout accounts (社保卡 / bank account) → `payout_accounts`, one per resident.

The number is encrypted (AES-GCM) and kept with a keyed hash and a mask (****1234); only the bank file of a
closed payroll ever has it in full. An account the resident (or a proxy) changed after a fresh sign-in is not
overwritten by a later import (warning ACCOUNT_CHANGED_BY_CITIZEN).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam, insert, select, update

from app import digits
from app.db import utcnow
from app.masking import mask_account
from app.models.programs_extra import PayoutAccount
from flows.imports import partner
from flows.imports.validation import id_key
from flows.imports.writer import WriteCounts

KIND = "payout_accounts"
COLUMNS = ("id_number", "kind", "bank_name", "account_number")
ACCOUNT_KINDS = {"sscard": "sscard", "社保卡": "sscard", "bank": "bank", "银行卡": "bank", "银行账户": "bank"}
_T = PayoutAccount.__table__
_EXISTING = select(_T.c.resident_id, _T.c.number_hash, _T.c.kind, _T.c.bank_name, _T.c.source).where(
    _T.c.resident_id.in_(bindparam("ids", expanding=True)))
_UPDATE = update(_T).where(_T.c.resident_id == bindparam("b_id")).values(
    kind=bindparam("b_kind"), bank_name=bindparam("b_bank"), number_enc=bindparam("b_enc"),
    number_mask=bindparam("b_mask"), number_hash=bindparam("b_hash"), source_date=bindparam("b_sd"),
    updated_at=bindparam("b_now"))


def validate(row: dict, today: date) -> tuple[dict | None, list]:
    issues: list = []
    number = partner.id_or_issue(row, today, issues)
    kind = ACCOUNT_KINDS.get(row["kind"].strip().lower())
    if kind is None:
        issues.append(("ACCOUNT_KIND_INVALID", "kind must be sscard or bank"))
    account = row["account_number"].strip().replace(" ", "")
    if not digits.is_ascii_digits(account) or not 10 <= len(account) <= 30:
        issues.append(("ACCOUNT_INVALID", "account_number must be 10–30 digits"))
    bank = row["bank_name"].strip()
    if (kind == "bank" and not bank) or len(bank) > 64:
        issues.append(("BANK_NAME_INVALID", "bank_name is required for a bank account (at most 64 characters)"))
    if issues:
        return None, issues
    return {"id_number": number, "kind": kind, "bank": bank, "account": account}, issues


def write(conn, cipher, items, found, report, today) -> WriteCounts:
    counts, now = WriteCounts(), utcnow()
    matched = [(line, person.id, rec) for line, person, rec in partner.known_residents(items, found, cipher, report)]
    ids = [pid for _, pid, _ in matched]
    existing = {r.resident_id: r for r in (conn.execute(_EXISTING, {"ids": ids}) if ids else [])}
    inserts, updates = [], []
    for line, pid, rec in matched:
        number_hash = cipher.lookup_hash(rec["account"], "account")
        current = existing.get(pid)
        values = {"kind": rec["kind"], "bank_name": rec["bank"], "number_enc": cipher.encrypt(rec["account"]),
                  "number_mask": mask_account(rec["account"]), "number_hash": number_hash}
        if current is None:
            inserts.append({"resident_id": pid, **values, "source": "import", "changed_by": None,
                            "source_date": today, "updated_at": now})
        elif (current.number_hash in cipher.lookup_hashes(rec["account"], "account")  # under any key of the ring
              and (current.kind, current.bank_name) == (rec["kind"], rec["bank"])):
            counts.unchanged += 1
        elif current.source != "import":
            report.add_row(line, rec["id_number"], [("ACCOUNT_CHANGED_BY_CITIZEN",
                                                     "the resident's own account change is kept")])
            counts.skipped += 1
        else:
            updates.append({"b_id": pid, "b_kind": rec["kind"], "b_bank": rec["bank"], "b_enc": values["number_enc"],
                            "b_mask": values["number_mask"], "b_hash": number_hash, "b_sd": today, "b_now": now})
    return partner.save(conn, counts, insert(_T), inserts, _UPDATE, updates)


SPEC = partner.Spec(KIND, COLUMNS, id_key, validate, write)


def import_payout_accounts(cfg, path, progress=None, on_total=None) -> dict:
    return partner.run(cfg, SPEC, path, progress, on_total)
