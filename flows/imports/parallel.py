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
has one writer). Workers are started by `spawn`: nothing of the parent (its connections) is shared. They start
before the file's survey (`import_processes`: starting one costs ≈ 0.6 s of imports, then spent while the survey
reads) and take the survey's records block by block too (`csvfile.survey_in_blocks`), while this process hashes
the file; a file whose header or some record spans lines is surveyed whole here, as in one process.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from sqlalchemy.engine import Engine

from app.crypto import FieldCipher
from app.db import make_engine, side_by_side
from flows.imports.csvfile import (
    Survey,
    block_rows,
    line_spans,
    log_foreign_digits,
    read_span,
    survey,
    survey_in_blocks,
    survey_span,
)
from flows.imports.gc_pause import fewer_collections
from flows.imports.people import LoadResult, load_people
from flows.imports.reference import severity
from flows.imports.writer import ResidentWriter, WriteCounts

AUTO_FROM_ROWS = 100_000  # below this, starting the processes costs more than they save
AUTO_FROM_BYTES = 6 << 20  # before the survey counts rows: a file this size may hold 100,000 (≥ 60 bytes a row)
IN_FLIGHT_PER_WORKER = 3
BLOCK_BYTES = 1 << 20  # ≈ 9,000 population rows: about one writer batch (BATCH_ROWS) a block
_worker: dict = {}


@dataclass
class Processes:
    pool: ProcessPoolExecutor
    count: int

    def survey(self, path: Path, expected: tuple[str, ...], key: Callable[[dict], object] | None,
               optional: tuple[str, ...] = ()) -> Survey:
        """`csvfile.survey`'s result, its records read by the workers (the whole file here when it must be)."""
        def blocks(tasks: Iterable[tuple]) -> Iterator:
            return in_order(self.pool, survey_span, tasks, self.count * IN_FLIGHT_PER_WORKER)

        return (survey_in_blocks(path, expected, key, blocks, BLOCK_BYTES, optional)
                or survey(path, expected, key, optional))


@contextmanager
def import_processes(cfg, engine: Engine, path: Path, today: date) -> Iterator[Processes | None]:
    """The worker processes of a population import, started now, before the survey; None when the import runs
    in this process (SQLite, one worker configured, a file too small to be worth them). The load still runs
    in one process when the survey finds a record over several lines or fewer than 100,000 rows
    (`import_workers`)."""
    count = side_by_side(cfg.import_workers, engine)
    big = cfg.import_workers or _size(path) >= AUTO_FROM_BYTES
    if count < 2 or not big:
        yield None
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(count, mp_context=context, initializer=_start_worker,
                             initargs=(cfg.database_url, cfg.data_keyring, today)) as pool:
        with _ctrl_c_ignored():  # inherited by the new interpreters: a Ctrl-C is this process's to handle
            for _ in range(count):
                pool.submit(_ready)  # start them all now: their imports run while this process reads
        yield Processes(pool, count)


@contextmanager
def _ctrl_c_ignored() -> Iterator[None]:
    """SIGINT ignored while the workers are started (an ignored signal stays ignored in a new interpreter). A
    Ctrl-C at the terminal reaches the whole process group: the workers printed a traceback each, mid-import
    or mid-start-up; now this process stops, the blocks in flight finish, and the pool ends them."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0  # the survey says why it cannot be read


def import_workers(cfg, engine, checked: Survey) -> int:
    """How many processes load this file: `import_workers` when set (ZEROTRIP_IMPORT_WORKERS), else one per core
    up to 4 for a file of at least 100,000 rows; 1 (the serial import) on SQLite or for a file with a record
    over several lines."""
    if not checked.splits_at_newlines or (not cfg.import_workers and checked.rows < AUTO_FROM_ROWS):
        return 1
    return side_by_side(cfg.import_workers, engine)


def in_order(pool: ProcessPoolExecutor, fn: Callable, tasks: Iterable[tuple], in_flight: int) -> Iterator:
    """`fn(*task)` of each task in the pool, a few in flight, the outcomes in the tasks' order. A task that
    fails raises here and cancels the tasks not yet started. Nothing is cancelled when the pool broke (its
    workers ended by a signal to the process group), on an interrupt (Ctrl-C, SIGTERM) or when the iterator is
    dropped: the few in flight finish, or end with the pool — whose thread (Python 3.11) then sets each failed,
    and a cancelled one refused that in a traceback."""
    waiting: deque = deque()
    try:
        for task in tasks:
            waiting.append(pool.submit(fn, *task))
            while len(waiting) >= in_flight or (waiting and waiting[0].done()):
                yield waiting.popleft().result()
        while waiting:
            yield waiting.popleft().result()
    except BrokenProcessPool:
        raise
    except Exception:
        for future in waiting:
            future.cancel()
        raise


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


def _start_worker(database_url: str, keyring: tuple, today: date) -> None:
    """A worker's writer: its own engine, the parent's data keys (passed as they are, never through a file)."""
    writer = ResidentWriter(make_engine(database_url), FieldCipher(ring=keyring), today, all_new=True)
    _worker.update(writer=writer, today=today)


def _ready() -> None:
    """Nothing: submitted once per worker so that all start at once."""


def _load_block(first_line: int, path: str, offset: int, length: int, names: list[str], duplicates: frozenset,
                all_new: bool) -> tuple[WriteCounts, int, list, int, int]:
    """In a worker: one block, read here, through the serial import's own loop. (writes, valid, report rows,
    rows seen, rows with a non-ASCII digit)."""
    block = read_span(path, offset, length)
    writer = _worker["writer"]
    writer.all_new = writer.all_new and all_new  # once it has met a row inserted by someone else, never again
    issues = CollectedIssues()
    with fewer_collections():  # the block's rows are parsed here, before load_people
        numbered, foreign = block_rows(block, names, first_line)
        result = load_people(writer, numbered, _worker["today"], duplicates, issues)
    return result.writes, result.valid, issues.rows, len(numbered), foreign


@dataclass
class _Taken:
    """What the parent has taken back from the workers so far, in file order."""

    writes: WriteCounts = field(default_factory=WriteCounts)
    valid: int = 0
    seen: int = 0
    foreign: int = 0

    def take(self, outcome: tuple, report, progress: Callable[[int], None] | None) -> None:
        writes, valid, rows, seen, foreign = outcome
        self.writes.add(writes)
        for line, raw_id, issues in rows:
            report.add_row(line, raw_id, issues)
        self.valid, self.seen, self.foreign = self.valid + valid, self.seen + seen, self.foreign + foreign
        if progress:
            progress(self.seen)


def load_in_processes(processes: Processes, path: Path, checked: Survey, report, all_new: bool = False,
                      progress: Callable[[int], None] | None = None) -> LoadResult:
    """The file's rows loaded by the worker processes; the same result, report and rows as `load_people`
    (`all_new`: a first load, `first_load.FirstLoad`)."""
    taken, duplicates = _Taken(), frozenset(checked.duplicates())
    tasks = ((first_line, str(path), offset, length, checked.names, duplicates, all_new)
             for first_line, offset, length in line_spans(path, BLOCK_BYTES))
    for outcome in in_order(processes.pool, _load_block, tasks, processes.count * IN_FLIGHT_PER_WORKER):
        taken.take(outcome, report, progress)
    log_foreign_digits(path.name, taken.foreign)
    return LoadResult(taken.writes, report.rejected, report.warned, taken.valid)
