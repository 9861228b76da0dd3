"""Casework of the funeral subsidy (惠民殡葬补贴; rule, parameters and guide in flows.programs.funeral_subsidy):
the daily proposals (to the 治丧人 of a cremation record, else to the household's living adults, else a community
task) and the confirmation (first applicant wins, a one-off payment to her own account)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import insert, select

from app.db import utcnow
from app.errors import Conflict
from app.masking import mask_name
from app.models import Application, ApplicationApplicant, CremationRecord, PayoutAccount, Resident, StaffTask
from app.models.applicant import OneOffPayment
from app.models.ids import new_id
from app.sql import insert_ignore
from flows import applicants, case_states, decision_round
from flows.dates import clock_now
from flows.money import yuan
from flows.programs.funeral_subsidy import (
    CODE,
    FUNERAL_HOME,
    NAME,
    PARAMETERS,
    REGISTRY,
    Cremation,
    Decision,
    Facts,
    _at,
    decide,
)
from notifications.outbox import enqueue, insert_rows

# ---- facts -------------------------------------------------------------------------------------------------

def _cremation(conn_or_session, resident_id: int) -> Cremation | None:
    c = CremationRecord.__table__.c
    row = conn_or_session.execute(select(c.funeral_home, c.cremation_date, c.services, c.waived_fen, c.source_date)
                                  .where(c.resident_id == resident_id)).first()
    return Cremation(row.funeral_home, row.cremation_date, row.services, row.waived_fen, row.source_date) \
        if row else None


def facts_of(conn_or_session, person) -> Facts:
    return Facts(birth_date=person.birth_date, death_date=person.death_date, hukou_local=bool(person.hukou_local),
                 source_date=person.source_date, cremation=_cremation(conn_or_session, person.id),
                 source=person.source or REGISTRY)


def facts_for(session, application: Application, as_of: date) -> Facts:
    return facts_of(session, session.get(Resident, application.resident_id))


# ---- the daily step: proposals ---------------------------------------------------------------------------------

_R = Resident.__table__
_PERSON = (_R.c.id, _R.c.name, _R.c.birth_date, _R.c.death_date, _R.c.hukou_local, _R.c.source_date, _R.c.source,
           _R.c.household_id, _R.c.district_code, _R.c.street_code, _R.c.community_code)


def _alive(as_of: date):
    return (_R.c.death_date.is_(None)) | (_R.c.death_date > as_of)


def daily(conn, d, as_of: date) -> dict:
    """Propose the subsidy for deaths not yet proposed; add a 治丧人 reported after the proposal."""
    if as_of < PARAMETERS["start_date"]:
        return {}
    a = Application.__table__.c
    since = max(PARAMETERS["start_date"], as_of - timedelta(days=_at("claim_days", as_of)))
    proposed_already = select(a.resident_id).where(a.program == CODE)
    deceased = conn.execute(select(*_PERSON).where(
        _R.c.death_date.is_not(None), _R.c.death_date <= as_of, _R.c.death_date >= since, _R.c.hukou_local,
        _R.c.id.not_in(proposed_already)).order_by(_R.c.id)).all()
    counts = {"funeral_proposed": 0, "funeral_fully_waived": 0, "funeral_community_tasks": 0,
              "funeral_arrangers_added": 0}
    for person in deceased:
        facts = facts_of(conn, person)
        decision = decide(facts, as_of)
        if not decision.eligible:
            counts["funeral_fully_waived"] += 1
            continue
        chosen, role = _applicants_for(conn, person, as_of)
        if not chosen:
            counts["funeral_community_tasks"] += _community_task(conn, person, decision)
            continue
        app_id = new_id()
        conn.execute(insert(Application.__table__).values(
            id=app_id, program=CODE, resident_id=person.id, period="once", origin="proactive", state="proposed",
            as_of=as_of, prefill=_prefill(person, facts, decision, as_of), trace=decision.trace(),
            created_at=utcnow(), updated_at=utcnow()))
        applicants.propose(conn, app_id, chosen, role)
        _tell(conn, app_id, person, chosen, decision)
        counts["funeral_proposed"] += 1
    counts["funeral_arrangers_added"] = _add_late_arrangers(conn, as_of)
    return counts


def _applicants_for(conn, person, as_of: date) -> tuple[list[int], str]:
    """The 治丧人 of the cremation record if she is a living resident; else the living adults still registered in
    the household (a member whose hukou moved out of the city has left the registry household: 户口迁出)."""
    c = CremationRecord.__table__.c
    arranger = conn.execute(select(_R.c.id).join(CremationRecord.__table__, c.arranger_resident_id == _R.c.id)
                            .where(c.resident_id == person.id, _alive(as_of))).scalar()
    if arranger is not None:
        return [arranger], "funeral_arranger"
    if not person.household_id:
        return [], ""
    adult = as_of.replace(year=as_of.year - _at("adult_age", as_of)) if not (as_of.month == 2 and as_of.day == 29) \
        else date(as_of.year - _at("adult_age", as_of), 2, 28)
    members = conn.execute(select(_R.c.id).where(_R.c.household_id == person.household_id, _R.c.id != person.id,
                                                 _alive(as_of), _R.c.birth_date <= adult, _R.c.hukou_local)
                           .order_by(_R.c.id)).scalars().all()
    return list(members), "household_adult"


def _add_late_arrangers(conn, as_of: date) -> int:
    """A cremation record that names a 治丧人 after the subsidy was proposed to the household: she is added."""
    a, c, x = Application.__table__.c, CremationRecord.__table__.c, ApplicationApplicant.__table__.c
    rows = conn.execute(select(a.id, c.arranger_resident_id, a.resident_id)
                        .join(CremationRecord.__table__, c.resident_id == a.resident_id)
                        .join(_R, _R.c.id == c.arranger_resident_id)
                        .where(a.program == CODE, a.state == "proposed", _alive(as_of),
                               c.arranger_resident_id.not_in(select(x.resident_id).where(x.application_id == a.id))
                               )).all()
    added = 0
    for app_id, arranger, deceased_id in rows:
        if applicants.propose(conn, app_id, [arranger], "funeral_arranger"):
            person = conn.execute(select(*_PERSON).where(_R.c.id == deceased_id)).first()
            decision = decide(facts_of(conn, person), as_of)
            _tell(conn, app_id, person, [arranger], decision)
            added += 1
    return added


def _prefill(person, facts: Facts, decision: Decision, as_of: date) -> dict:
    def reg(value):
        return {"value": value, "source": REGISTRY, "source_date": person.source_date.isoformat()}

    rule = {"source": f"rule:{CODE}", "source_date": as_of.isoformat()}
    out = {"deceased_name": reg(mask_name(person.name)), "death_date": reg(person.death_date.isoformat()),
           "standard": {"value": yuan(_at("standard", person.death_date)), **rule},
           "one_off_amount": {"value": yuan(decision.monthly_amount_fen), **rule}}
    if facts.cremation is not None:
        crem = {"source": FUNERAL_HOME, "source_date": facts.cremation.source_date.isoformat()}
        out.update({"funeral_home": {"value": facts.cremation.funeral_home, **crem},
                    "cremation_date": {"value": facts.cremation.cremation_date.isoformat(), **crem},
                    "funeral_services": {"value": facts.cremation.services, **crem},
                    "waived_amount": {"value": yuan(facts.cremation.waived_fen), **crem}})
    return out


def _occasion(person, decision: Decision) -> dict:
    return {"program": CODE, "program_name": NAME, "occasion": "bereavement", "about_name": mask_name(person.name),
            "one_off_amount": yuan(decision.monthly_amount_fen), "monthly_amount": yuan(decision.monthly_amount_fen),
            "note": "一次性发放,以最先确认者为准"}


def _tell(conn, app_id: str, person, resident_ids: list[int], decision: Decision) -> int:
    return insert_rows(conn, [{"kind": "proposal_ready", "idempotency_key": f"application:{app_id}:proposal:{rid}",
                               "resident_id": rid, "application_id": app_id, "data": _occasion(person, decision)}
                              for rid in resident_ids])


def _community_task(conn, person, decision: Decision) -> int:
    """No household adult and no 治丧人 on file: a community worker finds who arranged the funeral."""
    return max(conn.execute(insert_ignore(conn, StaffTask.__table__).values(
        id=new_id(), kind="funeral_contact", state="open", resident_id=person.id, application_id=None,
        district_code=person.district_code, street_code=person.street_code, community_code=person.community_code,
        details={"program": CODE, "reason": "no_applicant", "one_off_amount": yuan(decision.monthly_amount_fen),
                 "checklist": ["联系治丧人或近亲属", "核实收款账户", "协助在小程序或纸质确认"]},
        dedupe_key=f"funeral_contact:{person.id}", due_at=utcnow() + timedelta(days=10),
        created_at=utcnow())).rowcount, 0)


# ---- confirmation: the first applicant wins; a one-off payment -------------------------------------------------

def confirm(session, application: Application, actor: str, today: date, declared: dict | None = None) -> Application:
    if application.state in ("confirmed", "approved", "rejected"):
        return application  # a repeat, or another applicant confirmed first (she sees who: flows.applicants.view)
    if application.state != "proposed":
        raise Conflict(f"The application is {application.state} and cannot be confirmed.",
                       error_code="application_state")
    applicant = applicants.applicant_of(session, application.id, actor)
    if applicant is None:
        raise Conflict("Only a resident this application was proposed to may confirm it.",
                       error_code="not_an_applicant")
    if not applicants.claim(session, application, actor, applicant):
        return application
    person = session.get(Resident, application.resident_id)
    decision = decide(facts_of(session, person), today)
    application.trace = decision.trace()
    application.updated_at = utcnow()
    application.decided_at = clock_now()
    data = _occasion(person, decision)
    if not decision.eligible:
        case_states.move(application, "rejected", decision="rule_not_met")
        enqueue(session, kind="rejected", idempotency_key=decision_round.rejection_key(session, application.id),
                resident_id=applicant.resident_id, application_id=application.id,
                data={**data, "reason": next(c.citizen_text for c in decision.conditions if not c.passed)})
        return application
    case_states.move(application, "approved", decision="rule_met")
    session.execute(insert_ignore(session, OneOffPayment.__table__).values(
        id=new_id(), program=CODE, key=f"{CODE}:{person.id}", payee_resident_id=applicant.resident_id,
        subject_resident_id=person.id, application_id=application.id, cause_ref=application.id,
        amount_fen=decision.monthly_amount_fen, covers_month=decision.start_month, persons=1,
        details={"program_name": NAME, "occasion": "bereavement", "about_name": mask_name(person.name)},
        state="pending", created_at=utcnow()))
    has_account = session.get(PayoutAccount, applicant.resident_id) is not None
    enqueue(session, kind="approved", idempotency_key=f"application:{application.id}:approved",
            resident_id=applicant.resident_id, application_id=application.id,
            data={**data, "payout_needed": not has_account})
    return application


