"""Applicants who are not the subject (申请人 ≠ 对象), a generic hook of the program engine.

A program whose application is about one person (e.g. the deceased) but is confirmed by another proposes it to
one or more residents (`propose`). Each sees it in her own list and may confirm it without any proxy grant
(app.authz: via "applicant"); the first confirmation wins atomically (`claim`: one conditional UPDATE of the
application), the other applicants are marked superseded and see who confirmed (`view`).
"""

from __future__ import annotations

import functools

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from app import digits
from app.db import core_execute, flush_pending, utcnow
from app.masking import mask_name
from app.models import Account, Application, ApplicationApplicant, Resident
from app.models.ids import new_id
from app.sql import insert_ignore
from flows.applications import take_proposal

ROLE_TEXT = {"funeral_arranger": "治丧人", "household_adult": "家庭成员"}


def propose(conn_or_session, application_id: str, resident_ids: list[int], role: str) -> int:
    """Add applicants (idempotent per application and resident); returns how many were new."""
    table = ApplicationApplicant.__table__
    added = 0
    for rid in resident_ids:
        added += max(conn_or_session.execute(insert_ignore(conn_or_session, table).values(
            id=new_id(), application_id=application_id, resident_id=rid, role=role, state="proposed",
            created_at=utcnow())).rowcount, 0)
    return added


def applicant_of(session: Session, application_id: str, actor: str) -> ApplicationApplicant | None:
    """The applicant row of whoever confirms: the resident bound to the account `actor`, if she is one of this
    application's; for a community worker (`staff:…`, home help on paper) the first applicant still proposed;
    `resident:<id>` names the resident directly (never from a request: the simulation and server-side tools)."""
    t = ApplicationApplicant
    if actor.startswith("staff:"):
        return session.scalar(select(t).where(t.application_id == application_id, t.state == "proposed")
                              .order_by(t.created_at, t.id).limit(1))
    if actor.startswith("resident:"):  # a confirmation recorded by the server for a known resident (simulation)
        resident_id = int(actor[9:]) if digits.is_ascii_digits(actor[9:]) else None
    else:
        resident_id = session.scalar(select(Account.resident_id).where(Account.id == actor))
    if resident_id is None:
        return None
    return session.scalar(select(t).where(t.application_id == application_id, t.resident_id == resident_id))


def claim(session: Session, application: Application, actor: str, applicant: ApplicationApplicant) -> bool:
    """The first confirmation wins: proposed → confirmed in one conditional UPDATE; the winner's row is
    `confirmed`, every other applicant's `superseded`. False when someone else confirmed first."""
    if not take_proposal(session, application, actor):
        return False
    now = utcnow()
    t = ApplicationApplicant.__table__
    session.execute(update(t).where(t.c.application_id == application.id, t.c.id == applicant.id)
                    .values(state="confirmed", decided_at=now))
    session.execute(update(t).where(t.c.application_id == application.id, t.c.id != applicant.id,
                                    t.c.state == "proposed").values(state="superseded", decided_at=now))
    return True


def view(session: Session, application_id: str) -> list[dict]:
    """Every applicant (masked name, role, state): who confirmed is visible to the others."""
    return views_of(session, [application_id])[application_id]


@functools.cache
def _applicants_query():
    a, r = ApplicationApplicant.__table__, Resident.__table__
    return (select(a.c.application_id, a.c.role, a.c.state, r.c.name).join(r, r.c.id == a.c.resident_id)
            .where(a.c.application_id.in_(bindparam("ids", expanding=True))).order_by(a.c.created_at, a.c.id))


def views_of(session: Session, application_ids: list[str]) -> dict[str, list[dict]]:
    """`view` for a page of applications in one query (a list shows them all), on the session's connection."""
    out: dict[str, list[dict]] = {i: [] for i in application_ids}
    if not application_ids:
        return out
    flush_pending(session)
    for r in core_execute(session, _applicants_query(), {"ids": list(application_ids)}):
        out[r.application_id].append({"name": mask_name(r.name), "role": r.role,
                                      "role_text": ROLE_TEXT.get(r.role, r.role), "state": r.state})
    return out


def first_proposed(session: Session, application_id: str) -> int | None:
    """The first applicant still proposed (resident id), or None: the application is the subject's own."""
    t = ApplicationApplicant
    return session.scalar(select(t.resident_id).where(t.application_id == application_id, t.state == "proposed")
                          .order_by(t.created_at, t.id).limit(1))
