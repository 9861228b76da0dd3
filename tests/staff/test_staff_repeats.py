"""Staff requests repeated one after another: a counter confirm answers the same and records nothing more, a claim of
one's own task is 200 (somebody else's 409), a guardianship grant is refused while one is open and recorded again
after it ended — and migration 0184 makes the grants already stored fit its one-open-staff-grant-per-pair key."""

from __future__ import annotations

import io
from datetime import date, timedelta

from sqlalchemy import func, insert, select

from app.db import utcnow
from app.models import Approval, AuditEvent, CounterVisit, ProxyGrant, StaffTask
from tests.authz import helpers as h
from tests.visits import image_bytes

STREET, COMMUNITY = "140105001", "140105001001"
PNG = image_bytes("PNG")  # a real image: a consent is decoded whole, not taken by its first bytes


def _count(session, query) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(query.subquery()))


def test_a_repeated_counter_confirm_answers_the_same_and_records_once(cfg, session, client):
    resident, _, id_number = h.person(session, cfg, "孙奶奶", birth=date(1940, 5, 6), street=STREET,
                                      community=COMMUNITY)
    proposal = h.application(session, resident)
    _, clerk = h.staff(session, cfg, "clerk", street=STREET)
    visit = client.post("/api/v1/staff/counter/identify", headers=clerk, json={"id_number": id_number}).json

    answers = [client.post(f"/api/v1/staff/counter/visits/{visit['visit_id']}/confirm", headers=clerk,
                           data={"application_id": proposal.id, "consent_kind": "signature",
                                 "consent": (io.BytesIO(PNG), "signature.png")}) for _ in range(3)]
    assert [r.status_code for r in answers] == [200, 200, 200], answers[0].json
    assert answers[0].json["actions"] == answers[1].json["actions"] == answers[2].json["actions"] == [
        {"action": "confirm", "application_id": proposal.id}]
    assert answers[0].json["decisions"] == answers[2].json["decisions"]
    assert len(session.get(CounterVisit, visit["visit_id"]).actions) == 1
    assert _count(session, select(AuditEvent).where(AuditEvent.action == "counter.confirm")) == 1
    # a repeat with a bad file is still refused as such
    bad = client.post(f"/api/v1/staff/counter/visits/{visit['visit_id']}/confirm", headers=clerk,
                      data={"application_id": proposal.id, "consent_kind": "signature",
                            "consent": (io.BytesIO(b"%PDF-1.4"), "slip.pdf")})
    assert bad.status_code == 422 and bad.json["error_code"] == "consent_type"


def test_claiming_ones_own_task_again_is_200_and_somebody_elses_409(cfg, session, client):
    resident, _, _ = h.person(session, cfg, street=STREET, community=COMMUNITY)
    task = h.task(session, resident, kind="home_visit")
    worker, mine = h.staff(session, cfg, "community_worker", street=STREET, community=COMMUNITY)
    _, other = h.staff(session, cfg, "community_worker", street=STREET, community=COMMUNITY)
    for _ in range(2):
        again = client.post(f"/api/v1/staff/tasks/{task.id}/claim", headers=mine, json={})
        assert again.status_code == 200 and again.json["claimed_by"] == worker.id
    taken = client.post(f"/api/v1/staff/tasks/{task.id}/claim", headers=other, json={})
    assert taken.status_code == 409 and taken.json["error_code"] == "task_claimed"
    session.expire_all()
    assert session.get(StaffTask, task.id).claimed_by == worker.id


def _refs(client, clerk, *id_numbers):
    return [client.post("/api/v1/staff/residents/lookup", headers=clerk,
                        json={"id_number": n, "purpose": "guardianship_grant"}).json["resident_ref"]
            for n in id_numbers]


