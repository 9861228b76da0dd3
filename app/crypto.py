"""Field encryption (AES-256-GCM) and keyed hashes (HMAC-SHA256) for look-ups of ID numbers and phones."""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_VERSION = b"\x01"


class FieldCipher:
    """Encrypts one field value at a time; the same plaintext never gives the same ciphertext."""

    def __init__(self, data_key: bytes):
        self._aead = AESGCM(hashlib.sha256(b"enc:" + data_key).digest())
        self._mac_key = hashlib.sha256(b"mac:" + data_key).digest()

    def encrypt(self, plaintext: str, context: bytes = b"") -> bytes:
        nonce = os.urandom(12)
        return _VERSION + nonce + self._aead.encrypt(nonce, plaintext.encode(), context)

    def decrypt(self, blob: bytes, context: bytes = b"") -> str:
        if not blob or blob[:1] != _VERSION:
            raise ValueError("unknown ciphertext version")
        return self._aead.decrypt(blob[1:13], blob[13:], context).decode()

    def lookup_hash(self, value: str, kind: str = "id") -> str:
        return hmac.digest(self._mac_key, f"{kind}:{value}".encode(), "sha256").hex()


_cache: dict[bytes, FieldCipher] = {}


def cipher_for(cfg) -> FieldCipher:
    key = cfg.data_key_bytes
    if key not in _cache:
        _cache[key] = FieldCipher(key)
    return _cache[key]
