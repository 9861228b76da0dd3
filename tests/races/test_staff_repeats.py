"""Staff requests repeated at once through two real servers (20 at a time): a guardianship grant recorded once,
a counter confirm recorded once (one visit entry, one audit event), a worker's own task claim answered 200, and a
bulk reassignment of an absent worker's tasks moving each task once (never a 500 on SQLite)."""

from __future__ import annotations

import io
from collections import Counter
from datetime import date

import requests
from sqlalchemy import func, select

from app.models import AuditEvent, Benefit, CounterVisit, ProxyGrant, StaffTask
from tests.authz import helpers as h
from tests.builders import make_resident
from tests.races.conftest import QUIET
from tests.visits import image_bytes

STREET, COMMUNITY = "140105001", "140105001001"
PNG = image_bytes("PNG")  # a real image: a consent is decoded whole, not taken by its first bytes


def _count(session, query) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(query.subquery()))


def _ref(base, headers, id_number) -> str:
    found = requests.post(f"{base}/api/v1/staff/residents/lookup", headers=headers,
                          json={"id_number": id_number, "purpose": "guardianship_grant"}, timeout=QUIET)
    assert found.status_code == 200, found.text
    return found.json()["resident_ref"]


def test_20_parallel_guardianship_recordings_leave_one_grant(servers, session, cfg):
    principal, _, principal_id = h.person(session, cfg, "赵奶奶", birth=date(1936, 4, 4), street=STREET,
                                          community=COMMUNITY)
    proxy, _, proxy_id = h.person(session, cfg, "赵小梅", birth=date(1970, 8, 8), street=STREET,
                                  community=COMMUNITY)
    _, clerk = h.staff(session, cfg, "clerk", street=STREET)
    body = {"resident_ref": _ref(servers.apis[0], clerk, principal_id), "proxy_ref": _ref(servers.apis[0], clerk, proxy_id),
            "basis": "guardianship", "document_ref": "DOC-1", "place": "office", "scopes": ["view", "confirm"]}

    answers = servers.burst(20, lambda i, base: requests.post(f"{base}/api/v1/staff/proxy-grants", headers=clerk,
                                                              json=body, timeout=QUIET))
    assert Counter(r.status_code for r in answers) == {201: 1, 409: 19}, [r.text for r in answers if r.status_code >= 500]
    refusals = {r.json()["message"] for r in answers if r.status_code == 409}
    repeat = requests.post(f"{servers.apis[1]}/api/v1/staff/proxy-grants", headers=clerk, json=body, timeout=QUIET)
    assert repeat.status_code == 409 and refusals == {repeat.json()["message"]}  # the same 409 as one sent later
    grants = session.scalars(select(ProxyGrant).where(ProxyGrant.resident_id == principal.id)).all()
    assert [(g.proxy_resident_id, g.status) for g in grants] == [(proxy.id, "active")]
    assert _count(session, select(AuditEvent).where(AuditEvent.action == "staff.proxy_grant_record")) == 1


def test_20_parallel_counter_confirms_record_one_entry(servers, session, cfg):
    resident, _, id_number = h.person(session, cfg, "钱爷爷", birth=date(1940, 5, 6), street=STREET,
                                      community=COMMUNITY)
    proposal = h.application(session, resident)
    _, clerk = h.staff(session, cfg, "clerk", street=STREET)
    visit = requests.post(f"{servers.apis[0]}/api/v1/staff/counter/identify", headers=clerk,
                          json={"id_number": id_number}, timeout=QUIET).json()["visit_id"]

    def act(i, base):
        return requests.post(f"{base}/api/v1/staff/counter/visits/{visit}/confirm", headers=clerk,
                             data={"application_id": proposal.id, "consent_kind": "signature"},
                             files={"consent": ("signature.png", io.BytesIO(PNG), "image/png")}, timeout=QUIET)

    answers = servers.burst(20, act)
    assert Counter(r.status_code for r in answers) == {200: 20}, [r.text for r in answers if r.status_code != 200]
    same = {str(sorted((k, v) for k, v in r.json().items() if k != "resident_ref")) for r in answers}
    assert len(same) == 1, sorted(same)  # the same answer every time (but for the short-lived reference, encrypted anew)
    session.expire_all()
    actions = session.get(CounterVisit, visit).actions
    assert [(a["action"], a["application_id"]) for a in actions] == [("confirm", proposal.id)]
    assert _count(session, select(AuditEvent).where(AuditEvent.action == "counter.confirm")) == 1
    assert _count(session, select(Benefit).where(Benefit.resident_id == resident.id)) == 1


