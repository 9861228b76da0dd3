"""The monthly roll: arrears, tier history, stop on death, closed months frozen, bank CSV, anomaly report."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from sqlalchemy import select

from app.crypto import cipher_for
from app.masking import mask_account
from app.models import PayoutAccount, PayrollLine, PayrollRun
from flows import payroll
from flows.lifecycle.jobs import run_daily
from tests.builders import make_resident
from tests.lifecycle.helpers import benefit


def _account(session, cfg, resident, number="6222020200112233445"):
    cipher = cipher_for(cfg)
    session.add(PayoutAccount(resident_id=resident.id, kind="bank", bank_name="工商银行", number_enc=cipher.encrypt(number),
                              number_mask=mask_account(number), number_hash=cipher.lookup_hash(number, "account"),
                              source_date=date(2026, 11, 1)))
    session.commit()


def test_arrears_since_the_start_month_then_only_the_month(session, cfg):
    person, _ = make_resident(session, cfg, birth_date=date(1940, 1, 1))
    _account(session, cfg, person)
    b = benefit(session, person, start="2026-01")
    roll = payroll.compute(session, "2026-03", date(2026, 3, 5), close=True)
    session.commit()
    line = session.scalars(select(PayrollLine)).one()
    assert (line.amount_fen, line.arrears_fen, line.covered_from, line.covered_to) == (5000, 10000, "2026-01", "2026-03")
    assert roll.totals["elderly_allowance"]["total_fen"] == 15000
    april = payroll.compute(session, "2026-04", date(2026, 4, 5), close=True)
    session.commit()
    assert april.totals["elderly_allowance"] == {"benefits": 1, "amount_fen": 5000, "arrears_fen": 0,
                                                 "total_fen": 5000, "no_account": 0}
    assert all(v["count"] == 0 for v in april.anomalies.values())
    assert payroll.payments_of(session, b.id)[0] == {
        "month": "2026-04", "amount": "50.00", "arrears": "0.00", "total": "50.00", "covered_from": "2026-04",
        "covered_to": "2026-04", "status": "paid", "account": "***************3445"}


def test_tier_raise_and_death_are_paid_right_and_closed_rolls_never_change(session, cfg):
    person, _ = make_resident(session, cfg, birth_date=date(1936, 11, 20))
    _account(session, cfg, person)
    b = benefit(session, person, start="2026-10")
    run_daily(cfg, date(2026, 11, 20))             # 90 → 90-99 from 2026-12
    payroll.compute(session, "2026-10", date(2026, 10, 5), close=True)
    session.commit()
    dec = payroll.compute(session, "2026-12", date(2026, 12, 5), close=True)
    session.commit()
    line = session.scalars(select(PayrollLine).where(PayrollLine.month == "2026-12")).one()
    assert line.months == {"2026-11": ["80-89", 5000], "2026-12": ["90-99", 10000]}
    assert dec.anomalies["wrong_tier"]["count"] == 0
    person.death_date = date(2027, 1, 10)
    session.commit()
    run_daily(cfg, date(2027, 1, 11))
    jan = payroll.compute(session, "2027-01", date(2027, 1, 12), close=True)
    feb = payroll.compute(session, "2027-02", date(2027, 2, 5))
    assert jan.totals["elderly_allowance"]["total_fen"] == 10000 and feb.totals == {}
    again = payroll.compute(session, "2026-12", date(2027, 2, 5))
    assert not again.recomputed and payroll.verify(session, "2026-12")["same"]
    assert session.get(type(again.run), again.run.id).inputs["benefits"]["rows"] == 1
    assert b.id


def test_anomalies_paid_after_death_and_wrong_tier(session, cfg, monkeypatch):
    dead, _ = make_resident(session, cfg, name="甲", birth_date=date(1940, 1, 1), death_date=date(2026, 1, 15))
    benefit(session, dead, start="2026-01")  # lifecycle job never ran: still active
    old, _ = make_resident(session, cfg, name="乙", birth_date=date(1930, 1, 1))
    benefit(session, old, start="2026-01")  # 96 years old paid at 80-89
    roll = payroll.compute(session, "2026-02", date(2026, 2, 5))
    # the roll itself pays no month after a death the registry holds: 甲's line ends with January
    lines = {ln.resident_id: ln for ln in session.scalars(select(PayrollLine).where(PayrollLine.run_id == roll.run.id))}
    assert (lines[dead.id].covered_from, lines[dead.id].covered_to) == ("2026-01", "2026-01")
    assert roll.anomalies["paid_after_death"]["count"] == 0
    assert roll.anomalies["wrong_tier"]["count"] == 2  # 乙 in January and February (甲, 86, is at the right tier)
    assert roll.anomalies["paid_twice"]["count"] == 0
    monkeypatch.setattr(payroll.programs, "EXCLUSIVE_PAIRS", (("elderly_allowance", "disability_care_subsidy"),))
    benefit(session, old, program="disability_care_subsidy", tier="grade1", fen=10000, start="2026-02")
    roll = payroll.compute(session, "2026-02", date(2026, 2, 5))
    assert roll.anomalies["paid_exclusive"]["count"] == 1


def test_closing_stops_a_death_and_suspends_a_move_out_the_daily_job_has_not_seen(session, cfg):
    """A death imported (or a hukou moved out) and the roll closed before the next daily job: the months after
    were paid. Closing now applies the stops the registry already holds, with their messages."""
    from app.models import Benefit, OutboxMessage

    dead, _ = make_resident(session, cfg, name="胡巧叶", birth_date=date(1940, 1, 1), death_date=date(2026, 10, 15))
    gone, _ = make_resident(session, cfg, name="钱老汉", birth_date=date(1941, 1, 1), hukou_local=False)
    here, _ = make_resident(session, cfg, name="孙奶奶", birth_date=date(1942, 1, 1))
    from app.models import HukouMove

    session.add(HukouMove(resident_id=gone.id, move_date=date(2026, 10, 20), direction="out", area_code="110105",
                          source_date=date(2026, 10, 25)))
    stopped, suspended, paid = (benefit(session, p, start="2026-09") for p in (dead, gone, here))
    roll = payroll.compute(session, "2027-01", date(2027, 1, 8), close=True)
    session.commit()
    lines = {ln.resident_id: ln for ln in session.scalars(select(PayrollLine).where(PayrollLine.run_id == roll.run.id))}
    assert (lines[dead.id].covered_from, lines[dead.id].covered_to) == ("2026-09", "2026-10")
    assert (lines[gone.id].covered_from, lines[gone.id].covered_to) == ("2026-09", "2026-10")
    assert (lines[here.id].covered_from, lines[here.id].covered_to) == ("2026-09", "2027-01")
    session.expire_all()
    assert [session.get(Benefit, b.id).state for b in (stopped, suspended, paid)] == ["stopped", "suspended", "active"]
    kinds = set(session.scalars(select(OutboxMessage.kind)))
    assert "benefit_stopped" in kinds  # the move out is told, as the daily job tells it
    assert roll.anomalies["paid_after_death"]["count"] == 0


def test_payroll_cli_writes_the_bank_file_with_full_numbers_only_there(cli, cfg, session, tmp_path):
    person, number = make_resident(session, cfg, birth_date=date(1940, 1, 1))
    _account(session, cfg, person)
    benefit(session, person, start="2026-11")
    result = cli("payroll", "--month", "2026-11", "--close", "--as-of", "2026-11-05")
    assert result.exit_code == 0, result.output
    assert "6222020200112233445" not in result.stdout and number not in result.stdout
    last = dict(p.split("=", 1) for p in result.stdout.strip().splitlines()[-1].split())
    assert (last["state"], last["lines"], last["total"], last["anomalies"]) == ("closed", "1", "50.00", "0")
    # closing writes no bank file (issue 12): a supervisor signs the roll off, then it is released
    assert (last["csv"], last["signoff"]) == ("none", "pending")
    from tests.payroll.test_payroll_gate import release, sign_off, supervisor

    supervisor(session, cfg, "sup1")
    assert sign_off(cfg, "2026-11", "sup1").exit_code == 0
    result = release(cfg, "2026-11", "sup1", tmp_path)
    assert result.exit_code == 0, result.output
    last = dict(p.split("=", 1) for p in result.stdout.strip().splitlines()[-1].split())
    rows = list(csv.DictReader(open(Path(last["csv"]), encoding="utf-8-sig")))
    assert rows[0]["account_number"] == "6222020200112233445" and rows[0]["amount"] == "50.00"
    assert number not in Path(last["csv"]).read_text(encoding="utf-8-sig")
    assert cli("payroll", "--month", "2026-13").exit_code == 2
    # a month not yet begun may be looked at as a draft, not closed: its months would be paid ahead of time
    assert cli("payroll", "--month", "2027-03", "--as-of", "2026-12-05").exit_code == 0
    ahead = cli("payroll", "--month", "2027-03", "--close", "--as-of", "2026-12-05")
    assert ahead.exit_code == 2 and "roll_month_ahead" in ahead.output and "Traceback" not in ahead.output
    assert session.scalar(select(PayrollRun.state).where(PayrollRun.month == "2027-03")) == "draft"


def test_the_first_payment_of_a_new_benefit_is_announced_once_and_legacy_ones_are_not(session, cfg):
    from app.models import OutboxMessage

    person, _ = make_resident(session, cfg, birth_date=date(1940, 1, 1))
    old_timer, _ = make_resident(session, cfg, name="王老", birth_date=date(1938, 1, 1), household_id="H9")
    _account(session, cfg, person)
    _account(session, cfg, old_timer, number="6222020200112239999")
    new = benefit(session, person, start="2026-03")
    old = benefit(session, old_timer, start="2026-01")
    old.origin = "legacy"
    session.commit()
    payroll.compute(session, "2026-03", date(2026, 3, 5), close=True)
    payroll.compute(session, "2026-04", date(2026, 4, 5), close=True)
    session.commit()
    sent = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "payment_started")).all()
    assert [(m.resident_id, m.data["benefit_id"], m.data["monthly_amount"]) for m in sent] == [(person.id, new.id, "50.00")]
    assert old.id not in [m.data["benefit_id"] for m in sent]


def test_a_month_a_closed_roll_already_paid_is_reported_paid_twice(session, cfg):
    """The roll reads only the closed lines that can overlap it; a month paid by an earlier closed roll and owed
    again (here: that roll's coverage recorded short of what it paid) is still found."""
    from sqlalchemy import update

    person, _ = make_resident(session, cfg, birth_date=date(1940, 1, 1))
    _account(session, cfg, person)
    other, _ = make_resident(session, cfg, birth_date=date(1941, 5, 5))
    _account(session, cfg, other, "6222020200112239999")
    b = benefit(session, person, start="2026-01")
    benefit(session, other, start="2026-01")
    payroll.compute(session, "2026-01", date(2026, 1, 5), close=True)
    session.commit()
    session.execute(update(PayrollLine).where(PayrollLine.benefit_id == b.id).values(covered_to="2025-12"))
    session.commit()
    feb = payroll.compute(session, "2026-02", date(2026, 2, 5))
    assert feb.anomalies["paid_twice"]["count"] == 1
    assert feb.anomalies["paid_twice"]["items"] == [{"benefit_id": b.id, "month": "2026-01"}]
