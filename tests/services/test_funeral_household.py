"""惠民殡葬补贴 without a cremation record: proposed to every living adult still in the deceased's registry household;
the first confirmation wins atomically, the other sees who confirmed; the proposal survives the next day's run
(a death does not expire an application about the deceased); nobody to ask → a community task."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.models import Application, OneOffPayment, StaffTask
from tests.authz import helpers as h


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2026-03-10")


def test_household_adults_first_confirmation_wins(session, cfg, cli, client):
    father = h.person(session, cfg, "郑老汉", birth=date(1945, 1, 1), household="HH-F1")[0]
    _, son_account, _ = h.person(session, cfg, "郑大", birth=date(1972, 1, 1), household="HH-F1")
    _, wife_account, _ = h.person(session, cfg, "郑大嫂", birth=date(1974, 1, 1), household="HH-F1")
    h.person(session, cfg, "郑小", birth=date(2015, 1, 1), household="HH-F1")  # a child is not asked
    # a daughter whose hukou moved out of the city has left the registry household: not asked either
    h.person(session, cfg, "郑二妹", birth=date(1976, 1, 1), household="HH-F1")[0].hukou_local = False
    alone = h.person(session, cfg, "孤老人", birth=date(1940, 1, 1), household="HH-F2")[0]
    father.death_date, alone.death_date = date(2026, 3, 8), date(2026, 3, 8)
    session.commit()
    assert cli("scheduler", "run-once", "--as-of", "2026-03-09").exit_code == 0
    assert cli("scheduler", "run-once", "--as-of", "2026-03-10").exit_code == 0  # nothing expires it

    son, wife = h.headers_for(session, cfg, son_account), h.headers_for(session, cfg, wife_account)
    (mine,) = [a for a in client.get("/api/v1/applications", headers=son).json if a["program"] == "funeral_subsidy"]
    assert mine["state"] == "proposed" and {a["role"] for a in mine["applicants"]} == {"household_adult"}
    assert len(mine["applicants"]) == 2
    first = client.post(f"/api/v1/applications/{mine['id']}/confirm", headers=wife)
    assert first.status_code == 200 and first.json["state"] == "approved"
    second = client.post(f"/api/v1/applications/{mine['id']}/confirm", headers=son)
    assert second.status_code == 200 and second.json["state"] == "approved"
    states = {a["name"]: a["state"] for a in second.json["applicants"]}
    assert states == {"郑*嫂": "confirmed", "郑*": "superseded"}, states
    session.expire_all()
    (payment,) = session.scalars(select(OneOffPayment)).all()
    assert (payment.amount_fen, payment.state) == (120000, "pending")
    assert session.scalar(select(Application).where(Application.resident_id == alone.id)) is None
    (task,) = session.scalars(select(StaffTask).where(StaffTask.kind == "funeral_contact")).all()
    assert task.resident_id == alone.id
