"""Decisions in writing and their delivery (送达, issue 12 item 5): recording a letter as sent, the overdue flag on
the test clock, the stop letter (停发) and delivery through the resident's channel."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.db import utcnow
from app.models import AuditEvent, BenefitChange, LetterDelivery, OutboxMessage
from flows import workdays
from flows.dates import today_shanghai
from flows.lifecycle.jobs import run_daily
from tests.authz import helpers as h
from tests.builders import make_resident
from tests.lifecycle.helpers import benefit
from tests.staff.test_workbench_case import _reviewing

REMEDIES = {"administrative_review_days": 60, "lawsuit_months": 6}


def _rejected(session, cfg, client, name="孙残"):
    person, _, app = _reviewing(session, cfg, name=name)
    _, reviewer = h.staff(session, cfg, "reviewer", street="140105001")
    out = client.post(f"/api/v1/staff/applications/{app.id}/review", headers=reviewer,
                      json={"decision": "reject", "reason_code": "duplicate_benefit", "reason": "已享受同类补贴"})
    assert out.status_code == 200 and out.json["state"] == "rejected"
    return person, app, reviewer


def test_recording_a_letter_as_sent_once_with_its_method_audited_and_on_the_case_page(session, cfg, client):
    person, app, reviewer = _rejected(session, cfg, client)
    _, clerk = h.staff(session, cfg, "clerk", street="140105001")
    _, other_street = h.staff(session, cfg, "clerk", street="140105002")
    _, supervisor = h.staff(session, cfg, "supervisor")
    letter = client.get(f"/api/v1/staff/applications/{app.id}/decision-letter", headers=clerk).json
    assert letter["letter_id"] == app.id and letter["sent"] is False and letter["delivery"] is None
    assert letter["overdue"] is False and letter["remedies"] == REMEDIES
    assert [w["letter_id"] for w in client.get("/api/v1/staff/letters", headers=clerk).json] == [app.id]
    assert client.get("/api/v1/staff/letters", headers=other_street).json == []

    path = f"/api/v1/staff/letters/{app.id}/sent"
    assert client.post(path, headers=other_street, json={"method": "post"}).status_code == 404
    assert client.post("/api/v1/staff/letters/" + "f" * 32 + "/sent", headers=clerk,
                       json={"method": "post"}).status_code == 404
    refused = client.post(path, headers=supervisor, json={"method": "post"})
    assert refused.status_code == 403 and refused.json["error_code"] == "role_not_allowed"
    assert client.post(path, headers=clerk, json={"method": "fax"}).status_code == 422
    future = client.post(path, headers=clerk, json={"method": "post",
                                                    "delivered_on": (today_shanghai() + timedelta(days=1)).isoformat()})
    assert future.status_code == 422 and future.json["error_code"] == "delivered_on_invalid"

    sent = client.post(path, headers=clerk, json={"method": "in_person", "note": "本人签收"})
    assert sent.status_code == 201, sent.json
    assert sent.json["sent"] is True and sent.json["delivery"]["method"] == "in_person"
    assert sent.json["delivery"]["delivered_on"] == today_shanghai().isoformat()
    # Recording twice is refused (409), not repeated: the first record stands.
    again = client.post(path, headers=reviewer, json={"method": "post"})
    assert again.status_code == 409 and again.json["error_code"] == "letter_already_sent"
    assert len(session.scalars(select(LetterDelivery)).all()) == 1
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.letter_sent")).one()
    assert event.on_behalf_of == f"resident:{person.id}" and event.details["method"] == "in_person"

    page = client.get(f"/api/v1/staff/applications/{app.id}/case", headers=clerk).json
    assert page["letter"]["sent"] is True and page["letter"]["delivery"]["method"] == "in_person"
    assert client.get("/api/v1/staff/letters", headers=clerk).json == []


def test_an_unsent_rejection_is_overdue_after_three_working_days_on_the_test_clock(session, cfg, client,
                                                                                     monkeypatch):
    _, app, _ = _rejected(session, cfg, client)
    _, clerk = h.staff(session, cfg, "clerk")
    _, supervisor = h.staff(session, cfg, "supervisor")
    letter = client.get(f"/api/v1/staff/applications/{app.id}/decision-letter", headers=clerk).json
    send_by = date.fromisoformat(letter["send_by"])
    assert send_by == workdays.add_working_days(date.fromisoformat(letter["decided_on"]), 3)

    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", send_by.isoformat())  # the last day: not yet overdue
    assert client.get("/api/v1/staff/letters?overdue=true", headers=clerk).json == []
    assert client.get("/api/v1/staff/supervision", headers=supervisor).json["letters_overdue"] == []

    late = workdays.add_working_days(send_by, 2)
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", late.isoformat())
    [row] = client.get("/api/v1/staff/letters?overdue=true", headers=clerk).json
    assert (row["letter_id"], row["kind"], row["decision"], row["overdue"]) == (app.id, "decision", "rejected", True)
    assert row["working_days_overdue"] == 2 and row["resident_name_masked"] == "孙*"
    [flagged] = client.get("/api/v1/staff/supervision", headers=supervisor).json["letters_overdue"]
    assert flagged["letter_id"] == app.id and flagged["send_by"] == send_by.isoformat()
    assert client.get(f"/api/v1/staff/applications/{app.id}/case", headers=clerk).json["letter"]["overdue"] is True

    # Posted late: recorded with the day it went, and no longer overdue.
    posted = client.post(f"/api/v1/staff/letters/{app.id}/sent", headers=clerk,
                         json={"method": "post", "delivered_on": late.isoformat(), "note": "挂号信 XA123"})
    assert posted.status_code == 201 and posted.json["overdue"] is False
    assert client.get("/api/v1/staff/supervision", headers=supervisor).json["letters_overdue"] == []


def test_a_rejection_delivered_through_the_residents_channel_is_sent(session, cfg, client):
    _, app, _ = _rejected(session, cfg, client)
    _, clerk = h.staff(session, cfg, "clerk")
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.application_id == app.id,
                                                          OutboxMessage.kind == "rejected")).one()
    message.state, message.channel, message.sent_at = "inbox_only", None, utcnow()
    session.commit()
    assert client.get(f"/api/v1/staff/applications/{app.id}/decision-letter", headers=clerk).json["sent"] is False
    message.state, message.channel = "sent", "sms"
    session.commit()
    letter = client.get(f"/api/v1/staff/applications/{app.id}/decision-letter", headers=clerk).json
    assert letter["sent"] is True and letter["delivery"]["method"] == "electronic"
    assert letter["delivery"]["channel"] == "sms"
    assert client.post(f"/api/v1/staff/letters/{app.id}/sent", headers=clerk,
                       json={"method": "post"}).json["error_code"] == "letter_already_sent"
    assert client.get("/api/v1/staff/letters", headers=clerk).json == []


def test_a_stopped_benefit_has_a_letter_with_grounds_remedies_and_its_delivery(session, cfg, client, monkeypatch):
    person, _ = make_resident(session, cfg, name="周老汉", birth_date=date(1940, 1, 1))
    b = benefit(session, person)
    person.death_date = date(2026, 11, 15)
    session.commit()
    assert run_daily(cfg, date(2026, 11, 20)).counts["stopped_death"] == 1
    change = session.scalars(select(BenefitChange).where(BenefitChange.benefit_id == b.id)).one()
    _, clerk = h.staff(session, cfg, "clerk", street="140105001")
    _, other_street = h.staff(session, cfg, "clerk", street="140105002")
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2026-11-23")

    path = f"/api/v1/staff/stops/{change.id}/letter"
    assert client.get(path, headers=other_street).status_code == 404
    assert client.get("/api/v1/staff/stops/" + "e" * 32 + "/letter", headers=clerk).status_code == 404
    letter = client.get(path, headers=clerk)
    assert letter.status_code == 200, letter.json
    body = letter.json
    assert (body["kind"], body["decision"], body["decision_code"]) == ("stop", "stopped", "death")
    assert body["reasons"][0] == "享受人已去世" and body["reasons"][1].startswith("依据:公安人口库记载日期 2026-11-15")
    assert body["remedies"] == REMEDIES and body["effective_month"] == "2026-12"
    assert body["decided_on"] == "2026-11-20" and body["send_by"] == "2026-11-25"
    assert body["sent"] is False and body["overdue"] is False
    assert session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.stop_letter")).one().on_behalf_of \
        == f"resident:{person.id}"

    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2026-11-27")
    [row] = client.get("/api/v1/staff/letters?overdue=true", headers=clerk).json
    assert (row["letter_id"], row["kind"], row["decision"]) == (change.id, "stop", "stopped")
    assert client.get("/api/v1/staff/letters", headers=other_street).json == []

    # The family's message (身后一件事, naming the stop and the remedies) accepted by WeChat is the delivery;
    # recording one more is refused.
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "after_death")).one()
    message.state, message.channel, message.sent_at = "sent", "wechat", utcnow()
    session.commit()
    assert client.get(path, headers=clerk).json["delivery"]["method"] == "electronic"
    assert client.post(f"/api/v1/staff/letters/{change.id}/sent", headers=clerk,
                       json={"method": "left_at_home"}).status_code == 409
    assert client.get("/api/v1/staff/letters?overdue=true", headers=clerk).json == []


def test_a_suspension_letter_is_recorded_as_left_at_home(session, cfg, client, monkeypatch):
    from tests.lifecycle.helpers import move_out

    person, _ = make_resident(session, cfg, name="吴迁", birth_date=date(1940, 1, 1))
    b = benefit(session, person)
    move_out(session, person, date(2026, 11, 10))
    run_daily(cfg, date(2026, 11, 20))
    change = session.scalars(select(BenefitChange).where(BenefitChange.benefit_id == b.id)).one()
    assert change.kind == "suspended"
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2026-11-24")
    _, worker = h.staff(session, cfg, "community_worker", street="140105001", community="140105001001")
    _, elsewhere = h.staff(session, cfg, "community_worker", street="140105001", community="140105001002")
    assert client.post(f"/api/v1/staff/letters/{change.id}/sent", headers=elsewhere,
                       json={"method": "left_at_home"}).status_code == 404
    done = client.post(f"/api/v1/staff/letters/{change.id}/sent", headers=worker,
                       json={"method": "left_at_home", "note": "家中无人,留置于门内,邻居见证"})
    assert done.status_code == 201 and done.json["reasons"][0] == "户籍已迁出本市"
    assert done.json["delivery"]["method"] == "left_at_home" and done.json["decision"] == "suspended"


def test_a_stop_because_the_household_left_another_program_names_that_program(session, cfg, client):
    """Generic grounds: "<program>_ended" and "<program>_registry" are said with that program's name."""
    from flows import programs

    needs = next(p for p in programs.PROGRAMS.values() if p.requires_household_benefit)
    other = programs.get(needs.requires_household_benefit)
    person, _ = make_resident(session, cfg, name="郑残", birth_date=date(1980, 1, 1))
    b = benefit(session, person, program=needs.code, state="stopped")
    change = BenefitChange(benefit_id=b.id, change_key="stop", kind="stopped", effective_month="2026-12",
                           reason=f"{other.code}_ended", as_of=date(2026, 11, 20),
                           trace=[{"code": f"{other.code}_household", "passed": False, "value": "2026-11-01",
                                   "source": f"{other.code}_registry", "source_date": "2026-11-20"}])
    session.add(change)
    session.commit()
    _, clerk = h.staff(session, cfg, "clerk")
    body = client.get(f"/api/v1/staff/stops/{change.id}/letter", headers=clerk).json
    assert body["reasons"][0] == f"家庭已不再享受{other.name}"
    assert body["reasons"][1].startswith(f"依据:{other.name}对象数据库记载日期 2026-11-01")


