"""Income change re-checks a 低保 case (动态管理: 增发/减发/停发), through the public interfaces: `zerotrip import
economic` (and the exchange push), the workbench inbox and case page, the re-check task's confirmation by a reviewer
and the approval by a second person (`zerotrip approvals approve`), the payroll.

The household: 3 members, the head's wage 600 yuan a month (2026-05 … 2026-10), 1800 yuan a month since 2026-12
(3 × 800 − 600). Today is 2026-12-10 (the test clock): the rule's window is 2026-06 … 2026-11."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from sqlalchemy import func, select

from app.models import (
    Approval,
    AuditEvent,
    Benefit,
    BenefitChange,
    OutboxMessage,
    PayrollLine,
    StaffTask,
)
from tests.authz import helpers as h
from tests.lifecycle.helpers import dibao_household

TODAY = "2026-12-10"
PASSWORD = "correct horse battery"
STREET, COMMUNITY = "140105001", "140105001001"
HEADER = ("id_number", "kind", "period", "amount", "quantity", "ref", "source")


@pytest.fixture(autouse=True)
def _clock(monkeypatch):
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", TODAY)
    monkeypatch.setenv("ZEROTRIP_PASSWORD", PASSWORD)


def _household(session, cfg):
    return dibao_household(session, cfg, "HI1", ("2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"),
                           date(2026, 11, 20), as_of=date(2026, 11, 25), start_month="2026-12")


def _import(cli, tmp_path, rows, name="e.csv"):
    path = tmp_path / name
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(HEADER)
        w.writerows(rows)
    result = cli("import", "economic", str(path))
    assert result.exit_code == 0, result.output
    return dict(p.split("=", 1) for p in result.stdout.strip().splitlines()[-1].split())


def _wage(number, month, yuan):
    return (number, "income_wage", month, yuan, "", "", "tax")


def _tasks(session, case):
    session.expire_all()
    return session.scalars(select(StaffTask).where(StaffTask.kind == "benefit_recheck",
                                                   StaffTask.application_id == case.application_id)).all()


def _staff(session, cfg):
    reviewer, rh = h.staff(session, cfg, role="reviewer", street=STREET, username="street_li")
    approver, _ = h.staff(session, cfg, role="approver", username="county_wang")
    return rh


def _confirm(client, headers, task_id):
    done = client.post(f"/api/v1/staff/tasks/{task_id}/recheck", headers=headers,
                       json={"outcome": "confirm", "reason": "入户核实收入属实"})
    assert done.status_code == 200, done.json
    return done.json


def test_unchanged_income_records_the_check_and_makes_no_task(session, cfg, cli, tmp_path):
    head, number, _, case = _household(session, cfg)
    s = _import(cli, tmp_path, [_wage(number, "2026-11", "600.00")])
    assert s["imported"] == "1"
    assert _tasks(session, case) == []
    checked = session.scalars(select(AuditEvent).where(AuditEvent.action == "benefit.recheck",
                                                       AuditEvent.object_ref == f"benefit:{case.id}")).all()
    assert [e.result for e in checked] == ["unchanged"]
    case = session.get(Benefit, case.id)
    assert (case.state, case.monthly_amount_fen) == ("active", 180_000)
    assert session.scalar(select(func.count()).select_from(BenefitChange)) == 0


def test_a_partial_rise_is_re_priced_from_next_month_after_confirmation_and_approval(session, cfg, cli, client,
                                                                                     tmp_path):
    head, number, application, case = _household(session, cfg)
    rh = _staff(session, cfg)
    # November's wage 3000: (5 × 600 + 3000) / 6 = 1000 a month → 3 × 800 − 1000 = 1400 yuan
    _import(cli, tmp_path, [_wage(number, "2026-11", "3000.00")])
    session.expire_all()
    assert session.get(Benefit, case.id).monthly_amount_fen == 180_000  # never changed silently
    [task] = _tasks(session, case)
    assert task.state == "open" and task.details["proposed"] == "reprice"
    assert task.details["monthly_amount_fen"] == 140_000 and task.details["effective_month"] == "2027-01"

    # the inbox and the case page say it in words
    inbox = client.get("/api/v1/staff/inbox", headers=rh)
    assert inbox.status_code == 200, inbox.json
    [row] = [r for r in inbox.json if r["id"] == task.id]
    assert row["kind"] == "benefit_recheck" and row["program"] == "dibao"
    assert row["text"] == "家庭成员收入数据更新,按3人重新核定低保:拟自2027年1月起由每月1800.00元调整为每月1400.00元"
    page = client.get(f"/api/v1/staff/applications/{application.id}/case", headers=rh)
    assert page.status_code == 200, page.json
    [shown] = page.json["rechecks"]
    assert shown["state"] == "open" and shown["text"] == row["text"] and shown["monthly_amount"] == "1400.00"
    assert any("家庭月人均收入333.33元" in r for r in shown["reasons"])

    # the generic decide refuses it: one path for a decision that changes a payment
    assert client.post(f"/api/v1/staff/tasks/{task.id}/decide", headers=rh,
                       json={"decision": "approve", "reason": "ok"}).status_code == 409
    confirmed = _confirm(client, rh, task.id)
    assert confirmed["state"] == "closed" and confirmed["approval_id"]
    session.expire_all()
    assert session.get(Benefit, case.id).monthly_amount_fen == 180_000  # not before the second person
    assert session.get(Approval, confirmed["approval_id"]).state == "pending"
    self_approved = cli("approvals", "approve", confirmed["approval_id"], "--by", "street_li")
    assert self_approved.exit_code != 0
    approved = cli("approvals", "approve", confirmed["approval_id"], "--by", "county_wang")
    assert approved.exit_code == 0, approved.output

    session.expire_all()
    case = session.get(Benefit, case.id)
    assert (case.state, case.tier, case.monthly_amount_fen) == ("active", "3p", 140_000)
    change = session.scalars(select(BenefitChange).where(BenefitChange.benefit_id == case.id)).one()
    assert (change.kind, change.effective_month, change.reason, change.old_amount_fen, change.monthly_amount_fen) \
        == ("repriced", "2027-01", "income_change", 180_000, 140_000)
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.resident_id == head.id)).one()
    assert (message.kind, message.data["reason"]) == ("tier_raised", "income_change")
    from notifications import templates

    said = templates.render(session, message).body
    assert "经复核,家庭月人均收入333.33元,自2027年1月起每月保障金1400.00元" in said and "行政复议" in said
    page = client.get(f"/api/v1/staff/applications/{application.id}/case", headers=rh).json
    assert page["rechecks"][0]["decision"] == "confirm" and page["rechecks"][0]["approval_state"] == "approved"

    # December stays at 1800, January pays 1400
    assert cli("payroll", "--month", "2026-12", "--close", "--as-of", "2026-12-10").exit_code == 0
    assert cli("payroll", "--month", "2027-01", "--close", "--as-of", "2027-01-05").exit_code == 0
    session.expire_all()
    lines = {ln.month: ln.amount_fen for ln in session.scalars(select(PayrollLine)
                                                                .where(PayrollLine.benefit_id == case.id))}
    assert lines == {"2026-12": 180_000, "2027-01": 140_000}


def test_income_above_the_line_stops_the_case_from_next_month_with_the_stop_message(session, cfg, cli, client,
                                                                                    tmp_path):
    head, number, application, case = _household(session, cfg)
    rh = _staff(session, cfg)
    # November's wage 12000: (5 × 600 + 12000) / 6 = 2500 a month, 833.33 a person ≥ 800
    _import(cli, tmp_path, [_wage(number, "2026-11", "12000.00")])
    [task] = _tasks(session, case)
    assert task.details["proposed"] == "stop"
    assert task.details["text"].endswith("已不符合条件,拟自2027年1月起停发(现每月1800.00元)")
    assert any("不低于本市低保标准800.00元" in r for r in task.details["reasons"])
    approval = _confirm(client, rh, task.id)["approval_id"]
    assert cli("approvals", "approve", approval, "--by", "county_wang").exit_code == 0

    session.expire_all()
    case = session.get(Benefit, case.id)
    assert (case.state, case.end_month) == ("stopped", "2026-12")
    change = session.scalars(select(BenefitChange).where(BenefitChange.benefit_id == case.id)).one()
    assert (change.kind, change.effective_month, change.reason) == ("stopped", "2027-01", "income_change_stop")
    message = session.scalars(select(OutboxMessage).where(OutboxMessage.resident_id == head.id)).one()
    assert (message.kind, message.idempotency_key) == ("benefit_stopped", f"benefit:{case.id}:stopped")
    from notifications import templates

    rendered = templates.render(session, message)
    assert rendered.body.startswith("经复核，您家庭的收入状况已不符合低保条件，您的城乡低保自2027年1月起停发。")
    assert "行政复议" in rendered.body and rendered.wechat_data["thing2"]["value"] == "经复核已不符合低保条件"
    # the stop letter with its grounds and the remedies, as every stop has
    page = client.get(f"/api/v1/staff/applications/{application.id}/case", headers=rh).json
    [letter] = page["stop_letters"]
    assert (letter["decision"], letter["decision_code"], letter["effective_month"]) == (
        "stopped", "income_change_stop", "2027-01")
    shown = client.get(f"/api/v1/staff/stops/{letter['letter_id']}/letter", headers=rh)
    assert shown.status_code == 200, shown.json
    assert shown.json["remedies"] == {"administrative_review_days": 60, "lawsuit_months": 6}
    assert any("不低于本市低保标准800.00元" in r for r in shown.json["reasons"]), shown.json["reasons"]


def test_the_same_import_twice_makes_one_task_and_new_data_updates_it(session, cfg, cli, tmp_path):
    head, number, _, case = _household(session, cfg)
    _import(cli, tmp_path, [_wage(number, "2026-11", "3000.00")])
    again = _import(cli, tmp_path, [_wage(number, "2026-11", "3000.00")], name="again.csv")
    assert again["unchanged"] == "1"
    [task] = _tasks(session, case)
    assert task.details["monthly_amount_fen"] == 140_000
    _import(cli, tmp_path, [_wage(number, "2026-11", "1800.00")], name="corrected.csv")  # corrected: 800 a month
    [task] = _tasks(session, case)
    assert task.state == "open" and task.details["monthly_amount_fen"] == 160_000
    _import(cli, tmp_path, [_wage(number, "2026-11", "600.00")], name="back.csv")  # back to as decided
    [task] = _tasks(session, case)
    assert task.state == "cancelled" and task.details["decision"] == "superseded"


def test_a_dismissed_re_check_keeps_the_payment(session, cfg, cli, client, tmp_path):
    head, number, _, case = _household(session, cfg)
    rh = _staff(session, cfg)
    _import(cli, tmp_path, [_wage(number, "2026-11", "3000.00")])
    [task] = _tasks(session, case)
    done = client.post(f"/api/v1/staff/tasks/{task.id}/recheck", headers=rh,
                       json={"outcome": "dismiss", "reason": "一次性劳务收入,入户核实不计入"})
    assert done.status_code == 200 and done.json["decision"] == "dismiss" and done.json["approval_id"] is None
    again = client.post(f"/api/v1/staff/tasks/{task.id}/recheck", headers=rh,
                        json={"outcome": "confirm", "reason": "再次确认"})
    assert again.status_code == 409
    session.expire_all()
    assert session.get(Benefit, case.id).monthly_amount_fen == 180_000
    assert session.scalar(select(func.count()).select_from(Approval)) == 0


def test_a_pushed_income_record_re_checks_a_receiving_household(session, cfg, cli, client):
    from tests.exchange.helpers import Department

    head, number, _, case = _household(session, cfg)
    tax = Department(cli, "tax", "push")
    resp = tax.push(client, [{"reference_id": "W-2026-11", "dataset": "economic_records", "record": {
        "id_number": number, "kind": "income_wage", "period": "2026-11", "amount": "3000.00", "quantity": "",
        "ref": "", "source": "tax"}}])
    assert resp.status_code == 200, resp.json
    assert resp.json["message"]["results"][0]["status"] == "accepted", resp.json
    [task] = _tasks(session, case)
    assert (task.details["proposed"], task.details["monthly_amount_fen"]) == ("reprice", 140_000)
    again = tax.push(client, [{"reference_id": "W-2026-11-b", "dataset": "economic_records", "record": {
        "id_number": number, "kind": "income_wage", "period": "2026-11", "amount": "3000.00", "quantity": "",
        "ref": "", "source": "tax"}}])
    assert again.json["message"]["results"][0]["status"] == "accepted"
    assert len(_tasks(session, case)) == 1


def test_a_re_check_waiting_for_approval_is_listed_only_within_the_households_jurisdiction(session, cfg, cli,
                                                                                          client, tmp_path):
    _, number, _, case = _household(session, cfg)
    rh = _staff(session, cfg)
    _, elsewhere = h.staff(session, cfg, role="approver", district="140106", username="other_district")
    _, next_street = h.staff(session, cfg, role="reviewer", street="140105002", username="street_zhao")
    _import(cli, tmp_path, [_wage(number, "2026-11", "3000.00")])
    [task] = _tasks(session, case)
    approval_id = _confirm(client, rh, task.id)["approval_id"]

    def listed(headers):
        answer = client.get("/api/v1/staff/approvals", headers=headers, query_string={"kind": "benefit_recheck"})
        assert answer.status_code == 200, answer.json
        return [a["id"] for a in answer.json]

    assert listed(rh) == [approval_id]  # the household's street
    assert listed(elsewhere) == [] and listed(next_street) == []  # another district, another street
    refused = client.post(f"/api/v1/staff/approvals/{approval_id}/approve", headers=elsewhere)
    assert refused.status_code == 403
