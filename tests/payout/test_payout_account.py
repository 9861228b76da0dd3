"""Changing a benefit's payout account: the resident or a proxy with the payout scope, after a fresh sign-in;
validated, stored encrypted, shown masked, audited, and the resident is told."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.crypto import cipher_for
from app.db import utcnow
from app.models import AuditEvent, AuthSession, Benefit, OutboxMessage, PayoutAccount
from flows.payout import luhn_ok
from tests.authz import helpers as h

CARD = "6222020200112233446"  # passes the Luhn check
BODY = {"kind": "bank_account", "bank_name": "中国工商银行", "account_number": CARD, "holder_name": "王大爷"}


@pytest.fixture
def world(session, cfg):
    owner, owner_acc, _ = h.person(session, cfg, "王大爷", sex="M")
    proxy, proxy_acc, _ = h.person(session, cfg, "王小明")
    weak, weak_acc, _ = h.person(session, cfg, "王小红")
    _, stranger_acc, _ = h.person(session, cfg, "陌生人")
    h.grant(session, owner, proxy_acc, proxy, scopes=("view", "payout"))
    h.grant(session, owner, weak_acc, weak, scopes=("view", "confirm"))
    benefit = Benefit(program="elderly_allowance", resident_id=owner.id, tier="80-89", monthly_amount_fen=5000,
                      start_month="2026-12", state="active")
    session.add(benefit)
    session.commit()
    heads = {k: h.headers_for(session, cfg, a) for k, a in
             {"owner": owner_acc, "proxy": proxy_acc, "weak": weak_acc, "stranger": stranger_acc}.items()}
    return owner, benefit, heads, owner_acc


def _age_sessions(session, account_id, minutes):
    for auth in session.scalars(select(AuthSession).where(AuthSession.account_id == account_id)):
        auth.auth_time = utcnow() - timedelta(minutes=minutes)
    session.commit()


def test_owner_changes_the_account_masked_encrypted_audited_and_told(session, cfg, client, world):
    owner, benefit, heads, _ = world
    path = f"/api/v1/benefits/{benefit.id}/payout-account"
    assert client.get(path, headers=heads["owner"]).json["account_masked"] is None
    resp = client.put(path, json=BODY, headers=heads["owner"])
    assert resp.status_code == 200, resp.json
    assert resp.json["account_masked"] == "*" * 15 + "3446" and resp.json["kind"] == "bank_account"
    assert CARD not in resp.get_data(as_text=True)
    assert client.get(path, headers=heads["owner"]).json["account_masked"].endswith("3446")
    row = session.get(PayoutAccount, owner.id)
    assert row.kind == "bank" and row.source == "citizen" and CARD.encode() not in row.number_enc
    assert cipher_for(cfg).decrypt(row.number_enc) == CARD
    msg = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "payout_account_changed")).one()
    assert msg.resident_id == owner.id and msg.data["account_masked"].endswith("3446") and msg.data["by"] == "self"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "payout.account_change")).one()
    assert event.result == "changed" and event.on_behalf_of is None and CARD not in str(event.details)
    again = client.put(path, json=BODY, headers=heads["owner"])  # the same account: nothing changes
    assert again.status_code == 200
    assert len(session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "payout_account_changed")).all()) == 1


def test_proxy_with_payout_scope_may_others_may_not(session, cfg, client, world):
    owner, benefit, heads, _ = world
    path = f"/api/v1/benefits/{benefit.id}/payout-account"
    assert client.put(path, json=BODY, headers=heads["weak"]).status_code == 403
    assert client.put(path, json=BODY, headers=heads["stranger"]).status_code == 404
    assert client.put(path, json=BODY, headers={}).status_code == 401
    sscard = {"kind": "social_security_card", "account_number": "1234567890123", "holder_name": "王大爷"}
    resp = client.put(path, json=sscard, headers=heads["proxy"])
    assert resp.status_code == 200 and resp.json["source"] == "proxy" and resp.json["kind"] == "social_security_card"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "payout.account_change")).one()
    assert event.on_behalf_of == f"resident:{owner.id}" and event.details["grant"]
    msg = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "payout_account_changed")).one()
    assert msg.data["by"] == "proxy" and msg.data["proxy_name"] == "王*明"


def test_a_stale_sign_in_needs_a_step_up(session, cfg, client, world):
    _, benefit, heads, owner_acc = world
    _age_sessions(session, owner_acc.id, 6)
    resp = client.put(f"/api/v1/benefits/{benefit.id}/payout-account", json=BODY, headers=heads["owner"])
    assert resp.status_code == 401 and resp.json["errors"]["step_up_required"] is True
    fresh = h.headers_for(session, cfg, owner_acc)  # a new sign-in: a new session with a fresh auth_time
    assert client.put(f"/api/v1/benefits/{benefit.id}/payout-account", json=BODY, headers=fresh).status_code == 200


@pytest.mark.parametrize("body, field", [
    ({**BODY, "account_number": "62220202001122334X"}, "account_number"),
    ({**BODY, "account_number": "12345678901"}, "account_number"),            # too short
    ({**BODY, "account_number": "6222020200112233445"}, "account_number"),    # checksum
    ({**BODY, "bank_name": None}, "bank_name"),
    ({**BODY, "bank_name": "\u200b"}, "bank_name"),  # invisible only (a probe)
    ({**BODY, "bank_name": "\u3164\u3164"}, "bank_name"),  # letters drawn blank
    ({**BODY, "bank_name": "工商银行\u202e"}, "bank_name"),  # a direction override garbled the alert naming it
    ({**BODY, "holder_name": "李四"}, "holder_name"),
    ({"kind": "social_security_card", "account_number": "123", "holder_name": "王大爷"}, "account_number"),
])
def test_validation(session, cfg, client, world, body, field):
    _, benefit, heads, _ = world
    resp = client.put(f"/api/v1/benefits/{benefit.id}/payout-account", json=body, headers=heads["owner"])
    assert resp.status_code == 422 and field in resp.json["errors"]["json"]


def test_unknown_fields_are_rejected(client, world):
    _, benefit, heads, _ = world
    resp = client.put(f"/api/v1/benefits/{benefit.id}/payout-account", json={**BODY, "x": 1}, headers=heads["owner"])
    assert resp.status_code == 422


def test_luhn():
    assert luhn_ok(CARD) and not luhn_ok("6222020200112233445") and luhn_ok("4111111111111111")
