"""docs/exchange.md's worked example reproduces: the stated key, body, hash and signature agree with the code."""

from __future__ import annotations

import re
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from flows.exchange import signing

DOC = Path(__file__).resolve().parents[2] / "docs" / "exchange.md"


def test_worked_example_signature():
    text = DOC.read_text(encoding="utf-8")
    body = re.search(r"^    (\{\"header\".*\})$", text, re.M).group(1).encode()
    key = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))
    assert signing.public_key_text(key) in text
    assert signing.body_hash(body) in text
    sig = signing.sign(key, "POST", "/exchange/v1/registry/sync/search", "1796371200", "msg-0001", body)
    assert f"signature: `{sig}`" in text
    assert signing.verify(signing.public_key_text(key), sig, signing.string_to_sign(
        "POST", "/exchange/v1/registry/sync/search", "1796371200", "msg-0001", body))


def test_callback_worked_example_signature():
    """The bureau's callback signature of the Subscriptions section reproduces with the channel's own code."""
    import base64
    from types import SimpleNamespace

    from notifications.channels import callback

    text = DOC.read_text(encoding="utf-8")
    body = re.search(r'^    (\{"header":\{"message_id":"zt-.*\})$', text, re.M).group(1).encode()
    cfg = SimpleNamespace(exchange_signing_key=base64.b64encode(bytes(range(32, 64))).decode(),
                          exchange_signing_kid="civil-affairs-1", instance_path="/nonexistent", env="test")
    assert callback.public_key(cfg)["public_key"] in text
    assert signing.body_hash(body) in text
    headers = callback.signed_headers(cfg, "/dci/registry/notify", 1796371200,
                                      "zt-4f1c0b6a2e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b", body)
    assert f"callback signature: `{headers['X-ZT-Signature']}`" in text
    assert signing.verify(callback.public_key(cfg)["public_key"], headers["X-ZT-Signature"], signing.string_to_sign(
        "POST", "/dci/registry/notify", "1796371200", "zt-4f1c0b6a2e9d8c7b6a5f4e3d2c1b0a9f8e7d6c5b", body))
