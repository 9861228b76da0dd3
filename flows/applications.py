"""Application lifecycle for the citizen (or a proxy): confirm (one tap), decline, reopen.

States: proposed → approved | rejected (by rule, on confirm); proposed → declined → (reopen ≤ 30 days) proposed.
"""

from __future__ import annotations

import functools
from datetime import date, timedelta

from sqlalchemy import Date, Select, and_, bindparam, exists, select, union_all, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from app.db import bound_insert, execute_write, flush_pending, note_changed, utcnow
from app.errors import Conflict
from app.models import Application, ApplicationApplicant, Benefit, BenefitChange, Resident, StaffTask
from app.models.ids import new_id
from flows import areas, case_states, decision_round, programs
from flows.conflicts import is_unique_violation
from flows.dates import clock_now, shanghai_date, today_shanghai
from flows.facts import FACT_COLUMNS, resident_facts, resident_for_facts
from flows.money import yuan
from notifications.outbox import enqueue

DECLINE_REASONS = ("not_needed", "data_wrong", "other")
REOPEN_DAYS = 30
FINAL_AFTER_CONFIRM = ("approved", "rejected")


BENEFIT_COLUMNS = ("id", "program", "tier", "monthly_amount_fen", "start_month", "end_month", "state")
AREA_FIELDS = ("district_code", "street_code", "community_code")  # pre-filled codes shown with their names


def benefit_join():
    """applications ⟕ benefits on the benefit decided from each application, through the unique
    (program, resident_id) index of benefits."""
    a, b = Application.__table__.c, Benefit.__table__.c
    return Application.__table__.outerjoin(
        Benefit.__table__, and_(b.program == a.program, b.resident_id == a.resident_id, b.application_id == a.id))


def rows_for_resident(resident_id: int | None, programs_only: list[str] | None = None) -> tuple[Select, dict]:
    """The resident's applications, newest first, as one Core SELECT of plain rows, each with what the citizen is
    shown beside it (`_shown_columns`): a list page in one round trip, no ORM objects. Returns the
    statement (built once per process, so SQLAlchemy's compiled cache is hit without re-walking it) and its
    parameters."""
    params: dict = {"resident_id": resident_id, "on": today_shanghai()}
    if programs_only:
        params["programs"] = list(programs_only)
    return _rows_query(bool(programs_only)), params


def row_by_id(application_id: str) -> tuple[Select, dict]:
    """One application as a plain row with what the citizen is shown beside it (like `rows_for_resident`)."""
    return _row_by_id_query(), {"application_id": application_id, "on": today_shanghai()}


def _shown_columns() -> list:
    """An application row as the citizen is shown it, in the same round trip: its benefit's columns
    (`benefit_<name>`; `benefit_has_changes`), whether it has applicants (`has_applicants`), the name valid on `:on` of each pre-filled
    area code (`name_<field>`) and its subject's facts (`subject_<name>`, for a proposal's rule trace)."""
    a, b, r = Application.__table__.c, Benefit.__table__.c, Resident.__table__.c
    on = bindparam("on", type_=Date)
    return [*a, *(b[name].label(f"benefit_{name}") for name in BENEFIT_COLUMNS),
            exists().where(ApplicationApplicant.__table__.c.application_id == a.id).label("has_applicants"),
            exists().where(BenefitChange.__table__.c.benefit_id == b.id).label("benefit_has_changes"),
            *(areas.name_on(a.prefill[(field, "value")].as_string(), on).label(f"name_{field}")
              for field in AREA_FIELDS),
            *(r[name].label(f"subject_{name}") for name in FACT_COLUMNS)]


def _shown_from():
    a, r = Application.__table__.c, Resident.__table__
    return benefit_join().outerjoin(r, r.c.id == a.resident_id)


@functools.cache
def _row_by_id_query() -> Select:
    a = Application.__table__.c
    return select(*_shown_columns()).select_from(_shown_from()).where(a.id == bindparam("application_id"))


