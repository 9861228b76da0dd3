"""`zerotrip outbox status` and `zerotrip outbox retry --dead`."""

from __future__ import annotations

from sqlalchemy import update

from app.models import OutboxMessage
from notifications.outbox import enqueue


def test_status_and_retry_dead(cli, session, resident):
    r = resident()
    rows = [enqueue(session, kind="reminder", idempotency_key=f"s:{i}", resident_id=r.id) for i in range(3)]
    session.commit()
    session.execute(update(OutboxMessage).where(OutboxMessage.id == rows[0].id).values(state="dead", attempts=8))
    session.execute(update(OutboxMessage).where(OutboxMessage.id == rows[1].id).values(state="unknown"))
    session.commit()
    out = cli("outbox", "status")
    assert out.exit_code == 0
    line = out.stdout.strip().splitlines()[-1]
    assert "pending=1 " in line and "dead=1 " in line and "unknown=1 " in line and "due=1" in line
    assert "ALERT" in out.stderr
    assert cli("outbox", "retry").exit_code == 2
    assert cli("outbox", "retry", "--dead").stdout.strip() == "requeued=1"
    session.expire_all()
    row = session.get(OutboxMessage, rows[0].id)
    assert (row.state, row.attempts) == ("pending", 0) and "re-queued" in row.last_error
    assert cli("outbox", "retry", "--unknown").stdout.strip() == "requeued=1"
