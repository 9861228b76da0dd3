"""The outbox row is part of the business transaction; enqueue is idempotent."""

from __future__ import annotations

from sqlalchemy import func, select

from app.models import OutboxMessage
from notifications import outbox


def _count(session) -> int:
    return session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()


def test_rollback_drops_the_row_and_commit_keeps_exactly_one(session, resident):
    r = resident()
    outbox.enqueue(session, kind="proposal_ready", idempotency_key="k:1", resident_id=r.id)
    session.rollback()
    assert _count(session) == 0

    assert outbox.enqueue(session, kind="proposal_ready", idempotency_key="k:1", resident_id=r.id) is not None
    assert outbox.enqueue(session, kind="proposal_ready", idempotency_key="k:1", resident_id=r.id) is None
    session.commit()
    assert outbox.enqueue(session, kind="proposal_ready", idempotency_key="k:1", resident_id=r.id) is None
    session.commit()
    assert _count(session) == 1
    row = session.execute(select(OutboxMessage)).scalar_one()
    assert (row.state, row.attempts, row.data) == ("pending", 0, {})


def test_bulk_insert_skips_existing_keys(session, resident):
    r = resident()
    rows = [{"kind": "reminder", "idempotency_key": f"b:{i}", "resident_id": r.id} for i in range(3)]
    assert outbox.insert_rows(session, rows) == 3
    assert outbox.insert_rows(session, rows + [{"kind": "reminder", "idempotency_key": "b:9",
                                                "resident_id": r.id}]) == 1
    session.commit()
    assert _count(session) == 4
