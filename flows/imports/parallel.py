"""A large population file validated, encrypted and written by several processes on PostgreSQL.

The per-row work of an import (CSV parsing, validation, two keyed hashes, two AES-GCM encryptions, the change
hash: ≈ 20 µs) runs on one core in one process. Here the file is cut into blocks of whole lines and each block
goes to one of N worker processes, which does exactly what the serial import does with those rows
(`people.load_people` through a `ResidentWriter` on its own connection: look up, `COPY` the new rows, update
the changed ones, commit). Blocks hold distinct residents (the survey rejects every repeated ID number), so the
workers never write the same row. The parent reads the file, hands out blocks — a few per worker in flight, so a
city's file is never held in memory — and takes their results back in file order: the reject report comes out
line by line as the serial import writes it, and progress moves as blocks commit. A failed block stops the blocks
not yet started and is raised; committed blocks stay, so running the import again finishes the file.

Only for a file every record of which is one line (`Survey.splits_at_newlines`), and only on PostgreSQL (SQLite
has one writer). Workers are started by `spawn`: nothing of the parent (its connections) is shared.
"""

from __future__ import annotations

import multiprocessing
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from app.crypto import FieldCipher
from app.db import make_engine, side_by_side
from flows.imports.csvfile import Survey, block_rows, line_blocks, log_foreign_digits
from flows.imports.people import LoadResult, load_people
from flows.imports.reference import severity
from flows.imports.writer import ResidentWriter, WriteCounts

AUTO_FROM_ROWS = 100_000  # below this, starting the processes costs more than they save
IN_FLIGHT_PER_WORKER = 3
BLOCK_BYTES = 1 << 20  # ≈ 9,000 population rows: about one writer batch (BATCH_ROWS) a block
_worker: dict = {}


def import_workers(cfg, engine, checked: Survey) -> int:
    """How many processes load this file: `import_workers` when set (ZEROTRIP_IMPORT_WORKERS), else one per core
    up to 4 for a file of at least 100,000 rows; 1 (the serial import) on SQLite or for a file with a record
    over several lines."""
    if not checked.splits_at_newlines or (not cfg.import_workers and checked.rows < AUTO_FROM_ROWS):
        return 1
    return side_by_side(cfg.import_workers, engine)


class CollectedIssues:
    """A worker's stand-in for the reject report: decides as `RejectReport.add_row` does and keeps the rows for
    the parent, which writes them to the real report in file order."""

    def __init__(self):
        self.rows: list[tuple[int, str, list]] = []
        self.rejected = self.warned = 0

    def add_row(self, line: int, raw_id: str, issues: list[tuple[str, str]]) -> bool:
        self.rows.append((line, raw_id, issues))
        rejected = any(severity(code) == "error" for code, _ in issues)
        self.rejected += rejected
        self.warned += bool(issues) and not rejected
        return rejected


def _start_worker(database_url: str, keyring: tuple, today: date, names: list[str], duplicates: set,
                  all_new: bool) -> None:
    """A worker's writer: its own engine, the parent's data keys (passed as they are, never through a file)."""
    writer = ResidentWriter(make_engine(database_url), FieldCipher(ring=keyring), today, all_new=all_new)
    _worker.update(writer=writer, today=today, names=names, duplicates=duplicates)


def _load_block(first_line: int, block: bytes) -> tuple[WriteCounts, int, list, int, int]:
    """In a worker: one block through the serial import's own loop. (writes, valid, report rows, rows seen,
    rows with a non-ASCII digit)."""
    numbered, foreign = block_rows(block, _worker["names"], first_line)
    issues = CollectedIssues()
    result = load_people(_worker["writer"], numbered, _worker["today"], _worker["duplicates"], issues)
    return result.writes, result.valid, issues.rows, len(numbered), foreign


@dataclass
class _Taken:
    """What the parent has taken back from the workers so far, in file order."""

    writes: WriteCounts = field(default_factory=WriteCounts)
    valid: int = 0
    seen: int = 0
    foreign: int = 0

    def take(self, future: Future, report, progress: Callable[[int], None] | None) -> None:
        writes, valid, rows, seen, foreign = future.result()
        self.writes.add(writes)
        for line, raw_id, issues in rows:
            report.add_row(line, raw_id, issues)
        self.valid, self.seen, self.foreign = self.valid + valid, self.seen + seen, self.foreign + foreign
        if progress:
            progress(self.seen)


def load_in_processes(cfg, path: Path, today: date, checked: Survey, report, workers: int, all_new: bool = False,
                      progress: Callable[[int], None] | None = None) -> LoadResult:
    """The file's rows loaded by `workers` processes; the same result, report and rows as `load_people`
    (`all_new`: a first load, `first_load.FirstLoad`)."""
    taken, waiting = _Taken(), deque()
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_start_worker,
                             initargs=(cfg.database_url, cfg.data_keyring, today, checked.names,
                                       checked.duplicates(), all_new)) as pool:
        try:
            for first_line, block in line_blocks(path, BLOCK_BYTES):
                waiting.append(pool.submit(_load_block, first_line, block))
                while len(waiting) >= workers * IN_FLIGHT_PER_WORKER or (waiting and waiting[0].done()):
                    taken.take(waiting.popleft(), report, progress)
            while waiting:
                taken.take(waiting.popleft(), report, progress)
        finally:
            for future in waiting:
                future.cancel()
    log_foreign_digits(path.name, taken.foreign)
    return LoadResult(taken.writes, report.rejected, report.warned, taken.valid)
