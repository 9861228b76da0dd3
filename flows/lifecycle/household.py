"""Household-aware departures (动态管理: 增发/减发/停发) for programs paid to a household case (`household_facts`).

A counted member who dies or whose hukou moves out of the city does not end the case: from the month after the
death or the move the case is re-priced (减发) by the program's own rule on the facts of its last decision minus
the members who left; if the one who left held the case (the applicant), it passes to the eldest adult member
still here (the eldest child when only children remain). It stops only when no member remains (then `stop_on_death` stops it, or `suspend_on_move_out`
suspends it, like any benefit of the person who held it). Runs before both, in the daily lifecycle transaction,
one case at a time — only the cases with a departure not yet taken in (a few a day).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import String, and_, cast, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from app.masking import mask_name
from app.models import Application, Benefit, BenefitChange, EconomicRecord, HukouMove, Resident
from flows import programs
from flows.dates import age_on, month_of, next_month
from notifications.outbox import enqueue

ADULT_AGE = 18


@dataclass(frozen=True)
class Departure:
    """A counted member who left the household case: died, or her hukou moved out of the city."""

    member: Resident
    kind: str  # death | moved_out
    on: date

    @property
    def key(self) -> str:
        return f"{'death' if self.kind == 'death' else 'moved_out'}:{self.member.id}"

    @property
    def message_key(self) -> str:
        return f"{'member-death' if self.kind == 'death' else 'member-moved-out'}:{self.member.id}"

    @property
    def reason(self) -> str:
        return "member_death" if self.kind == "death" else "member_moved_out"

    def text(self, effective: str, remaining: int) -> str:
        left = "已去世" if self.kind == "death" else "户籍已迁出本市"
        return f"家庭成员{mask_name(self.member.name)}{left},自{effective}起按{remaining}人重新核定"


def _household_programs() -> list:
    return [p for p in programs.PROGRAMS.values() if p.household_facts is not None]


def reprice_on_member_departure(conn, _d, as_of: date) -> dict:
    """Deaths and moves out of counted members (one job: both change who counts, and a member who moved out and
    then died is taken in once)."""
    counts = {"household_repriced": 0, "household_passed_on": 0}
    session = Session(bind=conn)
    try:
        for program in _household_programs():
            for benefit in session.scalars(select(Benefit).where(Benefit.id.in_(_with_a_new_departure(program,
                                                                                                     as_of)))):
                repriced, passed = _one_case(session, program, benefit, as_of)
                counts["household_repriced"] += repriced
                counts["household_passed_on"] += passed
        session.flush()
    finally:
        session.close()
    return counts


def _with_a_new_departure(program, as_of: date):
    """The program's open household benefits with a member dead or moved out by `as_of` whose departure the case
    has not yet taken in (set-based: the daily run looks at those few cases only, not at every case)."""
    holder, member = aliased(Resident), aliased(Resident)
    key = BenefitChange.change_key
    taken_in = exists().where(BenefitChange.benefit_id == Benefit.id,
                              key.in_([literal("death:").concat(cast(member.id, String)),
                                       literal("moved_out:").concat(cast(member.id, String))]))
    gone = or_(and_(member.death_date.is_not(None), member.death_date <= as_of), ~member.hukou_local)
    return (select(Benefit.id).join(holder, holder.id == Benefit.resident_id)
            .join(member, member.household_id == holder.household_id)
            .where(Benefit.program == program.code, Benefit.state.in_(("active", "suspended")), gone, ~taken_in)
            .distinct())


def _departures(session: Session, household: list[Resident], as_of: date, done: set[str],
                start_month: str) -> list[Departure]:
    """Who left the case and when, not yet taken in: a death by `as_of`, or a move out of the city (the latest
    move out by `as_of`; `as_of` when the registry lost its date). Departures before the month before the case
    began were never counted."""
    moved = [m for m in household if not m.hukou_local and (m.death_date is None or m.death_date > as_of)]
    move_dates = dict(session.execute(
        select(HukouMove.resident_id, func.max(HukouMove.move_date))
        .where(HukouMove.resident_id.in_([m.id for m in moved]), HukouMove.direction == "out",
               HukouMove.move_date <= as_of).group_by(HukouMove.resident_id)).all()) if moved else {}
    out = [Departure(m, "death", m.death_date) for m in household
           if m.death_date is not None and m.death_date <= as_of]
    out += [Departure(m, "moved_out", move_dates.get(m.id) or as_of) for m in moved]
    return [g for g in out if month_of(g.on) >= _month_before(start_month) and g.key not in done]


def _one_case(session: Session, program, benefit: Benefit, as_of: date) -> tuple[int, int]:
    holder = session.get(Resident, benefit.resident_id)
    household = session.scalars(select(Resident).where(Resident.household_id == holder.household_id)
                                .order_by(Resident.birth_date, Resident.id)).all()
    done = set(session.scalars(select(BenefitChange.change_key).where(BenefitChange.benefit_id == benefit.id)))
    left = _departures(session, household, as_of, done, benefit.start_month)
    if not left:
        return 0, 0
    gone = {g.member.id for g in left}
    here = [m for m in household if (m.death_date is None or m.death_date > as_of) and m.hukou_local
            and m.id not in gone]
    adults = [m for m in here if age_on(m.birth_date, as_of) >= ADULT_AGE]
    if not here:
        return 0, 0  # nobody left: stop_on_death stops it, suspend_on_move_out suspends it
    passed = 0
    if holder.id in gone:  # the eldest adult still here holds it; with only children left, the eldest child
        holder = (adults or here)[0]  # (her guardian acts for her through the proxy rules)
        benefit.resident_id = holder.id
        passed = 1
    last = max(left, key=lambda g: g.on)
    effective = max(next_month(last.on), benefit.start_month)
    decision = case_decision(session, program, benefit, here, holder, effective, as_of)
    stop = not decision.eligible
    for g in left:
        session.add(BenefitChange(
            benefit_id=benefit.id, change_key=g.key, kind="stopped" if stop else "repriced",
            effective_month=effective, old_tier=benefit.tier, old_amount_fen=benefit.monthly_amount_fen,
            tier=decision.tier or benefit.tier, monthly_amount_fen=decision.monthly_amount_fen if not stop else 0,
            reason=g.reason, as_of=as_of,
            trace=[c for c in decision.trace()] + [{"code": "member_left", "passed": False, "value": g.kind,
                                                    "source": g.member.source or "population_registry",
                                                    "source_date": g.on.isoformat(),
                                                    "text": g.text(effective, len(here))}]))
    if decision.eligible:
        benefit.tier, benefit.monthly_amount_fen = decision.tier, decision.monthly_amount_fen
    else:
        benefit.state, benefit.end_month = "stopped", month_of(last.on)
    session.flush()
    enqueue(session, kind="tier_raised", idempotency_key=f"benefit:{benefit.id}:{last.message_key}",
            resident_id=holder.id, data={"program": program.code, "reason": "parameter_change",
                                         "monthly_amount": f"{decision.monthly_amount_fen // 100}."
                                                           f"{decision.monthly_amount_fen % 100:02d}",
                                         "effective_month": effective})
    return 1, passed


def case_decision(session: Session, program, benefit: Benefit, here: list[Resident], holder: Resident, month: str,
                  as_of: date, facts_on: date | None = None):
    """The program's rule on the facts of the case's last decision (its income window) for the members `here`,
    at the standard and limits in force in `month`; with `facts_on`, on the facts as of that day instead (a
    re-check after new income data, flows.lifecycle.income)."""
    application = session.get(Application, benefit.application_id) if benefit.application_id else None
    decided_on = facts_on or (application.as_of if application is not None else as_of)
    records = session.scalars(select(EconomicRecord).where(EconomicRecord.resident_id.in_([m.id for m in here]))).all()
    facts = program.household_facts(here, records, holder, application, mask_name)
    return program.decide(facts, decided_on, amounts_on=date(int(month[:4]), int(month[5:7]), 1))


def members_here(session: Session, holder: Resident, today: date) -> list[Resident]:
    """The members of the holder's household who still count on `today`: alive, hukou in the city."""
    return [m for m in session.scalars(select(Resident).where(Resident.household_id == holder.household_id)
                                       .order_by(Resident.birth_date, Resident.id))
            if (m.death_date is None or m.death_date > today) and m.hukou_local] if holder.household_id else [holder]


