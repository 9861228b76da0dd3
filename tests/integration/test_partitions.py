"""Issue 17 item 2 on PostgreSQL: the outbox, audit events, payroll lines and exchange records are partitioned by
month; `zerotrip db archive --before YYYY-MM` detaches and dumps old months (never drops); a month with a message
not yet final refuses to detach; `zerotrip audit verify` passes across the archived boundary, from the anchor
written at that boundary, and fails when the database's record of the boundary is altered; an idempotency key
archived with its month still keeps the message from being queued twice, and an exchange record's key the record
from being stored twice."""

from __future__ import annotations

import hashlib
import json
from datetime import date, datetime
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import insert, select, text

from app import audit
from app.models import (
    ArchivedPartition,
    AuditEvent,
    AuditHead,
    ExchangeRecord,
    OutboxMessage,
    PayrollLine,
    PayrollRun,
)
from app.partitions import exchange_record_key, key_holders
from notifications.outbox import insert_rows
from tests.builders import make_resident


@pytest.fixture
def pg(db_url, cfg, monkeypatch):
    if not db_url.startswith("postgresql"):
        pytest.skip("monthly partitions are PostgreSQL's (SQLite keeps plain tables)")
    monkeypatch.setenv("AUDIT_ANCHOR_PATH", cfg.audit_anchor_path)
    monkeypatch.setenv("ZEROTRIP_ARCHIVE_AFTER_MONTHS", "24")
    yield
    from app.db import make_engine

    with make_engine(db_url).begin() as conn:
        conn.execute(text("DROP SCHEMA IF EXISTS archive CASCADE"))


def _old_chain(session, stamps: list[datetime]) -> None:
    """Audit events written in past months (as if time had passed), chained like audit.record chains them."""
    prev = audit.GENESIS
    for seq, ts in enumerate(stamps, start=1):
        event = SimpleNamespace(seq=seq, ts=ts, actor="system:test", on_behalf_of=None, action="test.old",
                                object_ref=None, result="ok", request_id=None, source_ip=None, details={},
                                prev_hash=prev)
        event.hash = audit.event_hash(event)
        session.execute(insert(AuditEvent.__table__), [vars(event)])
        prev = event.hash
    session.add(AuditHead(id=audit.HEAD_ID, seq=len(stamps), hash=prev))
    session.commit()


def _outbox(session, key: str, created: datetime, state: str) -> None:
    session.execute(insert(OutboxMessage.__table__), [{
        "id": hashlib.md5(f"{key}@{created}".encode()).hexdigest(), "idempotency_key": key, "kind": "approved", "resident_id": None,
        "account_id": "a" * 32, "application_id": None, "data": {}, "state": state, "attempts": 1,
        "next_attempt_at": created, "created_at": created}])


def test_old_months_detach_dump_and_the_trail_still_verifies(pg, session, cfg, cli, tmp_path):
    resident, _ = make_resident(session, cfg)
    _old_chain(session, [datetime(2024, 1, 10, 8), datetime(2024, 1, 20, 9), datetime(2024, 2, 3, 10)])
    audit.record(session, actor="system:test", action="test.now")
    audit.record(session, actor="system:test", action="test.now")
    _outbox(session, "old:january", datetime(2024, 1, 20, 9), "sent")
    _outbox(session, "old:february", datetime(2024, 2, 3, 10), "pending")
    session.add(PayrollRun(id="r" * 32, month="2024-01", state="closed", as_of=date(2024, 1, 31), inputs={},
                           totals={}, anomalies={}))
    session.flush()
    session.add(PayrollLine(run_id="r" * 32, month="2024-01", program="elderly_allowance", benefit_id="b" * 32,
                            resident_id=resident.id, tier="80-89", amount_fen=5000, covered_from="2024-01",
                            covered_to="2024-01", months={"2024-01": ["80-89", 5000]}, status="paid"))
    session.execute(insert(ExchangeRecord.__table__), [{
        "id": "x" * 32, "client_id": "gongan", "dataset": "deaths", "reference_id": "D-1", "body_sha256": "0" * 64,
        "status": "accepted", "reasons": [], "resident_id": resident.id, "effect": None, "state": "none",
        "created_at": datetime(2024, 1, 5)}])
    session.commit()
    assert cli("audit", "anchor").exit_code == 0
    # the old rows wait in the default partitions (no partition of 2024 exists yet)
    assert session.execute(text("SELECT COUNT(*) FROM outbox_default")).scalar() == 2
    session.rollback()  # no transaction of ours holds the tables the archive detaches

    # a month younger than ZEROTRIP_ARCHIVE_AFTER_MONTHS stays
    young = cli("db", "archive", "--before", "2026-06", "--out", str(tmp_path))
    assert young.exit_code == 1 and "kept in the live database" in young.stderr, young.stderr

    # January goes; February holds a pending message, so it (and anything after it) stays attached
    first = cli("db", "archive", "--before", "2024-03", "--out", str(tmp_path))
    assert first.exit_code == 1, first.output
    assert "2024-02 holds messages not yet final (1 pending)" in first.stderr, first.stderr
    assert "archived_months=1" in first.stdout
    session.expire_all()
    rows = {(r.table_name, r.month): r for r in session.scalars(select(ArchivedPartition))}
    assert set(rows) == {(t, "2024-01") for t in ("outbox", "audit_events", "payroll_lines", "exchange_records")}
    for row in rows.values():
        dump = Path(row.dump_file)
        assert dump.parent == tmp_path and hashlib.sha256(dump.read_bytes()).hexdigest() == row.dump_sha256
        assert row.detached_as == f"archive.{row.table_name}_2024_01"
        assert session.execute(text(f"SELECT COUNT(*) FROM {row.detached_as}")).scalar() == row.rows == \
            (2 if row.table_name == "audit_events" else 1)  # never dropped
    assert (rows[("audit_events", "2024-01")].last_seq, session.execute(text(
        "SELECT to_regclass('public.outbox_2024_01')")).scalar()) == (2, None)
    assert session.scalar(select(OutboxMessage.state).where(OutboxMessage.idempotency_key == "old:february")) == "pending"
    assert session.execute(text("SELECT COUNT(*) FROM outbox_default")).scalar() == 0
    session.rollback()

    # the trail verifies from the archived boundary, which the anchor file holds
    anchors = [json.loads(line) for line in Path(cfg.audit_anchor_path).read_text().splitlines()]
    assert {"seq": 2, "archived": "2024-01"}.items() <= anchors[-1].items()
    verified = cli("audit", "verify")
    assert verified.exit_code == 0 and "ok=1" in verified.stdout, verified.output

    # the message of an archived month is still never queued again
    assert insert_rows(session, [{"kind": "approved", "idempotency_key": "old:january", "account_id": "a" * 32}]) == 1
    session.commit()
    assert session.scalar(select(OutboxMessage.id).where(OutboxMessage.idempotency_key == "old:january")) is None

    # nor is an exchange record of an archived month stored again: its key stays, and the push finds its holder
    key = exchange_record_key("gongan", "deaths", "D-1")
    assert key_holders(session.connection(), "exchange_records", [key]) == ["x" * 32]
    session.execute(insert(ExchangeRecord.__table__), [{
        "id": "y" * 32, "client_id": "gongan", "dataset": "deaths", "reference_id": "D-1", "body_sha256": "1" * 64,
        "status": "accepted", "reasons": [], "resident_id": resident.id, "effect": None, "state": "none",
        "created_at": datetime(2026, 11, 5)}])
    session.commit()
    assert session.execute(text("SELECT COUNT(*) FROM exchange_records WHERE reference_id = 'D-1'")).scalar() == 0

    # February once its message is sent
    session.execute(text("UPDATE outbox SET state = 'sent' WHERE idempotency_key = 'old:february'"))
    session.commit()
    second = cli("db", "archive", "--before", "2024-03", "--out", str(tmp_path))
    assert second.exit_code == 0 and "archived_months=1" in second.stdout, second.output
    assert cli("audit", "verify").exit_code == 0

    # a boundary the database claims but the anchor file does not hold is refused
    session.execute(text("UPDATE archived_partitions SET last_seq = 4 WHERE table_name = 'audit_events' "
                         "AND month = '2024-02'"))
    session.commit()
    broken = cli("audit", "verify")
    assert broken.exit_code == 1 and "not in the anchor file" in broken.stderr, broken.output


