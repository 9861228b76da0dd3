"""The proof-signing key: configured like the other keys (PEM via the environment, generated under instance/ in
development with a warning, refused missing in production) and rolled over with two keys valid meanwhile."""

from __future__ import annotations

import logging
import stat
from datetime import timedelta

import pytest

from app import create_app
from app.config import ConfigError, load_config
from app.db import utcnow
from app.proofcode import generate_pem
from tests.proofs.test_proof_api import _issue, world  # noqa: F401  (fixture)

PROD = {"env": "production", "signing_key": "k" * 40, "data_key": "dGVzdC1kYXRhLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE"}


def test_production_refuses_to_start_without_a_proof_key_or_with_a_wrong_one(tmp_path):
    with pytest.raises(ConfigError, match="ZEROTRIP_PROOF_KEY"):
        load_config({**PROD, "instance_path": str(tmp_path)}, environ={})
    assert not (tmp_path / "dev-proof_key.pem").exists()
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, rsa

    rsa_pem = rsa.generate_private_key(65537, 2048).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    p384 = ec.generate_private_key(ec.SECP384R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    for bad in ("not a key", rsa_pem, p384):
        with pytest.raises(ConfigError, match="ZEROTRIP_PROOF_KEY"):
            load_config({**PROD, "instance_path": str(tmp_path)}, environ={"ZEROTRIP_PROOF_KEY": bad})
    # a PEM written on one line with \n escapes (as env files do) is accepted
    one_line = generate_pem().replace("\n", "\\n")
    cfg = load_config({**PROD, "instance_path": str(tmp_path)}, environ={"ZEROTRIP_PROOF_KEY": one_line})
    assert len(cfg.proof_keyring) == 1 and cfg.proof_keyring[0].private is not None
    with pytest.raises(ConfigError, match="ROTATED_AT"):
        load_config({**PROD, "instance_path": str(tmp_path)},
                    environ={"ZEROTRIP_PROOF_KEY": one_line, "ZEROTRIP_PROOF_RETIRED_KEYS": generate_pem()})


def test_development_generates_a_key_under_instance_with_a_warning(tmp_path, caplog):
    with caplog.at_level(logging.WARNING, logger="app.config"):
        first = load_config({"instance_path": str(tmp_path)}, environ={})
    path = tmp_path / "dev-proof_key.pem"
    assert path.exists() and stat.S_IMODE(path.stat().st_mode) == 0o600
    assert any("DEVELOPMENT PROOF KEY" in r.getMessage() for r in caplog.records)
    again = load_config({"instance_path": str(tmp_path)}, environ={})
    assert again.proof_keyring[0].kid == first.proof_keyring[0].kid, "kept across restarts"


def test_key_rollover_keeps_codes_of_the_old_key_valid_until_they_expire(client, world, cfg):  # noqa: F811
    old_code = _issue(client, world)
    old_kid = client.get("/api/v1/proofs/trust-list").json["keys"][0]["kid"]
    rotated = utcnow() - timedelta(days=1)
    new_cfg = load_config({"database_url": cfg.database_url, "testing": True, "instance_path": cfg.instance_path,
                           "audit_anchor_path": cfg.audit_anchor_path, "proof_key": generate_pem(),
                           "proof_retired_keys": cfg.proof_key, "proof_rotated_at": rotated.isoformat()})
    new = create_app(new_cfg).test_client()
    trust = new.get("/api/v1/proofs/trust-list").json
    assert [(k["status"], k["kid"] == old_kid) for k in trust["keys"]] == [("current", False), ("retired", True)]
    assert trust["keys"][1]["valid_until"].startswith((rotated + timedelta(days=31)).date().isoformat())
    assert new.post("/api/v1/proofs/verify", json={"code": old_code["code"]}).json["valid"] is True
    fresh = new.post(f"/api/v1/benefits/{world['benefit']}/proof", headers=world["oh"]).json
    assert fresh["kid"] == trust["keys"][0]["kid"] != old_kid
    assert new.post("/api/v1/proofs/verify", json={"code": fresh["code"]}).json["valid"] is True
    # 31 days after the changeover the old key leaves the trust list: by then every code it signed has expired
    import app.api.proofs as api

    later = rotated + timedelta(days=31, seconds=1)
    api_utcnow = api.utcnow
    try:
        api.utcnow = lambda: later
        trust = new.get("/api/v1/proofs/trust-list").json
        assert [k["status"] for k in trust["keys"]] == ["current"]
        answer = new.post("/api/v1/proofs/verify", json={"code": old_code["code"]}).json
        assert answer["reason"] in ("expired", "unknown_key") and answer["valid"] is False
    finally:
        api.utcnow = api_utcnow
