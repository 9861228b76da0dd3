"""How an event is appended: on PostgreSQL in one statement that hashes in SQL, elsewhere in Python. Either way
the stored hash is `event_hash` of the stored row whatever the details hold, the subjects are linked, times
follow seqs under concurrent appends, and `record_at_commit` appends at the commit or not at all."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

from sqlalchemy import select

from app import audit
from app.db import session_factory
from app.models import AuditEvent, AuditSubject

ODD_DETAILS = {
    "reason": '引号 " 反斜杠 \\ 换行\n制表\t控制\x01 零\x00', "emoji": "👵🏻", "full_width": "１２３",
    "nested": {"b": [1, 2.5, None, True], "a": {"深": "层"}}, "empty": {}, "big": 12345678901234567890,
}


def test_odd_details_hash_as_python_would_and_verify(session, tmp_path):
    first = audit.record(session, actor="staff:1", action="test.first")
    odd = audit.record(session, actor="account:" + "a" * 60, action="test.odd", on_behalf_of="resident:7",
                       object_ref="application:" + "9" * 200, request_id="r" * 80, source_ip="::1",
                       details=ODD_DETAILS, subjects=[3, 7, None, 3], actor_kind="proxy",
                       visible_at=datetime(2027, 1, 1))
    session.commit()
    row = session.execute(select(AuditEvent).where(AuditEvent.seq == odd.seq)).scalar_one()
    assert odd.seq == first.seq + 1 and odd.prev_hash == first.hash and row.prev_hash == first.hash
    assert row.hash == odd.hash == audit.event_hash(row)
    assert row.ts == odd.ts and row.details["reason"] == ODD_DETAILS["reason"]
    linked = session.execute(select(AuditSubject.resident_id, AuditSubject.actor_kind, AuditSubject.visible_at)
                             .where(AuditSubject.seq == odd.seq).order_by(AuditSubject.resident_id)).all()
    assert [tuple(r) for r in linked] == [(3, "proxy", datetime(2027, 1, 1)), (7, "proxy", datetime(2027, 1, 1))]
    assert audit.verify(session, str(tmp_path / "none.jsonl")).ok


def test_times_follow_seqs_under_concurrent_appends(cfg, session, tmp_path):
    factory = session_factory(cfg)
    audit.record(session, actor="staff:1", action="test.first")
    session.commit()
    errors = []

    def worker(k):
        s = factory()
        try:
            for i in range(8):
                audit.record(s, actor=f"account:{k}", action="test.concurrent", object_ref=f"n:{i}",
                             subjects=[k], details={"i": i, "说明": "并发"})
                s.commit()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    rows = session.execute(select(AuditEvent.seq, AuditEvent.ts).order_by(AuditEvent.seq)).all()
    assert [r.seq for r in rows] == list(range(1, 66))
    assert all(a.ts <= b.ts for a, b in zip(rows, rows[1:], strict=False))
    assert rows[-1].ts - rows[0].ts < timedelta(minutes=10)
    assert session.query(AuditSubject).count() == 64
    assert audit.verify(session, str(tmp_path / "none.jsonl")).ok


def test_record_at_commit_appends_last_or_not_at_all(session, tmp_path):
    audit.record(session, actor="staff:1", action="test.first")
    session.commit()
    audit.record_at_commit(session, actor="staff:1", action="test.dropped", subjects=[5])
    session.rollback()
    audit.record_at_commit(session, actor="staff:1", action="test.closed", subjects=[5])
    session.close()
    audit.record_at_commit(session, actor="staff:1", action="test.deferred", subjects=[5])
    audit.record(session, actor="staff:1", action="test.now")  # appended first: the deferred one waits
    session.commit()
    session.commit()  # nothing pending: nothing appended twice
    actions = session.execute(select(AuditEvent.action).order_by(AuditEvent.seq)).scalars().all()
    assert actions == ["test.first", "test.now", "test.deferred"]
    assert session.query(AuditSubject).filter_by(resident_id=5).count() == 1
    assert audit.verify(session, str(tmp_path / "none.jsonl")).ok
