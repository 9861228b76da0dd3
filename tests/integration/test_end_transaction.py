"""`app.db.end_transaction`, the end of a successful request's open transaction: COMMIT, unless the driver has no
transaction open and nothing is pending or listening for the commit — then the session's close ends it. On
PostgreSQL a read inside a transaction is committed (psycopg forgets its prepared statements on a ROLLBACK);
reads that ran on their own (`app.direct_select`) leave no transaction, and the close keeps them prepared.
Whatever was written, flushed or deferred to the commit is committed; a 4xx answer's transaction is rolled
back."""

from __future__ import annotations

import pytest
from sqlalchemy import Column, Integer, MetaData, String, Table, event, func, select, text
from sqlalchemy.orm import registry

from app.audit import record_at_commit
from app.db import SessionLocal, end_transaction, make_engine, select_first
from app.models import AuditEvent

probe_metadata = MetaData()
probe = Table("end_transaction_probe", probe_metadata, Column("id", Integer, primary_key=True),
              Column("note", String(20)))


class Probe:
    def __init__(self, id: int, note: str) -> None:
        self.id, self.note = id, note


registry().map_imperatively(Probe, probe)


@pytest.fixture
def engine(app, cfg):
    engine = make_engine(cfg.database_url)
    probe_metadata.create_all(engine)
    commits: list[int] = []
    listener = lambda _conn: commits.append(1)  # noqa: E731
    event.listen(engine, "commit", listener)
    engine.commits = commits
    with app.app_context():
        yield engine
        SessionLocal.remove()
    event.remove(engine, "commit", listener)
    probe_metadata.drop_all(engine)


def _stored(engine) -> list[str]:
    with engine.connect() as conn:
        return [row.note for row in conn.execute(select(probe.c.note).order_by(probe.c.id))]


def _finish(status: int) -> None:
    end_transaction(status)
    SessionLocal.remove()  # the app's teardown


def test_a_read_is_committed_on_postgresql_and_closed_on_sqlite(engine):
    session = SessionLocal()
    assert session.execute(select(func.count()).select_from(probe)).scalar() == 0
    _finish(200)
    assert engine.commits == ([1] if engine.dialect.name == "postgresql" else [])


def test_reads_on_their_own_are_closed_and_stay_prepared_on_postgresql(engine):
    """Requests that only read through `select_first` end without a COMMIT on both databases; on PostgreSQL,
    where psycopg prepares a statement on its fifth run on a connection, the statement is still prepared on
    the pool's connections after the requests' sessions closed (a ROLLBACK that went through would have dropped
    it)."""
    counted = select(func.count().label("n")).select_from(probe)
    # the pool hands out its idle connections in turn (first in, first out): seven reads on each of them
    for _ in range(7 * max(1, engine.pool.checkedin())):
        assert select_first(SessionLocal(), counted).n == 0
        _finish(200)
    assert engine.commits == []
    if engine.dialect.name == "postgresql":
        prepared = select(func.count().label("n")).select_from(text("pg_prepared_statements")).where(
            text("statement LIKE '%end_transaction_probe%'"))
        assert select_first(SessionLocal(), prepared).n == 1
        _finish(200)


def test_a_core_write_is_committed(engine):
    SessionLocal().execute(probe.insert().values(id=1, note="core"))
    _finish(200)
    assert _stored(engine) == ["core"] and engine.commits == [1]


def test_an_object_not_yet_flushed_is_committed(engine):
    session = SessionLocal()
    session.execute(select(probe.c.id)).all()
    session.add(Probe(4, "orm"))  # pending: nothing has reached the database yet
    _finish(200)
    assert _stored(engine) == ["orm"]


def test_a_write_after_a_read_is_committed(engine):
    session = SessionLocal()
    session.execute(select(probe.c.id)).all()
    session.execute(probe.insert().values(id=2, note="after read"))
    _finish(201)
    assert _stored(engine) == ["after read"]


def test_an_event_deferred_to_the_commit_is_written(engine):
    session = SessionLocal()
    before = session.execute(select(func.count()).select_from(AuditEvent)).scalar()
    record_at_commit(session, actor="test", action="probe.read", object_ref="probe:1")
    _finish(200)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(AuditEvent)).scalar() == before + 1


def test_an_error_answer_is_rolled_back(engine):
    SessionLocal().execute(probe.insert().values(id=3, note="refused"))
    _finish(409)
    assert _stored(engine) == [] and engine.commits == []
