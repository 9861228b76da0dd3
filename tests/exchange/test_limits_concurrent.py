"""A client's two limits, spent in one statement (flows.limits.take_all), stay exact under concurrency: 24
threads, each with its own session and connection, against a per-minute limit of 10 and a per-day limit of 100
→ exactly 10 allowed; the refused ones still count against the per-day bucket (as two separate takes would)."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import select

from app.db import session_factory
from app.models import RateHit
from flows import limits


def test_24_concurrent_takes_allow_exactly_the_limit(cfg, session):
    buckets = [("exchange:race:minute", 10, 60), ("exchange:race:day", 100, 86_400)]
    make, start = session_factory(cfg), threading.Barrier(24)

    def take(_i):
        s = make()
        try:
            start.wait()
            return limits.take_all(s, buckets)
        finally:
            s.close()

    with ThreadPoolExecutor(24) as pool:
        waits = list(pool.map(take, range(24)))
    assert sum(w is None for w in waits) == 10
    assert all(1 <= w <= 60 for w in waits if w is not None)
    hits = dict(session.execute(select(RateHit.bucket, RateHit.hits).where(RateHit.bucket.like("exchange:race:%"))).all())
    assert hits == {"exchange:race:minute": 10, "exchange:race:day": 24}
    # the next take is refused on the minute bucket only (the day bucket still counts it)
    assert limits.take_all(session, buckets) is not None
    session.expire_all()
    assert session.scalar(select(RateHit.hits).where(RateHit.bucket == "exchange:race:day")) == 25


def test_callers_naming_the_buckets_in_either_order_never_deadlock(cfg, session):
    """One UPDATE over two rows locked them in the order it met them: two callers could lock them crosswise
    (PostgreSQL: 'deadlock detected', a 500 in 20 parallel pushes). Rows are now locked in one order."""
    pair = [("exchange:cross:minute", 10_000, 60), ("exchange:cross:day", 100_000, 86_400)]
    make, start = session_factory(cfg), threading.Barrier(16)

    def take(i):
        s = make()
        try:
            start.wait()
            for _ in range(15):
                assert limits.take_all(s, pair if i % 2 else pair[::-1]) is None
        finally:
            s.close()

    with ThreadPoolExecutor(16) as pool:
        list(pool.map(take, range(16)))
    hits = dict(session.execute(select(RateHit.bucket, RateHit.hits).where(RateHit.bucket.like("exchange:cross:%"))).all())
    assert hits == {"exchange:cross:minute": 240, "exchange:cross:day": 240}
