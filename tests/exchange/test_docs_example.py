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
