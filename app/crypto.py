"""Field encryption (AES-256-GCM) and keyed hashes (HMAC-SHA256) for look-ups of ID numbers and phones.

Keys come as a ring (ZEROTRIP_DATA_KEYS, `kid:key`, the first current; a lone ZEROTRIP_DATA_KEY is kid
"default"): new ciphertexts and hashes use the current key; every key of the ring decrypts, and look-ups match
the hash under any of them (`lookup_hashes`) while `zerotrip keys rotate-data` re-keys the rows.

Ciphertext formats (the first byte says which):
- v1 `01 | nonce(12) | AES-GCM(ciphertext+tag)`: written before key ids existed; it carries no kid, so every
  key of the ring is tried (GCM's tag tells the right one).
- v2 `02 | alg(1) | len(kid)(1) | kid | nonce(12) | ciphertext+tag`, the header bound as associated data.
  alg 1 = AES-256-GCM; other values are reserved for other profiles (e.g. 国密 SM4-GCM) and refused here.
"""

from __future__ import annotations

import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_BLOCK = 64  # SHA-256's block size: an HMAC key is padded to it
_V1 = b"\x01"
_V2 = b"\x02"
ALG_AES256GCM = 1
ALGORITHMS = {ALG_AES256GCM: "AES-256-GCM"}
_NONCE = 12
_NONCES_A_DRAW = 1024


class _Nonces:
    """Random 96-bit GCM nonces, drawn from the OS 1,024 at a time (one `os.urandom` call a nonce costs as much
    as the encryption itself; an import makes two a row). Each is as random as its own `os.urandom(12)`; each is
    handed out once: `list.pop` is atomic under the GIL (threads of a gunicorn worker share the pool), and a
    forked child starts with an empty pool (`os.register_at_fork`), so parent and child never share one."""

    def __init__(self):
        self._pool: list[bytes] = []
        os.register_at_fork(after_in_child=self._pool.clear)

    def take(self) -> bytes:
        try:
            return self._pool.pop()
        except IndexError:
            drawn = os.urandom(_NONCE * _NONCES_A_DRAW)
            self._pool.extend(drawn[i:i + _NONCE] for i in range(_NONCE, len(drawn), _NONCE))
            return drawn[:_NONCE]


_nonces = _Nonces()


class _Key:
    """One data key: its AEAD and its MAC key (both derived, so the two uses never share key material)."""

    def __init__(self, kid: str, data_key: bytes):
        self.kid = kid
        self.aead = AESGCM(hashlib.sha256(b"enc:" + data_key).digest())
        mac_key = hashlib.sha256(b"mac:" + data_key).digest()
        encoded = kid.encode("ascii")
        self.head = _V2 + bytes([ALG_AES256GCM, len(encoded)]) + encoded  # a v2 ciphertext's header
        # HMAC-SHA256 (RFC 2104) with its two keyed states hashed once: a hash then copies them instead of hashing
        # the padded key twice more (0.6 µs instead of hmac.digest's 1.35; an import computes three a row).
        padded = mac_key.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))

    def hash(self, value: str, kind: str) -> str:
        """HMAC-SHA256 of `kind:value` under the MAC key, in hex: the same as
        `hmac.digest(mac_key, f"{kind}:{value}".encode(), "sha256").hex()`."""
        inner = self._inner.copy()
        inner.update(f"{kind}:{value}".encode())
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()


def header(blob: bytes) -> tuple[int, str | None]:
    """(alg, kid) of a ciphertext; kid None for a v1 ciphertext. ValueError when it is not one of ours."""
    if blob[:1] == _V1 and len(blob) > 13:
        return ALG_AES256GCM, None
    if blob[:1] == _V2 and len(blob) > 3 and len(blob) > 3 + blob[2] + 12:
        return blob[1], blob[3:3 + blob[2]].decode("ascii")
    raise ValueError("unknown ciphertext version")


class FieldCipher:
    """Encrypts one field value at a time with the current key; the same plaintext never gives the same
    ciphertext. `FieldCipher(key)` is a ring of one key with the kid "default"."""

    def __init__(self, data_key: bytes | None = None, ring: tuple[tuple[str, bytes], ...] | None = None):
        ring = ring if ring is not None else (("default", data_key),)
        self._keys = [_Key(kid, key) for kid, key in ring]
        self._by_kid = {k.kid: k for k in self._keys}
        self.current_kid = self._keys[0].kid

    @property
    def kids(self) -> list[str]:
        return [k.kid for k in self._keys]

    def encrypt(self, plaintext: str, context: bytes = b"") -> bytes:
        key = self._keys[0]
        head, nonce = key.head, _nonces.take()
        return head + nonce + key.aead.encrypt(nonce, plaintext.encode(), head + context if context else head)

    def decrypt(self, blob: bytes, context: bytes = b"") -> str:
        blob = bytes(blob) if blob is not None else b""
        alg, kid = header(blob)
        if alg != ALG_AES256GCM:
            raise ValueError(f"ciphertext algorithm {alg} is not supported here")
        if kid is None:
            for key in self._keys:
                try:
                    return key.aead.decrypt(blob[1:13], blob[13:], context).decode()
                except InvalidTag:
                    continue
            raise ValueError("no data key of the ring decrypts this ciphertext")
        key = self._by_kid.get(kid)
        if key is None:
            raise ValueError(f"data key {kid!r} is not in the ring (ZEROTRIP_DATA_KEYS)")
        start = 3 + len(kid)
        try:
            return key.aead.decrypt(blob[start:start + 12], blob[start + 12:], blob[:start] + context).decode()
        except InvalidTag:
            raise ValueError(f"data key {kid!r} does not decrypt this ciphertext") from None

    def is_current(self, blob: bytes) -> bool:
        """Whether a ciphertext is already under the current key (a v1 ciphertext never is)."""
        try:
            return header(bytes(blob))[1] == self.current_kid
        except ValueError:
            return False

    def lookup_hash(self, value: str, kind: str = "id") -> str:
        """The keyed hash under the current key: what new rows store."""
        return self._keys[0].hash(value, kind)

    def lookup_hashes(self, value: str, kind: str = "id") -> list[str]:
        """The keyed hash under every key of the ring, current first: what look-ups match during a rotation."""
        return [key.hash(value, kind) for key in self._keys]

    def hash_index(self, values, kind: str = "id") -> dict[str, str]:
        """For a batch look-up: every key's hash of each value → the current key's hash of that value. Query
        `IN` its keys, file each row found under `index[row_hash]`: a row not yet re-keyed is found as one that
        is (one key: the identity of the current hashes)."""
        index: dict[str, str] = {}
        for value in values:
            hashes = self.lookup_hashes(value, kind)
            for h in hashes:
                index[h] = hashes[0]
        return index


_cache: dict[tuple, FieldCipher] = {}


def cipher_for(cfg) -> FieldCipher:
    ring = cfg.data_keyring
    if ring not in _cache:
        _cache[ring] = FieldCipher(ring=ring)
    return _cache[ring]
