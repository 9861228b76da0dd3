"""Shared runner for the partner imports of the three programs (disability, deaths, hukou moves, economic
records, payout accounts): same rules as the population import — the whole file is surveyed first (nothing is
written for an unreadable file or a wrong header), every row is validated, problems go to the reject report
with a masked ID and a fixed reason code, good rows are upserted in batches, and a re-run changes nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import bindparam, select
from sqlalchemy.engine import Connection, Engine

from app.crypto import FieldCipher, cipher_for
from app.models.resident import Resident
from flows.imports import reference
from flows.imports.batch import finish_import, local_today, open_batch
from flows.imports.csvfile import rows
from flows.imports.report import RejectReport, report_path
from flows.imports.validation import id_issue, parse_date
from flows.imports.writer import WriteCounts, write_in_batches

BATCH_ROWS = 5_000
ERROR, WARNING = reference.ERROR, reference.WARNING

# Reason codes of the partner imports (docs/data-contracts.md, "Partner data for the programs").
REASONS: dict[str, tuple[str, str]] = {
    "CERT_NUMBER_INVALID": (ERROR, "certificate_number is not 20 characters: the ID number, the category digit "
                                   "and the grade digit"),
    "CERT_MISMATCH": (ERROR, "certificate_number does not match the ID number, category and grade of the row"),
    "CATEGORY_INVALID": (ERROR, "category is not 1–7 (视力, 听力, 言语, 肢体, 智力, 精神, 多重)"),
    "GRADE_INVALID": (ERROR, "grade is not 1, 2, 3 or 4"),
    "ISSUE_DATE_INVALID": (ERROR, "issue_date is not YYYY-MM-DD or is in the future"),
    "EXPIRY_DATE_INVALID": (ERROR, "expiry_date is not YYYY-MM-DD or is before issue_date"),
    "SOURCE_UNKNOWN": (ERROR, "source is not one of the listed partner codes"),
    "MOVE_DATE_INVALID": (ERROR, "move_date is not YYYY-MM-DD or is in the future"),
    "DIRECTION_INVALID": (ERROR, "direction is not out/in (迁出/迁入)"),
    "AREA_INVALID": (ERROR, "area_code is not 6 digits"),
    "KIND_UNKNOWN": (ERROR, "kind is not one of the listed record kinds"),
    "PERIOD_INVALID": (ERROR, "period must be YYYY-MM (not after the current month) for income, empty for assets"),
    "QUANTITY_INVALID": (ERROR, "quantity is not a whole number from 1 to 999 (empty means 1)"),
    "REF_INVALID": (ERROR, "ref is longer than 64 characters"),
    "ACCOUNT_KIND_INVALID": (ERROR, "kind is not sscard (社保卡) or bank (银行账户)"),
    "ACCOUNT_INVALID": (ERROR, "account_number is not 10–30 digits"),
    "BANK_NAME_INVALID": (ERROR, "bank_name is empty for a bank account, or longer than 64 characters"),
    "ACCOUNT_CHANGED_BY_CITIZEN": (WARNING, "the resident (or a proxy) changed the account after signing in; "
                                            "the imported account is not applied"),
    "DEATH_BEFORE_BIRTH": (ERROR, "death_date is before the resident's birth date"),
}


def severity(code: str) -> str:
    return (REASONS.get(code) or reference.REASONS[code])[0]


class PartnerReport(RejectReport):
    """The population import's report, knowing the partner reason codes as well."""

    def severity(self, code: str) -> str:
        return severity(code)


@dataclass(frozen=True)
class Spec:
    """What one partner import is: its columns, its duplicate key, its row validation and its batch writer."""

    kind: str
    columns: tuple[str, ...]
    key: Callable[[dict], object]
    validate: Callable[[dict, date], tuple[dict | None, list]]
    write: Callable[[Connection, FieldCipher, list, dict, PartnerReport, date], WriteCounts]
    duplicate_detail: str = "this key appears more than once in the file; all its rows are rejected"


