"""Staff: password sign-in (scrypt), lock-out, short sessions, audience separation, queues of one
jurisdiction, decisions with reasons, audited look-ups, `zerotrip staff add`, disable at once."""

from __future__ import annotations

import base64
import json
import time

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from sqlalchemy import select

from app.models import AuditEvent, StaffMember, StaffTask
from tests.authz import helpers as h

PASSWORD = "correct horse battery"


def _login(client, username, password=PASSWORD):
    return client.post("/api/v1/staff/auth/login", json={"username": username, "password": password})


def _events(session, action):
    return session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)).all()


def test_cli_adds_the_first_admin_who_can_sign_in(cli, client, session):
    result = cli("staff", "add", "--username", "admin1", "--role", "admin", "--district", "140105",
                 "--password", "a-very-long-password", "--id-number", "11010519491231002X")
    assert result.exit_code == 0, result.output
    staff = session.execute(select(StaffMember).where(StaffMember.username == "admin1")).scalar_one()
    assert staff.password_hash.startswith("scrypt$") and "a-very-long-password" not in staff.password_hash
    resp = _login(client, "admin1", "a-very-long-password")
    assert resp.status_code == 200 and resp.json["staff"]["role"] == "admin"
    assert resp.json["expires_in"] <= 900
    claims = jwt.decode(resp.json["access_token"], options={"verify_signature": False})
    assert claims["aud"] == "zerotrip-staff"
    assert cli("staff", "add", "--username", "weak", "--role", "clerk", "--district", "140105",
               "--password", "short", "--id-number", "").exit_code == 2


