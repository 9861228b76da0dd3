"""`fewer_collections` raises the collector's first threshold while an import's rows are loaded and always puts
the process's thresholds back, nested or after a failure."""

from __future__ import annotations

import gc

import pytest

from flows.imports.gc_pause import fewer_collections


def test_the_thresholds_are_raised_inside_and_put_back_after_a_failure_and_when_nested():
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections():
        assert gc.get_threshold() == (50_000, *before[1:])
        with fewer_collections():
            assert gc.get_threshold()[0] == 50_000
        assert gc.get_threshold()[0] == 50_000
        raise RuntimeError("a failed batch")
    assert gc.get_threshold() == before
