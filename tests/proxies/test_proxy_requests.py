"""Issue 9 item 3: proxy requests are neither an existence oracle nor a spam channel."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import func, select

from app.models import AuditEvent, OutboxMessage
from tests.authz import helpers as h
from tests.builders import make_id_number

SAME = ("role", "status", "live", "scopes", "programs", "relation", "basis", "activated_at", "revoked_at")


def _counts(session) -> dict:
    from app.models import AuditSubject, ProxyRequest

    session.expire_all()
    return {model.__tablename__: session.scalar(select(func.count()).select_from(model))
            for model in (ProxyRequest, AuditEvent, AuditSubject)}


def _ask(client, headers, name, number, **extra):
    return client.post("/api/v1/proxies/requests", headers=headers,
                       json={"name": name, "id_number": number, "relation": "child", **extra})


def _requested_messages(session, resident_id) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.kind == "proxy_request", OutboxMessage.resident_id == resident_id))


def _age(session, days: int) -> None:
    """Move every request (and requested grant) `days` into the past, as if that time had passed."""
    from app.models import ProxyGrant, ProxyRequest, ProxyRequestQuota

    for r in session.execute(select(ProxyRequest)).scalars():
        r.created_at -= timedelta(days=days)
        r.expires_at -= timedelta(days=days)
    for g in session.execute(select(ProxyGrant).where(ProxyGrant.basis == "request")).scalars():
        g.created_at -= timedelta(days=days)
    for q in session.execute(select(ProxyRequestQuota)).scalars():  # the times of the target's messages
        q.t1, q.t2, q.t3 = (t - timedelta(days=days) if t else None for t in (q.t1, q.t2, q.t3))
    session.commit()


def test_the_requester_sees_the_same_pending_entry_whatever_matched(client, session, cfg):
    mother, mother_acc, mother_id = h.person(session, cfg, "刘桂兰", birth=date(1940, 1, 1), household="H-M")
    _, a_acc, _ = h.person(session, cfg, "张丽", household="H-A")
    _, b_acc, _ = h.person(session, cfg, "张强", household="H-B")
    ah, bh, mh = (h.headers_for(session, cfg, acc) for acc in (a_acc, b_acc, mother_acc))
    unknown = make_id_number(date(1941, 2, 2))

    before = _counts(session)
    assert _ask(client, ah, "刘桂兰", mother_id).status_code == 202  # matches
    middle = _counts(session)
    assert _ask(client, bh, "刘桂兰", unknown).status_code == 202  # matches nobody
    after = _counts(session)
    # The same rows either way (one request, one audit event, no subject: the target is nobody's business).
    assert {k: middle[k] - before[k] for k in before} == {k: after[k] - middle[k] for k in before} == {
        "proxy_requests": 1, "audit_events": 1, "audit_subjects": 0}

    seen_a = client.get("/api/v1/proxies/grants", headers=ah).json
    seen_b = client.get("/api/v1/proxies/grants", headers=bh).json
    assert len(seen_a) == len(seen_b) == 1
    assert {k: seen_a[0][k] for k in SAME} == {k: seen_b[0][k] for k in SAME}
    assert seen_a[0]["status"] == "pending" and seen_a[0]["principal_name"] == seen_b[0]["principal_name"] == "刘*兰"
    assert client.get(f"/api/v1/proxies/grants/{seen_a[0]['id']}", headers=ah).status_code == 404

    # The target accepts → active for A; 7 days pass → expired for B.
    asked = client.get("/api/v1/proxies/grants", headers=mh).json
    assert [(g["role"], g["status"]) for g in asked] == [("principal", "requested")]
    assert client.post(f"/api/v1/proxies/grants/{asked[0]['id']}/confirm", headers=mh).status_code == 200
    assert [(g["role"], g["status"]) for g in client.get("/api/v1/proxies/grants", headers=ah).json] == [
        ("proxy", "active")]
    _age(session, 8)
    assert [g["status"] for g in client.get("/api/v1/proxies/grants", headers=bh).json] == ["expired"]


def test_five_requests_a_day_then_429_and_one_open_request_per_id_number(client, session, cfg, caplog):
    _, acc, _ = h.person(session, cfg, "张丽")
    headers = h.headers_for(session, cfg, acc)
    first = make_id_number(date(1941, 3, 3))
    typo = first[:17] + ("0" if first[17] != "0" else "1")  # a wrong check character: said at once, no slot spent
    mistyped = _ask(client, headers, "某某", typo)
    assert mistyped.status_code == 422 and mistyped.json["errors"] == {"json": {"id_number": ["ID_CHECKSUM"]}}
    assert _ask(client, headers, "某某", first).status_code == 202
    again = _ask(client, headers, "别名", first)
    assert again.status_code == 409 and again.json["error_code"] == "proxy_request_open"
    for i in range(4):
        assert _ask(client, headers, "某某", make_id_number(date(1942, 1, 1 + i))).status_code == 202
    caplog.set_level(logging.WARNING, logger="zerotrip.security")
    caplog.clear()
    sixth = _ask(client, headers, "某某", make_id_number(date(1943, 1, 1)))
    assert sixth.status_code == 429 and int(sixth.headers["Retry-After"]) > 0
    assert [r.getMessage().count("rule=proxy_request_daily_limit") for r in caplog.records
            if r.name == "zerotrip.security"] == [1]
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "proxy.request")) == 5
    assert len(client.get("/api/v1/proxies/grants", headers=headers).json) == 5


def test_a_target_gets_at_most_three_request_messages_in_30_days(client, session, cfg):
    mother, _, mother_id = h.person(session, cfg, "刘桂兰", birth=date(1940, 1, 1))
    for i in range(5):
        _, acc, _ = h.person(session, cfg, f"张{i}", household=f"H-{i}")
        assert _ask(client, h.headers_for(session, cfg, acc), "刘桂兰", mother_id).status_code == 202
    assert _requested_messages(session, mother.id) == 3
    _age(session, 31)  # a new 30 days: messages again
    _, acc, _ = h.person(session, cfg, "王五", household="H-W")
    assert _ask(client, h.headers_for(session, cfg, acc), "刘桂兰", mother_id).status_code == 202
    assert _requested_messages(session, mother.id) == 4


def test_no_message_from_a_requester_she_declined_or_ignored(client, session, cfg):
    mother, mother_acc, mother_id = h.person(session, cfg, "刘桂兰", birth=date(1940, 1, 1))
    mh = h.headers_for(session, cfg, mother_acc)
    _, pest_acc, _ = h.person(session, cfg, "骗子", household="H-P")
    _, shy_acc, _ = h.person(session, cfg, "生人", household="H-S")
    pest, shy = h.headers_for(session, cfg, pest_acc), h.headers_for(session, cfg, shy_acc)
    assert _ask(client, pest, "刘桂兰", mother_id).status_code == 202
    assert _ask(client, shy, "刘桂兰", mother_id).status_code == 202
    assert _requested_messages(session, mother.id) == 2
    pest_grant = next(g for g in client.get("/api/v1/proxies/grants", headers=mh).json)
    declined = client.post(f"/api/v1/proxies/grants/{pest_grant['id']}/decline", headers=mh)
    assert declined.status_code == 200
    # The decliner still sees `pending` (a decline is not revealed) until the 7 days pass.
    assert [g["status"] for g in client.get("/api/v1/proxies/grants", headers=pest).json] == ["pending"]
    _age(session, 8)  # the other request was ignored
    assert _ask(client, pest, "刘桂兰", mother_id).status_code == 202
    assert _ask(client, shy, "刘桂兰", mother_id).status_code == 202
    assert _requested_messages(session, mother.id) == 2  # nothing new, though both requests were recorded
    assert [g["status"] for g in client.get("/api/v1/proxies/grants", headers=pest).json] == ["pending", "expired"]
    # A request older than 7 days can no longer be accepted.
    statuses = [g["status"] for g in client.get("/api/v1/proxies/grants", headers=mh).json]
    assert sorted(statuses) == ["declined", "expired", "requested", "requested"]
    old = next(g for g in client.get("/api/v1/proxies/grants", headers=mh).json if g["status"] == "expired")
    assert client.post(f"/api/v1/proxies/grants/{old['id']}/confirm", headers=mh).status_code == 409


def test_twelve_parallel_requests_from_one_requester_give_exactly_five(app, session, cfg):
    """The daily limit is a conditional UPDATE on one row, not read-then-write: parallel requests cannot pass it."""
    from concurrent.futures import ThreadPoolExecutor

    _, acc, _ = h.person(session, cfg, "张丽")
    headers = h.headers_for(session, cfg, acc)
    numbers = [make_id_number(date(1944, 1, 1 + i)) for i in range(12)]

    def one(number):
        return _ask(app.test_client(), headers, "某某", number).status_code

    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(one, numbers))
    assert sorted(codes) == [202] * 5 + [429] * 7
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "proxy.request")) == 5


def test_on_the_test_clock_a_request_lapses_after_7_days_and_a_grant_at_its_end(client, session, cfg, monkeypatch):
    """The days of a request (7) and of a grant (its `days`) run on the test clock (ZEROTRIP_FAKE_TODAY), as the
    decisions' do: a test lets the days pass the way the README says, without touching the database."""
    from flows.dates import today_shanghai

    mother, mother_acc, mother_id = h.person(session, cfg, "刘桂兰", birth=date(1940, 1, 1), household="H-M")
    _, a_acc, _ = h.person(session, cfg, "张丽", household="H-A")
    _, b_acc, _ = h.person(session, cfg, "张强", household="H-B")
    ah, bh, mh = (h.headers_for(session, cfg, acc) for acc in (a_acc, b_acc, mother_acc))
    today = today_shanghai()
    assert _ask(client, ah, "刘桂兰", mother_id, days=30).status_code == 202
    assert _ask(client, bh, "刘桂兰", make_id_number(date(1941, 2, 2))).status_code == 202
    grant_id = client.get("/api/v1/proxies/grants", headers=mh).json[0]["id"]
    assert client.post(f"/api/v1/proxies/grants/{grant_id}/confirm", headers=mh).status_code == 200
    assert client.get(f"/api/v1/applications?subject={grant_id}", headers=ah).status_code == 200

    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", (today + timedelta(days=8)).isoformat())
    assert [g["status"] for g in client.get("/api/v1/proxies/grants", headers=bh).json] == ["expired"]
    assert client.get(f"/api/v1/applications?subject={grant_id}", headers=ah).status_code == 200  # 30 days

    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", (today + timedelta(days=31)).isoformat())
    ended = client.get(f"/api/v1/applications?subject={grant_id}", headers=ah)
    assert ended.status_code == 403, ended.json
    assert [(g["role"], g["status"], g["live"]) for g in client.get("/api/v1/proxies/grants", headers=mh).json] == [
        ("principal", "expired", False)]