_R = Resident.__table__
_PEOPLE = select(_R.c.id_hash, _R.c.id, _R.c.birth_date, _R.c.death_date).where(
    _R.c.id_hash.in_(bindparam("hashes", expanding=True)))
UNKNOWN = ("RESIDENT_UNKNOWN", "no resident with this ID number in the population registry")


def people(conn: Connection, cipher: FieldCipher, items: list[tuple[int, dict]]) -> dict:
    """{id_hash: row(id, birth_date, death_date)} for the batch's ID numbers, under the current key's hash of each
    (`resident_of`) whichever key of the ring the resident's row is still keyed by."""
    index = cipher.hash_index({rec["id_number"] for _, rec in items}, "id")
    return {index[r.id_hash]: r for r in conn.execute(_PEOPLE, {"hashes": list(index)})}


def check_date(value: str, code: str, today: date, issues: list, what: str) -> date | None:
    parsed = parse_date(value.strip())
    if parsed is None or parsed > today:
        issues.append((code, f"{what} must be a real date YYYY-MM-DD, not in the future"))
        return None
    return parsed


def id_or_issue(row: dict, today: date, issues: list) -> str | None:
    number, problem = id_issue(row["id_number"], today)
    if problem:
        issues.append(problem)
    return number


def _valid_rows(path: Path, spec: Spec, today: date, duplicates: set, report: PartnerReport) -> Iterable:
    for line, row in rows(path, spec.columns):
        if row is None:
            report.add_row(line, "", [("ROW_FORMAT", "the row's number of fields differs from the header's, or a field holds a NUL character")])
            continue
        record, issues = spec.validate(row, today)
        if duplicates and spec.key(row) in duplicates:
            record = None
            issues.append(("DUPLICATE_ID", spec.duplicate_detail))
        if issues and report.add_row(line, row["id_number"], issues):
            continue
        yield line, record


def run(cfg, spec: Spec, path: Path, progress: Callable[[int], None] | None = None,
        on_total: Callable[[int], None] | None = None, engine: Engine | None = None) -> dict:
    """Import one partner file; raises csvfile.BadInput (before writing anything) when it cannot be read."""
    path, today = Path(path), local_today(cfg)
    checked, engine, batch_id = open_batch(cfg, spec.kind, path, spec.columns, spec.key, on_total, engine)
    report = PartnerReport(report_path(cfg.instance_path, spec.kind, batch_id))
    cipher = cipher_for(cfg)

    def write(batch: list) -> WriteCounts:
        with engine.begin() as conn:
            return spec.write(conn, cipher, batch, people(conn, cipher, batch), report, today)

    try:
        writes = write_in_batches(_valid_rows(path, spec, today, checked.duplicates(), report), BATCH_ROWS, write,
                                  progress)
    finally:
        report.close()
    return finish_import(engine, batch_id, writes, report)


def resident_of(found: dict, cipher: FieldCipher, rec: dict):
    return found.get(cipher.lookup_hash(rec["id_number"], "id"))


def known_residents(items: list[tuple[int, dict]], found: dict, cipher: FieldCipher, report: PartnerReport,
                    reject: Callable[[object, dict], tuple[str, str] | None] | None = None) -> list[tuple]:
    """(line, resident, record) for the batch's rows whose resident is on file and not refused by `reject`;
    the other rows go to the report (RESIDENT_UNKNOWN, or the issue `reject` returns), in file order."""
    matched = []
    for line, rec in items:
        person = resident_of(found, cipher, rec)
        issue = UNKNOWN if person is None else reject(person, rec) if reject else None
        if issue:
            report.add_row(line, rec["id_number"], [issue])
        else:
            matched.append((line, person, rec))
    return matched


def save(conn: Connection, counts: WriteCounts, insert_into, inserts: list, update_rows, updates: list) -> WriteCounts:
    """Run the batch's inserts and updates (each only if any) and count them into `counts`."""
    if inserts:
        conn.execute(insert_into, inserts)
    if updates:
        conn.execute(update_rows, updates)
    counts.imported, counts.updated = len(inserts), len(updates)
    return counts