def test_a_case_an_upheld_appeal_reopened_and_rejected_again_has_a_new_letter_and_message(session, cfg, client):
    """The second rejection is a decision of its own: its message is sent (its key was taken by the first), and its
    letter waits to be delivered (the first letter's delivery does not count for it)."""
    from app.models import Appeal, StaffTask
    from flows import appeals

    person, app, first_reviewer = _rejected(session, cfg, client, name="周残")
    _, clerk = h.staff(session, cfg, "clerk", street="140105001")
    assert client.post(f"/api/v1/staff/letters/{app.id}/sent", headers=clerk,
                       json={"method": "in_person", "note": "第一次"}).status_code == 201
    session.expire_all()
    appeal = appeals.file(session, application=app, benefit=None, reason_code="facts_wrong", comment="",
                          filed_by="staff:counter", filed_via="counter")
    session.commit()
    _, second = h.staff(session, cfg, "reviewer", street="140105001")
    task = session.scalars(select(StaffTask).where(StaffTask.kind == "appeal")).one()
    assert client.post(f"/api/v1/staff/tasks/{task.id}/claim", headers=second).status_code == 200
    upheld = client.post(f"/api/v1/staff/appeals/{appeal.id}/decision", headers=second,
                         json={"outcome": "upheld", "reason": "原决定所依据的信息有误，重新审核"})
    assert upheld.status_code == 200, upheld.json
    again = client.post(f"/api/v1/staff/applications/{app.id}/review", headers=second,
                        json={"decision": "reject", "reason_code": "rule_not_met", "reason": "重新审核后仍不符合条件"})
    assert again.status_code == 200 and again.json["state"] == "rejected", again.json

    session.expire_all()
    assert session.get(Appeal, appeal.id).reopened_case is True
    keys = sorted(m.idempotency_key for m in session.scalars(
        select(OutboxMessage).where(OutboxMessage.kind == "rejected", OutboxMessage.application_id == app.id)))
    assert keys == [f"application:{app.id}:rejected", f"application:{app.id}:rejected:{appeal.id}"]
    letter = client.get(f"/api/v1/staff/applications/{app.id}/decision-letter", headers=clerk).json
    assert (letter["letter_id"], letter["decision_code"], letter["sent"]) == (appeal.id, "rule_not_met", False)
    assert [w["letter_id"] for w in client.get("/api/v1/staff/letters", headers=clerk).json] == [appeal.id]
    sent = client.post(f"/api/v1/staff/letters/{appeal.id}/sent", headers=clerk, json={"method": "post"})
    assert sent.status_code == 201 and sent.json["delivery"]["method"] == "post", sent.json
    assert client.get("/api/v1/staff/letters", headers=clerk).json == []
    assert client.post(f"/api/v1/staff/letters/{appeal.id}/sent", headers=clerk,
                       json={"method": "post"}).json["error_code"] == "letter_already_sent"
    assert len(session.scalars(select(LetterDelivery)).all()) == 2


def test_a_case_decided_on_the_test_clock_is_that_days_decision(session, cfg, client, monkeypatch):
    """Decided while the test clock says 40 days from now, the letter is dated that day (3 working days to send
    it, not overdue at once) and the 60 days to appeal count from it."""
    later = today_shanghai() + timedelta(days=40)
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", later.isoformat())
    person, app, _ = _rejected(session, cfg, client, name="吴残")
    _, clerk = h.staff(session, cfg, "clerk", street="140105001")
    letter = client.get(f"/api/v1/staff/applications/{app.id}/decision-letter", headers=clerk).json
    assert (letter["decided_on"], letter["overdue"]) == (later.isoformat(), False), letter
    assert letter["send_by"] == workdays.add_working_days(later, 3).isoformat()
    assert client.get("/api/v1/staff/letters?overdue=true", headers=clerk).json == []
    from flows import appeals

    session.expire_all()
    assert appeals.application_appeal_until(session.get(type(app), app.id), later) == later + timedelta(days=60)
