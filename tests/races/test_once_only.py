"""Things that happen once, under ≥ 20 parallel requests across two API processes on one database:
one objection per account and notice, one rating per rater and application, a single-use invitation,
refresh-token rotation. Each asserts the exact outcome and, for a unique key, its own 409 `error_code`."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import requests
from sqlalchemy import func, select

from app.db import utcnow
from app.models import (
    Account,
    Appeal,
    Application,
    AuditEvent,
    Benefit,
    NotificationPref,
    Objection,
    OutboxMessage,
    PayoutAccount,
    ProxyGrant,
    PublicNotice,
    ServiceRating,
    StaffTask,
)
from flows.dates import today_shanghai
from tests.authz import helpers as h
from tests.builders import make_resident
from tests.races.conftest import QUIET


def _count(session, query) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(query.subquery()))


def test_24_parallel_objections_of_one_account_give_one_201_and_23_documented_409s(servers, session, cfg):
    subject, _, _ = h.person(session, cfg, "张三")
    _, account, _ = h.person(session, cfg, "李四")
    headers = h.headers_for(session, cfg, account)
    application = h.application(session, subject, program="dibao", state="public_notice")
    today = today_shanghai()
    notice = PublicNotice(application_id=application.id, program="dibao", street_code="140105001",
                          masked_name="张*", amount_fen=35000, starts_on=today - timedelta(days=1),
                          ends_on=today + timedelta(days=5), state="open")
    session.add(notice)
    session.commit()
    answers = servers.burst(24, lambda i, base: requests.post(
        f"{base}/api/v1/public-notices/{notice.id}/objections", headers=headers, timeout=QUIET,
        json={"text": f"这户人家有车有房 {i}"}))
    assert Counter(r.status_code for r in answers) == {201: 1, 409: 23}
    assert {r.json()["error_code"] for r in answers if r.status_code == 409} == {"objection_exists"}
    assert _count(session, select(Objection)) == 1
    assert _count(session, select(StaffTask).where(StaffTask.kind == "objection")) == 1


def test_24_parallel_appeals_of_one_decision_give_one_201_and_23_documented_409s(servers, session, cfg):
    resident, account, _ = h.person(session, cfg, "周大爷")
    headers = h.headers_for(session, cfg, account)
    application = h.application(session, resident, state="rejected")
    application.decided_at = utcnow() - timedelta(days=3)
    session.commit()
    answers = servers.burst(24, lambda i, base: requests.post(
        f"{base}/api/v1/appeals", headers=headers, timeout=QUIET,
        json={"application_id": application.id, "reason_code": "facts_wrong", "comment": f"第{i}次"}))
    assert Counter(r.status_code for r in answers) == {201: 1, 409: 23}
    assert {r.json()["error_code"] for r in answers if r.status_code == 409} == {"appeal_exists"}
    assert _count(session, select(Appeal)) == 1
    assert _count(session, select(StaffTask).where(StaffTask.kind == "appeal")) == 1

    # a withdrawal tapped 24 times at once: every answer the same 200 (three were 409 appeal_decided), told once
    appeal_id = next(r.json()["id"] for r in answers if r.status_code == 201)
    withdrawn = servers.burst(24, lambda i, base: requests.post(
        f"{base}/api/v1/appeals/{appeal_id}/withdraw", headers=headers, timeout=QUIET, json={}))
    assert Counter(r.status_code for r in withdrawn) == {200: 24}, [r.text for r in withdrawn if r.status_code != 200]
    assert {r.json()["outcome"] for r in withdrawn} == {"withdrawn"}


def test_24_parallel_ratings_of_one_case_give_one_201_and_23_documented_409s(servers, session, cfg):
    resident, account, _ = h.person(session, cfg, "王芳")
    headers = h.headers_for(session, cfg, account)
    application = h.application(session, resident, state="approved")
    answers = servers.burst(24, lambda i, base: requests.post(
        f"{base}/api/v1/applications/{application.id}/rating", headers=headers, timeout=QUIET,
        json={"level": 1 + i % 5}))
    assert Counter(r.status_code for r in answers) == {201: 1, 409: 23}
    assert {r.json()["error_code"] for r in answers if r.status_code == 409} == {"rating_exists"}
    assert _count(session, select(ServiceRating)) == 1


def test_24_people_accepting_one_invitation_make_one_grant(servers, session, cfg):
    _, principal, _ = h.person(session, cfg, "赵大爷", birth=date(1940, 5, 5))
    invitation = requests.post(f"{servers.apis[0]}/api/v1/proxies/invitations", timeout=QUIET,
                               headers=h.headers_for(session, cfg, principal), json={})
    assert invitation.status_code == 201, invitation.text
    token = invitation.json()["token"]
    accepters = [h.headers_for(session, cfg, h.person(session, cfg, f"家人{i}")[1]) for i in range(24)]
    answers = servers.burst(24, lambda i, base: requests.post(
        f"{base}/api/v1/proxies/invitations/accept", headers=accepters[i], json={"token": token}, timeout=QUIET))
    assert Counter(r.status_code for r in answers) == {200: 1, 404: 23}
    assert _count(session, select(ProxyGrant)) == 1


def test_24_parallel_refreshes_of_one_token_one_wins(servers, session, cfg):
    from app.api import tokens

    _, account, _ = h.person(session, cfg, "钱多多")
    pair = tokens.start_session(session, cfg, account)
    session.commit()
    answers = servers.burst(24, lambda i, base: requests.post(
        f"{base}/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}, timeout=QUIET))
    assert Counter(r.status_code for r in answers) == {200: 1, 401: 23}


def test_24_accounts_binding_one_resident_bind_exactly_one(servers, session, cfg):
    from tests.races.test_limits import _Binder

    _, id_number = make_resident(session, cfg, name="李秀英", phone="13900002222")
    binders = [_Binder(servers, session, cfg, 300 + i) for i in range(24)]
    answers = servers.burst(24, lambda i, base: binders[i].bind(base, "李秀英", id_number, phone="13900002222"))
    codes = Counter(r.status_code for r in answers)
    assert codes[200] == 1 and codes[200] + codes[409] + codes[429] == 24, codes
    # one success, then at most the target ID's 5 tries (the success gives its try back)
    assert 4 <= codes[409] <= 5, codes
    assert {r.json()["error_code"] for r in answers if r.status_code == 409} == {"resident_bound_elsewhere"}
    assert _count(session, select(Account).where(Account.resident_id.is_not(None))) == 1


def test_24_parallel_dibao_applications_of_one_resident_make_one(servers, session, cfg):
    _, account, _ = h.person(session, cfg, "张小三", birth=date(1975, 3, 3), sex="M")
    headers = h.headers_for(session, cfg, account)
    answers = servers.burst(24, lambda i, base: requests.post(
        f"{base}/api/v1/dibao/applications", headers=headers, json={}, timeout=QUIET))
    assert Counter(r.status_code for r in answers) == {201: 1, 409: 23}
    # in progress, or (once the automatic check has decided it) one a month — never a 500
    assert {r.json()["error_code"] for r in answers if r.status_code == 409} <= {"application_in_progress",
                                                                               "one_application_a_month"}
    assert _count(session, select(Application).where(Application.program == "dibao")) == 1


def test_24_parallel_first_payout_accounts_and_preferences_all_succeed_once_stored(servers, session, cfg):
    """PUTs of a row keyed by the resident: the first insert races; the last writer wins, nobody gets a 500."""
    owner, account, _ = h.person(session, cfg, "王大爷", sex="M")
    headers = h.headers_for(session, cfg, account)
    benefit = Benefit(program="elderly_allowance", resident_id=owner.id, tier="80-89", monthly_amount_fen=5000,
                      start_month="2026-12", state="active")
    session.add(benefit)
    session.commit()
    body = {"kind": "bank_account", "bank_name": "中国工商银行", "account_number": "6222020200112233446",
            "holder_name": "王大爷"}
    answers = servers.burst(24, lambda i, base: requests.put(
        f"{base}/api/v1/benefits/{benefit.id}/payout-account", headers=headers, json=body, timeout=QUIET)
        if i % 2 else requests.put(f"{base}/api/v1/me/notification-preferences", headers=headers, timeout=QUIET,
                                   json={"proxy_mode": "instead" if i % 4 else "also"}))
    assert Counter(r.status_code for r in answers) == {200: 24}, [r.text for r in answers if r.status_code != 200]
    assert _count(session, select(PayoutAccount)) == 1
    assert _count(session, select(NotificationPref)) == 1

    # the same change sent 24 times at once changes the account once and tells her once (it told her four times)
    changed = select(AuditEvent).where(AuditEvent.action == "payout.account_change", AuditEvent.result == "changed")
    told = select(OutboxMessage).where(OutboxMessage.kind == "payout_account_changed")
    assert (_count(session, changed), _count(session, told)) == (1, 1)
    body = {**body, "account_number": "6222020200112233453"}
    answers = servers.burst(24, lambda i, base: requests.put(
        f"{base}/api/v1/benefits/{benefit.id}/payout-account", headers=headers, json=body, timeout=QUIET))
    assert Counter(r.status_code for r in answers) == {200: 24}, [r.text for r in answers if r.status_code != 200]
    assert (_count(session, changed), _count(session, told)) == (2, 2)


def test_one_account_accepting_24_invitations_of_one_resident_at_once_makes_one_grant(servers, session, cfg):
    """Each accept found no grant of the pair and inserted one: four active grants, and revoking one left the
    daughter able to read her father's record through the others (uq_proxy_grants_family_pair)."""
    father, father_account, _ = h.person(session, cfg, "吴大爷", birth=date(1941, 3, 3), household="H-W1")
    _, daughter_account, _ = h.person(session, cfg, "殷小红", household="H-Y1")
    father_h, daughter_h = (h.headers_for(session, cfg, a) for a in (father_account, daughter_account))
    tokens = []
    for _ in range(24):
        made = requests.post(f"{servers.apis[0]}/api/v1/proxies/invitations", headers=father_h,
                             json={"scopes": ["view"]}, timeout=QUIET)
        assert made.status_code == 201, made.text
        tokens.append(made.json()["token"])
    answers = servers.burst(24, lambda i, base: requests.post(
        f"{base}/api/v1/proxies/invitations/accept", headers=daughter_h, json={"token": tokens[i]}, timeout=QUIET))
    assert Counter(r.status_code for r in answers) == {200: 1, 409: 23}, [r.text for r in answers]
    assert {r.json()["error_code"] for r in answers if r.status_code == 409} == {"proxy_grant_exists"}
    grants = session.scalars(select(ProxyGrant).where(ProxyGrant.resident_id == father.id)).all()
    assert len(grants) == 1
    # the losers' invitations are still unused: the father may hand one to someone else
    other_h = h.headers_for(session, cfg, h.person(session, cfg, "吴小弟", household="H-W2")[1])
    loser = next(i for i, r in enumerate(answers) if r.status_code == 409)
    assert requests.post(f"{servers.apis[1]}/api/v1/proxies/invitations/accept", headers=other_h,
                         json={"token": tokens[loser]}, timeout=QUIET).status_code == 200
