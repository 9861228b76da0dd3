"""Staff casework queues of the programs, for one jurisdiction: applications waiting for a staff step (each
program declares which states wait for which step: Program.waiting_steps) and the steps past their statutory
working-day limit. The decisions themselves live in flows.casework and the programs' own casework modules."""

from __future__ import annotations

from datetime import date

from sqlalchemy import and_, false, or_, select
from sqlalchemy.orm import Session

from app.authz import Caller, jurisdiction_clause
from app.models import Application, Objection, PublicNotice, Resident, StepDeadline
from flows import programs


def steps() -> tuple[str, ...]:
    """Every staff step some program waits for, in the programs' order."""
    out: list[str] = []
    for program in programs.PROGRAMS.values():
        out += [s for s in program.waiting_steps.values() if s not in out]
    return tuple(out)


STEPS = steps()


def step_of(application: Application) -> str | None:
    program = programs.get(application.program)
    return program.waiting_steps.get(application.state) if program else None


def _waiting(step: str | None = None):
    """Applications waiting for a staff step (`step`, or any), as a condition."""
    clauses = []
    for program in programs.PROGRAMS.values():
        states = [state for state, s in program.waiting_steps.items() if step in (None, s)]
        if states:
            clauses.append(and_(Application.program == program.code, Application.state.in_(states)))
    return or_(*clauses) if clauses else false()


def review_queue(caller: Caller, program: str | None = None, step: str | None = None):
    """Applications of the caller's jurisdiction waiting for a staff step, oldest first (a select)."""
    query = (select(Application).join(Resident, Resident.id == Application.resident_id)
             .where(_waiting(step), jurisdiction_clause(caller, Resident.district_code, Resident.street_code,
                                                       Resident.community_code)))
    if program:
        query = query.where(Application.program == program)
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