def test_lock_out_after_five_failures(client, session, cfg):
    staff, _ = h.staff(session, cfg, username="clerk1", role="clerk")
    for _ in range(5):
        assert _login(client, "clerk1", "wrong password!").status_code == 401
    locked = _login(client, "clerk1")
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    assert _login(client, "nobody", "whatever").status_code == 401
    assert len([e for e in _events(session, "staff.login") if e.result == "bad_password"]) == 5


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def _hs256_by_hand(claims, key: bytes) -> str:
    """HS256 signed with the RSA public key (PyJWT refuses to do this, an attacker would not)."""
    import hashlib
    import hmac

    signing_input = _b64({"alg": "HS256", "typ": "JWT"}) + "." + _b64(claims)
    sig = hmac.new(key, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(sig).decode().rstrip("=")


def test_forged_and_misused_tokens_get_401_and_reuse_revokes_the_family(client, session, cfg):
    staff, headers = h.staff(session, cfg, username="rev1")
    _, citizen_acc, _ = h.person(session, cfg)
    citizen_headers = h.headers_for(session, cfg, citizen_acc)
    pair = _login(client, "rev1").json
    good = {"Authorization": f"Bearer {pair['access_token']}"}
    assert client.get("/api/v1/staff/me", headers=good).status_code == 200
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    now = int(time.time())
    base = {**claims, "iat": now, "exp": now + 600}
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    public_pem = rsa_key.public_key().public_bytes(serialization.Encoding.PEM,
                                                   serialization.PublicFormat.SubjectPublicKeyInfo)
    no_exp = {k: v for k, v in base.items() if k != "exp"}
    forged = {
        "alg_none": _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(base) + ".",
        "rs256": jwt.encode(base, rsa_key, algorithm="RS256"),
        "hs_with_public_key": _hs256_by_hand(base, public_pem),
        "missing_exp": jwt.encode(no_exp, cfg.signing_key_bytes, algorithm="HS256"),
        "wrong_aud": jwt.encode({**base, "aud": "zerotrip-citizen"}, cfg.signing_key_bytes, algorithm="HS256"),
        "refresh_as_access": pair["refresh_token"],
        "wrong_typ": jwt.encode({**base, "typ": "refresh"}, cfg.signing_key_bytes, algorithm="HS256"),
    }
    for name, token in forged.items():
        assert client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401, name
    # Citizen tokens are refused on staff routes and staff tokens on citizen routes.
    assert client.get("/api/v1/staff/me", headers=citizen_headers).status_code == 401
    assert client.get("/api/v1/applications", headers=good).status_code == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401
    # Rotation, then reuse: 401, the whole family ends, a security event is written.
    second = client.post("/api/v1/staff/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert second.status_code == 200
    new = second.json
    reuse = client.post("/api/v1/staff/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert reuse.status_code == 401
    assert client.get("/api/v1/staff/me", headers={"Authorization": f"Bearer {new['access_token']}"}).status_code == 401
    assert client.post("/api/v1/staff/auth/refresh", json={"refresh_token": new["refresh_token"]}).status_code == 401
    assert len(_events(session, "security.refresh_token_reuse")) == 1


def test_citizen_refresh_reuse_is_a_security_event(client, session, cfg):
    from app.api import tokens

    _, account, _ = h.person(session, cfg)
    pair = tokens.start_session(session, cfg, account)
    session.commit()
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 200
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401
    event = _events(session, "security.refresh_token_reuse")[0]
    assert event.result == "family_revoked" and event.actor == f"account:{account.id}"


def test_logout_and_disable_take_effect_at_once(client, session, cfg, cli):
    staff, headers = h.staff(session, cfg, username="out1")
    assert client.post("/api/v1/staff/auth/logout", headers=headers).status_code == 200
    assert client.get("/api/v1/staff/me", headers=headers).status_code == 401
    pair = _login(client, "out1").json
    fresh = {"Authorization": f"Bearer {pair['access_token']}"}
    assert client.get("/api/v1/staff/me", headers=fresh).status_code == 200
    assert cli("staff", "disable", "out1").exit_code == 0
    assert client.get("/api/v1/staff/me", headers=fresh).status_code == 401
    assert _login(client, "out1").status_code == 401


def test_queues_show_only_the_jurisdiction_and_decisions_need_a_reason(client, session, cfg):
    here, _, _ = h.person(session, cfg, district="140105", street="140105001", community="140105001001")
    there, _, _ = h.person(session, cfg, district="140106", street="140106001", community="140106001001")
    other_street, _, _ = h.person(session, cfg, district="140105", street="140105002", community="140105002001")
    t_here, t_there, t_street = h.task(session, here), h.task(session, there), h.task(session, other_street)
    _, district_headers = h.staff(session, cfg, "reviewer", "140105")
    _, street_headers = h.staff(session, cfg, "clerk", "140105", street="140105001")
    ids = {t["id"] for t in client.get("/api/v1/staff/tasks?queue=review", headers=district_headers).json}
    assert ids == {t_here.id, t_street.id}
    ids = {t["id"] for t in client.get("/api/v1/staff/tasks", headers=street_headers).json}
    assert ids == {t_here.id}
    assert client.get(f"/api/v1/staff/tasks/{t_there.id}", headers=district_headers).status_code == 404
    # A clerk may look but not decide.
    assert client.post(f"/api/v1/staff/tasks/{t_here.id}/decide", headers=street_headers,
                       json={"decision": "done", "reason": "visited"}).status_code == 403
    assert client.post(f"/api/v1/staff/tasks/{t_here.id}/decide", headers=district_headers,
                       json={"decision": "done"}).status_code == 422
    ok = client.post(f"/api/v1/staff/tasks/{t_here.id}/decide", headers=district_headers,
                     json={"decision": "done", "reason": "visited, data corrected"})
    assert ok.status_code == 200 and ok.json["decision"] == "done"
    session.expire_all()
    assert session.get(StaffTask, t_here.id).state == "closed"
    assert [e.result for e in _events(session, "staff.task_decide")] == ["done"]


def test_lookup_needs_a_purpose_is_audited_and_masked(client, session, cfg):
    resident, _, id_number = h.person(session, cfg, "李秀英")
    far, _, far_id = h.person(session, cfg, "远方人", district="140106", street="140106001",
                              community="140106001001")
    _, headers = h.staff(session, cfg, "clerk", "140105")
    assert client.post("/api/v1/staff/residents/lookup", headers=headers,
                       json={"id_number": id_number}).status_code == 422
    resp = client.post("/api/v1/staff/residents/lookup", headers=headers,
                       json={"id_number": id_number, "purpose": "home_visit"})
    assert resp.status_code == 200 and resp.json["in_jurisdiction"] is True
    assert id_number not in resp.get_data(as_text=True) and resp.json["id_number_masked"] == resident.id_mask
    assert client.post("/api/v1/staff/residents/lookup", headers=headers,
                       json={"id_number": far_id, "purpose": "home_visit"}).status_code == 404
    limited = client.post("/api/v1/staff/residents/lookup", headers=headers,
                          json={"id_number": far_id, "purpose": "guardianship_grant"})
    assert limited.status_code == 200 and limited.json["in_jurisdiction"] is False and limited.json["name"] is None
    events = _events(session, "staff.resident_lookup")
    assert [(e.result, e.details["purpose"]) for e in events] == [
        ("ok", "home_visit"), ("not_found", "home_visit"), ("proxy_only", "guardianship_grant")]
    assert all(id_number not in json.dumps(e.details) and id_number not in (e.object_ref or "") for e in events)
