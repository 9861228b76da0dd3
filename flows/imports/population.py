"""Population import (公安人口库 extract): validate every row, report rejects, upsert the good rows in batches."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from app import idnumbers
from app.crypto import cipher_for
from app.db import make_engine
from flows.imports.batch import finish_batch, local_today, start_batch
from flows.imports.csvfile import rows, survey
from flows.imports.report import RejectReport, report_path
from flows.imports.validation import POPULATION_COLUMNS, validate_person
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


def id_key(row: dict[str, str]) -> str | None:
    return idnumbers.normalize(row["id_number"]) or None


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
    checked = survey(path, POPULATION_COLUMNS, id_key)
    if on_total:
        on_total(checked.rows)
    engine = make_engine(cfg.database_url)
    batch_id = start_batch(engine, KIND, path.name, checked.sha256)
    report = RejectReport(report_path(cfg.instance_path, KIND, batch_id))
    writer = ResidentWriter(engine, cipher_for(cfg), today)
    try:
        result = load_people(writer, rows(path, POPULATION_COLUMNS), today, checked.duplicates(), report, progress)
    finally:
        report.close()
    counts = {"imported": result.writes.imported, "updated": result.writes.updated,
              "unchanged": result.writes.unchanged, "rejected": result.rejected, "warnings": result.warnings}
    finish_batch(engine, batch_id, counts, str(report.path))
    return {**counts, "report": str(report.path), "batch": batch_id}
