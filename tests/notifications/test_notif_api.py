"""GET /api/v1/inbox, POST /api/v1/inbox/{id}/read, GET/POST /api/v1/subscriptions."""

from __future__ import annotations

import pytest

from app.api.tokens import start_session
from app.db import utcnow
from app.models import InboxItem
from notifications.templates import registry, template_for


@pytest.fixture
def signed_in(session, cfg, resident, account):
    """(account, headers) for a citizen bound to a fresh resident."""

    def make(bound=True):
        r = resident() if bound else None
        acc = account(resident=r)
        tokens = start_session(session, cfg, acc)
        session.commit()
        return acc, {"Authorization": f"Bearer {tokens['access_token']}"}

    return make


def _item(session, n, **kw):
    item = InboxItem(outbox_id=f"ob{n}", kind="proposal_ready", title=f"t{n}", body="b", recipient_key=f"k{n}",
                     created_at=utcnow(), **kw)
    session.add(item)
    session.commit()
    return item


@pytest.mark.parametrize("method,path", [("get", "/api/v1/inbox"), ("post", "/api/v1/inbox/x/read"),
                                         ("get", "/api/v1/subscriptions"), ("post", "/api/v1/subscriptions")])
def test_auth_required(client, method, path):
    resp = getattr(client, method)(path)
    assert resp.status_code == 401
    assert resp.json["code"] == 401 and resp.json["status"]


def test_inbox_lists_own_and_resident_items_newest_first_paginated(client, session, signed_in):
    acc, headers = signed_in()
    other, _ = signed_in()
    a = _item(session, 1, resident_id=acc.resident_id)
    b = _item(session, 2, account_id=acc.id)
    _item(session, 3, resident_id=other.resident_id)
    _item(session, 4, account_id=other.id)
    resp = client.get("/api/v1/inbox", headers=headers)
    assert resp.status_code == 200
    assert [i["id"] for i in resp.json] == [b.id, a.id]
    assert set(resp.json[0]) == {"id", "kind", "title", "body", "application_id", "created_at", "read_at", "action"}
    assert "X-Pagination" in resp.headers
    page = client.get("/api/v1/inbox?page=2&page_size=1", headers=headers)
    assert [i["id"] for i in page.json] == [a.id]


def test_mark_read_is_idempotent_and_scoped(client, session, signed_in):
    acc, headers = signed_in()
    other, other_headers = signed_in()
    item = _item(session, 1, resident_id=acc.resident_id)
    assert client.post(f"/api/v1/inbox/{item.id}/read", headers=other_headers).status_code == 404
    first = client.post(f"/api/v1/inbox/{item.id}/read", headers=headers)
    assert first.status_code == 200 and first.json["read_at"]
    again = client.post(f"/api/v1/inbox/{item.id}/read", headers=headers)
    assert again.json["read_at"] == first.json["read_at"]


def test_subscriptions_count_popup_results(client, signed_in):
    _acc, headers = signed_in()
    listed = client.get("/api/v1/subscriptions", headers=headers)
    assert listed.status_code == 200
    assert {t["kind"] for t in listed.json} == set(registry())
    one_time, long_term = template_for("proposal_ready"), template_for("payment_started")
    by_id = {t["template_id"]: t for t in listed.json}
    assert by_id[one_time.id]["remaining"] == 0 and by_id[one_time.id]["needs_prompt"]
    assert by_id[long_term.id]["remaining"] == 0 and by_id[long_term.id]["long_term"]

    for _ in range(2):
        resp = client.post("/api/v1/subscriptions", headers=headers,
                           json={"template_id": one_time.id, "status": "accept"})
        assert resp.status_code == 200
    assert resp.json["remaining"] == 2 and not resp.json["needs_prompt"]
    resp = client.post("/api/v1/subscriptions", headers=headers, json={"template_id": long_term.id, "status": "accept"})
    assert resp.json["remaining"] is None and not resp.json["needs_prompt"]
    resp = client.post("/api/v1/subscriptions", headers=headers, json={"template_id": one_time.id, "status": "filter"})
    assert resp.json["remaining"] == 2
    resp = client.post("/api/v1/subscriptions", headers=headers, json={"template_id": one_time.id, "status": "ban"})
    assert resp.json["remaining"] == 0 and resp.json["status"] == "ban" and resp.json["needs_prompt"]


@pytest.mark.parametrize("body", [{"template_id": "NOPE", "status": "accept"},
                                  {"template_id": "ZT_REMINDER_0001", "status": "maybe"},
                                  {"status": "accept"}])
def test_subscriptions_reject_bad_input_with_422(client, signed_in, body):
    _acc, headers = signed_in()
    resp = client.post("/api/v1/subscriptions", headers=headers, json=body)
    assert resp.status_code == 422
    assert resp.json["code"] == 422 and "request_id" in resp.json
