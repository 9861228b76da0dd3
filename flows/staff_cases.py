"""Staff casework queues of the programs, for one jurisdiction: applications waiting for a staff step
(disability review; 低保 home visit, street review, 公示 with objections, county approval) and the steps past
their statutory working-day limit. The decisions themselves live in flows.casework and flows.programs.dibao.cases."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.authz import Caller, jurisdiction_clause
from app.models import Application, Objection, PublicNotice, Resident, StepDeadline
from flows.casework import REVIEWED
from flows.programs.dibao import cases as dibao_cases

# state of the application → the step whose deadline runs while staff work on it
DIBAO_WAITING = {"home_visit": "home_visit", "reviewing": "reviewing", "public_notice": "public_notice",
                 "approving": "approving"}
STEPS = ("review", *DIBAO_WAITING)


def step_of(application: Application) -> str | None:
    if application.program in REVIEWED and application.state == "reviewing":
        return "review"
    if application.program == dibao_cases.CODE:
        return DIBAO_WAITING.get(application.state)
    return None


def review_queue(caller: Caller, program: str | None = None, step: str | None = None):
    """Applications of the caller's jurisdiction waiting for a staff step, oldest first (a select)."""
    waiting = or_(and_(Application.program.in_(REVIEWED), Application.state == "reviewing"),
                  and_(Application.program == dibao_cases.CODE, Application.state.in_(tuple(DIBAO_WAITING))))
    query = (select(Application).join(Resident, Resident.id == Application.resident_id)
             .where(waiting, jurisdiction_clause(caller, Resident.district_code, Resident.street_code,
                                                 Resident.community_code)))
    if program:
        query = query.where(Application.program == program)
    if step == "review":
        query = query.where(Application.program.in_(REVIEWED))
    elif step:
        query = query.where(Application.program == dibao_cases.CODE,
                            Application.state == next(s for s, v in DIBAO_WAITING.items() if v == step))
    return query.order_by(Application.updated_at, Application.id)


def open_deadline_of(session: Session, application: Application) -> StepDeadline | None:
    step = step_of(application)
    if step is None:
        return None
    return session.scalar(select(StepDeadline).where(StepDeadline.application_id == application.id,
                                                     StepDeadline.step == step))


def objections_of(session: Session, application: Application) -> list[Objection]:
    return list(session.scalars(select(Objection).join(PublicNotice, PublicNotice.id == Objection.notice_id)
                                .where(PublicNotice.application_id == application.id)
                                .order_by(Objection.created_at, Objection.id)))


def overdue_steps(caller: Caller, today: date):
    """Open steps past their working-day limit in the caller's jurisdiction: (StepDeadline, Application) rows."""
    return (select(StepDeadline, Application).join(Application, Application.id == StepDeadline.application_id)
            .join(Resident, Resident.id == Application.resident_id)
            .where(StepDeadline.done_on.is_(None), or_(StepDeadline.due_on < today, StepDeadline.overdue.is_(True)),
                   jurisdiction_clause(caller, Resident.district_code, Resident.street_code, Resident.community_code))
            .order_by(StepDeadline.due_on, StepDeadline.id))
