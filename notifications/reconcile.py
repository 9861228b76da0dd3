"""The outbox reconciler: a scheduled check that nothing is stuck and that operators hear about trouble.

`run(cfg, now)` (every few minutes from `zerotrip scheduler`; safe to run alongside dispatchers and twice):

- rows `sending` whose lease expired (a dispatcher died between claim and prepare) go back to `pending`,
  due now, without counting an attempt: no provider call was started for them;
- rows `inflight` whose lease expired become `unknown` (a dispatcher died during the provider call: it may
  have been delivered, so it is never re-sent automatically; the dispatcher's claim does the same);
- an ALERT is logged for `pending` rows overdue by more than an hour (no dispatcher running, or one
  that cannot keep up) and for the number of `dead` and `unknown` rows (`zerotrip outbox retry`).

Each update is guarded by the state and the expired lease, so a dispatcher that still holds a live lease
is never disturbed.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from app.db import session_factory, utcnow
from app.models import OutboxMessage as T
from notifications import outbox as ob

log = logging.getLogger("zerotrip.outbox.reconcile")
OVERDUE = timedelta(hours=1)


def run(cfg, now: datetime | None = None) -> dict:
    """One reconciliation pass; returns the counts (also logged)."""
    now = now or utcnow()
    with session_factory(cfg)() as s:
        requeued = s.execute(
            update(T).where(T.state == ob.SENDING, T.lease_until < now)
            .values(state=ob.PENDING, lease_owner=None, lease_until=None, next_attempt_at=now,
                    last_error="lease expired before any provider call: re-queued by the reconciler")
            .execution_options(synchronize_session=False)).rowcount
        lost = s.execute(
            update(T).where(T.state == ob.INFLIGHT, T.lease_until < now)
            .values(state=ob.UNKNOWN, last_error="dispatcher lost during the provider call; not re-sent")
            .execution_options(synchronize_session=False)).rowcount
        s.commit()
        overdue = s.execute(select(func.count()).where(
            T.state == ob.PENDING, T.next_attempt_at <= now - OVERDUE)).scalar_one()
        terminal = dict(s.execute(select(T.state, func.count()).where(T.state.in_((ob.DEAD, ob.UNKNOWN)))
                                  .group_by(T.state)).all())
    counts = {"requeued": max(requeued, 0), "lost_inflight": max(lost, 0), "overdue_1h": overdue,
              "dead": terminal.get(ob.DEAD, 0), "unknown": terminal.get(ob.UNKNOWN, 0)}
    if counts["requeued"]:
        log.warning("outbox: %d row(s) stuck in sending past their lease re-queued", counts["requeued"])
    if counts["lost_inflight"]:
        log.error("outbox ALERT: %d in-flight row(s) whose dispatcher died marked unknown (not re-sent)",
                  counts["lost_inflight"])
    if overdue:
        log.error("outbox ALERT: %d pending row(s) overdue by more than 1 h: is `zerotrip dispatch` running?",
                  overdue)
    if counts["dead"] or counts["unknown"]:
        log.error("outbox ALERT: dead=%d unknown=%d row(s) need an operator (`zerotrip outbox retry --dead` / "
                  "`--unknown`)", counts["dead"], counts["unknown"])
    return counts
