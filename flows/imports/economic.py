"""Household economic records for the 低保 check (家庭经济状况核对): income by kind and month, real estate,
vehicles, company registrations, deposits → `economic_records`, upsert by (resident, kind, period, ref).

`ref` (a property certificate, a plate number, an account) may identify a person: only its keyed hash is kept.
New or changed income records are the income-change event (flows.lifecycle.income): the programs that react to
it re-check the household's open case in the same transaction. `write` is the one place the CSV import and the
exchange push of economic records go through.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

from sqlalchemy import bindparam, insert, select, update

from app import digits, idnumbers
from app.db import utcnow
from app.models.programs_extra import EconomicRecord
from flows.economic_kinds import ASSET_KINDS, INCOME_KINDS
from flows.imports import partner
from flows.imports.writer import WriteCounts
from flows.lifecycle.income import on_income_change
from flows.money import fen

KIND = "economic"
COLUMNS = ("id_number", "kind", "period", "amount", "quantity", "ref", "source")
SOURCES = ("tax", "social_security", "real_estate", "vehicles", "market_regulation", "bank")
_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])\Z")
_AMOUNT = re.compile(r"^[0-9]{1,10}(\.[0-9]{1,2})?\Z")
MAX_FEN = 2_147_483_647  # the column holds fen in 32 bits: at most 21,474,836.47 yuan
_T = EconomicRecord.__table__
_EXISTING = select(_T.c.id, _T.c.resident_id, _T.c.kind, _T.c.period, _T.c.ref_hash, _T.c.amount_fen,
                   _T.c.quantity, _T.c.source).where(_T.c.resident_id.in_(bindparam("ids", expanding=True)))
_UPDATE = update(_T).where(_T.c.id == bindparam("b_id")).values(
    amount_fen=bindparam("b_fen"), quantity=bindparam("b_qty"), source=bindparam("b_source"),
    source_date=bindparam("b_sd"), updated_at=bindparam("b_now"))


def key(row: dict):
    number = idnumbers.normalize(row["id_number"])
    return (number, row["kind"].strip(), row["period"].strip(), row["ref"].strip()) if number else None


def validate(row: dict, today: date) -> tuple[dict | None, list]:
    issues: list = []
    number = partner.id_or_issue(row, today, issues)
    kind, period = row["kind"].strip(), row["period"].strip()
    if kind not in INCOME_KINDS + ASSET_KINDS:
        issues.append(("KIND_UNKNOWN", "kind must be one of " + ", ".join(INCOME_KINDS + ASSET_KINDS)))
    elif kind in INCOME_KINDS and (not _MONTH.match(period) or period > f"{today:%Y-%m}"):
        issues.append(("PERIOD_INVALID", "income needs period YYYY-MM, not after the current month"))
    elif kind in ASSET_KINDS and period:
        issues.append(("PERIOD_INVALID", "assets have an empty period"))
    amount = row["amount"].strip() or "0"
    if not _AMOUNT.match(amount) or fen(amount) > MAX_FEN:
        issues.append(("AMOUNT_INVALID", "amount must be a non-negative amount in yuan with at most 2 decimals, "
                                         "at most 21474836.47"))
    quantity = row["quantity"].strip() or "1"
    if not digits.is_ascii_digits(quantity) or not 1 <= int(quantity) <= 999:
        issues.append(("QUANTITY_INVALID", "quantity must be 1–999"))
    ref = row["ref"].strip()
    if len(ref) > 64:
        issues.append(("REF_INVALID", "ref is longer than 64 characters"))
    elif digits.foreign_digit(ref):
        issues.append(("REF_INVALID", "ref holds a digit other than 0-9"))
    source = row["source"].strip().lower()
    if source not in SOURCES:
        issues.append(("SOURCE_UNKNOWN", "source must be one of " + ", ".join(SOURCES)))
    if issues:
        return None, issues
    return {"id_number": number, "kind": kind, "period": period, "fen": int(Decimal(amount) * 100),
            "qty": int(quantity), "ref": ref, "source": source}, issues


def write(conn, cipher, items, found, report, today) -> WriteCounts:
    counts, now = WriteCounts(), utcnow()
    matched = [(person.id, rec) for _, person, rec in partner.known_residents(items, found, cipher, report)]
    ids = list({pid for pid, _ in matched})
    refs = cipher.hash_index({rec["ref"] for _, rec in matched if rec["ref"]}, "ref")  # any key of the ring
    existing = {(r.resident_id, r.kind, r.period, refs.get(r.ref_hash, r.ref_hash)): r
                for r in (conn.execute(_EXISTING, {"ids": ids}) if ids else [])}
    inserts, updates, income = [], [], []
    for pid, rec in matched:
        ref_hash = cipher.lookup_hash(rec["ref"], "ref") if rec["ref"] else ""
        current = existing.get((pid, rec["kind"], rec["period"], ref_hash))
        changed = current is None or (current.amount_fen, current.quantity, current.source) != (
            rec["fen"], rec["qty"], rec["source"])
        if changed and rec["kind"] in INCOME_KINDS:
            income.append((pid, rec["period"]))
        if current is None:
            inserts.append({"resident_id": pid, "kind": rec["kind"], "period": rec["period"], "ref_hash": ref_hash,
                            "ref_enc": cipher.encrypt(rec["ref"]) if rec["ref"] else None,
                            "amount_fen": rec["fen"], "quantity": rec["qty"], "source": rec["source"],
                            "source_date": today, "updated_at": now})
        elif (current.amount_fen, current.quantity, current.source) == (rec["fen"], rec["qty"], rec["source"]):
            counts.unchanged += 1
        else:
            updates.append({"b_id": current.id, "b_fen": rec["fen"], "b_qty": rec["qty"], "b_source": rec["source"],
                            "b_sd": today, "b_now": now})
    counts = partner.save(conn, counts, insert(_T), inserts, _UPDATE, updates)
    if income:  # the income-change event, in this transaction (the import and the exchange push both come here)
        on_income_change(conn, [pid for pid, _ in income], today, [period for _, period in income])
    return counts


SPEC = partner.Spec(KIND, COLUMNS, key, validate, write,
                    "the same ID number, kind, period and ref appear more than once; all its rows are rejected")


def import_economic(cfg, path, progress=None, on_total=None) -> dict:
    return partner.run(cfg, SPEC, path, progress, on_total)
