"""Migration 0187 makes the grants already stored fit its one-open-grant-per-(resident, proxy account) key for
grants from invitations and requests: the oldest open one of a pair stays, an ended one is closed as expired."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.db import utcnow
from app.models import ProxyGrant
from tests.authz import helpers as h


def _grant(session, principal_id, proxy, *, status="active", age_days=0, expires_in=timedelta(days=300),
           basis="invitation"):
    now = utcnow()
    g = ProxyGrant(resident_id=principal_id, proxy_account_id=proxy[1], proxy_resident_id=proxy[0], status=status,
                   scopes=["view"], programs=[], relation="family", basis=basis, evidence={},
                   created_by="account:test", created_at=now - timedelta(days=age_days), expires_at=now + expires_in)
    session.add(g)
    session.flush()
    return g.id


def test_migration_0187_keeps_the_oldest_open_family_grant_of_a_pair(cfg, session, db_url):
    from alembic import command

    from app.migrate import alembic_config

    people = [h.person(session, cfg, name, birth=date(1935 + i, 1, 1))
              for i, name in enumerate(("吴大爷", "殷瑞宁", "吴小军", "吴小丽", "吴小强"))]
    principal, proxy, other, asker, waiter = [(resident.id, account.id) for resident, account, _ in people]
    session.commit()
    command.downgrade(alembic_config(db_url), "0186")
    try:
        # pair 1: three active grants from parallel accepts (the defect); pair 2: one that ran out and its
        # renewal; pair 3: a request unanswered for 8 days and a newer one; pair 4: two waiting for the resident;
        # plus an ended grant and a staff-recorded one of pair 1, left as they are
        dup = [_grant(session, principal[0], proxy, age_days=d) for d in (3, 2, 1)]
        ran_out = _grant(session, principal[0], other, age_days=400, expires_in=timedelta(days=-35))
        renewal = _grant(session, principal[0], other, age_days=1)
        stale = _grant(session, principal[0], asker, status="requested", basis="request", age_days=8)
        asked = _grant(session, principal[0], asker, status="requested", basis="request", age_days=1)
        waiting = [_grant(session, principal[0], waiter, status="pending_principal", age_days=d) for d in (2, 1)]
        revoked = _grant(session, principal[0], proxy, status="revoked", age_days=9)
        staff = _grant(session, principal[0], proxy, basis="guardianship", age_days=5)
        session.commit()
    finally:
        session.rollback()
        command.upgrade(alembic_config(db_url), "heads")
    session.expire_all()
    status = {g.id: (g.status, g.revoked_by) for g in session.scalars(select(ProxyGrant))}
    ended = "migration:0187 duplicate"
    assert status == {dup[0]: ("active", None), dup[1]: ("revoked", ended), dup[2]: ("revoked", ended),
                      ran_out: ("expired", None), renewal: ("active", None),
                      stale: ("expired", None), asked: ("requested", None),
                      waiting[0]: ("pending_principal", None), waiting[1]: ("declined", ended),
                      revoked: ("revoked", None), staff: ("active", None)}
    session.commit()
