"""Staff casework of the programs over HTTP: the 低保 case end to end (citizen → economic check → home visit →
street review → 公示 → objection → decision → county approval → benefit), with a staff member of another
district refused (404) at every step; the disability review queue, review and approval by a different person; the day-14 home-help visit;
the overdue list; and the one path for case tasks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.models import (
    Account,
    Application,
    AuditEvent,
    Benefit,
    EconomicRecord,
    OutboxMessage,
    PublicNotice,
    StaffTask,
    StepDeadline,
)
from flows.dates import month_from_index, today_shanghai
from flows.lifecycle.jobs import run_daily
from flows.programs.dibao import cases
from flows.programs.disability_care_subsidy.scan import scan_disability
from flows.programs.elderly_allowance.scan import scan_turning_80
from tests.api.conftest import Citizen, wechat, wechat_server  # noqa: F401  (fixtures)
from tests.authz import helpers as h
from tests.builders import make_resident
from tests.lifecycle.helpers import certificate
from tests.visits import visit_body

OK = dict.fromkeys(cases.HOME_VISIT_CHECKLIST, True)
STREET, DISTRICT = "140105001", "140105"


def _household(session, cfg):
    head, head_id = make_resident(session, cfg, name="张小三", birth_date=date(1975, 3, 3), household_id="HD1",
                                  sex="M", phone="13911112222")
    make_resident(session, cfg, name="王芳", birth_date=date(1977, 4, 4), household_id="HD1", relation="配偶",
                  phone="13911113333")
    today = today_shanghai()
    now = today.year * 12 + today.month - 1
    for i in range(1, 10):  # the last nine complete months: every window of the case is covered
        session.add(EconomicRecord(resident_id=head.id, kind="income_wage", period=month_from_index(now - i),
                                   amount_fen=60_000, source="tax", source_date=today))
    session.commit()
    return head, head_id


@pytest.fixture
def staff(session, cfg):
    second, _ = h.staff(session, cfg, "clerk", DISTRICT, street=STREET)
    return {
        "second_id": second.id,  # the colleague at the door (a home visit needs two investigators)
        "clerk": h.staff(session, cfg, "clerk", DISTRICT, street=STREET)[1],
        "reviewer": h.staff(session, cfg, "reviewer", DISTRICT, street=STREET)[1],
        "street_approver": h.staff(session, cfg, "approver", DISTRICT, street=STREET)[1],
        "approver": h.staff(session, cfg, "approver", DISTRICT)[1],
        "there": h.staff(session, cfg, "approver", "140106")[1],
    }


def test_dibao_end_to_end_over_http(session, cfg, client, wechat, staff, monkeypatch):  # noqa: F811
    head, head_id = _household(session, cfg)
    citizen = Citizen(client, wechat)
    assert citizen.bind("张小三", head_id, "13911112222").status_code == 200
    made = citizen.post("/api/v1/dibao/applications", json={"declared_monthly_income": "0.00"})
    assert made.status_code == 201 and made.json["state"] == "home_visit", made.json
    app_id = made.json["id"]
    base = f"/api/v1/staff/applications/{app_id}"

    # the queue of the street shows the case in full; another district sees nothing
    queue = client.get("/api/v1/staff/cases", headers=staff["clerk"])
    assert queue.status_code == 200 and [c["application_id"] for c in queue.json] == [app_id]
    case = queue.json[0]
    assert case["resident_name"] == "张小三" and case["step"] == "home_visit" and case["trace"][0]["source"] == "tax"
    assert case["checklist"] == list(cases.HOME_VISIT_CHECKLIST) and case["economic_check"][0]["member"] == "张*三"
    assert client.get("/api/v1/staff/cases", headers=staff["there"]).json == []
    assert client.get("/api/v1/staff/cases?step=approving", headers=staff["clerk"]).json == []

    # home visit
    body = visit_body(client.post, app_id, staff["clerk"], staff["second_id"], OK, "已入户")
    assert client.post(base + "/home-visit", json=body, headers=staff["there"]).status_code == 404
    partial = client.post(base + "/home-visit", json={**body, "checklist": {"居住情况与申报一致": True}},
                          headers=staff["clerk"])
    assert partial.status_code == 422
    visit = client.post(base + "/home-visit", json=body, headers=staff["clerk"])
    assert visit.status_code == 200 and visit.json["state"] == "reviewing", visit.json

    # street review: a clerk may not, a reviewer of the street may
    body = {"decision": "approve", "reason": "材料齐全,情况属实"}
    assert client.post(base + "/street-review", json=body, headers=staff["there"]).status_code == 404
    assert client.post(base + "/street-review", json=body, headers=staff["clerk"]).status_code == 403
    assert client.post(base + "/street-review", json={"decision": "reject", "reason": "不符合"},
                       headers=staff["reviewer"]).status_code == 422  # a rejection needs a coded reason
    reviewed = client.post(base + "/street-review", json=body, headers=staff["reviewer"])
    assert reviewed.status_code == 200 and reviewed.json["state"] == "public_notice"

    # 公示 and an objection by a signed-in resident
    notices = client.get(f"/api/v1/public-notices?street={STREET}")
    assert notices.status_code == 200 and notices.json[0]["name"] == "张*三"
    _, n_id = make_resident(session, cfg, name="赵邻居", birth_date=date(1980, 1, 1), phone="13600001111",
                            household_id="HN")
    neighbour = Citizen(client, wechat)
    assert neighbour.bind("赵邻居", n_id, "13600001111").status_code == 200
    objected = neighbour.post(f"/api/v1/public-notices/{notices.json[0]['id']}/objections",
                              json={"text": "他家有经营收入未申报"})
    assert objected.status_code == 201
    objection_id = objected.json["id"]
    case = client.get("/api/v1/staff/cases?step=public_notice", headers=staff["reviewer"]).json[0]
    assert case["objections"][0]["text"] == "他家有经营收入未申报"

    # the objection is re-investigated and dismissed after the period: the opinion is published again for a full
    # period from that day (重新公示, 民发〔2021〕57号); when that period ends, the case moves on to the county
    later = today_shanghai() + timedelta(days=8)
    monkeypatch.setattr(cases, "today_shanghai", lambda: later)
    decide = {"decision": "dismissed", "reason": "经入户核实,无经营收入"}
    path = f"/api/v1/staff/objections/{objection_id}/decide"
    assert client.post(path, json=decide, headers=staff["there"]).status_code == 404
    decided = client.post(path, json=decide, headers=staff["reviewer"])
    assert decided.status_code == 200 and decided.json["state"] == "public_notice", decided.json
    assert decided.json["objections"][0]["state"] == "dismissed"
    assert client.post(path, json=decide, headers=staff["reviewer"]).status_code == 409
    again = session.scalars(select(PublicNotice)).one()
    session.refresh(again)
    assert (again.state, again.starts_on, again.ends_on) == ("open", later, later + timedelta(days=6))
    assert cases.close_notices(session, later + timedelta(days=6)) == 0  # the new period is not over yet
    assert cases.close_notices(session, later + timedelta(days=7)) == 1
    session.commit()
    # the objector is told it was handled, to her own account; nothing names the applicant or the outcome
    handled = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "objection_handled")).one()
    objector = session.scalars(select(Account).where(Account.openid == neighbour.openid)).one()
    assert handled.account_id == objector.id and handled.resident_id is None
    assert "张" not in handled.data["text"] and "不成立" not in handled.data["text"]

    # county approval: an approver of the district; not of a street, not of another district
    approve = {"decision": "approve", "reason": "同意纳入低保"}
    assert client.post(base + "/county-decision", json=approve, headers=staff["there"]).status_code == 404
    assert client.post(base + "/county-decision", json=approve, headers=staff["reviewer"]).status_code == 403
    assert client.post(base + "/county-decision", json=approve, headers=staff["street_approver"]).status_code == 403
    approved = client.post(base + "/county-decision", json=approve, headers=staff["approver"])
    assert approved.status_code == 200 and approved.json["state"] == "approved", approved.json
    assert client.get(f"/api/v1/staff/applications/{app_id}", headers=staff["there"]).status_code == 404

    benefit = session.scalars(select(Benefit).where(Benefit.program == "dibao")).one()
    assert benefit.state == "active" and benefit.resident_id == head.id
    assert [b["program"] for b in citizen.get("/api/v1/benefits").json] == ["dibao"]
    mine = citizen.get(f"/api/v1/applications/{app_id}").json
    assert [t["code"] for t in mine["trace"]][-1] == "county_approval"
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"staff.home_visit", "staff.street_review", "staff.objection_decide",
            "staff.county_decision", "staff.case_queue", "authz.denied"} <= actions
    audited = session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.county_decision")).one()
    assert audited.on_behalf_of == f"resident:{head.id}" and audited.details["reason"] == "同意纳入低保"
    assert all(d.done_on for d in session.scalars(select(StepDeadline)))


def test_street_rejection_carries_a_code_and_the_citizen_text(session, cfg, client, staff):
    head, _ = _household(session, cfg)
    app = cases.apply(session, head, "acct-1")
    cases.record_home_visit(session, app, "s1", OK)
    session.commit()
    resp = client.post(f"/api/v1/staff/applications/{app.id}/street-review", headers=staff["reviewer"],
                       json={"decision": "reject", "reason_code": "home_visit_mismatch", "reason": "实际居住情况不符"})
    assert resp.status_code == 200 and (resp.json["state"], resp.json["decision"]) == ("rejected",
                                                                                      "home_visit_mismatch")
    msg = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "rejected")).one()
    assert msg.data["reason_code"] == "home_visit_mismatch" and "实际居住情况不符" in msg.data["reason"]


def test_disability_review_queue_and_decision(session, cfg, client, staff):
    person, number = make_resident(session, cfg, name="钱残", birth_date=date(1970, 1, 1))
    certificate(session, cfg, person, number, grade=1)
    today = today_shanghai()
    scan_disability(cfg, "disability_care_subsidy", today)
    app = session.scalars(select(Application)).one()
    from flows import casework

    casework.confirm(session, app, "acct-1")
    session.commit()
    queue = client.get("/api/v1/staff/cases?program=disability_care_subsidy", headers=staff["reviewer"])
    assert [c["application_id"] for c in queue.json] == [app.id] and queue.json[0]["step"] == "review"
    task = session.scalars(select(StaffTask).where(StaffTask.kind == "review")).one()
    # one path: the generic task decision refuses a task that belongs to an application
    generic = client.post(f"/api/v1/staff/tasks/{task.id}/decide", headers=staff["reviewer"],
                          json={"decision": "approve", "reason": "ok ok"})
    assert generic.status_code == 409 and "/review" in generic.json["message"]
    base = f"/api/v1/staff/applications/{app.id}/review"
    assert client.post(base, json={"decision": "approve", "reason": "核对无误"}, headers=staff["there"]).status_code == 404
    assert client.post(base, json={"decision": "approve", "reason": "核对无误"}, headers=staff["clerk"]).status_code == 403
    bad = client.post(base, json={"decision": "reject", "reason_code": "income_above_standard", "reason": "x x"},
                      headers=staff["reviewer"])
    assert bad.status_code == 422
    ok = client.post(base, json={"decision": "approve", "reason": "核对无误"}, headers=staff["reviewer"])
    # the review is not the decision: the case waits in the approvers' pool
    assert ok.status_code == 200 and (ok.json["state"], ok.json["step"]) == ("approving", "approve")
    assert ok.json["trace"][-1]["code"] == "staff_review" and ok.json["trace"][-1]["staff_id"]
    session.expire_all()
    assert session.get(StaffTask, task.id).state == "done" and session.scalars(select(Benefit)).all() == []
    approval = session.scalars(select(StaffTask).where(StaffTask.kind == "approve")).one()
    assert approval.state == "open" and approval.application_id == app.id
    approve = f"/api/v1/staff/applications/{app.id}/approve"
    body = {"decision": "approve", "reason": "同意"}
    assert client.post(base, json=body, headers=staff["reviewer"]).json["error_code"] == "application_state"
    # the reviewer may not approve her own review; a street's approver does not approve (the district does)
    own = client.post(approve, json=body, headers=staff["reviewer"])
    assert own.status_code == 403 and own.json["error_code"] == "segregation_of_duties"
    assert client.post(approve, json=body, headers=staff["street_approver"]).status_code == 403
    assert client.post(approve, json=body, headers=staff["there"]).status_code == 404
    done = client.post(approve, json=body, headers=staff["approver"])
    assert done.status_code == 200 and (done.json["state"], done.json["decision"]) == ("approved", "rule_met")
    assert [e["code"] for e in done.json["trace"] if e["source"] == "staff"] == ["staff_review", "staff_approval"]
    assert client.post(approve, json=body, headers=staff["approver"]).json["error_code"] == "application_state"
    session.expire_all()
    assert session.get(StaffTask, approval.id).state == "done"
    assert session.scalars(select(Benefit)).one().program == "disability_care_subsidy"


def test_an_approver_who_reviewed_a_case_may_not_approve_it_and_a_rejection_needs_a_code(session, cfg, client,
                                                                                       staff):
    person, number = make_resident(session, cfg, name="孙残", birth_date=date(1971, 1, 1))
    certificate(session, cfg, person, number, grade=2)
    scan_disability(cfg, "disability_care_subsidy", today_shanghai())
    app = session.scalars(select(Application)).one()
    from flows import casework

    casework.confirm(session, app, "acct-1")
    session.commit()
    body = {"decision": "approve", "reason": "核对无误"}
    assert client.post(f"/api/v1/staff/applications/{app.id}/review", json=body,
                       headers=staff["approver"]).json["state"] == "approving"
    approve = f"/api/v1/staff/applications/{app.id}/approve"
    own = client.post(approve, json=body, headers=staff["approver"])
    assert own.status_code == 403 and own.json["error_code"] == "segregation_of_duties"
    other = h.staff(session, cfg, "approver", DISTRICT)[1]
    assert client.post(approve, json={"decision": "reject", "reason": "x x"}, headers=other).status_code == 422
    refused = client.post(approve, headers=other, json={"decision": "reject", "reason_code": "data_inconsistent",
                                                        "reason": "残联数据待更正"})
    assert refused.status_code == 200 and (refused.json["state"], refused.json["decision"]) == (
        "rejected", "data_inconsistent")
    assert "审批未通过" in refused.json["trace"][-1]["text"]
    msg = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "rejected")).one()
    assert msg.data["reason_code"] == "data_inconsistent" and "残联数据待更正" in msg.data["reason"]


def test_home_help_visit_confirms_on_the_residents_behalf(session, cfg, client, staff):
    make_resident(session, cfg, birth_date=date(1946, 11, 1), phone=None)
    scan_turning_80(cfg, date(2026, 11, 1))
    run_daily(cfg, date(2026, 11, 15))
    task = session.scalars(select(StaffTask).where(StaffTask.kind == "home_help")).one()
    worker = h.staff(session, cfg, "clerk", DISTRICT, street=STREET, community="140105001001")[1]
    path = f"/api/v1/staff/tasks/{task.id}/home-help"
    assert client.post(path, json={"outcome": "confirmed"}, headers=staff["there"]).status_code == 404
    assert client.post(path, json={"outcome": "maybe"}, headers=worker).status_code == 422
    away = client.post(path, json={"outcome": "unreachable", "note": "家中无人"}, headers=worker)
    assert away.status_code == 200 and away.json["state"] == "open"
    done = client.post(path, json={"outcome": "confirmed", "note": "本人同意"}, headers=worker)
    assert done.status_code == 200 and done.json["state"] == "done"
    session.expire_all()
    app = session.scalars(select(Application)).one()
    assert app.state == "approved" and session.scalars(select(Benefit)).one().program == "elderly_allowance"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.home_help",
                                                     AuditEvent.result == "confirmed")).one()
    assert event.on_behalf_of == f"resident:{app.resident_id}"
    assert client.post(path, json={"outcome": "confirmed"}, headers=worker).status_code == 409


def test_overdue_list_of_my_jurisdiction(session, cfg, client, staff):
    head, _ = _household(session, cfg)
    long_ago = today_shanghai() - timedelta(days=40)
    app = cases.apply(session, head, "acct-1", today=long_ago)
    session.commit()
    resp = client.get("/api/v1/staff/overdue", headers=staff["clerk"])
    assert resp.status_code == 200
    assert [(r["application_id"], r["step"]) for r in resp.json] == [(app.id, "home_visit")]
    assert resp.json[0]["days_late"] > 0 and resp.json[0]["working_days"] == 10
    assert client.get("/api/v1/staff/overdue", headers=staff["there"]).json == []
    assert client.get("/api/v1/staff/cases", headers=staff["clerk"]).json[0]["overdue"] is True


def test_bulk_review_completes_the_review_step_and_the_cases_wait_for_an_approver(session, cfg, client, staff):
    from flows import casework

    for name, birth in (("周残", date(1972, 1, 1)), ("吴残", date(1973, 1, 1))):
        person, number = make_resident(session, cfg, name=name, birth_date=birth)
        certificate(session, cfg, person, number, grade=1)
    scan_disability(cfg, "disability_care_subsidy", today_shanghai())
    apps = session.scalars(select(Application).order_by(Application.id)).all()
    for app in apps:
        casework.confirm(session, app, "acct-1")
    session.commit()
    out = client.post("/api/v1/staff/bulk-review", headers=staff["reviewer"], json={"ids": [a.id for a in apps]})
    assert out.status_code == 200 and (out.json["done"], out.json["refused"]) == (2, 0), out.json
    session.expire_all()
    assert {session.get(Application, a.id).state for a in apps} == {"approving"}
    assert session.scalars(select(Benefit)).all() == []
    # the approvers' pool (the district's approver) holds them; the reviewer's pool does not
    pool = client.get("/api/v1/staff/inbox", headers=staff["approver"]).json
    assert sorted((t["kind"], t["application_id"]) for t in pool) == sorted(("approve", a.id) for a in apps)
    assert client.get("/api/v1/staff/inbox", headers=staff["reviewer"]).json == []
    body = {"decision": "approve", "reason": "同意"}
    for app in apps:
        done = client.post(f"/api/v1/staff/applications/{app.id}/approve", json=body, headers=staff["approver"])
        assert done.json["state"] == "approved", done.json
    assert len(session.scalars(select(Benefit)).all()) == 2
