"""Issue 14 item 2: staff correct a wrongly reported death with a reason and a second approval (another staff
member, an approver); the benefits resume from the stop month and the family is told."""

from __future__ import annotations

import os
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

    clerk, clerk_headers = h.staff(session, cfg, "clerk", username="clerk-a")
    approver, approver_headers = h.staff(session, cfg, "approver", username="approver-b")
    assert session.get(StaffMember, clerk.id) and session.get(StaffMember, approver.id)
    os.environ["ZEROTRIP_PASSWORD"] = "correct horse battery"
    try:
        proposed = cli("exchange", "death-correction", "propose", "--resident-id", str(resident.id),
                       "--reason", "户籍注销系误录，经派出所核实", "--by", "clerk-a")
        assert proposed.exit_code == 0, proposed.output
        approval_id = proposed.output.split("approval=")[1].split()[0]
        same = cli("exchange", "death-correction", "approve", approval_id, "--by", "clerk-a")
        assert same.exit_code == 2 and "self_approval" in same.output  # the maker cannot approve her own
    finally:
        os.environ.pop("ZEROTRIP_PASSWORD", None)
    session.expire_all()
    assert session.get(Resident, resident.id).death_date == date(2026, 10, 15)
    # the one maker-checker mechanism: pending in the staff approvals list, approved by a second person there
    pending = client.get("/api/v1/staff/approvals", headers=approver_headers).json
    assert [a["kind"] for a in pending if a["id"] == approval_id] == ["death_correction"]
    assert client.post(f"/api/v1/staff/approvals/{approval_id}/approve", headers=clerk_headers).status_code == 403
    # another district's approver neither sees it nor approves it
    _, far_headers = h.staff(session, cfg, "approver", district="140106", username="approver-far")
    assert [a for a in client.get("/api/v1/staff/approvals", headers=far_headers).json if a["id"] == approval_id] == []
    far = client.post(f"/api/v1/staff/approvals/{approval_id}/approve", headers=far_headers)
    assert far.status_code == 403 and far.json["error_code"] == "outside_jurisdiction"
    resp = client.post(f"/api/v1/staff/approvals/{approval_id}/approve", headers=approver_headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    wait_applied(session, worker)
    session.expire_all()
    row = session.get(Benefit, b.id)
    assert (row.state, row.end_month) == ("active", None)
    assert session.get(Resident, resident.id).death_date is None
    told = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "benefit_resumed")).all()
    assert [m.resident_id for m in told] == [resident.id]