def test_a_key_stays_unique_across_months_and_a_row_moved_to_another_month_keeps_it(pg, session, cfg):
    _outbox(session, "k:1", datetime(2026, 11, 2), "pending")
    session.commit()
    _outbox(session, "k:1", datetime(2026, 12, 2), "pending")  # another month, the same key: skipped
    session.commit()
    assert session.execute(text("SELECT COUNT(*) FROM outbox WHERE idempotency_key = 'k:1'")).scalar() == 1
    session.execute(text("UPDATE outbox SET created_at = '2027-01-05' WHERE idempotency_key = 'k:1'"))
    session.commit()
    assert session.execute(text("SELECT tableoid::regclass::text FROM outbox WHERE idempotency_key = 'k:1'")).scalar() \
        == "outbox_2027_01"
    session.execute(text("DELETE FROM outbox WHERE idempotency_key = 'k:1'"))
    session.commit()
    _outbox(session, "k:1", datetime(2026, 12, 2), "pending")  # the key is free again once its row is gone
    session.commit()
    assert session.execute(text("SELECT COUNT(*) FROM outbox WHERE idempotency_key = 'k:1'")).scalar() == 1


def test_archive_on_sqlite_says_what_to_do_instead(db_url, cli):
    if db_url.startswith("postgresql"):
        pytest.skip("SQLite's answer")
    result = cli("db", "archive", "--before", "2020-01")
    assert result.exit_code == 1 and "PostgreSQL only" in result.stderr, result.output


def test_an_anchor_that_could_not_be_written_is_written_by_the_rerun(pg, session, cfg, cli, tmp_path, monkeypatch):
    """The boundary's anchor was written after the month was recorded: a failed write (a full disk, an immutable
    file, a kill) left `audit verify` calling the trail tampered for good, and a rerun skipped the month."""
    from flows.backup import partitions

    _old_chain(session, [datetime(2024, 1, 10, 8), datetime(2024, 1, 20, 9)])
    audit.record(session, actor="system:test", action="test.now")
    session.commit()
    assert cli("audit", "anchor").exit_code == 0
    written = partitions.append_anchor

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device", cfg.audit_anchor_path)

    monkeypatch.setattr(partitions, "append_anchor", disk_full)
    failed = cli("db", "archive", "--before", "2024-02", "--out", str(tmp_path))
    assert failed.exit_code == 1 and "No space left on device" in failed.stderr, failed.output
    assert "Traceback" not in failed.output
    session.expire_all()
    assert session.scalar(select(ArchivedPartition).where(ArchivedPartition.table_name == "audit_events")) is None
    monkeypatch.setattr(partitions, "append_anchor", written)
    again = cli("db", "archive", "--before", "2024-02", "--out", str(tmp_path))
    assert again.exit_code == 0 and "tables_dumped=1" in again.stdout, again.output  # detached by the first run
    verified = cli("audit", "verify")
    assert verified.exit_code == 0 and "ok=1" in verified.stdout, verified.output
