"""Supervision (监督制约, issue 13 item 3) through the staff API: the dashboard of a supervisor's jurisdiction
(cases per step and office with their deadline state, overdue ones with who holds them, median working days
per step, staff look-ups per purpose and day with outliers marked, the audit chain, the roll), single reassign
with a reason, bulk reassignment of an absent worker's tasks; nobody but a supervisor."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.db import utcnow
from app.models import AuditEvent, StaffTask, StepDeadline
from flows import staff as staff_flow
from tests.authz import helpers as h

STREET = "140105001"


def _overdue(session, task):
    task.created_at = utcnow() - timedelta(days=30)
    task.due_at = utcnow() - timedelta(days=10)
    session.commit()


def test_the_dashboard_shows_overdue_work_and_who_holds_it(cfg, session, client):
    resident, _, _ = h.person(session, cfg, street=STREET)
    late = h.task(session, resident, kind="review")
    fresh = h.task(session, resident, kind="review")
    worker, worker_h = h.staff(session, cfg, "reviewer", street=STREET)
    worker.display_name = "王工"
    session.commit()
    assert client.post(f"/api/v1/staff/tasks/{late.id}/claim", headers=worker_h).status_code == 200
    _overdue(session, late)
    app_row = h.application(session, resident, state="approved")
    session.add(StepDeadline(application_id=app_row.id, step="review", started_on=date(2026, 11, 2),
                             due_on=date(2026, 11, 20), working_days=15, done_on=date(2026, 11, 6)))
    session.commit()
    for _ in range(12):  # a day of many look-ups
        client.post("/api/v1/staff/residents/search", headers=worker_h,
                    json={"name": "张三", "birth_year": 1950, "purpose": "complaint"})
    _, boss = h.staff(session, cfg, "supervisor")

    board = client.get("/api/v1/staff/supervision", headers=boss)
    assert board.status_code == 200, board.json
    body = board.json
    assert [o["task_id"] for o in body["overdue"]] == [late.id]
    assert body["overdue"][0]["responsible"] == "王工" and body["overdue"][0]["working_days_overdue"] > 0
    row = next(r for r in body["per_step"] if r["step"] == "review")
    assert row["office"] == STREET and row["overdue"] == 1 and row["on_track"] + row["at_risk"] == 1
    assert body["median_days"] == [{"step": "review", "median_working_days": 4.0, "cases": 1}]
    complaint = [a for a in body["activity"] if a["purpose"] == "complaint"]
    assert complaint and complaint[0]["count"] == 12 and complaint[0]["outlier"] is True
    assert body["appeals"] == []  # no appeal (复核) in the jurisdiction yet
    assert body["roll"]["signoff"] in ("none", "pending", "approved")
    assert "last_verified_at" in body["audit"]
    assert fresh.id not in [o["task_id"] for o in body["overdue"]]


def test_reassign_needs_a_reason_and_is_audited(cfg, session, client):
    resident, _, _ = h.person(session, cfg, street=STREET)
    task = h.task(session, resident, kind="review")
    other, _ = h.staff(session, cfg, "reviewer", street=STREET)
    _, boss = h.staff(session, cfg, "supervisor")
    no_reason = client.post(f"/api/v1/staff/tasks/{task.id}/reassign", headers=boss, json={"staff_id": other.id})
    assert no_reason.status_code == 422
    moved = client.post(f"/api/v1/staff/tasks/{task.id}/reassign", headers=boss,
                        json={"staff_id": other.id, "reason": "逾期未办，改派"})
    assert moved.status_code == 200 and moved.json["claimed_by"] == other.id
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.task_reassign")).one()
    assert event.details["reason"] == "逾期未办，改派" and event.details["to"] == other.id
    # only to someone who could claim it herself: another street's clerk, a disabled account, a supervisor
    # would leave it where nobody sees it
    other_street, _ = h.staff(session, cfg, "reviewer", street="140105002")
    disabled, _ = h.staff(session, cfg, "reviewer", street=STREET)
    staff_flow.disable(session, disabled)
    session.commit()
    supervisor, _ = h.staff(session, cfg, "supervisor")
    for nobody in (other_street, disabled, supervisor):
        refused = client.post(f"/api/v1/staff/tasks/{task.id}/reassign", headers=boss,
                              json={"staff_id": nobody.id, "reason": "改派"})
        assert (refused.status_code, refused.json["error_code"]) == (409, "assignee_not_allowed"), refused.json
    session.expire_all()
    assert session.get(StaffTask, task.id).claimed_by == other.id


def test_bulk_reassignment_of_an_absent_workers_tasks(cfg, session, client):
    resident, _, _ = h.person(session, cfg, street=STREET)
    elsewhere, _, _ = h.person(session, cfg, district="140106", street="140106001", community="140106001001")
    absent, absent_h = h.staff(session, cfg, "reviewer", street=STREET)
    stand_in, _ = h.staff(session, cfg, "reviewer", street=STREET)
    tasks = [h.task(session, resident, kind="review") for _ in range(3)]
    for t in tasks[:2]:
        assert client.post(f"/api/v1/staff/tasks/{t.id}/claim", headers=absent_h).status_code == 200
    _, boss = h.staff(session, cfg, "supervisor")
    body = {"from_staff_id": absent.id, "to_staff_id": stand_in.id, "reason": "病假两周"}
    done = client.post("/api/v1/staff/supervision/bulk-reassign", headers=boss, json=body)
    assert done.status_code == 200 and done.json["done"] == 2 and done.json["refused"] == 0
    session.expire_all()
    assert {t.id for t in session.scalars(select(StaffTask).where(StaffTask.claimed_by == stand_in.id))} == \
        {tasks[0].id, tasks[1].id}
    assert session.get(StaffTask, tasks[2].id).claimed_by is None
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.task_reassign")).all()
    assert len(events) == 2 and all(e.details["reason"] == "病假两周" and e.details["bulk"] for e in events)
    # a reason in words, and someone other than the absent worker
    for blank in ("  ", "\u200b\u200b\u200b", " 好 ", "\ufeff\n\t", "\u202e\u202e", "a\u202e", "\u3164\u3164"):  # the last three: probes
        refused = client.post("/api/v1/staff/supervision/bulk-reassign", headers=boss,
                              json={"from_staff_id": stand_in.id, "to_staff_id": None, "reason": blank})
        assert refused.status_code == 422 and "reason" in refused.json["errors"]["json"], blank
        single = client.post(f"/api/v1/staff/tasks/{tasks[0].id}/reassign", headers=boss,
                             json={"staff_id": None, "reason": blank})
        assert single.status_code == 422, blank
    same = client.post("/api/v1/staff/supervision/bulk-reassign", headers=boss,
                       json={"from_staff_id": stand_in.id, "to_staff_id": stand_in.id, "reason": "原地改派"})
    assert same.status_code == 422 and "to_staff_id" in same.json["errors"]["json"]
    assert len(session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.task_reassign")).all()) == 2
    back = client.post("/api/v1/staff/supervision/bulk-reassign", headers=boss,
                       json={"from_staff_id": stand_in.id, "to_staff_id": None, "reason": "回到任务池"})
    assert back.json["done"] == 2
    _ = elsewhere


def test_only_a_supervisor_and_only_her_district(cfg, session, client):
    absent, _ = h.staff(session, cfg, "reviewer", street=STREET)
    body = {"from_staff_id": absent.id, "to_staff_id": None, "reason": "休假"}
    _, reviewer = h.staff(session, cfg, "reviewer")
    _, admin = h.staff(session, cfg, "admin")
    _, there = h.staff(session, cfg, "supervisor", district="140106")
    citizen = h.headers_for(session, cfg, h.person(session, cfg, "王五")[1])
    for who, code in ((reviewer, 403), (admin, 403), ({}, 401), (citizen, 401)):
        assert client.get("/api/v1/staff/supervision", headers=who).status_code == code
        assert client.post("/api/v1/staff/supervision/bulk-reassign", headers=who, json=body).status_code == code
    assert client.post("/api/v1/staff/supervision/bulk-reassign", headers=there, json=body).status_code == 404
    _, boss = h.staff(session, cfg, "supervisor")
    odd = client.post("/api/v1/staff/supervision/bulk-reassign", headers=boss,
                      json={**body, "reason": "x" * 100_000})
    assert odd.status_code == 422
    assert client.post("/api/v1/staff/supervision/bulk-reassign", headers=boss,
                       json={**body, "from_staff_id": "nobody"}).status_code == 404


def test_the_dashboard_shows_the_last_audit_verification(cfg, session, client, cli, tmp_path):
    _, boss = h.staff(session, cfg, "supervisor", street=STREET)
    before = client.get("/api/v1/staff/supervision", headers=boss).json["audit"]
    assert before["last_verified_at"] is None and before["last_verify_ok"] is None
    assert cli("audit", "anchor", "--anchors", str(tmp_path / "anchors.jsonl")).exit_code == 0
    verified = cli("audit", "verify", "--anchors", str(tmp_path / "anchors.jsonl"))
    assert verified.exit_code == 0, verified.output
    after = client.get("/api/v1/staff/supervision", headers=boss)
    assert after.status_code == 200, after.json
    assert after.json["audit"]["last_verify_ok"] is True and after.json["audit"]["last_verified_at"]
