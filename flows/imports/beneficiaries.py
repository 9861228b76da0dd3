"""Legacy beneficiaries (people already paid under the old manual process) → active benefits, origin "legacy".

The scans look at `benefits`, so a resident imported here is never proposed again for that program. The optional
`paid_through` column says the last month the old process paid: the roll pays from the month after (without it,
from the start month, arrears included).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import date
from decimal import Decimal
from pathlib import Path

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.engine import Engine

from app import digits, idnumbers
from app.crypto import cipher_for
from app.db import utcnow
from app.models.application import Benefit
from app.models.ids import new_id
from app.models.programs_extra import PayrollLine, PayrollRun
from app.models.resident import Resident
from flows.dates import month_from_index, month_index
from flows.imports.batch import finish_import, local_today, open_batch
from flows.imports.csvfile import rows
from flows.imports.reference import PROGRAMS
from flows.imports.report import RejectReport, report_path
from flows.imports.validation import id_issue
from flows.imports.writer import WriteCounts, write_in_batches

KIND = "beneficiaries"
ORIGIN = "legacy"
COLUMNS = ("id_number", "program", "start_month", "monthly_amount")
OPTIONAL = ("paid_through",)
BATCH_ROWS = 5_000
_MONTH = re.compile(r"^([0-9]{4})-(0[1-9]|1[0-2])\Z")
_AMOUNT = digits.AMOUNT
_R, _B = Resident.__table__, Benefit.__table__
_RESIDENTS = select(_R.c.id_hash, _R.c.id, _R.c.death_date).where(
    _R.c.id_hash.in_(bindparam("hashes", expanding=True)))
_BENEFITS = select(_B.c.id, _B.c.program, _B.c.resident_id, _B.c.origin, _B.c.state, _B.c.monthly_amount_fen,
                   _B.c.start_month, _B.c.end_month, _B.c.legacy_paid_through).where(
    _B.c.resident_id.in_(bindparam("ids", expanding=True)))
_L, _RUN = PayrollLine.__table__, PayrollRun.__table__
# the first month a closed roll paid, per benefit: a paid_through from then on says those months were paid twice
_ROLLS_PAID_FROM = (select(_L.c.benefit_id, func.min(_L.c.covered_from)).join(_RUN, _RUN.c.id == _L.c.run_id)
                    .where(_RUN.c.state == "closed", _L.c.status == "paid",
                           _L.c.benefit_id.in_(bindparam("bids", expanding=True))).group_by(_L.c.benefit_id))
_UPDATE = update(_B).where(_B.c.id == bindparam("b_id")).values(
    monthly_amount_fen=bindparam("b_fen"), start_month=bindparam("b_month"),
    legacy_paid_through=bindparam("b_paid"), updated_at=bindparam("b_now"))


def key(row: dict[str, str]) -> tuple[str, str] | None:
    number = idnumbers.normalize(row["id_number"])
    return (number, row["program"].strip()) if number else None


def validate_row(row: dict[str, str], today: date) -> tuple[dict | None, list[tuple[str, str]]]:
    issues = []
    number, problem = id_issue(row["id_number"], today)
    if problem:
        issues.append(problem)
    program = row["program"].strip()
    if program not in PROGRAMS:
        issues.append(("PROGRAM_UNKNOWN", f"program {program[:40]!r} is not known"))
    month = row["start_month"].strip()
    month_ok = bool(_MONTH.match(month)) and "1950-01" <= month <= today.strftime("%Y-%m")
    if not month_ok:
        issues.append(("MONTH_INVALID", "start_month must be YYYY-MM, not after the current month"))
    amount = row["monthly_amount"].strip()
    fen = int(Decimal(amount) * 100) if _AMOUNT.match(amount) else 0
    if fen <= 0:
        issues.append(("AMOUNT_INVALID", "monthly_amount must be a positive amount in yuan, e.g. 50.00"))
    paid = row.get("paid_through", "").strip() or None  # None: the file does not say (no column, or blank)
    # from the month before the start (nothing paid yet: how to undo a paid_through given by mistake) to now;
    # against an invalid start month only the format and the current month are checked (MONTH_INVALID says it)
    earliest = month_from_index(month_index(month) - 1) if month_ok else ""
    if paid is not None and (not _MONTH.match(paid) or paid > today.strftime("%Y-%m") or paid < earliest):
        issues.append(("PAID_THROUGH_INVALID", "paid_through must be YYYY-MM, from the month before start_month to "
                                               "the current month"))
    if issues:
        return None, issues
    return {"id_number": number, "program": program, "start_month": month, "fen": fen, "paid_through": paid}, issues


class BenefitWriter:
    def __init__(self, engine: Engine, cipher):
        self.engine, self.cipher = engine, cipher

    def write(self, items: list[tuple[int, dict]], report: RejectReport) -> WriteCounts:
        """Upsert one batch of (line, record); unknown or deceased residents go to the report."""
        counts, now = WriteCounts(), utcnow()
        hashed = [(line, self.cipher.lookup_hash(rec["id_number"], "id"), rec) for line, rec in items]
        with self.engine.begin() as conn:
            index = self.cipher.hash_index({rec["id_number"] for _, rec in items}, "id")  # any key of the ring
            people = {index[h]: (i, d) for h, i, d in conn.execute(_RESIDENTS, {"hashes": list(index)})}
            ids = [p[0] for p in people.values()]
            current = {(b.program, b.resident_id): b for b in conn.execute(_BENEFITS, {"ids": ids})} if ids else {}
            rolls_paid_from = {}  # only asked when the batch says what the old process paid
            if current and any(rec["paid_through"] for _, rec in items):
                bids = [b.id for b in current.values()]
                rolls_paid_from = dict(conn.execute(_ROLLS_PAID_FROM, {"bids": bids}).all())
            inserts, updates = [], []
            for line, id_hash, rec in hashed:
                person = people.get(id_hash)
                problem = self._problem(person, current.get((rec["program"], person[0])) if person else None, rec)
                if problem:
                    if not report.add_row(line, rec["id_number"], [problem]):  # a warning: skipped on purpose
                        counts.skipped += 1
                    continue
                existing = current.get((rec["program"], person[0]))
                if existing is None:
                    inserts.append(self._new(person[0], rec, now))
                    continue
                paid = rec["paid_through"] or existing.legacy_paid_through  # a file that does not say keeps it
                ours_from = rolls_paid_from.get(existing.id)
                if rec["paid_through"] and ours_from and rec["paid_through"] >= ours_from:
                    report.add_row(line, rec["id_number"], [("PAID_THROUGH_OVERLAPS_ROLL", (
                        f"a closed roll already paid this benefit from {ours_from}: the months from then to "
                        f"{rec['paid_through']} were paid by both; the row is applied, check the overpayment"))])
                if (existing.monthly_amount_fen, existing.start_month, existing.legacy_paid_through) == (
                        rec["fen"], rec["start_month"], paid):
                    counts.unchanged += 1
                else:
                    updates.append({"b_id": existing.id, "b_fen": rec["fen"], "b_month": rec["start_month"],
                                    "b_paid": paid, "b_now": now})
            if inserts:
                conn.execute(insert(_B), inserts)
            if updates:
                conn.execute(_UPDATE, updates)
        counts.imported, counts.updated = len(inserts), len(updates)
        return counts

    @staticmethod
    def _problem(person, existing, rec) -> tuple[str, str] | None:
        if person is None:
            return "RESIDENT_UNKNOWN", "no resident with this ID number in the registry"
        if person[1] is not None:
            return "RESIDENT_DECEASED", "the registry has a death date for this resident"
        if existing is not None and (existing.origin != ORIGIN or existing.state != "active"):
            return "BENEFIT_EXISTS", f"already has {rec['program']} ({existing.origin}, {existing.state})"
        return None

    @staticmethod
    def _new(resident_id: int, rec: dict, now) -> dict:
        return {"id": new_id(), "program": rec["program"], "resident_id": resident_id, "application_id": None,
                "origin": ORIGIN, "tier": "", "monthly_amount_fen": rec["fen"], "start_month": rec["start_month"],
                "end_month": None, "state": "active", "legacy_paid_through": rec["paid_through"],
                "created_at": now, "updated_at": now}


def _valid_rows(path: Path, today: date, duplicates: set, report: RejectReport):
    for line, row in rows(path, COLUMNS, OPTIONAL):
        if row is None:
            report.add_row(line, "", [("ROW_FORMAT", "the row's number of fields differs from the header's, or a field holds a NUL character")])
            continue
        record, issues = validate_row(row, today)
        if key(row) in duplicates:
            record = None
            issues.append(("DUPLICATE_ID", "this ID number and program appear more than once in the file"))
        if issues:
            report.add_row(line, row["id_number"], issues)
            continue
        yield line, record


def import_beneficiaries(cfg, path: Path, progress: Callable[[int], None] | None = None,
                         on_total: Callable[[int], None] | None = None) -> dict:
    """Import legacy beneficiaries; raises csvfile.BadInput (before writing anything) when unreadable."""
    path, today = Path(path), local_today(cfg)
    checked, engine, batch_id = open_batch(cfg, KIND, path, COLUMNS, key, on_total, optional=OPTIONAL)
    report = RejectReport(report_path(cfg.instance_path, KIND, batch_id))
    writer = BenefitWriter(engine, cipher_for(cfg))
    try:
        writes = write_in_batches(_valid_rows(path, today, checked.duplicates(), report), BATCH_ROWS,
                                  lambda batch: writer.write(batch, report), progress)
    finally:
        report.close()
    return finish_import(engine, batch_id, writes, report)
