"""The audit chain: clean chains verify; editing, deleting, reordering or rewriting rows is detected by
`zerotrip audit verify`, which names the first broken seq; concurrent appends never fork the chain."""

from __future__ import annotations

import threading

from sqlalchemy import text

from app import audit
from app.db import session_factory


def _append(session, n: int):
    for i in range(n):
        audit.record(session, actor=f"account:{i:032x}", action="application.confirm", on_behalf_of="resident:1",
                     object_ref=f"application:{i:032x}", result="approved", request_id=f"req{i:08d}",
                     source_ip="127.0.0.1")
    session.commit()


def _tamper(session, *statements):
    """As a superuser would: around the append-only trigger."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        session.execute(text("SET LOCAL session_replication_role = replica"))
    else:
        session.execute(text("DROP TRIGGER audit_events_no_update"))
    for stmt in statements:
        session.execute(text(stmt))
    if dialect != "postgresql":
        session.execute(text("CREATE TRIGGER audit_events_no_update BEFORE UPDATE ON audit_events "
                             "BEGIN SELECT RAISE(ABORT, 'audit_events is append-only'); END"))
    session.commit()


def _verify(cli, anchors):
    anchors.touch()  # an anchor file with nothing anchored yet (--anchors naming no file is refused)
    result = cli("audit", "verify", "--anchors", str(anchors))
    return result.exit_code, result.stdout + result.stderr


def test_clean_chain_verifies_and_updates_are_refused(session, cli, tmp_path):
    _append(session, 5)
    code, out = _verify(cli, tmp_path / "a.jsonl")
    assert code == 0 and "ok=1 events=5" in out
    import pytest
    from sqlalchemy.exc import DBAPIError

    with pytest.raises(DBAPIError):
        session.execute(text("UPDATE audit_events SET result = 'x' WHERE seq = 2"))
    session.rollback()


def test_editing_a_row_is_detected_at_that_seq(session, cli, tmp_path):
    _append(session, 6)
    _tamper(session, "UPDATE audit_events SET actor = 'account:someone-else' WHERE seq = 4")
    code, out = _verify(cli, tmp_path / "a.jsonl")
    assert code == 1 and "broken_seq=4" in out


def test_deleting_a_row_is_detected(session, cli, tmp_path):
    _append(session, 6)
    _tamper(session, "DELETE FROM audit_events WHERE seq = 3")
    code, out = _verify(cli, tmp_path / "a.jsonl")
    assert code == 1 and "broken_seq=3" in out


def test_reordering_rows_is_detected(session, cli, tmp_path):
    _append(session, 6)
    _tamper(session, "UPDATE audit_events SET seq = 1000 WHERE seq = 2",
            "UPDATE audit_events SET seq = 2 WHERE seq = 3", "UPDATE audit_events SET seq = 3 WHERE seq = 1000")
    code, out = _verify(cli, tmp_path / "a.jsonl")
    assert code == 1 and "broken_seq=2" in out


def test_a_full_rewrite_is_caught_by_the_anchor(session, cfg, cli, tmp_path):
    anchors = tmp_path / "anchors.jsonl"
    _append(session, 5)
    assert cli("audit", "anchor", "--anchors", str(anchors)).exit_code == 0
    # Rewrite everything consistently: change row 2 and recompute every hash after it.
    _tamper(session, "UPDATE audit_events SET result = 'rejected' WHERE seq = 2")
    from sqlalchemy import select

    from app.models import AuditEvent

    table = AuditEvent.__table__
    rows = session.execute(select(table).order_by(table.c.seq)).all()
    prev = audit.GENESIS
    statements = []
    for row in rows:
        fake = type("E", (), dict(row._mapping))()
        fake.prev_hash = prev
        new = audit.event_hash(fake)
        statements.append(f"UPDATE audit_events SET prev_hash = '{prev}', hash = '{new}' WHERE seq = {row.seq}")
        prev = new
    statements.append(f"UPDATE audit_head SET hash = '{prev}'")
    _tamper(session, *statements)
    assert _verify(cli, tmp_path / "none.jsonl")[0] == 0  # without the anchor the rewrite looks clean
    code, out = _verify(cli, anchors)
    assert code == 1 and "broken_seq=5" in out


def test_truncation_is_caught_by_the_anchor(session, cli, tmp_path):
    anchors = tmp_path / "anchors.jsonl"
    _append(session, 5)
    cli("audit", "anchor", "--anchors", str(anchors))
    _tamper(session, "DELETE FROM audit_events WHERE seq >= 4", "UPDATE audit_head SET seq = 3, hash = "
            "(SELECT hash FROM audit_events WHERE seq = 3)")
    code, out = _verify(cli, anchors)
    assert code == 1 and "broken_seq=4" in out


def test_concurrent_appends_are_serialised(cfg, session, tmp_path):
    factory = session_factory(cfg)
    errors = []

    def worker(k):
        s = factory()
        try:
            for i in range(5):
                audit.record(s, actor=f"account:{k}", action="test.concurrent", object_ref=f"n:{i}")
                s.commit()
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            s.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(10)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    result = audit.verify(session, str(tmp_path / "none.jsonl"))
    assert result.ok and result.events == 50 and result.head_seq == 50


def test_daily_anchor_job_appends_the_head(cfg, session, tmp_path):
    from flows.audit_anchor import run_daily_anchor

    cfg.audit_anchor_path = str(tmp_path / "anchors.jsonl")
    _append(session, 3)
    anchor = run_daily_anchor(cfg)
    assert anchor["seq"] == 3 and audit.read_anchors(cfg.audit_anchor_path)[-1]["hash"] == anchor["hash"]
    assert audit.verify(session, cfg.audit_anchor_path).ok
