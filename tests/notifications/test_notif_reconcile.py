"""notifications.reconcile.run: stuck `sending` rows re-queued, lost `inflight` rows `unknown`, ALERTs logged."""

from __future__ import annotations

import logging
from datetime import timedelta

from app.db import utcnow
from app.models import OutboxMessage
from app.models.ids import new_id
from notifications import reconcile
from tests.notifications.helpers import outbox_row


def _row(session, key, state, **kw):
    row = OutboxMessage(id=new_id(), idempotency_key=key, kind="proposal_ready", resident_id=None,
                        account_id="acc", data={}, state=state, attempts=kw.pop("attempts", 0),
                        next_attempt_at=kw.pop("next_attempt_at", utcnow()), created_at=utcnow(), **kw)
    session.add(row)
    session.commit()
    return row.id


def test_reconciler_requeues_stuck_rows_and_alerts(session, cfg, caplog):
    now = utcnow()
    stuck = _row(session, "r1", "sending", lease_owner="w:dead", lease_until=now - timedelta(minutes=5), attempts=1)
    live = _row(session, "r2", "sending", lease_owner="w:alive", lease_until=now + timedelta(minutes=1))
    lost = _row(session, "r3", "inflight", lease_owner="w:dead", lease_until=now - timedelta(minutes=5))
    overdue = _row(session, "r4", "pending", next_attempt_at=now - timedelta(hours=2))
    fresh = _row(session, "r5", "pending", next_attempt_at=now - timedelta(minutes=10))
    _row(session, "r6", "dead")
    _row(session, "r7", "unknown")
    with caplog.at_level(logging.WARNING, logger="zerotrip.outbox.reconcile"):
        counts = reconcile.run(cfg, now)
    assert counts == {"requeued": 1, "lost_inflight": 1, "overdue_1h": 1, "dead": 1, "unknown": 2}
    got = outbox_row(session, stuck)
    assert (got.state, got.lease_owner, got.lease_until, got.attempts) == ("pending", None, None, 1)
    assert got.next_attempt_at <= now + timedelta(seconds=1)
    assert outbox_row(session, live).state == "sending" and outbox_row(session, live).lease_owner == "w:alive"
    assert outbox_row(session, lost).state == "unknown"
    assert outbox_row(session, overdue).state == "pending" and outbox_row(session, fresh).state == "pending"
    alerts = [r.getMessage() for r in caplog.records if "ALERT" in r.getMessage()]
    assert any("overdue" in a for a in alerts) and any("dead=1 unknown=2" in a for a in alerts)
    assert any("marked unknown" in a for a in alerts)


def test_reconciler_is_quiet_when_all_is_well(session, cfg, caplog):
    _row(session, "ok1", "sent")
    _row(session, "ok2", "pending")
    with caplog.at_level(logging.WARNING, logger="zerotrip.outbox.reconcile"):
        counts = reconcile.run(cfg)
    assert counts == {"requeued": 0, "lost_inflight": 0, "overdue_1h": 0, "dead": 0, "unknown": 0}
    assert not [r for r in caplog.records if r.name == "zerotrip.outbox.reconcile"]
    assert reconcile.run(cfg)["requeued"] == 0  # idempotent


def test_the_scheduler_runs_the_reconciler(cfg):
    from app.scheduler import build_scheduler

    job = build_scheduler(cfg).get_job("outbox-reconcile")
    assert job is not None and getattr(job.func, "__wrapped__", job.func) is reconcile.run  # timed() wraps it


def test_a_dispatch_run_counts_the_lost_rows_it_marks_unknown(session, cfg, dispatcher):
    """A dispatcher claiming work marks a dead one's in-flight rows unknown; its summary said unknown=0."""
    now = utcnow()
    _row(session, "lost1", "inflight", lease_owner="w:dead", lease_until=now - timedelta(minutes=5))
    _row(session, "lost2", "inflight", lease_owner="w:dead", lease_until=now - timedelta(minutes=5))
    counts = dispatcher().run_once()
    assert counts["unknown"] == 2, counts
