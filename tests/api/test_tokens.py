"""Forged, expired, alg=none and misused tokens all get 401."""

import base64
import json
import time

import jwt

from tests.builders import make_account


def _b64(obj) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).decode().rstrip("=")


def _claims(account_id, sid, **extra):
    now = int(time.time())
    return {"sub": account_id, "sid": sid, "typ": "access", "aud": "zerotrip-citizen", "iat": now,
            "exp": now + 600, **extra}


def _session_token(session, cfg, account):
    from app.api import tokens

    pair = tokens.start_session(session, cfg, account)
    session.commit()
    return pair


def _status(client, token):
    return client.get("/api/v1/applications", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_valid_token_works_and_forged_ones_get_401(client, session, cfg):
    account = make_account(session)
    pair = _session_token(session, cfg, account)
    sid = jwt.decode(pair["access_token"], options={"verify_signature": False})["sid"]
    assert _status(client, pair["access_token"]) == 200

    none_alg = _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(_claims(account.id, sid)) + "."
    wrong_key = jwt.encode(_claims(account.id, sid), b"x" * 32, algorithm="HS256")
    expired = jwt.encode(_claims(account.id, sid, exp=int(time.time()) - 60), cfg.signing_key_bytes, algorithm="HS256")
    no_exp = _claims(account.id, sid)
    no_exp.pop("exp")
    missing_exp = jwt.encode(no_exp, cfg.signing_key_bytes, algorithm="HS256")
    wrong_aud = jwt.encode(_claims(account.id, sid, aud="zerotrip-staff"), cfg.signing_key_bytes, algorithm="HS256")
    hs512 = jwt.encode(_claims(account.id, sid), cfg.signing_key_bytes * 2, algorithm="HS512")
    for token in (none_alg, wrong_key, expired, missing_exp, wrong_aud, hs512, pair["refresh_token"], "garbage"):
        assert _status(client, token) == 401, token


def test_logout_ends_the_access_token_at_once(client, session, cfg):
    account = make_account(session)
    pair = _session_token(session, cfg, account)
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 200
    assert _status(client, pair["access_token"]) == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": pair["refresh_token"]}).status_code == 401


def test_refresh_rotates_and_reuse_revokes_the_family(client, session, cfg):
    account = make_account(session)
    first = _session_token(session, cfg, account)
    second = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert second.status_code == 200
    new = second.json
    assert _status(client, new["access_token"]) == 200
    reuse = client.post("/api/v1/auth/refresh", json={"refresh_token": first["refresh_token"]})
    assert reuse.status_code == 401
    assert _status(client, new["access_token"]) == 401
    assert client.post("/api/v1/auth/refresh", json={"refresh_token": new["refresh_token"]}).status_code == 401


def test_disabled_account_is_refused_at_once(client, session, cfg):
    from app.db import utcnow

    account = make_account(session)
    pair = _session_token(session, cfg, account)
    account.disabled_at = utcnow()
    session.commit()
    assert _status(client, pair["access_token"]) == 401
