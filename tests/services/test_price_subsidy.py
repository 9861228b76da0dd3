"""困难群众价格临时补贴 through the CLI and HTTP: trigger → a second admin approves → every person of a 低保
household active in the index month paid as one line of the next roll (3 × 30.00), no application, no
confirmation, one notice per household; a second trigger for the same month refused (exit 2 / 409) unless the
first was withdrawn before its roll closed."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.models import Application, OutboxMessage, PayrollLine
from tests.authz import helpers as h
from tests.lifecycle.helpers import benefit
from tests.payroll.test_payroll import _account

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("ZEROTRIP_PASSWORD", PASSWORD)
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2026-03-10")


def _summary(result) -> dict:
    return dict(kv.split("=", 1) for kv in result.stdout.strip().splitlines()[-1].split())


def _household(session, cfg, tag: str, size: int, dibao: bool = True):
    people = [h.person(session, cfg, f"{tag}{i}", birth=date(1970 + i, 3, 1), household=f"HH-{tag}")[0]
              for i in range(size)]
    _account(session, cfg, people[0])
    if dibao:
        benefit(session, people[0], program="dibao", tier="gap", fen=30000, start="2026-01")
    return people


def test_trigger_approve_paid_per_person_without_confirmation(session, cfg, cli, client):
    h.staff(session, cfg, role="admin", username="admin_wang")
    _, checker_headers = h.staff(session, cfg, role="admin", username="admin_li")
    family = _household(session, cfg, "刘", 3)
    _household(session, cfg, "陈", 2, dibao=False)

    made = cli("programs", "trigger", "price_subsidy", "--index-month", "2026-02", "--amount-per-person", "30.00",
               "--by", "admin_wang")
    assert made.exit_code == 0, made.output
    approval_id = _summary(made)["approval"]
    again = cli("programs", "trigger", "price_subsidy", "--index-month", "2026-02", "--amount-per-person", "30.00",
                "--by", "admin_li")
    assert again.exit_code == 2 and "trigger_exists" in again.stderr
    http = client.post("/api/v1/staff/program-triggers", headers=checker_headers,
                       json={"program": "price_subsidy", "index_month": "2026-02", "amount_per_person": "30.00"})
    assert http.status_code == 409 and http.json["error_code"] == "trigger_exists"
    wide = client.post("/api/v1/staff/program-triggers", headers=checker_headers,  # full-width digits read as 0-9
                       json={"program": "price_subsidy", "index_month": "２０２６-０２", "amount_per_person": "３０.００"})
    assert wide.status_code == 409 and wide.json["error_code"] == "trigger_exists", wide.json
    wide_cli = cli("programs", "trigger", "price_subsidy", "--index-month", "2026-02", "--amount-per-person", "３０",
                   "--by", "admin_li")
    assert wide_cli.exit_code == 2 and "trigger_exists" in wide_cli.stderr
    other_script = client.post("/api/v1/staff/program-triggers", headers=checker_headers,
                               json={"program": "price_subsidy", "index_month": "2026-02", "amount_per_person": "٣٠"})
    assert other_script.status_code == 422
    for odd in ("Infinity", "sNaN", "1e100", "1E+2", "1_0", " 30", "30\n", "-30", "30.001"):  # 500 before, or taken
        refused = client.post("/api/v1/staff/program-triggers", headers=checker_headers,
                              json={"program": "price_subsidy", "index_month": "2026-03", "amount_per_person": odd})
        assert refused.status_code == 422 and "amount_per_person" in refused.json["errors"]["json"], (odd, refused.json)
    odd_cli = cli("programs", "trigger", "price_subsidy", "--index-month", "2026-03", "--amount-per-person", "1E+2",
                  "--by", "admin_li")
    assert odd_cli.exit_code == 2 and "amount_per_person" in odd_cli.stderr, odd_cli.output

    own = cli("programs", "approve", approval_id, "--by", "admin_wang")
    assert own.exit_code == 2 and "self_approval" in own.stderr
    approved = cli("programs", "approve", approval_id, "--by", "admin_li")
    assert approved.exit_code == 0, approved.output
    assert _summary(approved)["households"] == "1" and _summary(approved)["persons"] == "3"

    closed = cli("payroll", "--month", "2026-03", "--close", "--as-of", "2026-03-05")
    assert closed.exit_code == 0 and _summary(closed)["anomalies"] == "0", closed.output
    session.expire_all()
    lines = session.scalars(select(PayrollLine).where(PayrollLine.program == "price_subsidy")).all()
    assert [(ln.resident_id, ln.amount_fen, ln.covered_to, ln.status) for ln in lines] == [
        (family[0].id, 9000, "2026-02", "paid")]
    assert session.scalar(select(func.count()).select_from(Application)
                          .where(Application.program == "price_subsidy")) == 0  # nothing to confirm
    notices = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "one_off_paid")).all()
    assert [(n.resident_id, n.data["persons"], n.data["amount"]) for n in notices] == [(family[0].id, 3, "90.00")]

    # paid: a new trigger for the month is refused, and the paid one can no longer be withdrawn
    assert cli("programs", "trigger", "price_subsidy", "--index-month", "2026-02", "--amount-per-person", "30.00",
               "--by", "admin_li").exit_code == 2
    late = cli("programs", "withdraw", approval_id, "--by", "admin_wang")
    assert late.exit_code == 2 and "trigger_paid" in late.stderr
    # the next roll pays nothing again
    cli("payroll", "--month", "2026-04", "--close", "--as-of", "2026-04-05")
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(PayrollLine)
                          .where(PayrollLine.program == "price_subsidy")) == 1


def test_withdrawn_before_its_roll_closed_may_be_triggered_again(session, cfg, cli):
    h.staff(session, cfg, role="admin", username="admin_zhao")
    h.staff(session, cfg, role="admin", username="admin_qian")
    family = _household(session, cfg, "孙", 2)
    first = _summary(cli("programs", "trigger", "price_subsidy", "--index-month", "2026-01",
                         "--amount-per-person", "30.00", "--by", "admin_zhao"))["approval"]
    assert cli("programs", "approve", first, "--by", "admin_qian").exit_code == 0
    assert cli("programs", "withdraw", first, "--by", "admin_zhao").exit_code == 0
    second = cli("programs", "trigger", "price_subsidy", "--index-month", "2026-01", "--amount-per-person", "40.00",
                 "--by", "admin_zhao")
    assert second.exit_code == 0, second.output
    assert cli("programs", "approve", _summary(second)["approval"], "--by", "admin_qian").exit_code == 0
    cli("payroll", "--month", "2026-03", "--close", "--as-of", "2026-03-05")
    session.expire_all()
    lines = session.scalars(select(PayrollLine).where(PayrollLine.program == "price_subsidy")).all()
    assert [(ln.resident_id, ln.amount_fen) for ln in lines] == [(family[0].id, 8000)]
    bad = cli("programs", "trigger", "price_subsidy", "--index-month", "2026-13", "--amount-per-person", "３0.00",
              "--by", "admin_zhao")
    assert bad.exit_code == 2
