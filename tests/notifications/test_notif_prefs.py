"""GET/PUT /api/v1/me/notification-preferences: proxies get the resident's messages also or instead."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import select

from app.api.tokens import start_session
from app.db import utcnow
from app.models import AuditEvent, NotificationPref, ProxyGrant
from tests.notifications.helpers import outbox_row, proposal

URL = "/api/v1/me/notification-preferences"


@pytest.fixture
def signed_in(session, cfg, resident, account):
    def make(bound=True, **kw):
        r = resident(**kw) if bound else None
        acc = account(resident=r)
        tokens = start_session(session, cfg, acc)
        session.commit()
        return acc, r, {"Authorization": f"Bearer {tokens['access_token']}"}

    return make


def test_default_is_also_and_put_switches_to_instead(client, session, signed_in, resident, account, application,
                                                     dispatcher):
    acc, r, headers = signed_in(household_id="HP-1")
    resp = client.get(URL, headers=headers)
    assert resp.status_code == 200 and resp.json == {"proxy_mode": "also", "proxies_receiving": 0, "updated_at": None}
    proxy_r = resident(name="王大明", household_id="HP-2", birth_date=date(1975, 1, 1))
    proxy = account(resident=proxy_r)
    session.add(ProxyGrant(resident_id=r.id, proxy_account_id=proxy.id, proxy_resident_id=proxy_r.id,
                           status="active", scopes=["view", "receive_messages"], programs=[], relation="child",
                           basis="invitation", evidence={}, created_by="x", activated_at=utcnow(),
                           expires_at=utcnow() + timedelta(days=30)))
    session.commit()
    resp = client.put(URL, json={"proxy_mode": "instead"}, headers=headers)
    assert resp.status_code == 200, resp.json
    assert resp.json["proxy_mode"] == "instead" and resp.json["proxies_receiving"] == 1 and resp.json["updated_at"]
    assert client.get(URL, headers=headers).json["proxy_mode"] == "instead"
    session.expire_all()
    assert session.get(NotificationPref, r.id).proxy_mode == "instead"
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "me.notification_prefs")).scalar_one()
    assert event.details == {"proxy_mode": "instead", "was": "also"}

    row = proposal(session, application(r))
    counts = dispatcher().run_once()
    assert counts["delegated"] == 1 and outbox_row(session, row.id).state == "delegated"

    assert client.put(URL, json={"proxy_mode": "also"}, headers=headers).json["proxy_mode"] == "also"


@pytest.mark.parametrize("body", [{"proxy_mode": "never"}, {}, {"proxy_mode": "also", "extra": 1},
                                  {"proxy_mode": None}])
def test_bad_input_is_422(client, signed_in, body):
    _acc, _r, headers = signed_in()
    assert client.put(URL, json=body, headers=headers).status_code == 422


def test_unbound_account_is_409_and_anonymous_401(client, signed_in):
    _acc, _r, headers = signed_in(bound=False)
    assert client.get(URL, headers=headers).status_code == 409
    assert client.put(URL, json={"proxy_mode": "instead"}, headers=headers).status_code == 409
    assert client.get(URL).status_code == 401
    assert client.put(URL, json={"proxy_mode": "instead"}).status_code == 401
