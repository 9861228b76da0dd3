"""The exchange worker: applies accepted pushed events at once (not at the next day's scan).

`run_once` takes the pending records (oldest first, a batch at a time), applies each kind of effect once for
the batch in one transaction with the records marked applied, and returns how many it applied. The
`zerotrip exchange worker` process loops on it; its progress is the count of applied records.
"""

from __future__ import annotations

import time
from collections import defaultdict
from datetime import date

from sqlalchemy import select, update

from app.db import utcnow
from app.models import ExchangeRecord
from app.sql import Dialect
from flows.exchange import effects

BATCH = 500
_T = ExchangeRecord.__table__


def run_once(engine, as_of: date) -> int:
    d = Dialect(engine.dialect.name)
    with engine.begin() as conn:
        rows = conn.execute(select(_T.c.id, _T.c.effect, _T.c.resident_id).where(_T.c.state == "pending")
                            .order_by(_T.c.created_at).limit(BATCH)).all()
        if not rows:
            return 0
        by_effect: dict[str, list] = defaultdict(list)
        for r in rows:
            by_effect[r.effect].append(r.resident_id)
        for effect, residents in by_effect.items():
            effects.apply(conn, d, effect, [r for r in residents if r is not None], as_of)
        conn.execute(update(_T).where(_T.c.id.in_([r.id for r in rows]), _T.c.state == "pending")
                     .values(state="applied", applied_at=utcnow()))
    return len(rows)


def run(engine, today, stop=lambda: False, idle_sleep: float = 0.2, on_applied=None, also=None) -> int:
    """Loop until `stop()`: apply what is pending, then `also()` (the subscriptions' publisher), sleep briefly
    when neither had anything to do."""
    total = 0
    while not stop():
        n = run_once(engine, today())
        total += n
        if n and on_applied:
            on_applied(total)
        published = also() if also is not None else 0
        if not n and not published:
            time.sleep(idle_sleep)
    return total