def test_20_parallel_claims_by_the_holder_are_all_200(servers, session, cfg):
    resident, _, _ = h.person(session, cfg, street=STREET, community=COMMUNITY)
    task = h.task(session, resident, kind="home_visit")
    worker, worker_headers = h.staff(session, cfg, "community_worker", street=STREET, community=COMMUNITY)
    _, other_headers = h.staff(session, cfg, "community_worker", street=STREET, community=COMMUNITY)

    answers = servers.burst(20, lambda i, base: requests.post(f"{base}/api/v1/staff/tasks/{task.id}/claim",
                                                              headers=worker_headers, json={}, timeout=QUIET))
    assert Counter(r.status_code for r in answers) == {200: 20}, [r.text for r in answers if r.status_code != 200]
    assert {r.json()["claimed_by"] for r in answers} == {worker.id}
    # then the holder and somebody else at once: hers stay 200, the other's are 409 task_claimed
    mixed = servers.burst(20, lambda i, base: (i % 2, requests.post(
        f"{base}/api/v1/staff/tasks/{task.id}/claim", headers=other_headers if i % 2 else worker_headers, json={},
        timeout=QUIET)))
    assert Counter((other, r.status_code) for other, r in mixed) == {(0, 200): 10, (1, 409): 10}
    assert {r.json()["error_code"] for other, r in mixed if other} == {"task_claimed"}
    session.expire_all()
    assert session.get(StaffTask, task.id).claimed_by == worker.id


def test_20_parallel_bulk_reassignments_move_each_task_once(servers, session, cfg):
    resident, _, _ = h.person(session, cfg, "孙大爷", birth=date(1941, 2, 2), street=STREET, community=COMMUNITY)
    absent, absent_h = h.staff(session, cfg, "reviewer", street=STREET)
    stand_in, _ = h.staff(session, cfg, "reviewer", street=STREET)
    _, boss = h.staff(session, cfg, "supervisor")
    tasks = [h.task(session, resident, kind="review") for _ in range(5)]
    for t in tasks:
        claimed = requests.post(f"{servers.apis[0]}/api/v1/staff/tasks/{t.id}/claim", headers=absent_h, timeout=QUIET)
        assert claimed.status_code == 200, claimed.text
    body = {"from_staff_id": absent.id, "to_staff_id": stand_in.id, "reason": "病假两周"}

    answers = servers.burst(20, lambda i, base: requests.post(f"{base}/api/v1/staff/supervision/bulk-reassign",
                                                              headers=boss, json=body, timeout=QUIET))
    assert {r.status_code for r in answers} == {200}, [r.text for r in answers if r.status_code != 200]
    moved = [item["id"] for r in answers for item in r.json()["results"] if item["ok"]]
    assert sorted(moved) == sorted(t.id for t in tasks)  # each task once, whoever moved it
    others = {item["error_code"] for r in answers for item in r.json()["results"] if not item["ok"]}
    assert others <= {"task_moved"}
    session.expire_all()
    assert {t.claimed_by for t in session.scalars(select(StaffTask).where(StaffTask.id.in_([t.id for t in tasks])))} \
        == {stand_in.id}
    assert _count(session, select(AuditEvent).where(AuditEvent.action == "staff.task_reassign")) == 5


def test_20_identical_reassignments_move_the_task_once_and_record_it_once(servers, session, cfg):
    """A supervisor's double-clicks: every answer 200 with the task where she sent it, one audit event (there were
    twenty, nineteen of them moving nothing)."""
    resident, _, _ = h.person(session, cfg, "孙奶奶", birth=date(1942, 2, 2), street=STREET, community=COMMUNITY)
    stand_in, _ = h.staff(session, cfg, "reviewer", street=STREET)
    _, boss = h.staff(session, cfg, "supervisor")
    task = h.task(session, resident, kind="review")
    body = {"staff_id": stand_in.id, "reason": "王工休假"}
    answers = servers.burst(20, lambda i, base: requests.post(f"{base}/api/v1/staff/tasks/{task.id}/reassign",
                                                              headers=boss, json=body, timeout=QUIET))
    assert {r.status_code for r in answers} == {200}, [r.text for r in answers if r.status_code != 200]
    assert {r.json()["claimed_by"] for r in answers} == {stand_in.id}
    assert _count(session, select(AuditEvent).where(AuditEvent.action == "staff.task_reassign")) == 1


