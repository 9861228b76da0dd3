"""Household-aware deaths (动态管理): the applicant of a 3-person 低保 household dies → the case passes to
another adult and continues with 2 members at the re-priced amount from the next month; the last member
dies → it stops. Through the public CLI (`scheduler run-once --as-of`, `payroll`)."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.models import Application, Benefit, BenefitChange, EconomicRecord, HukouMove, PayrollLine
from tests.builders import make_resident
from tests.payroll.test_payroll import _account


def _household(session, cfg):
    head = make_resident(session, cfg, name="张大山", birth_date=date(1960, 3, 3), household_id="HX1", sex="M",
                         phone="13911110001")[0]
    wife = make_resident(session, cfg, name="王秀兰", birth_date=date(1962, 4, 4), household_id="HX1",
                         relation="配偶", phone="13911110002")[0]
    son = make_resident(session, cfg, name="张小川", birth_date=date(2001, 5, 5), household_id="HX1", sex="M",
                        relation="子", phone="13911110003")[0]
    for month in ("2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10"):
        session.add(EconomicRecord(resident_id=head.id, kind="income_wage", period=month, amount_fen=60_000,
                                   source="tax", source_date=date(2026, 11, 20)))
    application = Application(program="dibao", resident_id=head.id, state="approved", as_of=date(2026, 11, 25),
                              prefill={}, trace=[])
    session.add(application)
    session.flush()
    # 3 people, 600 yuan a month: 3 × 800 − 600 = 1800 yuan (the rule's amount on 2026-11-25)
    case = Benefit(program="dibao", resident_id=head.id, application_id=application.id, tier="3p",
                   monthly_amount_fen=180_000, start_month="2026-12", state="active")
    session.add(case)
    session.commit()
    for person in (head, wife, son):
        _account(session, cfg, person)
    return head, wife, son, case


def _run(cli, day: str) -> None:
    r = cli("scheduler", "run-once", "--as-of", day)
    assert r.exit_code == 0, r.output


def test_applicant_dies_case_continues_with_two_members_then_stops_with_the_last(session, cfg, cli):
    head, wife, son, case = _household(session, cfg)
    assert cli("payroll", "--month", "2026-12", "--close", "--as-of", "2026-12-05").exit_code == 0
    head.death_date = date(2027, 1, 10)
    session.commit()
    _run(cli, "2027-01-11")
    session.expire_all()
    case = session.get(Benefit, case.id)
    assert case.state == "active" and case.resident_id == wife.id  # passed to the eldest adult still alive
    # 2 members, the deceased's wage gone with him: 2 × 800 = 1600 yuan from February
    assert (case.tier, case.monthly_amount_fen) == ("2p", 160_000)
    change = session.scalars(select(BenefitChange).where(BenefitChange.benefit_id == case.id)).one()
    assert (change.kind, change.effective_month, change.reason) == ("repriced", "2027-02", "member_death")
    _run(cli, "2027-01-12")  # idempotent
    session.expire_all()
    assert session.scalars(select(BenefitChange).where(BenefitChange.benefit_id == case.id)).all() == [change]

    assert cli("payroll", "--month", "2027-02", "--close", "--as-of", "2027-02-05").exit_code == 0
    session.expire_all()
    lines = {ln.month: (ln.amount_fen, ln.months) for ln in session.scalars(
        select(PayrollLine).where(PayrollLine.benefit_id == case.id))}
    assert lines["2027-02"][1] == {"2027-01": ["3p", 180_000], "2027-02": ["2p", 160_000]}

    wife.death_date, son.death_date = date(2027, 3, 2), date(2027, 3, 20)
    session.commit()
    _run(cli, "2027-03-21")
    session.expire_all()
    case = session.get(Benefit, case.id)
    assert case.state == "stopped" and case.end_month == "2027-03"
    assert cli("payroll", "--month", "2027-04", "--close", "--as-of", "2027-04-05").exit_code == 0
    session.expire_all()
    april = session.scalars(select(PayrollLine).where(PayrollLine.benefit_id == case.id,
                                                      PayrollLine.month == "2027-04")).one()
    assert (april.amount_fen, april.covered_to) == (0, "2027-03")  # March as arrears, nothing from April


def test_a_member_who_is_not_the_applicant_dies_the_case_is_re_priced(session, cfg, cli):
    head, wife, son, case = _household(session, cfg)
    son.death_date = date(2027, 1, 10)
    session.commit()
    _run(cli, "2027-01-11")
    session.expire_all()
    case = session.get(Benefit, case.id)
    # 2 members, the head's 600 yuan still counted: 2 × 800 − 600 = 1000 yuan from February
    assert (case.state, case.resident_id, case.tier, case.monthly_amount_fen) == ("active", head.id, "2p", 100_000)


def _move_out(session, person, day: date) -> None:
    session.add(HukouMove(resident_id=person.id, move_date=day, direction="out", area_code="110101",
                          source_date=day))
    person.hukou_local = False
    session.commit()


def test_a_member_who_moves_out_is_no_longer_counted_and_the_case_is_re_priced(session, cfg, cli):
    head, wife, son, case = _household(session, cfg)
    _move_out(session, son, date(2027, 1, 10))
    _run(cli, "2027-01-11")
    session.expire_all()
    case = session.get(Benefit, case.id)
    # 2 members, the head's 600 yuan still counted: 2 × 800 − 600 = 1000 yuan from February (减发)
    assert (case.state, case.resident_id, case.tier, case.monthly_amount_fen) == ("active", head.id, "2p", 100_000)
    change = session.scalars(select(BenefitChange).where(BenefitChange.benefit_id == case.id)).one()
    assert (change.kind, change.effective_month, change.reason) == ("repriced", "2027-02", "member_moved_out")
    _run(cli, "2027-01-12")  # idempotent: the same move is taken in once
    session.expire_all()
    assert session.scalars(select(BenefitChange).where(BenefitChange.benefit_id == case.id)).all() == [change]


def test_the_applicant_moves_out_the_case_passes_on_and_stops_only_when_nobody_remains(session, cfg, cli):
    head, wife, son, case = _household(session, cfg)
    _move_out(session, head, date(2027, 1, 10))
    _run(cli, "2027-01-11")
    session.expire_all()
    case = session.get(Benefit, case.id)
    # not suspended: the wife holds the case, 2 members and the head's wage gone with him: 2 × 800 = 1600 yuan
    assert (case.state, case.resident_id, case.tier, case.monthly_amount_fen) == ("active", wife.id, "2p", 160_000)
    wife.death_date = date(2027, 2, 3)
    session.commit()
    _move_out(session, son, date(2027, 2, 4))
    _run(cli, "2027-02-05")
    session.expire_all()
    case = session.get(Benefit, case.id)
    assert case.state in ("stopped", "suspended") and case.end_month == "2027-02"  # nobody remains


def test_a_new_standard_re_prices_the_household_from_its_month_on_the_last_decisions_facts(session, cfg, cli,
                                                                                            monkeypatch):
    from tests.authz import helpers as h

    monkeypatch.setenv("ZEROTRIP_PASSWORD", "correct horse battery")
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2026-12-10")
    head, wife, son, case = _household(session, cfg)
    h.staff(session, cfg, role="admin", username="admin_gu")
    h.staff(session, cfg, role="admin", username="admin_xu")
    try:
        proposed = cli("params", "set", "dibao", "standard", "900.00", "--from", "2027-01", "--by", "admin_gu")
        assert proposed.exit_code == 0, proposed.output
        approval = proposed.stdout.strip().splitlines()[-1].split("approval=")[1].split()[0]
        assert cli("params", "approve", approval, "--by", "admin_xu").exit_code == 0
        session.expire_all()
        change = session.scalars(select(BenefitChange).where(BenefitChange.benefit_id == case.id)).one()
        # 3 people, the head's 600 yuan a month as last decided: 3 × 900 − 600 = 2100 yuan from January
        assert (change.kind, change.effective_month, change.monthly_amount_fen, change.old_amount_fen) == (
            "repriced", "2027-01", 210_000, 180_000)
        assert cli("payroll", "--month", "2027-01", "--close", "--as-of", "2027-01-05").exit_code == 0
        session.expire_all()
        line = session.scalars(select(PayrollLine).where(PayrollLine.benefit_id == case.id)).one()
        assert line.months["2027-01"] == ["3p", 210_000]
    finally:
        from flows import parameters

        parameters.reset()


def test_with_only_a_child_left_the_case_goes_on_for_the_child(session, cfg, cli):
    head = make_resident(session, cfg, name="陈志刚", birth_date=date(1980, 3, 3), household_id="HX9", sex="M",
                         phone="13911110009")[0]
    child = make_resident(session, cfg, name="陈小雨", birth_date=date(2015, 5, 5), household_id="HX9",
                          relation="女")[0]
    application = Application(program="dibao", resident_id=head.id, state="approved", as_of=date(2026, 11, 25),
                              prefill={}, trace=[])
    session.add(application)
    session.flush()
    case = Benefit(program="dibao", resident_id=head.id, application_id=application.id, tier="2p",
                   monthly_amount_fen=160_000, start_month="2026-12", state="active")
    session.add(case)
    head.death_date = date(2027, 1, 10)
    session.commit()
    _run(cli, "2027-01-11")
    session.expire_all()
    case = session.get(Benefit, case.id)
    # it stops only when no member remains: 1 × 800 yuan from February, held for the child
    assert (case.state, case.resident_id, case.tier, case.monthly_amount_fen) == ("active", child.id, "1p", 80_000)
