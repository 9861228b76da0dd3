"""Moving back into the city resumes a suspended elderly allowance from the month after the move back; the
months away are never paid (not even as arrears); set-based and idempotent."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.models import Benefit, BenefitChange, HukouMove, OutboxMessage, PayrollLine
from flows import payroll
from flows.lifecycle.jobs import run_daily
from tests.builders import make_resident
from tests.lifecycle.helpers import benefit, move_out


def move_in(session, resident, when):
    session.add(HukouMove(resident_id=resident.id, move_date=when, direction="in", area_code="140105",
                          source_date=when))
    resident.hukou_local = True
    session.commit()


def test_move_back_resumes_from_the_month_after(session, cfg):
    person, _ = make_resident(session, cfg, birth_date=date(1940, 1, 1))
    other, _ = make_resident(session, cfg, name="赵", birth_date=date(1941, 1, 1), household_id="H2")
    b = benefit(session, person, start="2026-01")
    away = benefit(session, other, start="2026-01")
    move_out(session, person, date(2026, 8, 10))
    move_out(session, other, date(2026, 8, 10))
    run_daily(cfg, date(2026, 8, 11))
    move_in(session, person, date(2026, 10, 20))
    counts = run_daily(cfg, date(2026, 10, 21)).counts
    assert counts["resumed_move_in"] == 1 and counts["suspended_move"] == 0
    assert run_daily(cfg, date(2026, 10, 21)).counts["resumed_move_in"] == 0  # idempotent
    assert run_daily(cfg, date(2026, 10, 22)).counts["resumed_move_in"] == 0
    session.expire_all()
    b = session.get(Benefit, b.id)
    assert (b.state, b.end_month) == ("active", None)
    assert session.get(Benefit, away.id).state == "suspended"
    change = session.scalars(select(BenefitChange).where(BenefitChange.kind == "resumed")).one()
    assert (change.change_key, change.effective_month, change.reason) == ("resume:2026-10-20", "2026-11", "moved_in")
    assert change.trace[0]["code"] == "hukou_local" and change.trace[0]["passed"] is True
    msgs = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "benefit_resumed")).all()
    assert [(m.resident_id, m.data["effective_month"]) for m in msgs] == [(person.id, "2026-11")]
    assert msgs[0].idempotency_key == f"benefit:{b.id}:resumed:2026-11"

    # the roll of November pays Jan–Aug and November, never September–October
    roll = payroll.compute(session, "2026-11", as_of=date(2026, 11, 5))
    assert roll.lines >= 1
    line = session.scalars(select(PayrollLine).where(PayrollLine.benefit_id == b.id)).one()
    assert sorted(line.months) == [f"2026-{m:02d}" for m in (1, 2, 3, 4, 5, 6, 7, 8, 11)]
    assert roll.anomalies["paid_twice"]["count"] == 0

    # moving out again suspends again (a new change), and back in resumes again
    move_out(session, person, date(2027, 2, 1))
    assert run_daily(cfg, date(2027, 2, 2)).counts["suspended_move"] == 1
    move_in(session, person, date(2027, 3, 15))
    assert run_daily(cfg, date(2027, 3, 16)).counts["resumed_move_in"] == 1


def test_no_resume_while_still_away_or_when_dead(session, cfg):
    person, _ = make_resident(session, cfg, birth_date=date(1940, 1, 1))
    b = benefit(session, person)
    move_out(session, person, date(2026, 8, 10))
    run_daily(cfg, date(2026, 8, 11))
    assert run_daily(cfg, date(2026, 9, 1)).counts["resumed_move_in"] == 0
    person.death_date = date(2026, 9, 5)
    move_in(session, person, date(2026, 9, 1))
    counts = run_daily(cfg, date(2026, 9, 10)).counts
    assert counts["resumed_move_in"] == 0
    session.expire_all()
    assert session.get(Benefit, b.id).state == "stopped"
