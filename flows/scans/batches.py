"""A backfill's committed batches, run side by side on PostgreSQL.

Each batch is one transaction over its own slice of residents (disjoint key ranges, so no two batches touch
the same rows) and idempotent, so a crash resumes whatever order they finished in. PostgreSQL runs each
batch's statements in its own backend: with several connections a backfill uses the database server's
cores instead of one. SQLite has one writer: there the batches run one after another in the caller's thread.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait
from itertools import islice
from typing import TypeVar

from app.db import side_by_side

Slice = TypeVar("Slice")


def workers_for(cfg, engine) -> int:
    """A backfill's batches at once: `scan_workers` (ZEROTRIP_SCAN_WORKERS) or `app.db.side_by_side`'s default."""
    return side_by_side(cfg.scan_workers, engine)


def run_batches(batch: Callable[[Slice], int], slices: Iterable[Slice], workers: int) -> Iterator[int]:
    """`batch(slice)` for every slice, at most `workers` at a time; yields each one's count as it commits. The
    first failure stops the slices not yet started and is raised (those already committed stay: resumable)."""
    slices = list(slices)
    if workers <= 1:
        for piece in slices:
            yield batch(piece)
        return
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="scan-batch") as pool:
        waiting = iter(slices)
        running = {pool.submit(batch, piece) for piece in islice(waiting, workers)}
        try:
            while running:
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for future in done:
                    yield future.result()
                running |= {pool.submit(batch, piece) for piece in islice(waiting, len(done))}
        finally:
            for future in running:
                future.cancel()
