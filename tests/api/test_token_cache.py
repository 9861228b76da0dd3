"""A token's signature is checked once per process; expiry, the key and the sign-in are still checked every time."""

import time

import jwt

from tests.builders import make_account


def _status(client, token):
    return client.get("/api/v1/applications", headers={"Authorization": f"Bearer {token}"}).status_code


def _signed_in(session, cfg):
    from app.api import tokens

    pair = tokens.start_session(session, cfg, make_account(session))
    session.commit()
    return pair


def test_a_token_accepted_before_is_refused_once_it_expires(client, session, cfg):
    from app.api.tokens import LEEWAY

    pair = _signed_in(session, cfg)
    claims = jwt.decode(pair["access_token"], options={"verify_signature": False})
    claims["exp"] = int(time.time()) + 1
    short = jwt.encode(claims, cfg.signing_key_bytes, algorithm="HS256")
    assert _status(client, short) == 200
    assert _status(client, short) == 200  # the second use is served from the checked-token cache
    while time.time() <= claims["exp"] + LEEWAY:
        time.sleep(0.2)
    assert _status(client, short) == 401


def test_a_token_checked_under_one_key_is_refused_under_another(client, session, cfg):
    from app import create_app
    from app.config import load_config

    pair = _signed_in(session, cfg)
    assert _status(client, pair["access_token"]) == 200
    other = create_app(load_config({"database_url": cfg.database_url, "testing": True,
                                    "signing_key": "another-signing-key-0123456789abcdef0123",
                                    "data_key": cfg.data_key, "instance_path": cfg.instance_path}))
    assert _status(other.test_client(), pair["access_token"]) == 401
    assert _status(client, pair["access_token"]) == 200


def test_logout_is_refused_at_once_even_for_a_checked_token(client, session, cfg):
    pair = _signed_in(session, cfg)
    headers = {"Authorization": f"Bearer {pair['access_token']}"}
    for _ in range(3):
        assert _status(client, pair["access_token"]) == 200
    assert client.post("/api/v1/auth/logout", headers=headers).status_code == 200
    assert _status(client, pair["access_token"]) == 401
