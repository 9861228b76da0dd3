"""Signing-key rotation: ZEROTRIP_SIGNING_KEYS holds kid:secret pairs; the first signs, the others still
verify, so a token signed with the previous key is accepted until it expires; an unknown kid gets 401."""

from __future__ import annotations

import jwt
import pytest

from tests.api.conftest import Citizen

OLD, NEW = "2026-06:old-signing-secret-0123456789abcdef", "2026-12:new-signing-secret-0123456789abcdef"


def _client(cfg, **overrides):
    from app import create_app
    from app.config import load_config

    return create_app(load_config({"database_url": cfg.database_url, "testing": True,
                                   "wechat_api_base": cfg.wechat_api_base, **overrides})).test_client()


def _status(client, token: str) -> int:
    return client.get("/api/v1/applications", headers={"Authorization": f"Bearer {token}"}).status_code


def test_a_token_signed_with_the_previous_key_is_accepted_until_it_expires(cfg, wechat):
    before = _client(cfg, signing_keys=OLD)
    token = Citizen(before, wechat).tokens["access_token"]
    assert jwt.get_unverified_header(token)["kid"] == "2026-06"
    expired = Citizen(_client(cfg, signing_keys=OLD, access_token_ttl=-30), wechat).tokens["access_token"]

    rotated = _client(cfg, signing_keys=f"{NEW},{OLD}")
    assert _status(rotated, token) == 200, "the previous key still verifies"
    assert _status(rotated, expired) == 401, "…but only until the token expires"
    fresh = Citizen(rotated, wechat).tokens["access_token"]
    assert jwt.get_unverified_header(fresh)["kid"] == "2026-12", "the first key signs"
    assert _status(rotated, fresh) == 200

    retired = _client(cfg, signing_keys=NEW)
    assert _status(retired, token) == 401, "once the old key is removed its kid is unknown"
    assert _status(retired, fresh) == 200
    assert _status(before, fresh) == 401, "a kid this deployment does not know"


def test_the_single_signing_key_keeps_working(cfg, wechat):
    single = _client(cfg, signing_key="one-signing-secret-0123456789abcdef", signing_keys="")
    token = Citizen(single, wechat).tokens["access_token"]
    assert _status(single, token) == 200
    moved = _client(cfg, signing_keys="next:another-signing-secret-0123456789abcdef,default:one-signing-secret-0123456789abcdef")
    assert _status(moved, token) == 200, "ZEROTRIP_SIGNING_KEY's kid is `default`, so it can join a key ring"


@pytest.mark.parametrize("value", ["no-colon", "a:x,a:y", ":secret", "kid:", ",", " , ", "a:x", "a:" + "s" * 31])
def test_malformed_key_rings_are_refused_at_start(value):
    from app.config import ConfigError, load_config

    with pytest.raises(ConfigError):
        load_config({"signing_keys": value})


@pytest.mark.parametrize("secret", ["x", "s" * 31])
def test_a_short_signing_secret_is_refused_in_every_mode(secret):
    """One token signed with `x` gave the secret away by brute force in milliseconds (then any claims)."""
    from app.config import ConfigError, load_config

    for env in ("development", "production"):
        with pytest.raises(ConfigError, match="at least 32"):
            load_config({"env": env, "signing_key": secret})
