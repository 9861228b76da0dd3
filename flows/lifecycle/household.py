"""Household-aware deaths (动态管理: 增发/减发/停发) for programs paid to a household case (`household_case`).

A death of a counted member does not stop the case: from the month after the death the case is re-priced
(减发) by the program's own rule on the facts of its last decision minus the members who died; if the deceased
held the case (the applicant), it passes to the eldest adult member still alive. It stops only when no member
remains (then `stop_on_death` stops it like any benefit of the deceased). Runs before `stop_on_death`, in the
daily lifecycle transaction, one case at a time — only the cases with a death not yet taken in (a few a day).
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import String, cast, exists, literal, select
from sqlalchemy.orm import Session, aliased

from app.masking import mask_name
from app.models import Application, Benefit, BenefitChange, EconomicRecord, Resident
from flows import programs
from flows.dates import age_on, month_of, next_month
from notifications.outbox import enqueue

ADULT_AGE = 18


def _household_programs() -> list:
    return [p for p in programs.PROGRAMS.values() if p.household_facts is not None]


def reprice_on_member_death(conn, _d, as_of: date) -> dict:
    counts = {"household_repriced": 0, "household_passed_on": 0}
    session = Session(bind=conn)
    try:
        for program in _household_programs():
            for benefit in session.scalars(select(Benefit).where(Benefit.id.in_(_with_a_new_death(program, as_of)))):
                repriced, passed = _one_case(session, program, benefit, as_of)
                counts["household_repriced"] += repriced
                counts["household_passed_on"] += passed
        session.flush()
    finally:
        session.close()
    return counts


def _with_a_new_death(program, as_of: date):
    """The program's open household benefits with a member dead by `as_of` whose death the case has not yet
    taken in (set-based: the daily run looks at those few cases only, not at every case)."""
    holder, member = aliased(Resident), aliased(Resident)
    taken_in = exists().where(BenefitChange.benefit_id == Benefit.id,
                              BenefitChange.change_key == literal("death:").concat(cast(member.id, String)))
    return (select(Benefit.id).join(holder, holder.id == Benefit.resident_id)
            .join(member, member.household_id == holder.household_id)
            .where(Benefit.program == program.code, Benefit.state.in_(("active", "suspended")),
                   member.death_date.is_not(None), member.death_date <= as_of, ~taken_in).distinct())


def _one_case(session: Session, program, benefit: Benefit, as_of: date) -> tuple[int, int]:
    holder = session.get(Resident, benefit.resident_id)
    household = session.scalars(select(Resident).where(Resident.household_id == holder.household_id)
                                .order_by(Resident.birth_date, Resident.id)).all()
    done = set(session.scalars(select(BenefitChange.change_key).where(BenefitChange.benefit_id == benefit.id)))
    dead = [m for m in household if m.death_date is not None and m.death_date <= as_of
            and month_of(m.death_date) >= _month_before(benefit.start_month) and f"death:{m.id}" not in done]
    if not dead:
        return 0, 0
    alive = [m for m in household if m.death_date is None or m.death_date > as_of]
    adults = [m for m in alive if age_on(m.birth_date, as_of) >= ADULT_AGE]
    if not alive or (holder in dead and not adults):
        return 0, 0  # nobody left to hold the case: stop_on_death stops it
    passed = 0
    if holder in dead:
        holder = adults[0]
        benefit.resident_id = holder.id
        passed = 1
    application = session.get(Application, benefit.application_id) if benefit.application_id else None
    decided_on = application.as_of if application is not None else as_of
    records = session.scalars(select(EconomicRecord).where(EconomicRecord.resident_id.in_([m.id for m in alive]))).all()
    facts = program.household_facts(alive, records, holder, application, mask_name)
    decision = program.decide(facts, decided_on)
    last = max(dead, key=lambda m: m.death_date)
    effective = max(next_month(last.death_date), benefit.start_month)
    for m in dead:
        stop = not decision.eligible
        session.add(BenefitChange(
            benefit_id=benefit.id, change_key=f"death:{m.id}", kind="stopped" if stop else "repriced",
            effective_month=effective, old_tier=benefit.tier, old_amount_fen=benefit.monthly_amount_fen,
            tier=decision.tier or benefit.tier, monthly_amount_fen=decision.monthly_amount_fen if not stop else 0,
            reason="member_death", as_of=as_of,
            trace=[c for c in decision.trace()] + [{"code": "member_died", "passed": False, "value": "false",
                                                    "source": m.source or "population_registry",
                                                    "source_date": m.death_date.isoformat(),
                                                    "text": f"家庭成员{mask_name(m.name)}已去世,自{effective}起按"
                                                            f"{len(alive)}人重新核定"}]))
    if decision.eligible:
        benefit.tier, benefit.monthly_amount_fen = decision.tier, decision.monthly_amount_fen
    else:
        benefit.state, benefit.end_month = "stopped", month_of(last.death_date)
    session.flush()
    enqueue(session, kind="tier_raised", idempotency_key=f"benefit:{benefit.id}:member-death:{last.id}",
            resident_id=holder.id, data={"program": program.code, "reason": "parameter_change",
                                         "monthly_amount": f"{decision.monthly_amount_fen // 100}."
                                                           f"{decision.monthly_amount_fen % 100:02d}",
                                         "effective_month": effective})
    return 1, passed


def _month_before(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1:04d}-12" if mon == 1 else f"{year:04d}-{mon - 1:02d}"
