"""Each lifecycle event end to end on the database: tier raise, death, move-out, certificate expiry,
reminders and the community worker's task — and a re-run that touches nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.errors import Forbidden
from app.models import Application, Benefit, BenefitChange, OutboxMessage, StaffTask, StepDeadline
from flows import casework
from flows.lifecycle.jobs import run_daily
from flows.programs.disability_care_subsidy.scan import scan_disability
from flows.programs.elderly_allowance.scan import scan_turning_80
from tests.api.conftest import wechat, wechat_server  # noqa: F401  (fixtures)
from tests.builders import make_resident
from tests.lifecycle.helpers import benefit, certificate, move_out


def _count(session, model, *where):
    return session.scalar(select(func.count()).select_from(model).where(*where))


def _messages(session, kind):
    return session.scalars(select(OutboxMessage).where(OutboxMessage.kind == kind)).all()


def test_tier_raise_at_90_from_the_month_after_without_confirmation(session, cfg):
    person, _ = make_resident(session, cfg, birth_date=date(1936, 11, 20))
    b = benefit(session, person)
    assert run_daily(cfg, date(2026, 11, 19)).counts["tier_raised_90"] == 0
    assert run_daily(cfg, date(2026, 11, 20)).counts["tier_raised_90"] == 1
    session.expire_all()
    b = session.get(Benefit, b.id)
    assert (b.tier, b.monthly_amount_fen) == ("90-99", 10000)
    change = session.scalars(select(BenefitChange)).one()
    assert (change.effective_month, change.old_amount_fen, change.kind) == ("2026-12", 5000, "tier_raised")
    assert change.trace[0]["code"] == "age" and change.trace[0]["birth_date"] == "1936-11-20"
    msg = _messages(session, "tier_raised")
    assert [m.idempotency_key for m in msg] == [f"benefit:{b.id}:tier_raised:90-99"]
    assert msg[0].data["monthly_amount"] == "100.00" and msg[0].data["effective_month"] == "2026-12"
    again = run_daily(cfg, date(2026, 11, 20))
    assert not any(again.counts.values())
    assert _count(session, OutboxMessage) == 1


def test_tier_raise_to_100_for_a_leap_day_birth(session, cfg):
    person, _ = make_resident(session, cfg, birth_date=date(1928, 2, 29))   # 100 on 29 Feb 2028
    b = benefit(session, person, tier="90-99", fen=10000)
    run_daily(cfg, date(2028, 2, 28))
    assert _count(session, BenefitChange) == 0
    run_daily(cfg, date(2028, 2, 29))
    session.expire_all()
    assert session.get(Benefit, b.id).tier == "100+"
    assert session.scalars(select(BenefitChange)).one().effective_month == "2028-03"


def test_death_stops_from_the_month_after_and_tells_the_family(session, cfg):
    person, _ = make_resident(session, cfg, birth_date=date(1940, 1, 1))
    b = benefit(session, person)
    proposal_holder, _ = make_resident(session, cfg, name="王", birth_date=date(1946, 11, 1))
    scan_turning_80(cfg, date(2026, 11, 10))
    person.death_date = date(2026, 11, 15)
    proposal_holder.death_date = date(2026, 11, 16)
    session.commit()
    counts = run_daily(cfg, date(2026, 11, 20)).counts
    assert counts["stopped_death"] == 1 and counts["expired_death"] == 1
    session.expire_all()
    b = session.get(Benefit, b.id)
    assert (b.state, b.end_month) == ("stopped", "2026-11")
    # one 身后一件事 message per deceased whose benefits stopped (not one per benefit); its content is built at
    # send time (tests/e2e/test_funeral_subsidy.py)
    assert _messages(session, "benefit_stopped") == []
    (msg,) = _messages(session, "after_death")
    assert msg.resident_id == person.id and msg.data["reason"] == "death"
    assert session.scalars(select(Application)).one().state == "expired"
    assert _messages(session, "reminder") == []
    assert not any(run_daily(cfg, date(2026, 11, 20)).counts.values())


def test_move_out_suspends_from_the_month_after_the_move(session, cfg):
    person, _ = make_resident(session, cfg, birth_date=date(1940, 1, 1))
    b = benefit(session, person)
    move_out(session, person, date(2026, 10, 31))
    assert run_daily(cfg, date(2026, 11, 2)).counts["suspended_move"] == 1
    session.expire_all()
    b = session.get(Benefit, b.id)
    assert (b.state, b.end_month) == ("suspended", "2026-10")
    msg = _messages(session, "benefit_stopped")[0]
    assert msg.data["reason"] == "moved_out" and msg.data["effective_month"] == "2026-11"
    assert not any(run_daily(cfg, date(2026, 11, 3)).counts.values())


def test_certificate_expiry_stops_the_disability_subsidy(session, cfg):
    person, number = make_resident(session, cfg, birth_date=date(1970, 1, 1))
    certificate(session, cfg, person, number, grade=2, expiry=date(2026, 11, 30))
    b = benefit(session, person, program="disability_care_subsidy", tier="grade2", fen=8000)
    assert run_daily(cfg, date(2026, 11, 30)).counts["stopped_certificate"] == 0
    assert run_daily(cfg, date(2026, 12, 1)).counts["stopped_certificate"] == 1
    session.expire_all()
    assert (session.get(Benefit, b.id).state, session.get(Benefit, b.id).end_month) == ("stopped", "2026-11")
    assert _messages(session, "benefit_stopped")[0].data["reason"] == "certificate_expired"


def test_reminders_on_day_3_and_10_then_a_home_help_task(session, cfg):
    make_resident(session, cfg, birth_date=date(1946, 11, 1), phone=None)
    scan_turning_80(cfg, date(2026, 11, 1))
    app = session.scalars(select(Application)).one()
    assert run_daily(cfg, date(2026, 11, 3)).counts["reminders_day3"] == 0
    assert run_daily(cfg, date(2026, 11, 4)).counts["reminders_day3"] == 1
    assert run_daily(cfg, date(2026, 11, 11)).counts["reminders_day10"] == 1
    assert [m.idempotency_key for m in _messages(session, "reminder")] == [
        f"application:{app.id}:reminder:3", f"application:{app.id}:reminder:10"]
    assert run_daily(cfg, date(2026, 11, 14)).counts["home_help_tasks"] == 0
    assert run_daily(cfg, date(2026, 11, 15)).counts["home_help_tasks"] == 1
    assert run_daily(cfg, date(2026, 11, 16)).counts["home_help_tasks"] == 0
    task = session.scalars(select(StaffTask)).one()
    assert (task.kind, task.street_code, task.details["reason"]) == ("home_help", "140105001", "proposal_unanswered")
    assert len(_messages(session, "home_visit_scheduled")) == 1
    casework.complete_home_help(session, task, "confirmed", "staff-1", today=date(2026, 11, 17))
    session.commit()
    session.expire_all()
    app = session.get(Application, app.id)
    assert app.state == "approved" and app.confirmed_by == "staff:staff-1"
    assert session.get(StaffTask, task.id).state == "done"


def test_disability_proposal_confirm_review_approve(session, cfg):
    person, number = make_resident(session, cfg, birth_date=date(1970, 1, 1))
    certificate(session, cfg, person, number, grade=1, issue=date(2026, 11, 10))
    other, number2 = make_resident(session, cfg, name="赵", birth_date=date(1971, 1, 1))
    certificate(session, cfg, other, number2, grade=3)
    assert scan_disability(cfg, "disability_care_subsidy", date(2026, 11, 25)).proposed == 1
    assert scan_disability(cfg, "disability_care_subsidy", date(2026, 11, 25)).skipped
    assert scan_disability(cfg, "disability_living_subsidy", date(2026, 11, 25)).proposed == 0
    app = session.scalars(select(Application)).one()
    assert app.prefill["disability_grade"] == {"value": 1, "source": "disabled_persons_federation",
                                                "source_date": "2026-11-25"}
    assert app.prefill["monthly_amount"]["value"] == "100.00" and app.prefill["start_month"]["value"] == "2026-12"
    assert number[1:17] not in str(app.prefill)
    casework.confirm(session, app, "acct-1", today=date(2026, 11, 26))
    session.commit()
    assert app.state == "reviewing"
    deadline = session.scalars(select(StepDeadline)).one()
    assert (deadline.step, deadline.due_on) == ("review", date(2026, 12, 3))
    assert [a.id for a, _ in session.execute(casework.review_queue(session, "140105001"))] == [app.id]
    casework.review(session, app, "staff-1", approve=True, today=date(2026, 11, 27))
    session.commit()
    # reviewed, not decided: the approval is due within its own working days, by someone else
    assert app.state == "approving" and session.scalars(select(Benefit)).all() == []
    assert [(d.step, d.done_on) for d in session.scalars(select(StepDeadline).order_by(StepDeadline.started_on))] \
        == [("review", date(2026, 11, 27)), ("approve", None)]
    with pytest.raises(Forbidden):
        casework.approve(session, app, "staff-1", approve=True, today=date(2026, 11, 30))
    casework.approve(session, app, "staff-2", approve=True, today=date(2026, 11, 30))
    session.commit()
    b = session.scalars(select(Benefit)).one()
    assert (b.program, b.tier, b.monthly_amount_fen, b.start_month) == ("disability_care_subsidy", "grade1", 10000,
                                                                         "2026-12")
    assert [e["code"] for e in app.trace[-2:]] == ["staff_review", "staff_approval"]
    assert len(_messages(session, "approved")) == 1


def test_living_subsidy_needs_dibao_in_the_household_and_review_can_reject(session, cfg):
    head, _ = make_resident(session, cfg, birth_date=date(1960, 1, 1), household_id="H9")
    son, number = make_resident(session, cfg, name="李强", birth_date=date(1990, 1, 1), household_id="H9",
                                relation="子", sex="M")
    certificate(session, cfg, son, number, grade=4)
    benefit(session, head, program="dibao", tier="2p", fen=60000)
    assert scan_disability(cfg, "disability_living_subsidy", date(2026, 11, 25)).proposed == 1
    app = session.scalars(select(Application)).one()
    assert app.prefill["dibao_household"] == {"value": True, "source": "dibao_registry", "source_date": "2026-11-25"}
    casework.confirm(session, app, "acct", today=date(2026, 11, 25))
    casework.review(session, app, "staff-2", approve=False, reason_code="data_inconsistent", note="户籍与残联不一致",
                    today=date(2026, 11, 26))
    session.commit()
    assert (app.state, app.decision) == ("rejected", "data_inconsistent")
    msg = _messages(session, "rejected")[0]
    assert msg.data["reason_code"] == "data_inconsistent" and "部门共享数据存在矛盾" in msg.data["reason"]


def test_the_living_subsidy_stops_when_the_household_leaves_dibao_with_the_rule_s_condition(session, cfg):
    head, _ = make_resident(session, cfg, birth_date=date(1960, 1, 1), household_id="H9")
    son, number = make_resident(session, cfg, name="李强", birth_date=date(1990, 1, 1), household_id="H9",
                                relation="子", sex="M")
    certificate(session, cfg, son, number, grade=4)
    benefit(session, head, program="dibao", tier="2p", fen=60000, state="stopped")
    paid = benefit(session, son, program="disability_living_subsidy", tier="grade4", fen=6000)
    assert run_daily(cfg, date(2026, 11, 25)).counts["stopped_dibao_ended"] == 1
    change = session.scalars(select(BenefitChange).where(BenefitChange.benefit_id == paid.id)).one()
    assert (change.reason, change.effective_month) == ("dibao_ended", "2026-12")
    assert change.trace == [{"code": "dibao_household", "passed": False, "value": "false", "source": "dibao_registry",
                             "source_date": "2026-11-25"}]
    assert run_daily(cfg, date(2026, 11, 25)).counts.get("stopped_dibao_ended", 0) == 0


def test_a_disability_proposal_confirmed_over_http_goes_to_review(session, cfg, client, wechat):  # noqa: F811
    from tests.api.conftest import Citizen

    person, number = make_resident(session, cfg, name="钱残", birth_date=date(1970, 1, 1), phone="13600002222")
    certificate(session, cfg, person, number, grade=2)
    scan_disability(cfg, "disability_care_subsidy", date(2026, 11, 25))
    app_id = session.scalar(select(Application.id))
    c = Citizen(client, wechat)
    assert c.bind("钱残", number, "13600002222").status_code == 200
    resp = c.post(f"/api/v1/applications/{app_id}/confirm")
    assert resp.status_code == 200 and resp.json["state"] == "reviewing"
    assert any("肢体残疾二级" in t["text"] for t in resp.json["trace"])
    assert number[1:17] not in resp.get_data(as_text=True)