def test_a_guardianship_is_refused_while_open_and_recorded_again_after_it_ended(cfg, session, client):
    principal, _, principal_id = h.person(session, cfg, "周奶奶", birth=date(1935, 1, 1), street=STREET,
                                          community=COMMUNITY)
    proxy, _, proxy_id = h.person(session, cfg, "周小兰", birth=date(1968, 1, 1), street=STREET,
                                  community=COMMUNITY)
    _, clerk = h.staff(session, cfg, "clerk", street=STREET)
    resident_ref, proxy_ref = _refs(client, clerk, principal_id, proxy_id)
    body = {"resident_ref": resident_ref, "proxy_ref": proxy_ref, "basis": "guardianship",
            "document_ref": "DOC-1", "place": "office", "scopes": ["view", "confirm"]}
    first = client.post("/api/v1/staff/proxy-grants", headers=clerk, json=body)
    assert first.status_code == 201, first.json
    assert client.post("/api/v1/staff/proxy-grants", headers=clerk, json=body).status_code == 409
    # the grant ran out (its end passed without anyone revoking it): staff record the guardianship anew
    session.get(ProxyGrant, first.json["id"]).expires_at = utcnow() - timedelta(minutes=1)
    session.commit()
    renewed = client.post("/api/v1/staff/proxy-grants", headers=clerk, json=body)
    assert renewed.status_code == 201, renewed.json
    session.expire_all()
    rows = {g.id: g.status for g in session.scalars(select(ProxyGrant).where(ProxyGrant.resident_id == principal.id))}
    assert rows == {first.json["id"]: "expired", renewed.json["id"]: "active"}
    assert session.get(ProxyGrant, renewed.json["id"]).proxy_resident_id == proxy.id


def _staff_grant(session, principal_id, proxy, *, status="active", age_days=0, expires_in=timedelta(days=300),
                 basis="guardianship"):
    now = utcnow()
    g = ProxyGrant(resident_id=principal_id, proxy_account_id=proxy[1], proxy_resident_id=proxy[0], status=status,
                   scopes=["view", "payout"] if status == "pending_approval" else ["view"], programs=[],
                   relation="guardian", basis=basis, evidence={}, created_by="staff:test",
                   created_at=now - timedelta(days=age_days), expires_at=now + expires_in)
    session.add(g)
    session.flush()
    if status == "pending_approval":
        # the columns of that schema only (the test runs it before 0184): no `resident_id` yet (0185)
        session.execute(insert(Approval.__table__).values(kind="proxy_grant", subject_ref=f"grant:{g.id}",
                                                          payload={"grant_id": g.id}, maker="staff:test",
                                                          state="pending"))
    return g.id


def test_migration_0184_keeps_the_oldest_open_staff_grant_of_a_pair(cfg, session, db_url):
    from alembic import command

    from app.migrate import alembic_config

    people = [h.person(session, cfg, name, birth=date(1935 + i, 1, 1))
              for i, name in enumerate(("吴奶奶", "吴小兰", "吴小军", "吴小丽"))]
    principal, proxy, other, third = [(resident.id, account.id) for resident, account, _ in people]
    session.commit()  # nothing open while the schema changes
    command.downgrade(alembic_config(db_url), "0183")
    try:
        # pair 1: three identical active grants (the defect); pair 2: one that ran out and its renewal;
        # pair 3: two waiting for the second approval; plus an ended one and a citizen's grant, left as they are
        dup = [_staff_grant(session, principal[0], proxy, age_days=d) for d in (3, 2, 1)]
        ran_out = _staff_grant(session, principal[0], other, age_days=400, expires_in=timedelta(days=-35))
        renewal = _staff_grant(session, principal[0], other, age_days=1)
        waiting = [_staff_grant(session, principal[0], third, status="pending_approval", age_days=d) for d in (2, 1)]
        revoked = _staff_grant(session, principal[0], proxy, status="revoked", age_days=9)
        citizen = _staff_grant(session, principal[0], proxy, basis="invitation", age_days=5)
        session.commit()
    finally:
        session.rollback()
        command.upgrade(alembic_config(db_url), "heads")
    session.expire_all()
    status = {g.id: (g.status, g.revoked_by) for g in session.scalars(select(ProxyGrant))}
    ended = "migration:0184 duplicate"
    assert status == {dup[0]: ("active", None), dup[1]: ("revoked", ended), dup[2]: ("revoked", ended),
                      ran_out: ("expired", None), renewal: ("active", None),
                      waiting[0]: ("pending_approval", None), waiting[1]: ("declined", ended),
                      revoked: ("revoked", None), citizen: ("active", None)}
    approvals = {a.subject_ref: a.state for a in session.scalars(select(Approval))}
    assert approvals == {f"grant:{waiting[0]}": "pending", f"grant:{waiting[1]}": "withdrawn"}
    session.commit()
