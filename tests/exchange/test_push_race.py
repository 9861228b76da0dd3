"""The same record pushed by several requests at once, each with its own message id (a department's senders
retrying in parallel), never gets a 500: one request stores it, the others answer it as a duplicate — on
PostgreSQL, where the later requests wait for the first one's commit and then meet its key, as on SQLite."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import func, select

from app.models import ExchangeRecord, HukouMove
from tests.builders import make_resident
from tests.exchange.helpers import Department

REQUESTS = 8


def test_the_same_record_pushed_at_once_is_stored_once_and_every_request_is_answered(client, session, cfg, cli):
    police = Department(cli, "gongan-race", "push")
    _, number = make_resident(session, cfg)
    session.commit()
    record = {"reference_id": "MOVE-1", "dataset": "hukou_moves", "record": {
        "id_number": number, "move_date": "2026-11-02", "direction": "in", "area_code": "140105"}}
    start = threading.Barrier(REQUESTS)

    def push(_):
        own = client.application.test_client()
        start.wait(timeout=60)
        return police.push(own, [record])

    with ThreadPoolExecutor(REQUESTS) as pool:
        answers = list(pool.map(push, range(REQUESTS)))
    assert [a.status_code for a in answers] == [200] * REQUESTS, [a.get_data(as_text=True)[:300] for a in answers]
    results = [a.json["message"]["results"][0] for a in answers]
    assert {r["status"] for r in results} == {"accepted"}, results
    assert sum(1 for r in results if not r.get("duplicate")) == 1, results  # stored by exactly one request
    session.expire_all()
    stored = session.scalar(select(func.count()).select_from(ExchangeRecord)
                            .where(ExchangeRecord.reference_id == "MOVE-1"))
    moves = session.scalar(select(func.count()).select_from(HukouMove))
    assert (stored, moves) == (1, 1)