def test_20_parallel_registrations_of_one_department_and_of_one_key_store_each_once(servers, session, cfg):
    """An admin's double-clicks (or two admins) on the exchange screen: one department, one key, never a 500 (the
    parallel INSERT met the key in the audit event's read, outside the 409 guard: 7 of 20 were 500s)."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from app.models import ExchangeClient, ExchangeKey
    from flows.exchange import signing
    from tests.exchange.test_exchange_admin_api import URL, _body

    _, admin = h.staff(session, cfg, "admin", "140105")
    body = _body(Ed25519PrivateKey.generate(), id="mzjpar", key_id="mzjpar-k1")
    answers = servers.burst(20, lambda i, base: requests.post(f"{base}{URL}", headers=admin, json=body,
                                                              timeout=QUIET))
    assert Counter(r.status_code for r in answers) == {201: 1, 409: 19}, [r.text for r in answers]
    key = {"public_key": signing.public_key_text(Ed25519PrivateKey.generate()), "key_id": "mzjpar-k2"}
    added = servers.burst(20, lambda i, base: requests.post(f"{base}{URL}/mzjpar/keys", headers=admin, json=key,
                                                            timeout=QUIET))
    codes = Counter(r.status_code for r in added)
    assert codes[201] == 1 and set(codes) <= {201, 409, 422}, [r.text for r in added]
    assert _count(session, select(ExchangeClient).where(ExchangeClient.id == "mzjpar")) == 1
    assert _count(session, select(ExchangeKey).where(ExchangeKey.client_id == "mzjpar")) == 2
    assert _count(session, select(AuditEvent).where(AuditEvent.action == "exchange.client_register")) == 1
    assert _count(session, select(AuditEvent).where(AuditEvent.action == "exchange.key_add")) == 1


def test_two_reviewers_deciding_one_street_review_at_once_one_decision_stands(servers, session, cfg):
    """One approves while the other rejects, 10 times each at once: the case went on to 公示 while a 'rejected'
    message was queued and both decisions were audited. Now one request moves the case; the rest are 409."""
    from app.models import Application, OutboxMessage, PublicNotice
    from flows.programs.dibao import cases

    head, _ = make_resident(session, cfg, name="孟大山", birth_date=date(1975, 3, 3), household_id="HR1", sex="M",
                            street=STREET, community=COMMUNITY)
    application = cases.apply(session, head, "acct-1", declared_monthly_income_fen=20_000)
    investigator, _ = h.staff(session, cfg, "community_worker", street=STREET, community=COMMUNITY)
    cases.record_home_visit(session, application, investigator.id, dict.fromkeys(cases.HOME_VISIT_CHECKLIST, True))
    session.commit()
    assert application.state == "reviewing"
    _, approver = h.staff(session, cfg, "reviewer", street=STREET)
    _, rejecter = h.staff(session, cfg, "reviewer", street=STREET)
    path = f"/api/v1/staff/applications/{application.id}/street-review"
    yes = {"decision": "approve", "reason": "入户调查与申报一致"}
    no = {"decision": "reject", "reason_code": "income_above_standard", "reason": "收入高于标准"}
    answers = servers.burst(20, lambda i, base: requests.post(
        f"{base}{path}", headers=approver if i % 2 else rejecter, json=yes if i % 2 else no, timeout=QUIET))
    codes = Counter(r.status_code for r in answers)
    assert codes == {200: 1, 409: 19}, [r.text for r in answers if r.status_code != 409]
    session.expire_all()
    state = session.get(Application, application.id).state
    rejected = _count(session, select(OutboxMessage).where(OutboxMessage.application_id == application.id,
                                                           OutboxMessage.kind == "rejected"))
    notices = _count(session, select(PublicNotice).where(PublicNotice.application_id == application.id))
    assert (state, rejected, notices) in (("public_notice", 0, 1), ("rejected", 1, 0)), (state, rejected, notices)
    assert _count(session, select(AuditEvent).where(AuditEvent.action.like("staff.street_review%"),
                                                    AuditEvent.object_ref == f"application:{application.id}")) <= 1
