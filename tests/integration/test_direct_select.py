"""`app.db.select_rows` / `select_first` (app/direct_select.py): a Core SELECT run straight on the driver gives the
same values as `Connection.execute` on both databases — dates, timestamps, JSON, booleans, labels, constant
and bound parameters — falls back to `Connection.execute` for what it does not mirror, and raises a driver
error as SQLAlchemy's own exception."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    DateTime,
    Integer,
    MetaData,
    String,
    Table,
    bindparam,
    column,
    exc,
    func,
    select,
    table,
)

from app.db import bound_insert, execute_write, make_engine, select_first, select_rows, session_factory
from app.direct_select import write_first

probe_metadata = MetaData()
probe = Table("direct_select_probe", probe_metadata,
              Column("id", Integer, primary_key=True), Column("name", String(40)), Column("born", Date),
              Column("seen_at", DateTime), Column("data", JSON), Column("alive", Boolean),
              Column("note", String(40), nullable=True))
ROWS = [
    {"id": 1, "name": "张三", "born": date(1944, 2, 29), "seen_at": datetime(2026, 12, 6, 8, 30, 1, 250000),
     "data": {"source": "population", "list": [1, "二"]}, "alive": True, "note": None},
    {"id": 2, "name": "李四", "born": date(1950, 1, 1), "seen_at": datetime(2026, 1, 1), "data": [],
     "alive": False, "note": "x"},
    {"id": 3, "name": "王五", "born": date(1930, 12, 31), "seen_at": datetime(2025, 6, 1, 23, 59, 59),
     "data": {"k": None}, "alive": True, "note": "y"},
]


@pytest.fixture
def session(cfg):
    engine = make_engine(cfg.database_url)
    probe_metadata.create_all(engine)
    with engine.begin() as conn:
        conn.execute(probe.insert(), ROWS)
    s = session_factory(cfg)()
    yield s
    s.close()
    probe_metadata.drop_all(engine)


def _statement():
    c = probe.c
    return (select(c.id, c.name.label("who"), c.born, c.seen_at, c.data, c.alive, c.note)
            .where(c.born <= bindparam("on", type_=Date), c.seen_at < bindparam("before", type_=DateTime),
                   c.name != "nobody")  # a constant: a parameter SQLAlchemy binds itself
            .order_by(c.id).limit(bindparam("size")))


def test_rows_are_the_values_connection_execute_gives(session):
    statement = _statement()
    params = {"on": date(1950, 1, 1), "before": datetime(2026, 12, 31), "size": 10}
    expected = session.connection().execute(statement, params).all()
    got = select_rows(session, statement, params)
    assert [tuple(row) for row in got] == [tuple(row) for row in expected] and len(got) == 3
    assert got[0].who == "张三" and got[0].seen_at == datetime(2026, 12, 6, 8, 30, 1, 250000)
    assert got[0].born == date(1944, 2, 29) and got[0].data == {"source": "population", "list": [1, "二"]}
    assert got[1].alive is False and got[0].note is None
    # the statement's compiled form is kept: other parameters, other rows
    fewer = select_rows(session, statement, {"on": date(1945, 1, 1), "before": datetime(2026, 12, 31), "size": 1})
    assert [row.id for row in fewer] == [1]


def test_constants_and_defaults_bind_as_connection_execute_binds_them(session):
    c = probe.c
    statement = (select(c.id, c.name)
                 .where(c.data["source"].as_string() == "population",  # a JSON path and a literal: constants
                        c.born <= bindparam("on", type_=Date), c.id >= bindparam("least", value=1))
                 .order_by(c.id))
    for params in ({"on": date(1950, 1, 1)}, {"on": date(1950, 1, 1), "least": 2}, {"on": date(1900, 1, 1)}):
        expected = session.connection().execute(statement, params).all()
        assert [tuple(r) for r in select_rows(session, statement, params)] == [tuple(r) for r in expected]
    assert [r.id for r in select_rows(session, statement, {"on": date(1950, 1, 1)})] == [1]
    assert select_rows(session, statement, {"on": date(1950, 1, 1), "least": 2}) == []
    with pytest.raises(exc.InvalidRequestError, match="value is required"):
        select_rows(session, statement, {"least": 1})  # a required parameter missing: SQLAlchemy's own error


def test_first_is_the_first_row_or_none(session):
    statement = _statement()
    row = select_first(session, statement, {"on": date(1960, 1, 1), "before": datetime(2026, 12, 31), "size": 5})
    assert row.id == 1 and row.who == "张三"
    assert select_first(session, statement, {"on": date(1900, 1, 1), "before": datetime(2026, 12, 31),
                                             "size": 5}) is None


def test_what_it_does_not_mirror_goes_through_connection_execute(session):
    c = probe.c
    expanding = select(c.id, c.name).where(c.id.in_(bindparam("ids", expanding=True))).order_by(c.id)
    assert [tuple(row) for row in select_rows(session, expanding, {"ids": [3, 1]})] == [(1, "张三"), (3, "王五")]
    odd_keys = select(func.count().label("_n"), c.alive.label("class")).group_by(c.alive).order_by(c.alive)
    rows = select_rows(session, odd_keys)  # keys a named tuple cannot have: SQLAlchemy's own rows
    assert [tuple(row) for row in rows] == [(1, False), (2, True)] and rows[1]._mapping["class"] is True


def test_a_driver_error_is_sqlalchemys_own_and_the_session_goes_on(session):
    missing = select(column("x")).select_from(table("no_such_table_anywhere"))
    with pytest.raises(exc.DBAPIError):
        select_rows(session, missing)
    session.rollback()
    assert select_first(session, select(probe.c.name).where(probe.c.id == 2)).name == "李四"


def _driver(session):
    return session.connection().connection.dbapi_connection


def test_on_postgresql_a_read_before_any_write_opens_no_transaction(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("psycopg's BEGIN: SQLite's driver begins a transaction only before a write")
    driver = _driver(session)
    assert select_first(session, select(probe.c.name).where(probe.c.id == 1)).name == "张三"
    assert driver.pgconn.transaction_status == 0 and driver.autocommit is False  # idle: no BEGIN was sent
    # the first write after it begins the transaction as before: it still rolls back whole
    session.connection().execute(probe.update().where(probe.c.id == 1).values(name="改名"))
    assert driver.pgconn.transaction_status != 0
    assert select_first(session, select(probe.c.name).where(probe.c.id == 1)).name == "改名"  # inside it
    assert driver.pgconn.transaction_status != 0
    session.rollback()
    assert select_first(session, select(probe.c.name).where(probe.c.id == 1)).name == "张三"


def test_on_postgresql_repeatable_read_keeps_one_snapshot(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("psycopg's isolation levels")
    session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    driver = _driver(session)
    select_first(session, select(probe.c.name).where(probe.c.id == 1))
    assert driver.pgconn.transaction_status != 0  # the read began the transaction (its snapshot)
    session.rollback()


def test_on_postgresql_a_connection_lost_during_a_read_alone_is_discarded(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("a PostgreSQL backend terminated under the session")
    engine = session.get_bind()
    connection = session.connection()
    pid = connection.connection.dbapi_connection.info.backend_pid
    with engine.connect() as other:
        other.execute(select(func.pg_terminate_backend(pid)))
    with pytest.raises(exc.DBAPIError) as raised:  # SQLAlchemy's own, not psycopg's complaint about autocommit
        select_first(session, select(probe.c.name).where(probe.c.id == 1))
    assert raised.value.connection_invalidated and connection.invalidated
    session.rollback()
    assert select_first(session, select(probe.c.name).where(probe.c.id == 1)).name == "张三"  # a fresh connection


def test_on_postgresql_a_statement_run_again_on_its_connection_gives_its_own_rows(session):
    """The statement's cursor is kept on the connection between calls: the rows of one call never leak into the
    next, an error leaves the next call a working cursor, and a large result is not held."""
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("psycopg's cursors are kept; SQLite's are closed after each call")
    c = probe.c
    divided = select(c.id, (c.id / bindparam("by", type_=Integer)).label("share")).order_by(c.id)
    assert [tuple(r) for r in select_rows(session, divided, {"by": 1})] == [(1, 1), (2, 2), (3, 3)]
    assert select_first(session, divided, {"by": 1}) == (1, 1)
    with pytest.raises(exc.DBAPIError, match="division by zero"):
        select_rows(session, divided, {"by": 0})
    session.rollback()
    assert [tuple(r) for r in select_rows(session, divided, {"by": 1})] == [(1, 1), (2, 2), (3, 3)]
    numbers = select(func.generate_series(1, bindparam("last", type_=Integer)).column_valued("n"))
    assert len(select_rows(session, numbers, {"last": 1500})) == 1500
    assert [r.n for r in select_rows(session, numbers, {"last": 2})] == [1, 2]


def test_a_write_runs_in_the_sessions_transaction_and_gives_its_rowcount(session):
    """`execute_write`: rowcount; a write as the first statement never runs on its own (a read may): the
    transaction's rollback takes it back on both databases; values bind with their types (JSON, dates)."""
    c = probe.c
    insert_one = bound_insert(probe)
    row = {"id": 4, "name": "赵六", "born": date(1946, 5, 1), "seen_at": datetime(2026, 12, 7, 3, 0),
           "data": {"source": "民政", "n": [1]}, "alive": True, "note": None}
    assert execute_write(session, insert_one, row) == 1
    if session.get_bind().dialect.name == "postgresql":
        assert _driver(session).pgconn.transaction_status != 0  # inside a transaction, not autocommit
    written = select(c.id, c.name, c.born, c.seen_at, c.data, c.alive, c.note).where(c.id == 4)
    assert tuple(select_first(session, written)) == tuple(row.values())
    renamed = probe.update().where(c.alive == bindparam("alive_now")).values(note=bindparam("new_note"))
    assert execute_write(session, renamed, {"alive_now": True, "new_note": "z"}) == 3
    session.rollback()
    assert select_first(session, select(c.id).where(c.id == 4)) is None
    assert [r.note for r in select_rows(session, select(c.note).order_by(c.id))] == [None, "x", "y"]


