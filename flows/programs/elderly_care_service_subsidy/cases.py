"""Casework of the elderly care service subsidy (经济困难老年人养老服务补贴; rule in
flows.programs.elderly_care_service_subsidy): the daily step (proposals from valid assessments, community tasks
for members without one, re-pricing and stops from the month after a new or expired assessment) and the
confirmation (decided by rule, no field asked; 择高 with the 护理补贴)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session, aliased

from app.db import utcnow
from app.errors import Conflict
from app.masking import mask_name
from app.models import Application, Benefit, BenefitChange, CareAssessment, Resident, StaffTask
from app.models.ids import new_id
from app.sql import insert_ignore
from flows import case_states, decision_round
from flows.applications import take_proposal
from flows.casework import start_benefit
from flows.dates import birth_cutoff, clock_now, month_from_index, month_index
from flows.money import yuan
from flows.programs import elderly_care_service_subsidy as rule
from notifications.outbox import enqueue, insert_rows

CODE = rule.CODE
OPEN = ("proposed", "confirmed")
_R = Resident.__table__


def _latest(conn_or_session, resident_id: int, as_of: date) -> rule.Assessment | None:
    c = CareAssessment.__table__.c
    row = conn_or_session.execute(select(c.assessed_on, c.level, c.assessor, c.source_date)
                                  .where(c.resident_id == resident_id, c.assessed_on <= as_of)
                                  .order_by(c.assessed_on.desc()).limit(1)).first()
    return rule.Assessment(row.assessed_on, row.level, row.assessor, row.source_date) if row else None


def _latest_of(resident_ids: list[int], conn, as_of: date) -> dict[int, rule.Assessment]:
    """The latest assessment on or before `as_of` of each of these residents, in one read."""
    c = CareAssessment.__table__.c
    out: dict[int, rule.Assessment] = {}
    for i in range(0, len(resident_ids), 900):
        for row in conn.execute(select(c.resident_id, c.assessed_on, c.level, c.assessor, c.source_date)
                                .where(c.resident_id.in_(resident_ids[i:i + 900]), c.assessed_on <= as_of)
                                .order_by(c.resident_id, c.assessed_on)):
            out[row.resident_id] = rule.Assessment(row.assessed_on, row.level, row.assessor, row.source_date)
    return out


def _dibao_household(conn_or_session, household_id: str | None) -> bool:
    if not household_id:
        return False
    holder = aliased(Resident)
    return conn_or_session.execute(select(Benefit.id).join(holder, holder.id == Benefit.resident_id).where(
        Benefit.program == "dibao", Benefit.state == "active", holder.household_id == household_id).limit(1)
    ).first() is not None


def _higher_of(conn_or_session, resident_id: int) -> int:
    fen = conn_or_session.execute(select(Benefit.monthly_amount_fen).where(
        Benefit.program == rule.HIGHER_OF, Benefit.resident_id == resident_id, Benefit.state == "active")).scalar()
    return int(fen or 0)


def facts_of(conn_or_session, person, as_of: date, *, in_dibao_case: bool | None = None,
             assessment: rule.Assessment | None | bool = False) -> rule.Facts:
    """The rule's facts of one person; the daily step passes what it already read for everyone at once."""
    if in_dibao_case is None:
        in_dibao_case = _dibao_household(conn_or_session, person.household_id)
    if assessment is False:
        assessment = _latest(conn_or_session, person.id, as_of)
    return rule.Facts(birth_date=person.birth_date, death_date=person.death_date,
                      hukou_local=bool(person.hukou_local), source_date=person.source_date,
                      in_dibao_case=in_dibao_case, dibao_source_date=as_of, assessment=assessment,
                      higher_of_amount_fen=_higher_of(conn_or_session, person.id),
                      source=person.source or "population_registry")


def facts_for(session: Session, application: Application, as_of: date) -> rule.Facts:
    return facts_of(session, session.get(Resident, application.resident_id), as_of)


# ---- the daily step ---------------------------------------------------------------------------------------------

def _members(conn, as_of: date) -> list:
    """Living local residents aged ≥ the minimum age in a household with an active 低保 case."""
    holder = aliased(Resident)
    households = select(holder.household_id).join(Benefit, Benefit.resident_id == holder.id).where(
        Benefit.program == "dibao", Benefit.state == "active")
    return conn.execute(select(_R).where(
        _R.c.household_id.in_(households), _R.c.hukou_local, _R.c.birth_date <= birth_cutoff(
            as_of, rule._at("minimum_age", as_of)),
        (_R.c.death_date.is_(None)) | (_R.c.death_date > as_of)).order_by(_R.c.id)).all()


