"""Issue 14 item 2: staff correct a wrongly reported death with a reason and a second approval (another staff
member, an approver); the benefits resume from the stop month and the family is told."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.models import Benefit, OutboxMessage, Resident, StaffMember
from tests.authz import helpers as h
from tests.builders import make_resident
from tests.exchange.helpers import Department, start_worker, wait_applied
from tests.lifecycle.helpers import benefit


@pytest.fixture
def worker(cfg, tmp_path):
    proc = start_worker(cfg, tmp_path)
    yield proc
    proc.terminate()
    proc.wait(timeout=60)


def test_staff_correction_needs_a_second_approver(client, session, cfg, cli, worker):
    police = Department(cli, "gongan-c", "push", death_source="public_security")
    resident, number = make_resident(session, cfg)
    b = benefit(session, resident, start="2026-01")
    resp = police.push(client, [{"reference_id": "D1", "dataset": "deaths", "record": {
        "id_number": number, "death_date": "2026-10-15", "source": "public_security"}}])
    assert resp.json["message"]["results"][0]["status"] == "accepted"
    wait_applied(session, worker)
    session.expire_all()
    assert session.get(Benefit, b.id).state == "stopped"

    clerk, _ = h.staff(session, cfg, "clerk", username="clerk-a")
    approver, _ = h.staff(session, cfg, "approver", username="approver-b")
    assert session.get(StaffMember, clerk.id) and session.get(StaffMember, approver.id)
    proposed = cli("exchange", "death-correction", "propose", "--resident-id", str(resident.id),
                   "--reason", "户籍注销系误录，经派出所核实", "--staff", "clerk-a")
    assert proposed.exit_code == 0, proposed.output
    task_id = proposed.output.split("task=")[1].split()[0]
    same = cli("exchange", "death-correction", "approve", task_id, "--staff", "clerk-a")
    assert same.exit_code == 2  # the proposer cannot approve her own correction
    session.expire_all()
    assert session.get(Resident, resident.id).death_date == date(2026, 10, 15)

    assert cli("exchange", "death-correction", "approve", task_id, "--staff", "approver-b").exit_code == 0
    wait_applied(session, worker)
    session.expire_all()
    row = session.get(Benefit, b.id)
    assert (row.state, row.end_month) == ("active", None)
    assert session.get(Resident, resident.id).death_date is None
    told = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "benefit_resumed")).all()
    assert [m.resident_id for m in told] == [resident.id]
