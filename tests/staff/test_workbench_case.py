"""The workbench's case page, the audited reveal and the decision in writing (issue 12 items 4–5)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.models import Application, AuditEvent, StaffTask
from flows import casework
from flows.dates import today_shanghai
from flows.programs.disability_care_subsidy.scan import scan_disability
from tests.authz import helpers as h
from tests.builders import make_resident
from tests.lifecycle.helpers import certificate


def _reviewing(session, cfg, name="钱小残"):
    person, number = make_resident(session, cfg, name=name, birth_date=date(1970, 1, 1))
    certificate(session, cfg, person, number, grade=1)
    scan_disability(cfg, "disability_care_subsidy", today_shanghai())
    app = session.scalars(select(Application).where(Application.resident_id == person.id)).one()
    casework.confirm(session, app, "acct-1")
    session.commit()
    return person, number, app


def test_the_case_page_masks_the_resident_and_shows_trace_deadlines_and_timeline(session, cfg, client):
    person, number, app = _reviewing(session, cfg)
    _, reviewer = h.staff(session, cfg, "reviewer")
    _, there = h.staff(session, cfg, "reviewer", district="140106")
    page = client.get(f"/api/v1/staff/applications/{app.id}/case", headers=reviewer)
    assert page.status_code == 200
    body = page.json
    assert body["resident"]["name_masked"] == "钱*残" and "钱小残" not in page.get_data(as_text=True)
    assert body["state"] == "reviewing" and body["trace"] and body["decision_letter"] is False
    assert [d["step"] for d in body["deadlines"]] == ["review"] and body["deadlines"][0]["badge"] in (
        "on_track", "at_risk")
    assert client.get(f"/api/v1/staff/applications/{app.id}/case", headers=there).status_code == 404
    assert any(e["action"] == "staff.case_view" for e in client.get(
        f"/api/v1/staff/applications/{app.id}/case", headers=reviewer).json["timeline"])

    # A reveal needs a purpose, and is audited on the resident's behalf (her feed).
    assert client.post(f"/api/v1/staff/applications/{app.id}/reveal", headers=reviewer,
                       json={"field": "id_number"}).status_code == 422
    shown = client.post(f"/api/v1/staff/applications/{app.id}/reveal", headers=reviewer,
                        json={"field": "id_number", "purpose": "application_review"})
    assert shown.status_code == 200 and shown.json["value"] == number
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.resident_reveal")).one()
    assert event.on_behalf_of == f"resident:{person.id}" and event.details["purpose"] == "application_review"
    assert client.get(f"/api/v1/staff/applications/{app.id}/decision-letter",
                      headers=reviewer).json["error_code"] == "not_decided"


def test_a_rejection_in_writing_states_reasons_remedies_and_the_sending_day(session, cfg, client):
    _, _, app = _reviewing(session, cfg, name="孙残")
    _, reviewer = h.staff(session, cfg, "reviewer")
    rejected = client.post(f"/api/v1/staff/applications/{app.id}/review", headers=reviewer,
                           json={"decision": "reject", "reason_code": "duplicate_benefit", "reason": "已享受同类补贴"})
    assert rejected.status_code == 200 and rejected.json["state"] == "rejected"
    letter = client.get(f"/api/v1/staff/applications/{app.id}/decision-letter", headers=reviewer)
    assert letter.status_code == 200
    body = letter.json
    assert body["decision"] == "rejected" and body["remedies"] == {"administrative_review_days": 60,
                                                                   "lawsuit_months": 6}
    assert any("已享受同类补贴" in r for r in body["reasons"])
    assert body["send_by"] > body["decided_on"] and body["applicant_name"] == "孙残"


def test_a_case_whose_review_a_colleague_claimed_is_hers_to_review(session, cfg, client):
    """A claim holds until released or reassigned: the single review route refuses another reviewer as the bulk
    review does (409 task_not_yours); unclaimed, anyone who may review does."""
    _, _, app = _reviewing(session, cfg, name="冯小残")
    _, alice = h.staff(session, cfg, "reviewer")
    _, bob = h.staff(session, cfg, "reviewer")
    task = session.scalars(select(StaffTask).where(StaffTask.application_id == app.id,
                                                   StaffTask.kind == "review")).one()
    assert client.post(f"/api/v1/staff/tasks/{task.id}/claim", headers=alice).status_code == 200
    body = {"decision": "approve", "reason": "核实无误"}
    taken = client.post(f"/api/v1/staff/applications/{app.id}/review", headers=bob, json=body)
    assert taken.status_code == 409 and taken.json["error_code"] == "task_not_yours", taken.json
    assert client.post(f"/api/v1/staff/applications/{app.id}/review", headers=alice, json=body).status_code == 200


def test_a_task_a_colleague_claimed_is_hers_to_decide(session, cfg, client):
    """Found by a probe: `POST /tasks/{id}/decide` never looked at the claim; a claimed task is decided by its
    holder only (409 task_not_yours), unclaimed by anyone who may."""
    resident, _, _ = h.person(session, cfg, "冯大爷")
    task = h.task(session, resident)
    _, alice = h.staff(session, cfg, "reviewer")
    _, bob = h.staff(session, cfg, "reviewer")
    assert client.post(f"/api/v1/staff/tasks/{task.id}/claim", headers=alice).status_code == 200
    body = {"decision": "done", "reason": "已入户核实"}
    taken = client.post(f"/api/v1/staff/tasks/{task.id}/decide", headers=bob, json=body)
    assert taken.status_code == 409 and taken.json["error_code"] == "task_not_yours", taken.json
    assert client.post(f"/api/v1/staff/tasks/{task.id}/decide", headers=alice, json=body).status_code == 200