def test_withdrawing_a_declined_request_and_asking_again_sends_her_nothing(client, session, cfg):
    """A decline stays a decline: the requester (who still sees `pending`) withdraws and asks again, and the
    person who said no is not asked again; a request withdrawn before any answer was not ignored."""
    mother, mother_acc, mother_id = h.person(session, cfg, "刘桂兰", birth=date(1940, 1, 1))
    mh = h.headers_for(session, cfg, mother_acc)
    _, pest_acc, _ = h.person(session, cfg, "骗子", household="H-P")
    pest = h.headers_for(session, cfg, pest_acc)
    assert _ask(client, pest, "刘桂兰", mother_id).status_code == 202
    asked = next(g for g in client.get("/api/v1/proxies/grants", headers=mh).json)
    assert client.post(f"/api/v1/proxies/grants/{asked['id']}/decline", headers=mh).status_code == 200
    mine = client.get("/api/v1/proxies/grants", headers=pest).json[0]
    withdrawn = client.post(f"/api/v1/proxies/requests/{mine['id']}/withdraw", headers=pest)
    assert withdrawn.status_code == 200 and withdrawn.json["status"] == "withdrawn"
    assert _ask(client, pest, "刘桂兰", mother_id).status_code == 202
    assert _requested_messages(session, mother.id) == 1  # the first request's message only
