"""城乡低保 end to end: economic check with a per-member report, home visit, review, 公示 with an objection,
county approval, working-day time limits and overdue flags — and the public endpoint's masking and limits."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import select

from app.models import (
    Account,
    Application,
    Benefit,
    EconomicRecord,
    OutboxMessage,
    PublicNotice,
    StaffTask,
    StepDeadline,
)
from flows.dates import shanghai_date
from flows.programs.dibao import cases
from tests.api.conftest import Citizen, wechat, wechat_server  # noqa: F401  (fixtures)
from tests.builders import make_account, make_resident
from tests.conftest import leaked_id_numbers

TODAY = date(2026, 11, 25)
OK = dict.fromkeys(cases.HOME_VISIT_CHECKLIST, True)


def _household(session, cfg, monthly_wage_fen=60_000, homes=1, cars=0):
    head, head_id = make_resident(session, cfg, name="张小三", birth_date=date(1975, 3, 3), household_id="HD1",
                                  sex="M", phone="13911112222")
    wife, _ = make_resident(session, cfg, name="王芳", birth_date=date(1977, 4, 4), household_id="HD1",
                            relation="配偶", phone="13911113333")
    for month in ("2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"):
        session.add(EconomicRecord(resident_id=head.id, kind="income_wage", period=month, amount_fen=monthly_wage_fen,
                                   source="tax", source_date=date(2026, 11, 20)))
    if homes:
        session.add(EconomicRecord(resident_id=head.id, kind="real_estate", quantity=homes, source="real_estate",
                                   source_date=date(2026, 11, 20)))
    if cars:
        session.add(EconomicRecord(resident_id=wife.id, kind="vehicle", quantity=cars, source="vehicles",
                                   source_date=date(2026, 11, 20)))
    session.commit()
    return head, head_id, wife


def test_full_case_with_objection_dismissed_and_county_approval(session, cfg):
    head, _, _ = _household(session, cfg)
    app = cases.apply(session, head, "acct-1", declared_monthly_income_fen=20_000, today=TODAY)
    session.commit()
    assert app.state == "home_visit"
    report = app.prefill["economic_check"]["value"]
    assert [r["member"] for r in report] == ["张*三", "王*"]
    assert report[0]["income"] == {"工资性收入": "3600.00"} and report[0]["assets"] == {"房产": 1}
    assert app.trace[0]["text"].startswith("您家共2人,2026-05至2026-10家庭月人均收入400.00元,含本人申报200.00元/月")
    visit = session.scalars(select(StaffTask).where(StaffTask.kind == "home_visit")).one()
    assert visit.details["checklist"] == list(cases.HOME_VISIT_CHECKLIST)
    deadline = session.scalar(select(StepDeadline).where(StepDeadline.step == "home_visit"))
    assert deadline.due_on == date(2026, 12, 9)  # 10 working days
    # the inbox's due time is the step's limit (it was 14 calendar days from the real clock)
    assert shanghai_date(visit.due_at) == deadline.due_on

    with pytest.raises(Exception, match="checklist"):
        cases.record_home_visit(session, app, "s1", {"居住情况与申报一致": True}, today=date(2026, 11, 30))
    cases.record_home_visit(session, app, "s1", OK, today=date(2026, 11, 30))
    session.flush()

    def open_tasks():  # the step each waits on is a task in somebody's inbox, due on the step's limit
        return {t.kind: shanghai_date(t.due_at) for t in session.scalars(
            select(StaffTask).where(StaffTask.application_id == app.id, StaffTask.state == "open"))}

    review_due = session.scalar(select(StepDeadline.due_on).where(StepDeadline.step == "reviewing"))
    assert open_tasks() == {"street_review": review_due}
    cases.street_review(session, app, "s1", approve=True, today=date(2026, 12, 1))
    session.commit()
    assert open_tasks() == {}
    notice = session.scalars(select(PublicNotice)).one()
    assert (notice.masked_name, notice.amount_fen, notice.ends_on) == ("张*三", 90_000, date(2026, 12, 7))  # Jun–Nov window on 1 Dec
    with pytest.raises(Exception, match="5 to 1000"):  # zero-width characters are no words
        cases.object_to(session, notice, "acct-blank", "\u200b" * 5 + " \u200d", today=date(2026, 12, 3))
    for blank in ("\u3164" * 5, "\u2800" * 5, "\u115f\u1160\u115f\u1160\u115f"):  # letters drawn blank (a probe)
        with pytest.raises(Exception, match="5 to 1000"):
            cases.object_to(session, notice, "acct-blank", blank, today=date(2026, 12, 3))
    objection = cases.object_to(session, notice, "acct-neighbour", "他家有经营收入未申报", today=date(2026, 12, 3))
    with pytest.raises(Exception, match="already objected"):
        cases.object_to(session, notice, "acct-neighbour", "再说一次他家有收入", today=date(2026, 12, 3))
    assert cases.close_notices(session, date(2026, 12, 8)) == 0   # an open objection holds the case
    cases.decide_objection(session, objection, upheld=False)
    assert cases.close_notices(session, date(2026, 12, 8)) == 1
    with pytest.raises(Exception, match="period is over"):
        cases.object_to(session, notice, "acct-late", "过了公示期的异议", today=date(2026, 12, 8))
    assert app.state == "approving"
    session.flush()
    approve_due = session.scalar(select(StepDeadline.due_on).where(StepDeadline.step == "approving"))
    assert open_tasks().get("county_approval") == approve_due and "street_review" not in open_tasks()
    cases.county_decide(session, app, "c1", approve=True, today=date(2026, 12, 10))
    session.commit()
    assert "county_approval" not in open_tasks()
    b = session.scalars(select(Benefit)).one()
    assert (b.program, b.monthly_amount_fen, b.start_month, b.tier) == ("dibao", 90_000, "2027-01", "2p")
    assert app.trace[-1]["code"] == "county_approval"
    assert all(d.done_on and not d.overdue for d in session.scalars(select(StepDeadline)))


def test_economic_check_rejects_with_a_coded_reason_and_text(session, cfg):
    head, _, _ = _household(session, cfg, cars=1)
    app = cases.apply(session, head, "acct-1", today=TODAY)
    session.commit()
    assert (app.state, app.decision) == ("rejected", "vehicle_owned")
    msg = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "rejected")).one()
    assert msg.data["reason_code"] == "vehicle_owned" and "机动车1辆" in msg.data["reason"]


def test_an_upheld_objection_sends_the_case_back_to_a_new_investigation_and_notice(session, cfg):
    """民发〔2021〕57号: an objection that holds → re-investigation (a new home visit), a new opinion, a new full
    notice period on the case's notice; the period's own objections decide its end."""
    head, _, _ = _household(session, cfg)
    app = cases.apply(session, head, "acct-1", today=TODAY)
    cases.record_home_visit(session, app, "s1", OK, today=date(2026, 12, 3))
    cases.street_review(session, app, "s1", approve=True, today=date(2026, 12, 3))
    notice = session.scalars(select(PublicNotice)).one()
    objection = cases.object_to(session, notice, "n1", "隐瞒了房产和收入", today=date(2026, 12, 4))
    cases.decide_objection(session, objection, upheld=True, staff_id="s2", note="入户核实属实", today=date(2026, 12, 5))
    session.flush()
    assert app.state == "home_visit" and notice.state == "closed"
    task = session.scalars(select(StaffTask).where(StaffTask.kind == "home_visit", StaffTask.state == "open")).one()
    assert task.details["reopened_by"] == f"objection:{objection.id}"
    cases.record_home_visit(session, app, "s1", OK, today=date(2026, 12, 8))
    cases.street_review(session, app, "s1", approve=True, today=date(2026, 12, 8))
    session.flush()
    assert session.scalars(select(PublicNotice)).one() is notice
    assert (notice.state, notice.starts_on, notice.ends_on) == ("open", date(2026, 12, 8), date(2026, 12, 14))
    cases.close_notices(session, date(2026, 12, 15))
    assert app.state == "approving", "the earlier period's upheld objection does not decide the new one"


def test_upheld_objection_rejects_and_overdue_steps_are_flagged(session, cfg):
    head, _, _ = _household(session, cfg)
    app = cases.apply(session, head, "acct-1", today=TODAY)
    assert cases.flag_overdue(session, date(2026, 12, 9)) == 0
    assert cases.flag_overdue(session, date(2026, 12, 10)) == 1
    session.commit()
    assert session.scalar(select(StepDeadline).where(StepDeadline.step == "home_visit")).overdue
    cases.record_home_visit(session, app, "s1", OK, today=date(2026, 12, 10))
    cases.street_review(session, app, "s1", approve=True, today=date(2026, 12, 10))
    notice = session.scalars(select(PublicNotice)).one()
    cases.decide_objection(session, cases.object_to(session, notice, "n1", "隐瞒了房产和收入", today=date(2026, 12, 11)),
                           upheld=True)
    cases.close_notices(session, date(2026, 12, 17))
    assert (app.state, app.decision) == ("rejected", "objection_upheld")


def test_public_notices_endpoint_masks_requires_a_street_and_limits(session, cfg, client, wechat, monkeypatch):  # noqa: F811
    from app.api import public_notices

    head, head_id, _ = _household(session, cfg)
    app = cases.apply(session, head, "acct-1")
    cases.record_home_visit(session, app, "s1", OK)
    cases.street_review(session, app, "s1", approve=True)
    session.commit()
    assert client.get("/api/v1/public-notices").status_code == 422
    assert client.get("/api/v1/public-notices?street=12").status_code == 422
    assert client.get("/api/v1/public-notices?street=140105001&page_size=100").status_code == 422
    resp = client.get("/api/v1/public-notices?street=140105001")
    assert resp.status_code == 200
    assert resp.json == [{"id": resp.json[0]["id"], "program": "dibao", "program_name": "城乡最低生活保障",
                          "street_code": "140105001", "name": "张*三", "monthly_amount": resp.json[0]["monthly_amount"],
                          "starts_on": resp.json[0]["starts_on"], "ends_on": resp.json[0]["ends_on"]}]
    body = resp.get_data(as_text=True)
    assert "张小三" not in body and not leaked_id_numbers(body) and head_id[6:14] not in body
    assert client.get("/api/v1/public-notices?street=140105002").json == []
    notice_id = resp.json[0]["id"]
    assert client.post(f"/api/v1/public-notices/{notice_id}/objections", json={"text": "没有登录的异议"}).status_code == 401
    neighbour, n_id = make_resident(session, cfg, name="赵邻居", birth_date=date(1980, 1, 1), phone="13600001111",
                                    household_id="HN")
    c = Citizen(client, wechat)
    assert c.bind("赵邻居", n_id, "13600001111").status_code == 200
    made = c.post(f"/api/v1/public-notices/{notice_id}/objections", json={"text": "他家有经营收入未申报"})
    assert made.status_code == 201 and made.json["state"] == "open"
    assert c.post(f"/api/v1/public-notices/{notice_id}/objections", json={"text": "他家有经营收入未申报"}).status_code == 409
    monkeypatch.setattr(public_notices, "RATE_LIMIT", 3)
    codes = [client.get("/api/v1/public-notices?street=140105001").status_code for _ in range(5)]
    assert codes[-1] == 429
    limited = client.get("/api/v1/public-notices?street=140105001")
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) >= 1 and limited.json["code"] == 429


def test_citizen_starts_a_dibao_application(session, cfg, client, wechat):  # noqa: F811
    head, head_id, _ = _household(session, cfg)
    c = Citizen(client, wechat)
    assert c.post("/api/v1/dibao/applications", json={}).status_code == 403
    assert c.bind("张小三", head_id, "13911112222").status_code == 200
    assert c.post("/api/v1/dibao/applications", json={"declared_monthly_income": "abc"}).status_code == 422
    made = c.post("/api/v1/dibao/applications", json={"declared_monthly_income": "100.00", "declared_note": "零工"})
    assert made.status_code == 201, made.json
    assert made.json["state"] == "home_visit" and made.json["trace"][0]["code"] == "income_per_capita"
    assert "王*(配偶)" in next(f["value"] for f in made.json["fields"] if f["field"] == "household_members")
    assert c.post("/api/v1/dibao/applications", json={}).status_code == 409
    assert session.scalar(select(Application.origin)) == "citizen"
    assert session.scalar(select(Account.id)) is not None
    assert make_account  # builders stay importable


def test_the_program_form_is_declared_served_and_applied_through_the_generic_route(session, cfg, client, wechat):  # noqa: F811
    """The form /m/ renders comes from the program module; the generic route validates it like any input
    (full-width digits accepted, unknown fields refused) and starts the same application as the older route."""
    form = client.get("/api/v1/programs/dibao").json["apply_form"]
    assert form["path"] == "/api/v1/programs/dibao/applications"
    assert [f["name"] for f in form["fields"]] == ["monthly_income", "income_note", "reason"]
    assert form["fields"][0]["kind"] == "amount" and form["texts"]["title"]
    assert client.get("/api/v1/programs/elderly_allowance").json["apply_form"] is None
    head, head_id, _ = _household(session, cfg)
    c = Citizen(client, wechat)
    assert c.bind("张小三", head_id, "13911112222").status_code == 200
    assert c.post("/api/v1/programs/elderly_allowance/applications", json={}).status_code == 404
    assert c.post("/api/v1/programs/nope/applications", json={}).status_code == 404
    bad = c.post("/api/v1/programs/dibao/applications", json={"monthly_income": "1", "salary": "2"})
    assert bad.status_code == 422 and "salary" in str(bad.json["errors"])
    assert c.post("/api/v1/programs/dibao/applications", json={"monthly_income": "٣٠٠"}).status_code == 422
    made = c.post("/api/v1/programs/dibao/applications",
                  json={"monthly_income": "３００.００", "income_note": "零工", "reason": "老伴生病"})
    assert made.status_code == 201, made.json
    declared = {f["field"]: f["value"] for f in made.json["fields"]}
    assert "300" in declared["declared_monthly_income"] and "零工" in declared["declared_note"]
    assert "老伴生病" in declared["declared_note"]
    again = c.post("/api/v1/programs/dibao/applications", json={})
    assert again.status_code == 409 and again.json["error_code"] == "application_in_progress"


def test_a_step_a_colleague_claimed_is_hers_to_do(session, cfg):
    """Found by a probe: a colleague's claim on a 低保 step's task (home visit, street review) did not stop
    another reviewer from doing the step; it does (409 task_not_yours), as for the review of other programs."""
    head, _, _ = _household(session, cfg)
    app = cases.apply(session, head, "acct-1", declared_monthly_income_fen=20_000, today=TODAY)
    session.commit()

    def claim(kind, staff_id):
        task = session.scalars(select(StaffTask).where(StaffTask.kind == kind, StaffTask.state == "open")).one()
        task.claimed_by = staff_id
        session.commit()

    claim("home_visit", "s2")
    with pytest.raises(Exception, match="claimed") as refused:
        cases.record_home_visit(session, app, "s1", OK, today=date(2026, 11, 30))
    assert refused.value.error_code == "task_not_yours"
    session.rollback()
    cases.record_home_visit(session, app, "s2", OK, today=date(2026, 11, 30))
    session.commit()
    claim("street_review", "s2")
    with pytest.raises(Exception, match="claimed"):
        cases.street_review(session, app, "s1", approve=True, today=date(2026, 12, 1))
    session.rollback()
    assert cases.street_review(session, app, "s2", approve=True, today=date(2026, 12, 1)).state == "public_notice"
