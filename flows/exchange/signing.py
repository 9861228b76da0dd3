"""The one signing scheme of the exchange: Ed25519 over a fixed string (docs/exchange.md, "Signing").

    ZT-EXCHANGE-V1\\n<METHOD>\\n<path?query>\\n<timestamp>\\n<message id>\\n<hex SHA-256 of the body>

sent as headers X-ZT-Client, X-ZT-Key, X-ZT-Timestamp (Unix seconds), X-ZT-Message-Id and X-ZT-Signature
(standard base64 of the 64-byte signature). Public keys are the 32 raw bytes, base64.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

PREFIX = "ZT-EXCHANGE-V1"
WINDOW_SECONDS = 60
HEADERS = ("X-ZT-Client", "X-ZT-Key", "X-ZT-Timestamp", "X-ZT-Message-Id", "X-ZT-Signature")


def body_hash(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def string_to_sign(method: str, path: str, timestamp: str, message_id: str, body: bytes) -> bytes:
    return "\n".join((PREFIX, method.upper(), path, timestamp, message_id, body_hash(body))).encode()


def sign(private_key: Ed25519PrivateKey, method: str, path: str, timestamp: str, message_id: str,
         body: bytes) -> str:
    return base64.b64encode(private_key.sign(string_to_sign(method, path, timestamp, message_id, body))).decode()


def signed_headers(client_id: str, key_id: str, private_key: Ed25519PrivateKey, method: str, path: str,
                   timestamp: int, message_id: str, body: bytes) -> dict[str, str]:
    ts = str(int(timestamp))
    return {"X-ZT-Client": client_id, "X-ZT-Key": key_id, "X-ZT-Timestamp": ts, "X-ZT-Message-Id": message_id,
            "X-ZT-Signature": sign(private_key, method, path, ts, message_id, body),
            "Content-Type": "application/json"}


def public_key_text(private_key: Ed25519PrivateKey) -> str:
    raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def parse_public_key(text: str) -> Ed25519PublicKey:
    """A base64 raw key (32 bytes) or a PEM SubjectPublicKeyInfo; ValueError when it is neither."""
    text = text.strip()
    if text.startswith("-----BEGIN"):
        from cryptography.hazmat.primitives.serialization import load_pem_public_key

        key = load_pem_public_key(text.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ValueError("the public key is not base64") from None
    if len(raw) != 32:
        raise ValueError("an Ed25519 public key has 32 bytes")
    return Ed25519PublicKey.from_public_bytes(raw)


def normalize_public_key(text: str) -> str:
    key = parse_public_key(text)
    return base64.b64encode(key.public_bytes(Encoding.Raw, PublicFormat.Raw)).decode()


@functools.lru_cache(maxsize=256)
def _public_key(text: str) -> Ed25519PublicKey:
    """Parsed keys kept per process (a key is immutable text; revocation is checked on its row every request)."""
    return parse_public_key(text)


def verify(public_key_b64: str, signature_b64: str, message: bytes) -> bool:
    try:
        signature = base64.b64decode(signature_b64, validate=True)
        _public_key(public_key_b64).verify(signature, message)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def webhook_signature(secret: bytes, body: bytes) -> str:
    """The OpenCRVS-style death webhook: hex HMAC-SHA256 of the raw body with the publisher's secret."""
    return hmac.new(secret, body, hashlib.sha256).hexdigest()
