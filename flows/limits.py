"""Atomic limit counters in the database (no Redis): one conditional `UPDATE … RETURNING` per attempt.

A counter is a row of `rate_hits` (bucket → window start, hits). `take` first makes sure the row exists
(an insert that ignores a conflict on the primary key), then spends one hit with a single statement that
either starts a new window or adds one **only while the count is below the limit** — so the check and the
increment are one step, correct on SQLite (one writer at a time) and PostgreSQL (the row lock makes a second
writer re-evaluate the WHERE clause on the committed row), whatever the number of API processes.
Each call commits at once, in the caller's session, so that other processes see the hit before the work it
guards (checking a password, asking the registry) starts.
"""

from __future__ import annotations

import functools
from datetime import timedelta

from sqlalchemy import bindparam, case, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from app.db import utcnow
from app.models import RateHit


def _ensure(session: Session, bucket: str, now) -> None:
    dialect = session.get_bind().dialect.name
    make = pg_insert if dialect == "postgresql" else sqlite_insert
    session.execute(make(RateHit).values(bucket=bucket, window_start=now, hits=0)
                    .on_conflict_do_nothing(index_elements=[RateHit.bucket]))


def take(session: Session, bucket: str, limit: int, window_seconds: int, create: bool = True) -> int | None:
    """Spend one hit of `bucket`. None when allowed; else the seconds until the window ends (for Retry-After).
    `create=False` spends only a counter that exists (an old key's counter during a data-key rotation).
    Commits the session."""
    now = utcnow()
    cutoff = now - timedelta(seconds=window_seconds)
    expired = RateHit.window_start <= cutoff
    spend = (update(RateHit)
             .where(RateHit.bucket == bucket, expired | (RateHit.hits < limit))
             .values(hits=case((expired, 1), else_=RateHit.hits + 1),
                     window_start=case((expired, now), else_=RateHit.window_start))
             .returning(RateHit.hits)
             .execution_options(synchronize_session=False))
    spent = session.execute(spend).first()
    if not spent and create:  # the bucket's first hit (no row yet), or over the limit
        _ensure(session, bucket, now)
        spent = session.execute(spend).first()
    started = None if spent else session.scalar(select(RateHit.window_start).where(RateHit.bucket == bucket))
    session.commit()
    if spent or (not create and started is None):
        return None
    return max(1, window_seconds - int((now - started).total_seconds())) if started else window_seconds


def give_back(session: Session, bucket: str) -> None:
    """Return one hit (an attempt that succeeded does not count as a failure). Commits nothing."""
    session.execute(update(RateHit).where(RateHit.bucket == bucket, RateHit.hits > 0)
                    .values(hits=RateHit.hits - 1).execution_options(synchronize_session=False))


_EXPIRED = RateHit.window_start <= bindparam("cutoff")
# Built once: statement construction costs more Python than the UPDATE itself on a hot path.
_SPEND = (update(RateHit)
          .where(RateHit.bucket == bindparam("b"), _EXPIRED | (RateHit.hits < bindparam("limit")))
          .values(hits=case((_EXPIRED, 1), else_=RateHit.hits + 1),
                  window_start=case((_EXPIRED, bindparam("now")), else_=RateHit.window_start))
          .returning(RateHit.hits)
          .execution_options(synchronize_session=False))


_LOCK_IN_ORDER = (select(RateHit.bucket).where(RateHit.bucket.in_(bindparam("buckets", expanding=True)))
                  .order_by(RateHit.bucket).with_for_update())


@functools.cache
def _spend_each(count: int):
    """Spend one hit of each of `count` buckets in one UPDATE (built once per count): each row is checked and
    counted on its own terms (its limit and window, by bucket), as `_SPEND` would, under its own row lock."""
    bucket, names = RateHit.bucket, [bindparam(f"b{i}", type_=RateHit.bucket.type) for i in range(count)]

    def by_bucket(name: str, column):
        return case(*[(names[i], bindparam(f"{name}{i}", type_=column.type)) for i in range(count)], value=bucket)
    expired = RateHit.window_start <= by_bucket("cutoff", RateHit.window_start)
    return (update(RateHit)
            .where(bucket.in_(names), expired | (RateHit.hits < by_bucket("limit", RateHit.hits)))
            .values(hits=case((expired, 1), else_=RateHit.hits + 1),
                    window_start=case((expired, bindparam("now")), else_=RateHit.window_start))
            .returning(bucket)
            .execution_options(synchronize_session=False))


def take_all(session: Session, buckets: list[tuple[str, int, int]]) -> int | None:
    """Spend one hit of each (bucket, limit, window seconds) with one statement and one commit (e.g. a client's
    per-minute and per-day limits): None when every one allowed it, else the longest wait. The hits of an allowed
    bucket stand even when another refused (as two `take` calls would leave them). A bucket without its row yet
    (its first hit) or over its limit goes the single-bucket way (create the row, spend again, else the wait)."""
    now = utcnow()
    buckets = sorted(buckets)
    params: dict = {"now": now}
    for i, (bucket, limit, window_seconds) in enumerate(buckets):
        params.update({f"b{i}": bucket, f"limit{i}": limit, f"cutoff{i}": now - timedelta(seconds=window_seconds)})
    conn = session.connection()
    if len(buckets) > 1 and conn.dialect.name == "postgresql":
        # the rows locked in one order by every caller: one UPDATE over several rows locks them in the order it
        # meets them, which two callers may not share (a deadlock, seen once in 20 parallel pushes)
        conn.execute(_LOCK_IN_ORDER, {"buckets": [b for b, _, _ in buckets]})
    spent = {b for (b,) in conn.execute(_spend_each(len(buckets)), params)}
    waits = []
    for bucket, limit, window_seconds in buckets:
        if bucket in spent:
            continue
        one = {"b": bucket, "limit": limit, "now": now, "cutoff": now - timedelta(seconds=window_seconds)}
        _ensure(session, bucket, now)
        if conn.execute(_SPEND, one).first() is None:
            started = session.scalar(select(RateHit.window_start).where(RateHit.bucket == bucket))
            waits.append(max(1, window_seconds - int((now - started).total_seconds())) if started else window_seconds)
    session.commit()
    return max(waits) if waits else None