def daily(conn, d, as_of: date) -> dict:
    if as_of < rule.PARAMETERS["start_date"]:
        return {}
    counts = {"care_proposed": 0, "care_assessment_tasks": 0, "care_repriced": 0, "care_stopped": 0}
    a = Application.__table__.c
    active = set(conn.execute(select(Benefit.resident_id).where(Benefit.program == CODE,
                                                                Benefit.state == "active")).scalars())
    pending = set(conn.execute(select(a.resident_id).where(a.program == CODE, a.state.in_(OPEN))).scalars())
    members = [p for p in _members(conn, as_of) if p.id not in active and p.id not in pending]
    latest = _latest_of([p.id for p in members], conn, as_of)
    asked = set(conn.execute(select(StaffTask.dedupe_key).where(StaffTask.kind == "care_assessment")).scalars())
    for person in members:  # each a member of a 低保 household (_members)
        last = latest.get(person.id)
        if f"care_assessment:{person.id}:{last.assessed_on.isoformat() if last else 'none'}" in asked:
            continue  # already asked to assess after this assessment: nothing new until a new one arrives
        facts = facts_of(conn, person, as_of, in_dibao_case=True, assessment=last)
        decision = rule.decide(facts, as_of)
        failed = {c.code for c in decision.conditions if not c.passed}
        if failed == {"assessment_valid"} or (failed == {"assessment_valid", "care_level"}):
            counts["care_assessment_tasks"] += _assessment_task(conn, person, facts)
        elif decision.eligible:
            counts["care_proposed"] += _propose(conn, person, facts, decision, as_of)
    stopped, repriced = _follow_assessments(conn, as_of)
    counts["care_stopped"], counts["care_repriced"] = stopped, repriced
    return counts


def _assessment_task(conn, person, facts: rule.Facts) -> int:
    last = facts.assessment.assessed_on.isoformat() if facts.assessment else "none"
    return max(conn.execute(insert_ignore(conn, StaffTask.__table__).values(
        id=new_id(), kind="care_assessment", state="open", resident_id=person.id, application_id=None,
        district_code=person.district_code, street_code=person.street_code, community_code=person.community_code,
        details={"program": CODE, "reason": "no_valid_assessment", "last_assessed_on": last,
                 "checklist": ["联系本人或家属", "预约老年人能力评估(GB/T 42195-2022)", "评估结果由评估机构共享,无需本人提交"]},
        dedupe_key=f"care_assessment:{person.id}:{last}", due_at=utcnow() + timedelta(days=20),
        created_at=utcnow())).rowcount, 0)


def _propose(conn, person, facts: rule.Facts, decision, as_of: date) -> int:
    def reg(value):
        return {"value": value, "source": "population_registry", "source_date": person.source_date.isoformat()}

    asrc = {"source": "care_assessment", "source_date": facts.assessment.source_date.isoformat()}
    rsrc = {"source": f"rule:{CODE}", "source_date": as_of.isoformat()}
    prefill = {"name": reg(mask_name(person.name)), "birth_date": reg(person.birth_date.isoformat()),
               "care_level": {"value": str(facts.assessment.level), **asrc},
               "assessed_on": {"value": facts.assessment.assessed_on.isoformat(), **asrc},
               "monthly_amount": {"value": yuan(decision.monthly_amount_fen), **rsrc},
               "start_month": {"value": decision.start_month, **rsrc}}
    a = Application.__table__.c
    period = facts.assessment.assessed_on.isoformat()
    if conn.execute(select(a.id).where(a.program == CODE, a.resident_id == person.id, a.period == period)).first():
        return 0  # this assessment was proposed already
    app_id = new_id()
    inserted = conn.execute(insert_ignore(conn, Application.__table__).values(
        id=app_id, program=CODE, resident_id=person.id, period=facts.assessment.assessed_on.isoformat(),
        origin="proactive", state="proposed", as_of=as_of, prefill=prefill, trace=[], created_at=utcnow(),
        updated_at=utcnow())).rowcount
    if inserted != 0:  # (a driver may report -1)
        insert_rows(conn, [{"kind": "proposal_ready", "idempotency_key": f"application:{app_id}:proposal_ready",
                            "resident_id": person.id, "application_id": app_id,
                            "data": {"program": CODE, "program_name": rule.NAME,
                                     "monthly_amount": yuan(decision.monthly_amount_fen)}}])
    return 1 if inserted != 0 else 0


def _change(conn, benefit, key: str, kind: str, month: str, tier: str, fen: int, reason: str, as_of: date,
            trace: list) -> int:
    c = BenefitChange.__table__.c
    if conn.execute(select(c.id).where(c.benefit_id == benefit.id, c.change_key == key)).first() is not None:
        return 0  # already recorded (the daily job runs once at a time, under its job lock)
    conn.execute(insert(BenefitChange.__table__).values(
        id=new_id(), benefit_id=benefit.id, change_key=key, kind=kind, effective_month=month,
        old_tier=benefit.tier, old_amount_fen=benefit.monthly_amount_fen, tier=tier, monthly_amount_fen=fen,
        reason=reason, as_of=as_of, trace=trace, created_at=utcnow()))
    return 1


