"""The cyclic garbage collector kept out of the way while an import's rows are read and written."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def fewer_collections() -> Iterator[None]:
    """The cyclic garbage collector's first threshold raised from 700 to 50,000 allocations while rows are
    loaded, then put back. A row makes about ten dicts, lists and tuples, none in a cycle; at 700 the collector
    ran every ~70 rows and, every 100 runs, went through every object of the process — 12% of a row's work
    (`python benchmarks/import.py`). Reference counting still frees each row's objects at once."""
    before = gc.get_threshold()
    gc.set_threshold(50_000, *before[1:])
    try:
        yield
    finally:
        gc.set_threshold(*before)
