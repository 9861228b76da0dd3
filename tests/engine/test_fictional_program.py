"""Issue 10's proof of the engine: a fictional program defined only in tests/engine/fictional_program.py goes
scan → message → confirm (by an applicant who is not the subject) → staff review over HTTP → benefit → payroll
(monthly and a one-off) → an amount change approved by a second admin from mid-year → re-priced roll and one
message → stop on death; its guide and its messages rendered — with no file outside the test knowing it."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import select

from app.models import Application, ApplicationApplicant, Benefit, OneOffPayment, OutboxMessage, PayrollLine
from flows import parameters
from flows import programs as registry
from notifications.templates import render
from tests.api.conftest import Citizen, wechat, wechat_server  # noqa: F401  (fixtures)
from tests.authz import helpers as h
from tests.builders import make_resident
from tests.engine import fictional_program as fictional
from tests.payroll.test_payroll import _account

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def program(monkeypatch):
    monkeypatch.setenv("ZEROTRIP_PASSWORD", PASSWORD)
    registry.register(fictional.PROGRAM)
    yield fictional.PROGRAM
    registry.unregister(fictional.CODE)
    parameters.reset()


def _close(cli, month: str) -> None:
    result = cli("payroll", "--month", month, "--close", "--as-of", f"{month}-05")
    assert result.exit_code == 0, result.output


def _lines(session, month: str) -> list[tuple[str, int]]:
    session.expire_all()
    return sorted((ln.tier, ln.amount_fen) for ln in session.scalars(select(PayrollLine).where(
        PayrollLine.month == month, PayrollLine.program == fictional.CODE)))


def _messages(session, kind: str) -> list[OutboxMessage]:
    session.expire_all()
    return [m for m in session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind))
            if (m.data or {}).get("program") == fictional.CODE]


def test_a_program_defined_in_one_test_module_runs_end_to_end(program, session, cfg, cli, client, wechat,  # noqa: F811
                                                              monkeypatch):
    from app.scheduler import run_daily_scans
    from flows.lifecycle.jobs import run_daily

    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2026-02-10")
    grandma, _ = make_resident(session, cfg, name="赵奶奶", birth_date=date(1938, 5, 1), household_id="HW1",
                               phone=None)
    daughter, daughter_id = make_resident(session, cfg, name="李女儿", birth_date=date(1966, 8, 8), household_id="HW1",
                                          phone="13911115555", relation="子女")
    make_resident(session, cfg, name="孤老人", birth_date=date(1936, 1, 1), household_id="HW2", phone=None)
    make_resident(session, cfg, name="年轻人", birth_date=date(1990, 1, 1), household_id="HW3", phone="13911116666")

    # scan: the scheduler runs every registered program's declared scan; only grandma (with an adult at home)
    run_daily_scans(cfg, date(2026, 2, 10))
    session.expire_all()
    proposal = session.scalars(select(Application).where(Application.program == fictional.CODE)).one()
    assert proposal.resident_id == grandma.id and proposal.state == "proposed"
    applicant = session.scalars(select(ApplicationApplicant)).one()
    assert (applicant.resident_id, applicant.role) == (daughter.id, "household_adult")
    run_daily_scans(cfg, date(2026, 2, 10))  # idempotent per date
    assert session.scalar(select(Application.id).where(Application.program == fictional.CODE)) == proposal.id

    # message: to the daughter, rendered with the program's own name
    ready = _messages(session, "proposal_ready")
    assert [m.resident_id for m in ready] == [daughter.id]
    assert "冬季关爱补贴" in render(session, ready[0]).body

    # the daughter (no grant) sees and confirms it on her phone; every reason is a condition of its own trace
    citizen = Citizen(client, wechat)
    assert citizen.bind("李女儿", daughter_id, "13911115555").status_code == 200
    seen = citizen.get(f"/api/v1/applications/{proposal.id}")
    assert seen.status_code == 200, seen.json
    texts = {c["text"] for c in seen.json["trace"]}
    assert seen.json["reasons"] and set(seen.json["reasons"]) <= texts, (seen.json["reasons"], texts)
    assert not any("80周岁" in r for r in seen.json["reasons"])
    confirmed = citizen.post(f"/api/v1/applications/{proposal.id}/confirm", json={})
    assert confirmed.status_code == 200 and confirmed.json["state"] == "reviewing", confirmed.json

    # staff review over HTTP: the program's declared review step
    _, clerk = h.staff(session, cfg, "reviewer", "140105", street="140105001")
    queue = client.get(f"/api/v1/staff/cases?program={fictional.CODE}", headers=clerk)
    assert [c["application_id"] for c in queue.json] == [proposal.id] and queue.json[0]["step"] == "review"
    approved = client.post(f"/api/v1/staff/applications/{proposal.id}/review", headers=clerk,
                           json={"decision": "approve", "reason": "核对无误"})
    assert approved.status_code == 200 and approved.json["state"] == "approved", approved.json
    session.expire_all()
    benefit = session.scalars(select(Benefit).where(Benefit.program == fictional.CODE)).one()
    assert (benefit.resident_id, benefit.start_month, benefit.monthly_amount_fen) == (grandma.id, "2026-03", 10000)
    assert session.scalars(select(OneOffPayment)).one().amount_fen == 20000

    # the roll pays the month and the one-off
    _account(session, cfg, grandma)
    _close(cli, "2026-03")
    assert _lines(session, "2026-03") == [("one_off", 20000), ("standard", 10000)]

    # an amount change from mid-year, approved by a second admin over HTTP; closed months never change
    _, maker = h.staff(session, cfg, role="admin")
    _, checker = h.staff(session, cfg, role="admin")
    made = client.post("/api/v1/staff/params", headers=maker,
                       json={"program": fictional.CODE, "key": "amount", "value": "120.00", "from": "2026-07"})
    assert made.status_code == 201, made.json
    assert client.post(f"/api/v1/staff/approvals/{made.json['id']}/approve", headers=maker,
                       json={}).status_code == 403
    assert client.post(f"/api/v1/staff/approvals/{made.json['id']}/approve", headers=checker,
                       json={}).status_code == 200
    guide = client.get(f"/api/v1/programs/{fictional.CODE}").json["guide"]
    assert guide["amounts"]["每月"] == "100.00" and guide["announced"][0]["from_month"] == "2026-07"
    assert "年满85周岁" in guide["summary"]
    for month in ("2026-04", "2026-05", "2026-06", "2026-07", "2026-08"):
        monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", f"{month}-05")
        _close(cli, month)
    assert _lines(session, "2026-06") == [("standard", 10000)]
    assert _lines(session, "2026-07") == _lines(session, "2026-08") == [("standard", 12000)]
    assert _lines(session, "2026-03") == [("one_off", 20000), ("standard", 10000)]
    repriced = _messages(session, "tier_raised")
    assert [m.resident_id for m in repriced] == [grandma.id]  # one message per recipient
    assert "120.00" in render(session, repriced[0]).body

    # a death stops it from the next month
    session.get(type(grandma), grandma.id).death_date = date(2026, 8, 20)
    session.commit()
    run_daily(cfg, date(2026, 8, 21))
    session.expire_all()
    stopped = session.get(Benefit, benefit.id)
    assert (stopped.state, stopped.end_month) == ("stopped", "2026-08")
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2026-09-05")
    _close(cli, "2026-09")
    assert _lines(session, "2026-09") == []
    for row in _messages(session, "approved") + _messages(session, "benefit_stopped"):
        message = render(session, row)
        assert message.body and "高龄津贴" not in message.body and not message.problems, message


def test_no_file_outside_the_test_knows_the_fictional_program():
    word = re.compile(rf"(?<![A-Za-z0-9_]){fictional.CODE}(?![A-Za-z0-9_])")
    for base in ("app", "flows", "notifications", "migrations"):
        for path in ROOT.joinpath(base).rglob("*"):
            if path.suffix in (".py", ".js", ".html", ".json") and "__pycache__" not in path.parts:
                assert not word.search(path.read_text("utf-8")), path
