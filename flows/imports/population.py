"""Population import (公安人口库 extract): validate every row, report rejects, upsert the good rows in batches —
in this process, or for a large file on PostgreSQL in several (`flows.imports.parallel`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from app.crypto import cipher_for
from app.db import make_engine
from app.models.resident import Resident
from flows.imports.batch import finish_import, local_today, open_batch
from flows.imports.csvfile import rows, survey
from flows.imports.first_load import indexes_after
from flows.imports.parallel import import_processes, import_workers, load_in_processes
from flows.imports.people import load_people
from flows.imports.report import RejectReport, report_path
from flows.imports.validation import POPULATION_COLUMNS, id_key
from flows.imports.writer import ResidentWriter

KIND = "population"


def import_population(cfg, path: Path, progress: Callable[[int], None] | None = None,
                      on_total: Callable[[int], None] | None = None) -> dict:
    """Import a population CSV; raises csvfile.BadInput (before writing anything) when it cannot be read."""
    path, today, engine = Path(path), local_today(cfg), make_engine(cfg.database_url)
    with import_processes(cfg, engine, path, today) as processes:  # started first: they survey the file too
        checked, engine, batch_id = open_batch(cfg, KIND, path, POPULATION_COLUMNS, id_key, on_total, engine,
                                               processes.survey if processes else survey)
        report = RejectReport(report_path(cfg.instance_path, KIND, batch_id))
        workers = import_workers(cfg, engine, checked) if processes else 1
        try:
            with indexes_after(cfg, engine, Resident.__table__) as first:  # into an empty table: indexes after
                if workers > 1:
                    result = load_in_processes(processes, path, checked, report, first.all_new, progress)
                else:
                    writer = ResidentWriter(engine, cipher_for(cfg), today, all_new=first.all_new)
                    result = load_people(writer, rows(path, POPULATION_COLUMNS), today, checked.duplicates(),
                                         report, progress)
        finally:
            report.close()
    return {**finish_import(engine, batch_id, result.writes, report), **first.summary, "processes": workers}
