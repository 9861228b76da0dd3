"""tests/waiting.py: a wait fails only when nothing moved for STALL_S, however long it takes in all.

A fake clock (its sleep advances it) keeps these tests independent of the machine's speed."""

from __future__ import annotations

import itertools

import pytest

from tests import waiting


class FakeClock:
    def __init__(self):
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock(monkeypatch):
    fake = FakeClock()
    monkeypatch.setattr(waiting, "time", fake)
    return fake


def test_a_wait_that_keeps_moving_outlasts_the_stall_limit(clock):
    counts = itertools.count()
    seen = waiting.wait_until(lambda: next(counts), lambda n: n >= 1000, what="counting", stall_s=10)
    assert seen == 1000
    assert clock.now > 10 * 10  # ran far longer than the stall limit, and did not fail


def test_a_wait_fails_when_nothing_moved_for_the_limit_and_says_what_it_saw(clock):
    with pytest.raises(waiting.Stalled) as failure:
        waiting.wait_until(lambda: {"sent": 7, "pending": 3}, lambda c: c["pending"] == 0,
                           what="messages settling", stall_s=120)
    assert 120 <= clock.now <= 121
    assert "messages settling: nothing moved for 120s" in str(failure.value)
    assert "{'sent': 7, 'pending': 3}" in str(failure.value)


def test_progress_elsewhere_counts_as_moving(clock):
    ticks = itertools.count()
    with pytest.raises(waiting.Stalled):  # a progress probe that stops moving: stalls after the limit
        waiting.wait_until(lambda: 0, what="start-up", progress=lambda: min(next(ticks), 50), stall_s=30)
    assert clock.now > 30 + 20  # 50 moves of the progress probe (~21 s of polls) before the 30 s without one