@functools.cache
def _rows_query(by_program: bool) -> Select:
    a, applicant = Application.__table__.c, ApplicationApplicant.__table__.c
    # hers, and those proposed to her as an applicant: one set of ids from two index probes (an OR of the two
    # made PostgreSQL's planner guess half the table and scan it, with every join after it)
    ids = union_all(select(a.id).where(a.resident_id == bindparam("resident_id")),
                    select(applicant.application_id).where(applicant.resident_id == bindparam("resident_id")))
    query = select(*_shown_columns()).select_from(_shown_from()).where(a.id.in_(ids))
    if by_program:
        query = query.where(a.program.in_(bindparam("programs", expanding=True)))
    return query.order_by(a.created_at.desc(), a.id)


def take_proposal(session: Session, application: Application, actor: str, state: str = "confirmed",
                  **columns) -> bool:
    """proposed → `state` in one conditional UPDATE, so that of racing taps (a double tap, two proxies, several
    proposed applicants) exactly one wins. True for the winner, whose object then holds what the row holds
    without reading it back; False for the others, with the object re-read to show what the winner did.
    `columns`: more of the row for the same statement — the rule's outcome when it was decided before the tap
    was taken (`decision`, `trace`, `decided_at`, with `state` the outcome), so the decision costs no second
    UPDATE."""
    if not case_states.may_move("proposed", state):
        raise ValueError(f"a proposal cannot be taken to {state}")
    now = utcnow()
    values = {"state": state, "confirmed_at": now, "confirmed_by": actor, "updated_at": now, **columns}
    won = execute_write(session, _take_statement(tuple(values)), {"application_id": application.id, **values})
    if not won:
        session.refresh(application)
        return False
    for name, value in values.items():
        set_committed_value(application, name, value)
    note_changed(session, "application", application.id)
    return True


@functools.cache
def _take_statement(names: tuple[str, ...]):
    """take_proposal's conditional UPDATE of these columns, built once (one-tap confirmations arrive in bursts)."""
    t = Application.__table__
    return (update(t).where(t.c.id == bindparam("application_id"), t.c.state == "proposed")
            .values({name: bindparam(name) for name in names}))


def confirm(session: Session, application: Application, actor_account_id: str, today: date | None = None) -> Application:
    """One tap: accept the pre-filled data as shown; the rule decides at once. Repeats change nothing."""
    if application.state in FINAL_AFTER_CONFIRM:
        return application
    if application.state != "proposed":
        raise Conflict(f"The application is {application.state} and cannot be confirmed; reopen it first.",
                       error_code="application_state")
    # The registry read and the rule run before the proposal is taken: on SQLite that UPDATE takes the database's
    # one write lock, held to the commit, and every other confirmation waits for it meanwhile.
    program = programs.get(application.program)
    resident = resident_for_facts(session, application.resident_id)
    decision = program.decide(resident_facts(resident), today or today_shanghai())
    # the tap and the rule's outcome in one statement: proposed → approved | rejected
    outcome, code = ("approved", "rule_met") if decision.eligible else ("rejected", "rule_not_met")
    if not take_proposal(session, application, actor_account_id, outcome, decision=code, trace=decision.trace(),
                         decided_at=clock_now()):  # someone else moved it first: see what they did
        return confirm(session, application, actor_account_id, today)
    _record_decision(session, application, program, resident, decision)
    return application


def _record_decision(session: Session, application: Application, program, resident, decision) -> None:
    """What follows the rule's outcome (written by the take): if eligible the benefit, and the message."""
    if not decision.eligible:
        enqueue(session, kind="rejected", idempotency_key=decision_round.rejection_key(session, application.id),
                resident_id=resident.id, application_id=application.id,
                data={"program": program.code, "reason": _first_failed(decision)})
        return
    add_open_benefit(session, program=program.code, resident_id=resident.id, application_id=application.id,
                     tier=decision.tier, monthly_amount_fen=decision.monthly_amount_fen,
                     start_month=decision.start_month)
    enqueue(session, kind="approved", idempotency_key=f"application:{application.id}:approved",
            resident_id=resident.id, application_id=application.id,
            data={"program": program.code, "monthly_amount": yuan(decision.monthly_amount_fen),
                  "start_month": decision.start_month, "tier": decision.tier})