def reprice_on_parameter_change(session: Session, program, from_month: str, change_key: str, today: date,
                                amount_before) -> dict:
    """A dated change of a household program's standard or limits (flows.parameters): each open case is
    re-priced from `from_month` on the facts of its last decision with the members still here. A case the new
    values would end is not stopped by a parameter change; it is counted and left to the next review."""
    counts = {"repriced": 0, "unchanged": 0, "left_to_review": 0}
    for benefit in session.scalars(select(Benefit).where(Benefit.program == program.code,
                                                         Benefit.state.in_(("active", "suspended")))).all():
        holder = session.get(Resident, benefit.resident_id)
        here = [m for m in session.scalars(select(Resident).where(Resident.household_id == holder.household_id)
                                           .order_by(Resident.birth_date, Resident.id))
                if (m.death_date is None or m.death_date > today) and m.hukou_local]
        month = max(from_month, benefit.start_month)
        decision = case_decision(session, program, benefit, here or [holder], holder, month, today)
        old = amount_before(session, benefit, month)
        if not decision.eligible:
            counts["left_to_review"] += 1
            continue
        if decision.monthly_amount_fen == old[1]:
            counts["unchanged"] += 1
            continue
        session.add(BenefitChange(
            benefit_id=benefit.id, change_key=change_key, kind="repriced", effective_month=month,
            old_tier=old[0], old_amount_fen=old[1], tier=decision.tier, monthly_amount_fen=decision.monthly_amount_fen,
            reason="parameter_change", as_of=today,
            trace=[{"code": "parameter_change", "passed": True, "value": str(decision.monthly_amount_fen),
                    "source": "parameters", "source_date": today.isoformat(),
                    "text": f"保障标准自{month}起调整,按{len(here or [holder])}人重新核定"}]))
        if month <= f"{today:%Y-%m}":
            benefit.tier, benefit.monthly_amount_fen = decision.tier, decision.monthly_amount_fen
        counts["repriced"] += 1
    session.flush()
    return counts


def _month_before(month: str) -> str:
    year, mon = int(month[:4]), int(month[5:7])
    return f"{year - 1:04d}-12" if mon == 1 else f"{year:04d}-{mon - 1:02d}"
