"""Parameters as operator data, through the CLI and HTTP: `zerotrip params set … --by A`, approved by a second
admin B; the roll of the effective month pays the new amount, closed months never change, the guide shows the
announced amount then today's, one message per recipient; out-of-range and self-approval refused."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from app.models import Application, Approval, OutboxMessage, ParameterValue, PayrollLine
from flows import parameters
from tests.authz import helpers as h
from tests.lifecycle.helpers import benefit
from tests.payroll.test_payroll import _account

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def _defaults(monkeypatch):
    monkeypatch.setenv("ZEROTRIP_PASSWORD", PASSWORD)
    yield
    parameters.reset()  # the approved values of this test's database are gone with it


def _summary(result) -> dict:
    return dict(kv.split("=", 1) for kv in result.stdout.strip().splitlines()[-1].split())


def _guide(client) -> dict:
    r = client.get("/api/v1/programs/elderly_allowance")
    assert r.status_code == 200
    return r.json["guide"]


def _close(cli, month: str) -> None:
    r = cli("payroll", "--month", month, "--close", "--as-of", f"{month}-05")
    assert r.exit_code == 0, r.output
    assert _summary(r)["anomalies"] == "0"


def _amounts(session, month: str) -> list[int]:
    session.expire_all()
    return sorted(ln.amount_fen for ln in session.scalars(select(PayrollLine).where(PayrollLine.month == month)))


def _changes(session) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(Approval)) + session.scalar(
        select(func.count()).select_from(ParameterValue))


def test_amount_change_approved_by_a_second_admin(session, cfg, cli, client, monkeypatch):
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2026-03-10")
    maker, _ = h.staff(session, cfg, role="admin", username="admin_wang")
    h.staff(session, cfg, role="admin", username="admin_li")
    person = h.person(session, cfg, "赵老伯", birth=date(1940, 1, 1))[0]
    other = h.person(session, cfg, "钱老伯", birth=date(1941, 6, 1))[0]
    for p in (person, other):
        _account(session, cfg, p)
        benefit(session, p, start="2026-01")
    _close(cli, "2026-01")
    _close(cli, "2026-02")
    assert _guide(client)["amounts"]["80-89"] == "50.00" and _guide(client)["announced"] == []

    proposed = cli("params", "set", "elderly_allowance", "tiers.80-89", "60.00", "--from", "2026-04",
                   "--by", "admin_wang")
    assert proposed.exit_code == 0, proposed.output
    approval_id = _summary(proposed)["approval"]
    assert _summary(proposed)["state"] == "pending"
    assert _guide(client)["announced"] == []  # nothing announced before the second approval

    mine = cli("params", "approve", approval_id, "--by", "admin_wang")
    assert mine.exit_code == 2 and "self_approval" in mine.stderr
    assert session.get(Approval, approval_id).state == "pending"

    approved = cli("params", "approve", approval_id, "--by", "admin_li")
    assert approved.exit_code == 0, approved.output
    session.expire_all()
    assert session.get(Approval, approval_id).state == "approved"
    assert session.get(Approval, approval_id).checker != session.get(Approval, approval_id).maker == f"staff:{maker.id}"
    assert cli("params", "withdraw", approval_id, "--by", "admin_wang").exit_code == 2  # too late

    guide = _guide(client)  # today (March) the old amount, and the announced one with its start month
    assert guide["amounts"]["80-89"] == "50.00"
    assert [(a["from_month"], a["amounts"]["80-89"]) for a in guide["announced"]] == [("2026-04", "60.00")]

    _close(cli, "2026-03")
    _close(cli, "2026-04")
    assert _amounts(session, "2026-03") == _amounts(session, "2026-01") == [5000, 5000]
    assert _amounts(session, "2026-04") == [6000, 6000]
    assert cli("payroll", "--month", "2026-02").exit_code == 0  # a closed roll is returned as is
    assert _amounts(session, "2026-02") == [5000, 5000]

    _close(cli, "2026-05")
    messages = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "tier_raised")).all()
    assert sorted(m.resident_id for m in messages) == sorted((person.id, other.id))  # one per recipient
    assert all(m.data["monthly_amount"] == "60.00" and m.data["effective_month"] == "2026-04" for m in messages)

    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2026-05-10")
    assert _guide(client)["amounts"]["80-89"] == "60.00" and _guide(client)["announced"] == []


def test_out_of_range_and_wrong_type_refused_nothing_stored(session, cfg, cli, client):
    h.staff(session, cfg, role="admin", username="admin_zhou")
    _, headers = h.staff(session, cfg, role="admin", username="admin_wu")
    before = _changes(session)
    for key, value in (("tiers.80-89", "-5"), ("tiers.80-89", "5.001"), ("tiers.80-89", "abc"),
                       ("minimum_age", "200"), ("minimum_age", "七十"), ("nonexistent", "1")):
        r = cli("params", "set", "--from", "2027-01", "--by", "admin_zhou", "--", "elderly_allowance", key, value)
        assert r.exit_code == 2, (key, value, r.output)
        assert "parameter_invalid" in r.stderr
    r = cli("params", "set", "no_such_program", "x", "1", "--from", "2027-01", "--by", "admin_zhou")
    assert r.exit_code == 2
    http = client.post("/api/v1/staff/params", headers=headers,
                       json={"program": "elderly_allowance", "key": "tiers.80-89", "value": "99999999", "from": "2027-01"})
    assert http.status_code == 422 and http.json["error_code"] == "parameter_invalid"
    wrong_pw = cli("params", "set", "elderly_allowance", "minimum_age", "75", "--from", "2027-01",
                   "--by", "admin_zhou", "--password", "not the password")
    assert wrong_pw.exit_code == 2
    assert _changes(session) == before


def test_self_approval_refused_over_http_and_withdraw_by_the_maker(session, cfg, client):
    _, maker = h.staff(session, cfg, role="admin")
    _, checker = h.staff(session, cfg, role="admin")
    _, reviewer = h.staff(session, cfg, role="reviewer")
    made = client.post("/api/v1/staff/params", headers=maker,
                       json={"program": "elderly_allowance", "key": "minimum_age", "value": "75", "from": "2027-01"})
    assert made.status_code == 201 and made.json["state"] == "pending"
    again = client.post("/api/v1/staff/params", headers=checker,
                        json={"program": "elderly_allowance", "key": "minimum_age", "value": "70", "from": "2027-01"})
    assert again.status_code == 409 and again.json["error_code"] == "approval_pending"
    aid = made.json["id"]
    own = client.post(f"/api/v1/staff/approvals/{aid}/approve", headers=maker, json={})
    assert own.status_code == 403 and own.json["error_code"] == "self_approval"
    low = client.post(f"/api/v1/staff/approvals/{aid}/approve", headers=reviewer, json={})
    assert low.status_code == 403
    other = client.post(f"/api/v1/staff/approvals/{aid}/withdraw", headers=checker, json={})
    assert other.status_code == 403
    gone = client.post(f"/api/v1/staff/approvals/{aid}/withdraw", headers=maker, json={})
    assert gone.status_code == 200 and gone.json["state"] == "withdrawn"
    late = client.post(f"/api/v1/staff/approvals/{aid}/approve", headers=checker, json={})
    assert late.status_code == 409 and late.json["error_code"] == "approval_not_pending"
    assert session.scalar(select(func.count()).select_from(ParameterValue)) == 0
    listed = client.get("/api/v1/staff/approvals?state=all", headers=checker)
    assert [a["state"] for a in listed.json] == ["withdrawn"]


def test_a_from_month_in_a_closed_roll_needs_arrears(session, cfg, cli):
    h.staff(session, cfg, role="admin", username="admin_sun")
    _close(cli, "2026-02")
    r = cli("params", "set", "elderly_allowance", "tiers.80-89", "70.00", "--from", "2026-02", "--by", "admin_sun")
    assert r.exit_code == 2 and "month_closed" in r.stderr


def test_arrears_pay_the_differences_of_closed_months_once_in_the_next_open_roll(session, cfg, cli, monkeypatch):
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2026-03-10")
    h.staff(session, cfg, role="admin", username="admin_qin")
    h.staff(session, cfg, role="admin", username="admin_han")
    person = h.person(session, cfg, "周老伯", birth=date(1940, 1, 1))[0]
    _account(session, cfg, person)
    paid = benefit(session, person, start="2026-01")
    _close(cli, "2026-01")
    _close(cli, "2026-02")
    proposed = cli("params", "set", "elderly_allowance", "tiers.80-89", "60.00", "--from", "2026-02", "--arrears",
                   "--by", "admin_qin")
    assert proposed.exit_code == 0, proposed.output
    assert cli("params", "approve", _summary(proposed)["approval"], "--by", "admin_han").exit_code == 0
    _close(cli, "2026-03")
    _close(cli, "2026-04")
    session.expire_all()
    lines = {ln.month: ln for ln in session.scalars(select(PayrollLine).where(PayrollLine.benefit_id == paid.id))}
    assert [(m, lines[m].amount_fen, lines[m].arrears_fen) for m in sorted(lines)] == [
        ("2026-01", 5000, 0), ("2026-02", 5000, 0),  # closed rolls never change
        ("2026-03", 6000, 1000),  # February's difference (60 − 50 yuan) paid once, as arrears
        ("2026-04", 6000, 0)]
    assert lines["2026-03"].differences == {"2026-02": ["80-89", 1000]}


def test_threshold_change_proposes_the_new_cohort_from_its_month_not_before(session, cfg, cli, client, monkeypatch):
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2027-01-10")
    h.staff(session, cfg, role="admin", username="admin_he")
    h.staff(session, cfg, role="admin", username="admin_lu")
    young = h.person(session, cfg, "孙阿姨", birth=date(1951, 6, 1))[0]  # 75 since 2026-06
    proposed = cli("params", "set", "elderly_allowance", "minimum_age", "75", "--from", "2027-03", "--by", "admin_he")
    assert proposed.exit_code == 0, proposed.output
    assert cli("params", "approve", _summary(proposed)["approval"], "--by", "admin_lu").exit_code == 0
    guide = _guide(client)
    assert "年满80周岁" in guide["summary"] and [(a["parameter"], a["value"]) for a in guide["announced"]] == [
        ("minimum_age", "75")]

    def proposals():
        session.expire_all()
        return session.scalars(select(Application).where(Application.resident_id == young.id)).all()

    assert cli("scheduler", "run-once", "--as-of", "2027-02-28").exit_code == 0
    assert proposals() == []  # not before the month the threshold takes effect
    assert cli("scheduler", "run-once", "--as-of", "2027-03-01").exit_code == 0
    [app] = proposals()
    assert app.prefill["start_month"]["value"] == "2027-03"  # from that month, no arrears before it
    assert app.prefill["monthly_amount"]["value"] == "50.00"
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2027-03-02")
    assert "年满75周岁" in _guide(client)["summary"]


def test_a_payout_grant_is_approved_only_through_its_own_route(session, cfg, client):
    principal = h.person(session, cfg, "吴老太", birth=date(1938, 1, 1))[0]
    proxy_resident, proxy_account, _ = h.person(session, cfg, "吴小妹")
    grant = h.grant(session, principal, proxy_account, proxy_resident, scopes=("view", "payout"),
                    status="pending_approval")
    _, approver = h.staff(session, cfg, role="approver")
    pending = client.get("/api/v1/staff/approvals?kind=proxy_grant", headers=approver).json
    assert [a["subject_ref"] for a in pending] == [f"grant:{grant.id}"]
    generic = client.post(f"/api/v1/staff/approvals/{pending[0]['id']}/approve", headers=approver, json={})
    assert generic.status_code == 409 and generic.json["error_code"] == "approval_elsewhere"
    own = client.post(f"/api/v1/staff/proxy-grants/{grant.id}/approve", headers=approver, json={})
    assert own.status_code == 200 and own.json["status"] == "active"
    session.expire_all()
    assert session.get(Approval, pending[0]["id"]).state == "approved"


def test_the_dibao_guide_states_the_standard_and_limits_from_the_parameters(session, cfg, cli, client, monkeypatch):
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2027-01-10")
    h.staff(session, cfg, role="admin", username="admin_fang")
    h.staff(session, cfg, role="admin", username="admin_tao")
    before = client.get("/api/v1/programs/dibao").json["guide"]
    assert "低于本市低保标准(800.00元/人/月)" in before["conditions"][1] and "24个月" in before["conditions"][2]
    proposed = cli("params", "set", "dibao", "standard", "950.00", "--from", "2027-01", "--by", "admin_fang")
    assert proposed.exit_code == 0, proposed.output
    assert cli("params", "approve", _summary(proposed)["approval"], "--by", "admin_tao").exit_code == 0
    after = client.get("/api/v1/programs/dibao").json["guide"]
    assert "低于本市低保标准(950.00元/人/月)" in after["conditions"][1]
    assert not any("800" in text for text in after["conditions"])


def test_full_width_digits_are_read_other_scripts_and_far_months_refused(session, cfg, client):
    _, headers = h.staff(session, cfg, role="admin", username="admin_wu")

    def propose(value, month="2027-01"):
        return client.post("/api/v1/staff/params", headers=headers,
                           json={"program": "elderly_allowance", "key": "tiers.80-89", "value": value, "from": month})

    arabic = propose("٦٠")
    assert arabic.status_code == 422 and "U+0666" in arabic.json["message"], arabic.json
    far = propose("60.00", "9999-12")
    assert far.status_code == 422 and far.json["error_code"] == "parameter_invalid", far.json
    full_width = propose("６０.００")
    assert full_width.status_code == 201 and full_width.json["payload"]["value"] == 6000, full_width.json
    assert full_width.json["payload"]["raw"] == "60.00"  # the approver sees the value as stored


def test_a_change_to_one_tier_leaves_other_tiers_and_later_raises_alone(session, cfg, cli, monkeypatch):
    """A new 90-99 amount cut an 80-89 legacy benefit's own 300.00 to 50.00 (every benefit of the program was
    brought to the rule); an `--arrears` 80-89 change from before a tier raise put the raised benefit's record
    back on 80-89."""
    from app.models import Benefit, BenefitChange

    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2026-12-10")
    h.staff(session, cfg, role="admin", username="admin_wang")
    h.staff(session, cfg, role="admin", username="admin_li")
    legacy_person = h.person(session, cfg, "段娅婉", birth=date(1940, 1, 1))[0]  # 86: 80-89 by age
    legacy = Benefit(program="elderly_allowance", resident_id=legacy_person.id, origin="legacy", tier="",
                     monthly_amount_fen=30000, start_month="2026-01", state="active")
    raised_person = h.person(session, cfg, "陈梁", birth=date(1936, 9, 2))[0]  # 90 in 2026-09
    raised = benefit(session, raised_person, start="2026-01")
    session.add(legacy)
    session.add(BenefitChange(benefit_id=raised.id, change_key="tier:90-99", kind="tier_raised",
                              effective_month="2026-10", old_tier="80-89", old_amount_fen=5000, tier="90-99",
                              monthly_amount_fen=10000, reason="age", as_of=date(2026, 9, 2), trace=[]))
    raised.tier, raised.monthly_amount_fen = "90-99", 10000
    session.commit()

    def approve(*args):
        made = cli("params", "set", "elderly_allowance", *args, "--by", "admin_wang")
        assert made.exit_code == 0, made.output
        assert cli("params", "approve", _summary(made)["approval"], "--by", "admin_li").exit_code == 0

    approve("tiers.90-99", "101.00", "--from", "2027-01")
    session.expire_all()
    assert session.get(Benefit, legacy.id).monthly_amount_fen == 30000
    assert not session.scalars(select(BenefitChange).where(BenefitChange.benefit_id == legacy.id)).all()

    approve("tiers.80-89", "55.00", "--from", "2026-09", "--arrears")
    session.expire_all()
    record = session.get(Benefit, raised.id)
    assert (record.tier, record.monthly_amount_fen) == ("90-99", 10000)  # still her amount today
    repriced = session.scalars(select(BenefitChange).where(BenefitChange.benefit_id == raised.id,
                                                           BenefitChange.kind == "repriced")).all()
    assert sorted((c.effective_month, c.tier, c.monthly_amount_fen) for c in repriced) == [
        ("2026-09", "80-89", 5500), ("2027-01", "90-99", 10100)]  # her own tier's new amount does reach her


def test_a_change_of_a_legacy_benefits_own_tier_raises_it_but_never_cuts_an_amount_above_the_rule(session, cfg, cli,
                                                                                                  monkeypatch):
    """Found by a probe: a new 80-89 amount of 60.00 (the rule's 50.00 before) cut legacy benefits paid 100.00 by
    the old process to 60.00. A legacy amount below the new one is raised; one above stays, with no change."""
    from app.models import Benefit, BenefitChange

    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2026-12-10")
    h.staff(session, cfg, role="admin", username="admin_wang")
    h.staff(session, cfg, role="admin", username="admin_li")
    above, below, ruled = (Benefit(program="elderly_allowance", resident_id=h.person(session, cfg, name,
                                                                                     birth=date(1940, 1, 1))[0].id,
                                   origin="legacy", tier="", monthly_amount_fen=fen, start_month="2026-01",
                                   state="active") for name, fen in (("段娅婉", 10000), ("陈梁", 4000), ("周平", 5000)))
    session.add_all([above, below, ruled])
    session.commit()
    made = cli("params", "set", "elderly_allowance", "tiers.80-89", "60.00", "--from", "2026-12", "--by", "admin_wang")
    assert made.exit_code == 0, made.output
    assert cli("params", "approve", _summary(made)["approval"], "--by", "admin_li").exit_code == 0
    session.expire_all()
    assert [session.get(Benefit, b.id).monthly_amount_fen for b in (above, below, ruled)] == [10000, 6000, 6000]
    assert not session.scalars(select(BenefitChange).where(BenefitChange.benefit_id == above.id)).all()


def test_the_age_tier_raise_never_cuts_a_legacy_amount_and_says_nothing_then(session, cfg, cli):
    """Found by a probe: the daily tier raise took every benefit not yet in the higher tier, so a legacy benefit
    paid 300.00 at 101 was "raised" to 100.00 (90-99), then to 300.00, with two messages. A raise only raises."""
    from app.models import Benefit, BenefitChange

    def legacy(name, born, fen):
        person = h.person(session, cfg, name, birth=born)[0]
        row = Benefit(program="elderly_allowance", resident_id=person.id, origin="legacy", tier="",
                      monthly_amount_fen=fen, start_month="2020-01", state="active")
        session.add(row)
        return row

    high, low = legacy("段娅婉", date(1925, 1, 1), 30000), legacy("陈梁", date(1935, 3, 1), 4000)
    session.commit()
    ran = cli("scheduler", "run-once", "--as-of", "2026-12-08")
    assert ran.exit_code == 0, ran.output
    session.expire_all()
    assert (session.get(Benefit, high.id).tier, session.get(Benefit, high.id).monthly_amount_fen) == ("", 30000)
    assert not session.scalars(select(BenefitChange).where(BenefitChange.benefit_id == high.id)).all()
    assert session.get(Benefit, low.id).tier == "90-99" and session.get(Benefit, low.id).monthly_amount_fen > 4000
    told = session.scalars(select(OutboxMessage.resident_id).where(OutboxMessage.kind == "tier_raised")).all()
    assert told == [low.resident_id]