def add_open_benefit(session: Session, **values) -> str:
    """A new benefit period in payment; its id. At most one active or suspended benefit per program and person (the
    partial unique index `uq_benefits_open`): a second one — a proposal confirmed while a period is still open,
    or two decisions racing — is a 409 `benefit_already_open`, and the request's transaction rolls back whole.
    One Core INSERT at once (nothing reads the row back as an object; the unit of work cost twice the statement),
    after the session's pending changes (a period ended in the same transaction frees the index first)."""
    flush_pending(session)
    now, benefit_id = utcnow(), new_id()
    row = {"application_id": None, "origin": "application", "tier": "", "end_month": None,
           "legacy_paid_through": None, **values,
           "id": benefit_id, "state": "active", "created_at": now, "updated_at": now}
    try:
        execute_write(session, _insert_benefit(), row)
    except IntegrityError as exc:
        if not is_unique_violation(exc, "benefits", "program", "resident_id"):
            raise
        raise Conflict("This person already receives this benefit; a new period can start only after the open one "
                       "has ended.", error_code="benefit_already_open") from None
    return benefit_id


@functools.cache
def _insert_benefit():
    return bound_insert(Benefit.__table__)


def _first_failed(decision) -> str:
    return next((c.citizen_text for c in decision.conditions if not c.passed), "")


def decline(session: Session, application: Application, reason: str, comment: str | None, actor_account_id: str) -> Application:
    """Decline a proposal. The state changes with one conditional UPDATE (proposed → declined), so a decline
    racing a confirm (or another decline) changes the state once; the loser sees the winner's state."""
    if application.state == "declined":
        return application
    if application.state != "proposed":
        raise Conflict(f"The application is {application.state} and cannot be declined.",
                       error_code="application_state")
    now = utcnow()
    claimed = session.execute(
        update(Application).where(Application.id == application.id,
                                  Application.state.in_(case_states.sources_of("declined")))
        .values(state="declined", decline_reason=reason, decline_comment=comment, declined_at=now, updated_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(application)
    if not claimed:
        return decline(session, application, reason, comment, actor_account_id)
    note_changed(session, "application", application.id)
    if reason == "data_wrong":
        _open_correction_task(session, application, comment, actor_account_id)
    return application


def _open_correction_task(session: Session, application: Application, comment: str | None, actor: str) -> None:
    resident = session.get(Resident, application.resident_id)
    key = f"correction:{application.id}:{application.declined_at:%Y%m%d%H%M%S%f}"
    session.add(StaffTask(kind="data_correction", resident_id=resident.id, application_id=application.id,
                          account_id=actor, district_code=resident.district_code, street_code=resident.street_code,
                          community_code=resident.community_code, dedupe_key=key,
                          details={"comment": (comment or "")[:500], "program": application.program},
                          due_at=utcnow() + timedelta(days=7)))


def reopen(session: Session, application: Application) -> Application:
    """Undo a decline within 30 days (one conditional UPDATE declined → proposed)."""
    if application.state == "proposed":
        return application
    if application.state != "declined":
        raise Conflict(f"The application is {application.state}; only a declined application can be reopened.",
                       error_code="application_state")
    # calendar days in the city, on the test clock too (ZEROTRIP_FAKE_TODAY)
    if application.declined_at and (today_shanghai() - shanghai_date(application.declined_at)).days > REOPEN_DAYS:
        raise Conflict(f"A decline can only be undone within {REOPEN_DAYS} days.", error_code="reopen_too_late")
    claimed = session.execute(
        update(Application).where(Application.id == application.id,
                                  Application.state.in_(case_states.sources_of("proposed")))
        .values(state="proposed", decline_reason=None, decline_comment=None, declined_at=None, updated_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(application)
    if not claimed:
        return reopen(session, application)
    _withdraw_corrections(session, application)
    return application


def _withdraw_corrections(session: Session, application: Application) -> None:
    """Her decline said the data were wrong; undoing it takes that back: the correction task it opened closes (a
    clerk was sent to correct data of a case the resident had confirmed meanwhile)."""
    for task in session.scalars(select(StaffTask).where(StaffTask.application_id == application.id,
                                                        StaffTask.kind == "data_correction",
                                                        StaffTask.state == "open")):
        task.state, task.closed_at = "closed", utcnow()
        task.details = {**(task.details or {}), "decision": "withdrawn",
                        "reason": "居民已撤回拒绝(数据有误)", "decided_at": utcnow().isoformat(timespec="seconds")}
