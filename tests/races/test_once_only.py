"""Things that happen once, under ≥ 20 parallel requests across two API processes on one database:
one objection per account and notice, one rating per rater and application, a single-use invitation,
refresh-token rotation. Each asserts the exact outcome and, for a unique key, its own 409 `error_code`."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import requests
from sqlalchemy import func, select

from app.models import Objection, ProxyGrant, PublicNotice, ServiceRating, StaffTask
from tests.authz import helpers as h
from tests.races.conftest import QUIET


def _count(session, query) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(query.subquery()))


def test_24_parallel_objections_of_one_account_give_one_201_and_23_documented_409s(servers, session, cfg):
    subject, _, _ = h.person(session, cfg, "张三")
    _, account, _ = h.person(session, cfg, "李四")
    headers = h.headers_for(session, cfg, account)
    application = h.application(session, subject, program="dibao", state="public_notice")
    today = date.today()
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