def _follow_assessments(conn, as_of: date) -> tuple[int, int]:
    """Active benefits follow the latest assessment: expired (or below the eligible levels) → stopped from the
    month after it ended; a new level → re-priced from the month after the new assessment."""
    stopped = repriced = 0
    b = Benefit.__table__.c
    for benefit in conn.execute(select(Benefit.__table__).where(b.program == CODE, b.state == "active")).all():
        latest = _latest(conn, benefit.resident_id, as_of)
        if latest is None:
            continue
        until = rule.valid_until(latest, as_of)
        level_ok = latest.level >= rule._at("minimum_level", as_of)
        src = {"source": "care_assessment", "source_date": latest.source_date.isoformat()}
        if as_of > until or not level_ok:
            ended = until if as_of > until else latest.assessed_on
            last = f"{ended:%Y-%m}"
            trace = [{"code": "assessment_valid" if as_of > until else "care_level", "passed": False,
                      "value": until.isoformat() if as_of > until else str(latest.level), **src}]
            if _change(conn, benefit, "stop", "stopped", rule.next_month(ended), benefit.tier, 0,
                       "assessment_expired" if as_of > until else "care_level", as_of, trace):
                conn.execute(update(Benefit.__table__).where(b.id == benefit.id).values(
                    state="stopped", end_month=last, updated_at=utcnow()))
                insert_rows(conn, [{"kind": "benefit_stopped", "idempotency_key": f"benefit:{benefit.id}:stopped",
                                    "resident_id": benefit.resident_id, "application_id": benefit.application_id,
                                    "data": {"program": CODE, "program_name": rule.NAME, "reason": "other",
                                             "last_month": last}}])
                stopped += 1
            continue
        fen = rule.amount_for_level(latest.level, latest.assessed_on)
        tier = f"level{latest.level}"
        if tier != benefit.tier or fen != benefit.monthly_amount_fen:
            month = rule.next_month(latest.assessed_on)
            trace = [{"code": "care_level", "passed": True, "value": str(latest.level), **src}]
            if _change(conn, benefit, f"level:{latest.assessed_on.isoformat()}", "repriced", month, tier, fen,
                       "new_assessment", as_of, trace):
                conn.execute(update(Benefit.__table__).where(b.id == benefit.id).values(
                    tier=tier, monthly_amount_fen=fen, updated_at=utcnow()))
                repriced += 1
    return stopped, repriced


# ---- confirmation --------------------------------------------------------------------------------------------------

def confirm(session: Session, application: Application, actor: str, today: date,
            declared: dict | None = None) -> Application:
    """One tap, nothing asked: the rule decides on the shared data; 择高 with the 护理补贴 is applied here."""
    if application.state in ("approved", "rejected"):
        return application
    if application.state != "proposed":
        raise Conflict(f"The application is {application.state} and cannot be confirmed; reopen it first.",
                       error_code="application_state")
    if not take_proposal(session, application, actor):
        return confirm(session, application, actor, today)
    person = session.get(Resident, application.resident_id)
    decision = rule.decide(facts_of(session, person, today), today)
    application.trace = decision.trace()
    application.updated_at = utcnow()
    application.decided_at = clock_now()
    if not decision.eligible:
        case_states.move(application, "rejected", decision="rule_not_met")
        enqueue(session, kind="rejected", idempotency_key=decision_round.rejection_key(session, application.id),
                resident_id=person.id, application_id=application.id,
                data={"program": CODE, "program_name": rule.NAME,
                      "reason": next(c.citizen_text for c in decision.conditions if not c.passed)})
        return application
    start_benefit(session, application, decision)
    other = session.scalar(select(Benefit).where(Benefit.program == rule.HIGHER_OF, Benefit.resident_id == person.id,
                                                 Benefit.state == "active"))
    if other is not None:  # 择高: ours is higher (else the rule refused); the 护理补贴 stops the month before ours
        last = month_from_index(month_index(decision.start_month) - 1)
        session.execute(insert(BenefitChange).values(
            id=new_id(), benefit_id=other.id, change_key="stop", kind="stopped", effective_month=decision.start_month,
            old_tier=other.tier, old_amount_fen=other.monthly_amount_fen, tier=other.tier, monthly_amount_fen=0,
            reason="higher_of_two", as_of=today, trace=[c.as_dict() for c in decision.conditions
                                                        if c.code == "higher_of_two"], created_at=utcnow()))
        other.state, other.end_month, other.updated_at = "stopped", max(last, other.start_month), utcnow()
    return application
