"""On PostgreSQL a pushed record's key (client, dataset, reference id) is kept unique across the monthly partitions in
`unique_keys` (migration 0170's trigger), and the push finds earlier records through it (`key_holders`, one probe a
key): two requests pushing the same key at once store it once (the second waits for the first's key, then is
refused and, run again, finds the first one's record); a record
moved to another month keeps its key and is found again as a duplicate or updated in place; a deleted record frees
its key."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from app.db import session_factory
from app.models import ExchangeClient, ExchangeRecord
from app.models.partitions import UniqueKey
from app.partitions import exchange_record_key
from flows.dates import today_shanghai
from flows.exchange.push import KeyTaken, push
from tests.builders import make_resident
from tests.exchange.helpers import Department

SENDER = "gongan-keys"


@pytest.fixture
def pg(db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("the keys of PostgreSQL's monthly partitions (SQLite keeps the table's unique constraint)")


def _move(ref: str, number: str, direction: str = "in") -> dict:
    return {"reference_id": ref, "dataset": "hukou_moves",
            "record": {"id_number": number, "move_date": "2026-11-02", "direction": direction, "area_code": "140105"}}


def _push(session, cfg, items: list[dict]) -> list[dict]:
    return push(session, cfg, session.get(ExchangeClient, SENDER), items, today_shanghai())


def _stored(session, ref: str) -> list[ExchangeRecord]:
    session.expire_all()
    return list(session.scalars(select(ExchangeRecord).where(ExchangeRecord.reference_id == ref)))


def _holder(session, ref: str) -> str | None:
    return session.scalar(select(UniqueKey.row_id).where(
        UniqueKey.scope == "exchange_records", UniqueKey.key == exchange_record_key(SENDER, "hukou_moves", ref)))


@pytest.mark.parametrize("same_body", [True, False], ids=["same-record", "changed-record"])
def test_the_same_key_pushed_by_two_requests_at_once_is_stored_once(pg, cfg, cli, session, same_body):
    Department(cli, SENDER, "push")
    _r1, first_number = make_resident(session, cfg, name="甲")
    _r2, other_number = make_resident(session, cfg, name="乙", household_id="H-other",
                                      birth_date=date(1950, 3, 4))
    session.commit()
    make = session_factory(cfg)
    first, second = make(), make()
    try:
        assert _push(first, cfg, [_move("R-1", first_number)])[0]["status"] == "accepted"  # not committed yet
        # the changed record is about another resident, so the second request's only wait is on the key itself;
        # the same record waits on the first's hukou_moves row (before reaching the key) and is refused there
        item = _move("R-1", first_number if same_body else other_number)
        with ThreadPoolExecutor(1) as pool:
            racing = pool.submit(_push, second, cfg, [item])
            time.sleep(0.5)
            assert not racing.done()  # waits for the first transaction's key
            first.commit()
            try:
                racing.result(timeout=30)
                raise AssertionError("the second push must not answer as if it had stored the record")
            except IntegrityError:  # the same move again: the import's own constraint on hukou_moves refuses it
                assert same_body
            except KeyTaken:  # the changed record: its key was taken meanwhile, the guard skipped the row
                assert not same_body
            second.rollback()
            # run again (what the API does, app/api/exchange.py): it now sees the first one's record
            again = _push(second, cfg, [item])[0]
            second.commit()
            assert again["status"] == "accepted" and (again.get("duplicate") is True) == same_body, again
    finally:
        first.close()
        second.close()
    stored = _stored(session, "R-1")
    assert len(stored) == 1 and _holder(session, "R-1") == stored[0].id


def test_a_record_in_another_month_keeps_its_key_and_a_deleted_one_frees_it(pg, cfg, cli, session):
    Department(cli, SENDER, "push")
    _r, number = make_resident(session, cfg)
    session.commit()
    assert _push(session, cfg, [_move("R-2", number)])[0]["status"] == "accepted"
    session.commit()
    row_id = _stored(session, "R-2")[0].id
    # an UPDATE moves it to an earlier month (here the default partition): the key stays with the row
    session.execute(text("UPDATE exchange_records SET created_at = '2025-01-15' WHERE reference_id = 'R-2'"))
    session.commit()
    assert session.execute(text("SELECT tableoid::regclass::text FROM exchange_records WHERE reference_id = 'R-2'")) \
        .scalar() == "exchange_records_default"
    assert _holder(session, "R-2") == row_id

    again = _push(session, cfg, [_move("R-2", number)])[0]
    session.commit()
    assert again.get("duplicate") is True and [r.id for r in _stored(session, "R-2")] == [row_id]

    changed = _push(session, cfg, [_move("R-2", number, "out")])[0]  # an update, back into this month
    session.commit()
    stored = _stored(session, "R-2")
    assert changed["status"] == "accepted" and [r.id for r in stored] == [row_id]
    assert stored[0].created_at.year == datetime.now().year and _holder(session, "R-2") == row_id

    session.execute(text("DELETE FROM exchange_records WHERE reference_id = 'R-2'"))
    session.commit()
    assert _holder(session, "R-2") is None  # free again once its row is gone
    assert _push(session, cfg, [_move("R-2", number)])[0]["status"] == "accepted"
    session.commit()
    stored = _stored(session, "R-2")
    assert len(stored) == 1 and _holder(session, "R-2") == stored[0].id

