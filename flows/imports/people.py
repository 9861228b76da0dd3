"""The population rows' loop: validate each (line, row), report its problems, upsert the good records a batch
at a time. Shared by the population import (serial or per block in a worker process), the seed and the
simulated year."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date

from flows.imports.gc_pause import fewer_collections
from flows.imports.validation import id_key, validate_person
from flows.imports.writer import BATCH_ROWS, ResidentWriter, WriteCounts

_DUPLICATE = ("DUPLICATE_ID", "this ID number appears more than once in the file")
_RAGGED = ("ROW_FORMAT", "the row's number of fields differs from the header's, or a field holds a NUL character")


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
    report,
    progress: Callable[[int], None] | None = None,
) -> LoadResult:
    """Validate (line, row) pairs, report problems (`report.add_row`), upsert the good records."""
    with fewer_collections():
        return _load(writer, numbered_rows, today, duplicates, report, progress)


def _load(writer: ResidentWriter, numbered_rows: Iterable[tuple[int, dict[str, str] | None]], today: date,
          duplicates: set, report, progress: Callable[[int], None] | None) -> LoadResult:
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