def test_a_write_whose_defaults_sqlalchemy_computes_goes_through_connection_execute(session):
    defaulted = Table("direct_select_probe", MetaData(), Column("id", Integer, primary_key=True),
                      Column("name", String(40), default="默认"), Column("note", String(40)))
    assert execute_write(session, defaulted.insert(), {"id": 9, "note": "n"}) == 1  # `name` filled by its default
    assert select_first(session, select(probe.c.name).where(probe.c.id == 9)).name == "默认"
    session.rollback()


def test_a_unique_violation_by_a_write_is_sqlalchemys_integrity_error(session):
    row = {**ROWS[0], "id": 1}
    with pytest.raises(exc.IntegrityError):
        execute_write(session, bound_insert(probe), row)
    session.rollback()
    assert execute_write(session, bound_insert(probe), {**row, "id": 5}) == 1  # the kept cursor still works
    session.rollback()


def test_write_first_returns_what_the_server_computed(session):
    """An UPDATE … RETURNING whose SET is an expression the server computes (the audit head's advance)."""
    c = probe.c
    advance = (probe.update().where(c.id == bindparam("which")).values(id=c.id + 10)
               .returning(c.id, c.name))
    assert tuple(write_first(session.connection(), advance, {"which": 2})) == (12, "李四")
    assert write_first(session.connection(), advance, {"which": 99}) is None
    session.rollback()
    assert select_first(session, select(c.name).where(c.id == 2)).name == "李四"
