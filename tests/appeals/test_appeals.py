"""Appeals (复核, issue 13 item 2) through the HTTP API and the scheduler's CLI: who may appeal, within 60 days,
once per decision; someone other than the original decider decides; upheld re-opens the case (the rule decides
again on corrected data and the benefit starts when it would have) or resumes a stopped benefit; the daily
sweep reminds, urges (催办) and escalates to the supervisors."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.models import Appeal, Application, Benefit, BenefitChange, OutboxMessage, StaffTask
from flows import workdays
from flows.dates import today_shanghai
from tests.authz import helpers as h

STREET, COMMUNITY = "140105001", "140105001001"
REASON = "复核后认定原决定所依据的户籍信息有误，应予纠正。"


def _rejected(session, resident, staff_id: str | None, days_ago: int = 5, program="elderly_allowance",
              period="once", state="rejected"):
    """An application refused `days_ago` days ago, by a staff member when `staff_id` is given."""
    trace = [{"code": "age", "passed": False, "value": "79", "source": "hukou", "text": "未满80周岁"}]
    if staff_id:
        trace.append({"code": "staff_review", "passed": False, "value": "rule_not_met", "source": "staff",
                      "staff_id": staff_id, "source_date": today_shanghai().isoformat(), "text": "工作人员审核未通过"})
    a = Application(program=program, resident_id=resident.id, state=state, decision="rule_not_met", period=period,
                    as_of=today_shanghai() - timedelta(days=days_ago + 30), prefill={}, trace=trace,
                    decided_at=utcnow() - timedelta(days=days_ago))
    session.add(a)
    session.commit()
    return a


def _messages(session, resident_id, kind="appeal_update") -> list[dict]:
    session.expire_all()
    return [m.data for m in session.scalars(select(OutboxMessage).where(OutboxMessage.resident_id == resident_id,
                                                                        OutboxMessage.kind == kind))]


def test_an_appeal_goes_to_someone_else_and_upheld_starts_the_benefit_from_when_it_was_due(cfg, session, client):
    resident, account, _ = h.person(session, cfg, "李秀英", birth=date(1940, 5, 1), street=STREET, community=COMMUNITY)
    citizen = h.headers_for(session, cfg, account)
    alice_row, alice = h.staff(session, cfg, "reviewer", street=STREET)
    _, bob = h.staff(session, cfg, "reviewer", street=STREET)
    _, clerk = h.staff(session, cfg, "clerk", street=STREET)
    application = _rejected(session, resident, alice_row.id)

    reasons = client.get("/api/v1/appeals/reasons")
    assert reasons.status_code == 200 and "facts_wrong" in {r["code"] for r in reasons.json}
    made = client.post("/api/v1/appeals", headers=citizen, json={"application_id": application.id,
                                                                  "reason_code": "facts_wrong",
                                                                  "comment": "我1940年出生，已满80周岁"})
    assert made.status_code == 201, made.json
    appeal = made.json
    until = client.get(f"/api/v1/applications/{application.id}", headers=citizen).json["appeal_until"]
    assert today_shanghai() + timedelta(days=54) <= date.fromisoformat(until) <= today_shanghai() + timedelta(days=56)
    assert appeal["state"] == "received" and appeal["filed_via"] == "owner"
    assert date.fromisoformat(appeal["due_on"]) == workdays.add_working_days(today_shanghai(), 20)
    assert "行政复议" in appeal["remedies"] and "行政诉讼" in appeal["remedies"]
    again = client.post("/api/v1/appeals", headers=citizen, json={"application_id": application.id,
                                                                   "reason_code": "other"})
    assert again.status_code == 409 and again.json["error_code"] == "appeal_exists"
    assert [a["id"] for a in client.get("/api/v1/appeals", headers=citizen).json] == [appeal["id"]]
    assert "received" in {m["event"] for m in _messages(session, resident.id)}

    task = session.scalars(select(StaffTask).where(StaffTask.kind == "appeal")).one()
    pool = {t["id"] for t in client.get("/api/v1/staff/inbox", headers=bob).json}
    assert task.id in pool
    assert task.id not in {t["id"] for t in client.get("/api/v1/staff/inbox", headers=clerk).json}
    own = client.post(f"/api/v1/staff/tasks/{task.id}/claim", headers=alice)
    assert own.status_code == 403 and own.json["error_code"] == "original_decider"
    refused = client.post(f"/api/v1/staff/appeals/{appeal['id']}/decision", headers=alice,
                          json={"outcome": "upheld", "reason": REASON})
    assert refused.status_code == 403 and refused.json["error_code"] == "original_decider"
    by_clerk = client.post(f"/api/v1/staff/appeals/{appeal['id']}/decision", headers=clerk,
                           json={"outcome": "upheld", "reason": REASON})
    assert by_clerk.status_code == 403

    assert client.post(f"/api/v1/staff/tasks/{task.id}/claim", headers=bob).status_code == 200
    assert client.get(f"/api/v1/appeals/{appeal['id']}", headers=citizen).json["state"] == "reviewing"
    short = client.post(f"/api/v1/staff/appeals/{appeal['id']}/decision", headers=bob,
                        json={"outcome": "upheld", "reason": "好"})
    assert short.status_code == 422
    decided = client.post(f"/api/v1/staff/appeals/{appeal['id']}/decision", headers=bob,
                          json={"outcome": "upheld", "reason": REASON})
    assert decided.status_code == 200, decided.json
    assert decided.json["state"] == "decided" and decided.json["outcome"] == "upheld"
    twice = client.post(f"/api/v1/staff/appeals/{appeal['id']}/decision", headers=bob,
                        json={"outcome": "rejected", "reason": REASON})
    assert twice.status_code == 409 and twice.json["error_code"] == "appeal_decided"

    session.expire_all()
    assert session.get(Application, application.id).state == "approved"
    benefit = session.scalars(select(Benefit).where(Benefit.resident_id == resident.id)).one()
    assert benefit.state == "active" and benefit.start_month <= application.as_of.isoformat()[:7] + "~"
    seen = client.get(f"/api/v1/appeals/{appeal['id']}", headers=citizen).json
    assert seen["outcome"] == "upheld" and seen["decision_reason"] == REASON and seen["outcome_text"]
    decided_text = next(m["text"] for m in _messages(session, resident.id) if m["event"] == "decided")
    assert "行政复议" in decided_text and REASON.rstrip("。") in decided_text
    assert session.get(StaffTask, task.id).state == "done"
    # a new appeal of the same decision is possible once the first is decided (one OPEN appeal per decision)
    assert session.scalar(select(Appeal).where(Appeal.state == "decided")) is not None


def test_who_may_appeal_and_when(cfg, session, client):
    resident, account, _ = h.person(session, cfg, "王大爷", birth=date(1940, 5, 1), street=STREET)
    stranger_res, stranger_acc, _ = h.person(session, cfg, "路人", street=STREET)
    viewer_res, viewer_acc, _ = h.person(session, cfg, "王二", street=STREET)
    helper_res, helper_acc, _ = h.person(session, cfg, "王丽", street=STREET)
    h.grant(session, resident, viewer_acc, viewer_res, scopes=("view",))
    h.grant(session, resident, helper_acc, helper_res, scopes=("view", "confirm"))
    rejected = _rejected(session, resident, None)
    body = {"application_id": rejected.id, "reason_code": "facts_wrong"}

    stranger = client.post("/api/v1/appeals", headers=h.headers_for(session, cfg, stranger_acc), json=body)
    assert stranger.status_code == 404
    viewer = client.post("/api/v1/appeals", headers=h.headers_for(session, cfg, viewer_acc), json=body)
    assert viewer.status_code == 403
    helper_headers = h.headers_for(session, cfg, helper_acc)
    for bad in ({"reason_code": "facts_wrong"}, {**body, "benefit_id": "x"}, {**body, "reason_code": "because"},
                {**body, "comment": "x" * 1001}, {**body, "extra": 1}, {**body, "comment": "a\x00b"}):
        refused = client.post("/api/v1/appeals", headers=helper_headers, json=bad)
        assert refused.status_code == 422, (bad, refused.json)
    made = client.post("/api/v1/appeals", headers=helper_headers, json=body)
    assert made.status_code == 201 and made.json["filed_via"] == "proxy"
    assert client.get(f"/api/v1/appeals/{made.json['id']}",
                      headers=h.headers_for(session, cfg, stranger_acc)).status_code == 404
    # shown to the resident: the proxy's appeal is in her feed
    feed = client.get("/api/v1/me/activity", headers=h.headers_for(session, cfg, account))
    assert feed.status_code == 200 and "提出了复核申请" in {e["what"] for e in feed.json}
    # her proxy's reads of the appeal are in her feed too, one entry each
    assert client.get(f"/api/v1/appeals/{made.json['id']}", headers=helper_headers).status_code == 200
    assert [a["id"] for a in client.get("/api/v1/appeals", headers=helper_headers).json] == [made.json["id"]]
    feed = client.get("/api/v1/me/activity", headers=h.headers_for(session, cfg, account)).json
    assert [e["what"] for e in feed].count("查看了复核申请") == 1
    assert [e["what"] for e in feed].count("查看了复核申请列表") == 1
    withdrawn = client.post(f"/api/v1/appeals/{made.json['id']}/withdraw", headers=helper_headers)
    assert withdrawn.status_code == 200 and withdrawn.json["outcome"] == "withdrawn"
    assert client.post(f"/api/v1/appeals/{made.json['id']}/withdraw", headers=helper_headers).status_code == 200
    feed = client.get("/api/v1/me/activity", headers=h.headers_for(session, cfg, account)).json
    assert [e["what"] for e in feed].count("撤回了复核申请") == 1  # the repeat answered the same, recorded nothing

    late = _rejected(session, resident, None, days_ago=61, period="2026-08")
    over = client.post("/api/v1/appeals", headers=helper_headers, json={**body, "application_id": late.id})
    assert over.status_code == 409 and over.json["error_code"] == "appeal_period_over"
    open_one = _rejected(session, resident, None, period="2026-09", state="proposed")
    undecided = client.post("/api/v1/appeals", headers=helper_headers, json={**body, "application_id": open_one.id})
    assert undecided.status_code == 409 and undecided.json["error_code"] == "not_decided"


def test_at_the_counter_a_clerk_records_the_appeal_and_the_resident_sees_it(cfg, session, client):
    resident, account, _ = h.person(session, cfg, "赵奶奶", birth=date(1940, 5, 1), street=STREET)
    _, clerk = h.staff(session, cfg, "clerk", street=STREET)
    _, elsewhere = h.staff(session, cfg, "clerk", street="140105002")
    rejected = _rejected(session, resident, None)
    body = {"application_id": rejected.id, "reason_code": "facts_wrong", "consent": "signed_slip"}
    assert client.post("/api/v1/staff/appeals", headers=elsewhere, json=body).status_code == 404
    assert client.post("/api/v1/staff/appeals", headers=clerk,
                       json={**body, "consent": "nodded"}).status_code == 422
    made = client.post("/api/v1/staff/appeals", headers=clerk, json=body)
    assert made.status_code == 201 and made.json["filed_via"] == "counter"
    mine = client.get("/api/v1/appeals", headers=h.headers_for(session, cfg, account)).json
    assert [a["id"] for a in mine] == [made.json["id"]]
    feed = client.get("/api/v1/me/activity", headers=h.headers_for(session, cfg, account))
    assert "在窗口代为登记了复核申请" in {e["what"] for e in feed.json}


def test_an_upheld_appeal_of_a_stop_resumes_the_benefit(cfg, session, client):
    resident, account, _ = h.person(session, cfg, "钱爷爷", birth=date(1940, 5, 1), street=STREET)
    _, bob = h.staff(session, cfg, "reviewer", street=STREET)
    benefit = Benefit(program="elderly_allowance", resident_id=resident.id, tier="80-89", monthly_amount_fen=10000,
                      start_month="2026-01", end_month="2026-09", state="stopped")
    session.add(benefit)
    session.flush()
    session.add(BenefitChange(benefit_id=benefit.id, change_key="stop:moved_out", kind="stopped",
                              effective_month="2026-10", reason="moved_out", as_of=today_shanghai() - timedelta(days=3),
                              trace=[]))
    session.commit()
    citizen = h.headers_for(session, cfg, account)
    listed = client.get("/api/v1/benefits", headers=citizen).json  # /m/ offers 申请复核 until this day
    assert listed[0]["appeal_until"] == (today_shanghai() - timedelta(days=3) + timedelta(days=60)).isoformat()
    made = client.post("/api/v1/appeals", headers=citizen, json={"benefit_id": benefit.id,
                                                                  "reason_code": "facts_wrong"})
    assert made.status_code == 201, made.json
    decided = client.post(f"/api/v1/staff/appeals/{made.json['id']}/decision", headers=bob,
                          json={"outcome": "partially_upheld", "reason": REASON})
    assert decided.status_code == 200, decided.json
    session.expire_all()
    row = session.get(Benefit, benefit.id)
    assert row.state == "active" and row.end_month is None
    assert _messages(session, resident.id, "benefit_resumed")


def test_the_daily_sweep_reminds_urges_and_escalates(cfg, session, client, cli):
    resident, account, _ = h.person(session, cfg, "孙阿姨", birth=date(1940, 5, 1), street=STREET)
    _, supervisor = h.staff(session, cfg, "supervisor", street=STREET)
    _, reviewer = h.staff(session, cfg, "reviewer", street=STREET)
    rejected = _rejected(session, resident, None)
    citizen = h.headers_for(session, cfg, account)
    made = client.post("/api/v1/appeals", headers=citizen,
                       json={"application_id": rejected.id, "reason_code": "procedure"})
    due = date.fromisoformat(made.json["due_on"])

    def run(day):
        done = cli("scheduler", "run-once", "--as-of", day.isoformat())
        assert done.exit_code == 0, done.output
        session.expire_all()
        return session.scalars(select(Appeal)).one()

    early = run(today_shanghai())
    assert early.reminded_on is None and early.urged_on is None
    before = workdays.add_working_days(today_shanghai(), 18)
    reminded = run(before)
    assert reminded.reminded_on == before and reminded.urged_on is None
    task = session.scalars(select(StaffTask).where(StaffTask.kind == "appeal")).one()
    assert task.details["reminded_on"] == before.isoformat()

    def seen(task_id):  # what the pool (nobody has claimed it), the appeal page and the resident see
        row = next(t for t in client.get("/api/v1/staff/inbox", headers=reviewer).json if t["id"] == task_id)
        staff_view = client.get(f"/api/v1/staff/appeals/{made.json['id']}", headers=reviewer).json
        mine = client.get(f"/api/v1/appeals/{made.json['id']}", headers=citizen).json
        return row, staff_view, mine

    for shown in seen(task.id):
        assert (shown["reminded_on"], shown["urged_on"], shown["escalated_on"]) == (before.isoformat(), None, None)
    urged = run(due + timedelta(days=1))
    assert urged.urged_on == due + timedelta(days=1) and urged.escalated_on is None
    for shown in seen(task.id):
        assert (shown["reminded_on"], shown["urged_on"]) == (before.isoformat(), urged.urged_on.isoformat())
    assert client.get("/api/v1/staff/inbox", headers=supervisor).json == []
    late = workdays.add_working_days(due, 3)
    escalated = run(late)
    assert escalated.escalated_on == late
    pool = client.get("/api/v1/staff/inbox", headers=supervisor).json
    assert [t["kind"] for t in pool] == ["appeal_overdue"]
    assert "escalated" in {m["event"] for m in _messages(session, resident.id)}
    board = client.get("/api/v1/staff/supervision", headers=supervisor)
    assert board.status_code == 200, board.json
    office = next(r for r in board.json["appeals"] if r["office"] == STREET)
    assert office["received"] == 1 and office["overdue"] == (1 if today_shanghai() > due else 0)
    again = run(late + timedelta(days=1))  # idempotent: nothing twice
    assert again.escalated_on == late
    session.expire_all()
    assert len(session.scalars(select(StaffTask).where(StaffTask.kind == "appeal_overdue")).all()) == 1


def test_an_upheld_appeal_of_a_stop_is_paid_with_arrears_by_the_next_roll(cfg, session, client, cli):
    """The stop was wrong: the benefit resumes from the month it stopped, and the next monthly roll pays the
    months since as arrears (flows.appeals `_resume` → flows.payroll), seen by the resident among her payments."""
    from tests.payroll.test_payroll import _account

    resident, account, _ = h.person(session, cfg, "周奶奶", birth=date(1940, 5, 1), street=STREET)
    _account(session, cfg, resident)
    _, bob = h.staff(session, cfg, "reviewer", street=STREET)
    benefit = Benefit(program="elderly_allowance", resident_id=resident.id, tier="80-89", monthly_amount_fen=10000,
                      start_month="2026-09", state="active")
    session.add(benefit)
    session.commit()
    paid = cli("payroll", "--month", "2026-09", "--close", "--as-of", "2026-09-05")
    assert paid.exit_code == 0, paid.output
    session.expire_all()
    benefit = session.get(Benefit, benefit.id)
    benefit.state, benefit.end_month = "stopped", "2026-09"  # stopped from October (moved out, wrongly)
    session.add(BenefitChange(benefit_id=benefit.id, change_key="stop:moved_out", kind="stopped",
                              effective_month="2026-10", reason="moved_out", as_of=today_shanghai() - timedelta(days=10),
                              trace=[]))
    session.commit()
    stopped = cli("payroll", "--month", "2026-10", "--close", "--as-of", "2026-10-05")
    assert stopped.exit_code == 0 and " lines=0 " in f" {stopped.stdout.strip().splitlines()[-1]} ", stopped.output

    citizen = h.headers_for(session, cfg, account)
    made = client.post("/api/v1/appeals", headers=citizen, json={"benefit_id": benefit.id, "reason_code": "facts_wrong",
                                                                  "comment": "我没有迁出"})
    assert made.status_code == 201, made.json
    decided = client.post(f"/api/v1/staff/appeals/{made.json['id']}/decision", headers=bob,
                          json={"outcome": "upheld", "reason": REASON})
    assert decided.status_code == 200, decided.json
    assert client.get("/api/v1/benefits", headers=citizen).json[0]["state"] == "active"

    rolled = cli("payroll", "--month", "2026-12", "--close", "--as-of", "2026-12-05")
    assert rolled.exit_code == 0, rolled.output
    payments = client.get(f"/api/v1/benefits/{benefit.id}/payments", headers=citizen)
    assert payments.status_code == 200, payments.json
    december = payments.json[0]
    assert december["month"] == "2026-12" and december["amount"] == "100.00"
    assert december["arrears"] == "200.00" and december["total"] == "300.00"  # October and November
    assert (december["covered_from"], december["covered_to"]) == ("2026-10", "2026-12")


def test_the_limit_and_the_filing_period_are_operator_settings(cfg, session, db_url, session_dir):
    import os

    from app import create_app
    from app.config import ConfigError, load_config

    base = {"database_url": db_url, "testing": True, "audit_anchor_path": str(session_dir / "anchors.jsonl")}
    for env in ({"ZEROTRIP_APPEAL_LIMIT_WORKING_DAYS": "4"}, {"ZEROTRIP_APPEAL_LIMIT_WORKING_DAYS": "61"},
                {"ZEROTRIP_APPEAL_LIMIT_WORKING_DAYS": "twenty"}, {"ZEROTRIP_APPEAL_FILING_DAYS": "1000"}):
        with pytest.raises(ConfigError, match=next(iter(env))):
            load_config(base, environ={**os.environ, **env})
    assert load_config(base, environ=dict(os.environ)).appeal_limit_working_days == 20
    changed = load_config(base, environ={**os.environ, "ZEROTRIP_APPEAL_LIMIT_WORKING_DAYS": "10",
                                         "ZEROTRIP_APPEAL_FILING_DAYS": "30"})
    client = create_app(changed).test_client()
    resident, account, _ = h.person(session, cfg, "吴大爷", birth=date(1940, 5, 1), street=STREET)
    citizen = h.headers_for(session, cfg, account)
    recent = _rejected(session, resident, None, days_ago=5)
    made = client.post("/api/v1/appeals", headers=citizen, json={"application_id": recent.id,
                                                                  "reason_code": "facts_wrong"})
    assert made.status_code == 201, made.json
    assert date.fromisoformat(made.json["due_on"]) == workdays.add_working_days(today_shanghai(), 10)
    older = _rejected(session, resident, None, days_ago=40, period="2026-08")  # within 60 days, not within 30
    late = client.post("/api/v1/appeals", headers=citizen, json={"application_id": older.id,
                                                                  "reason_code": "facts_wrong"})
    assert late.status_code == 409 and late.json["error_code"] == "appeal_period_over"


def test_a_proxy_with_confirm_appeals_a_stopped_benefit_for_the_person_she_helps(cfg, session, client):
    resident, account, _ = h.person(session, cfg, "郑奶奶", birth=date(1940, 5, 1), street=STREET)
    viewer_res, viewer_acc, _ = h.person(session, cfg, "郑二", street=STREET)
    helper_res, helper_acc, _ = h.person(session, cfg, "郑丽", street=STREET)
    stranger_res, stranger_acc, _ = h.person(session, cfg, "路人甲", street=STREET)
    h.grant(session, resident, viewer_acc, viewer_res, scopes=("view",))
    helping = h.grant(session, resident, helper_acc, helper_res, scopes=("view", "confirm"))
    benefit = Benefit(program="elderly_allowance", resident_id=resident.id, tier="80-89", monthly_amount_fen=10000,
                      start_month="2026-01", end_month="2026-09", state="stopped")
    old = Benefit(program="disability_allowance", resident_id=resident.id, tier="1", monthly_amount_fen=5000,
                  start_month="2025-01", end_month="2025-06", state="stopped")
    session.add_all([benefit, old])
    session.flush()
    session.add_all([BenefitChange(benefit_id=benefit.id, change_key="stop:moved_out", kind="stopped",
                                   effective_month="2026-10", reason="moved_out",
                                   as_of=today_shanghai() - timedelta(days=3), trace=[]),
                     BenefitChange(benefit_id=old.id, change_key="stop:moved_out", kind="stopped",
                                   effective_month="2025-07", reason="moved_out",
                                   as_of=today_shanghai() - timedelta(days=200), trace=[])])
    session.commit()
    helper = h.headers_for(session, cfg, helper_acc)
    listed = {b["id"]: b["appeal_until"] for b in client.get(f"/api/v1/benefits?subject={helping.id}",
                                                            headers=helper).json}
    assert listed[benefit.id] and listed[old.id] is None  # the stop 200 days ago can no longer be appealed
    body = {"benefit_id": benefit.id, "reason_code": "facts_wrong"}
    assert client.post("/api/v1/appeals", headers=h.headers_for(session, cfg, stranger_acc), json=body).status_code \
        == 404
    assert client.post("/api/v1/appeals", headers=h.headers_for(session, cfg, viewer_acc), json=body).status_code \
        == 403
    late = client.post("/api/v1/appeals", headers=helper, json={**body, "benefit_id": old.id})
    assert late.status_code == 409 and late.json["error_code"] == "appeal_period_over"
    made = client.post("/api/v1/appeals", headers=helper, json=body)
    assert made.status_code == 201 and made.json["filed_via"] == "proxy" and made.json["benefit_id"] == benefit.id
    mine = client.get("/api/v1/appeals", headers=h.headers_for(session, cfg, account)).json
    assert [a["id"] for a in mine] == [made.json["id"]]


def test_neither_investigator_of_the_home_visit_decides_the_appeal(cfg, session, client):
    """Both people at the door are on the decision appealed (the visit's `second_staff_id` too)."""
    resident, account, _ = h.person(session, cfg, "陈建国", birth=date(1940, 5, 1), street=STREET, community=COMMUNITY)
    first_row, first = h.staff(session, cfg, "reviewer", street=STREET)
    second_row, second = h.staff(session, cfg, "reviewer", street=STREET)
    _, other = h.staff(session, cfg, "reviewer", street=STREET)
    application = _rejected(session, resident, None)
    application.trace = [*application.trace, {"code": "home_visit", "passed": True, "source": "staff",
                                               "staff_id": first_row.id, "second_staff_id": second_row.id,
                                               "text": "入户调查"}]
    session.commit()
    made = client.post("/api/v1/appeals", headers=h.headers_for(session, cfg, account),
                       json={"application_id": application.id, "reason_code": "facts_wrong"})
    assert made.status_code == 201, made.json
    task = session.scalars(select(StaffTask).where(StaffTask.kind == "appeal")).one()
    for investigator in (first, second):
        claim = client.post(f"/api/v1/staff/tasks/{task.id}/claim", headers=investigator)
        assert claim.status_code == 403 and claim.json["error_code"] == "original_decider"
        decide = client.post(f"/api/v1/staff/appeals/{made.json['id']}/decision", headers=investigator,
                             json={"outcome": "rejected", "reason": REASON})
        assert decide.status_code == 403 and decide.json["error_code"] == "original_decider"
    assert client.post(f"/api/v1/staff/tasks/{task.id}/claim", headers=other).status_code == 200
