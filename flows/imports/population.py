"""Population import (公安人口库 extract): validate every row, report rejects, upsert the good rows in batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from app.crypto import cipher_for
from app.models.resident import Resident
from flows.imports.batch import finish_import, local_today, open_batch
from flows.imports.csvfile import rows
from flows.imports.first_load import indexes_after
from flows.imports.report import RejectReport, report_path
from flows.imports.validation import POPULATION_COLUMNS, id_key, validate_person
from flows.imports.writer import BATCH_ROWS, ResidentWriter, WriteCounts

KIND = "population"
_DUPLICATE = ("DUPLICATE_ID", "this ID number appears more than once in the file")
_RAGGED = ("ROW_FORMAT", "the row's number of fields differs from the header's")


@dataclass
class LoadResult:
    writes: WriteCounts
    rejected: int
    warnings: int
    valid: int


def load_people(
    writer: ResidentWriter,
    numbered_rows: Iterable[tuple[int, dict[str, str] | None]],
    today: date,
    duplicates: set,
    report: RejectReport,
    progress: Callable[[int], None] | None = None,
) -> LoadResult:
    """Validate (line, row) pairs, report problems, upsert the good records; shared with the seed."""
    writes, pending, seen, valid = WriteCounts(), [], 0, 0
    for line, row in numbered_rows:
        seen += 1
        if row is None:
            report.add_row(line, "", [_RAGGED])
            continue
        record, issues = validate_person(row, today)
        if duplicates and id_key(row) in duplicates:
            record = None
            issues.append(_DUPLICATE)
        if issues and report.add_row(line, row["id_number"], issues):
            continue
        pending.append(record)
        if len(pending) >= BATCH_ROWS:
            writes.add(writer.write(pending))
            valid, pending = valid + len(pending), []
            if progress:
                progress(seen)
    if pending:
        writes.add(writer.write(pending))
        valid += len(pending)
    return LoadResult(writes, report.rejected, report.warned, valid)


def import_population(cfg, path: Path, progress: Callable[[int], None] | None = None,
                      on_total: Callable[[int], None] | None = None) -> dict:
    """Import a population CSV; raises csvfile.BadInput (before writing anything) when it cannot be read."""
    path, today = Path(path), local_today(cfg)
    checked, engine, batch_id = open_batch(cfg, KIND, path, POPULATION_COLUMNS, id_key, on_total)
    report = RejectReport(report_path(cfg.instance_path, KIND, batch_id))
    writer = ResidentWriter(engine, cipher_for(cfg), today)
    try:
        with indexes_after(cfg, engine, Resident.__table__) as timing:  # into an empty table: indexes after
            result = load_people(writer, rows(path, POPULATION_COLUMNS), today, checked.duplicates(), report,
                                 progress)
    finally:
        report.close()
    return {**finish_import(engine, batch_id, result.writes, report), **timing}
