"""Which decision of an application a message or a letter (决定书) is about.

An application is decided once — unless an upheld appeal (复核) re-opens it (flows.appeals), after which it is
decided anew: a new decision, with its own message to the resident and its own letter to deliver within 3 working
days (flows.letters). The first decision is named by the application alone; a later one by the appeal that
re-opened the case before it (`appeals.reopened_case`): the rejection's message key `application:<id>:rejected`
becomes `application:<id>:rejected:<appeal id>`, and the letter's id the appeal's id.
"""

from __future__ import annotations

from sqlalchemy import literal, select
from sqlalchemy.orm import Session

from app.models import Appeal


def reopening_appeal(application_id):
    """The id of the appeal that last re-opened the application (a column or a value), as a scalar subquery;
    NULL for a first decision."""
    return (select(Appeal.id).where(Appeal.application_id == application_id, Appeal.reopened_case.is_(True))
            .order_by(Appeal.decided_at.desc(), Appeal.id.desc()).limit(1).scalar_subquery())


def reopened_by(session: Session, application_id: str) -> str | None:
    return session.scalar(select(reopening_appeal(literal(application_id))))


def rejection_key(session: Session, application_id: str) -> str:
    """The idempotency key of the rejection message of the application's current decision."""
    by = reopened_by(session, application_id)
    return f"application:{application_id}:rejected" + (f":{by}" if by else "")


def letter_id(session: Session, application_id: str) -> str:
    """The id of the current decision's letter: the application's for a first decision, else the appeal's."""
    return reopened_by(session, application_id) or application_id
