"""ZEROTRIP_DATA_KEYS: a ring of `kid:key`, the first current; ciphertexts carry alg and kid; a ring decrypts
what any of its keys wrote (and the pre-kid v1 format); a missing key or an unknown algorithm is refused."""

from __future__ import annotations

import hashlib
import hmac
import os

import pytest

from app.config import ConfigError, load_config
from app.crypto import FieldCipher, cipher_for, header

OLD = "b2xkLWtleS1vbGQta2V5LW9sZC1rZXktb2xkLWtleS0x"
NEW = "bmV3LWtleS1uZXcta2V5LW5ldy1rZXktbmV3LWtleS0x"
BASE = {"ZEROTRIP_SIGNING_KEY": "s" * 40, "ZEROTRIP_INSTANCE_PATH": "/nonexistent-zerotrip"}


def _cfg(**env):
    return load_config(environ={**BASE, **env})


def test_a_lone_data_key_is_kid_default_and_a_ring_puts_its_first_key_in_front():
    alone = cipher_for(_cfg(ZEROTRIP_DATA_KEY=OLD))
    assert alone.kids == ["default"] and header(alone.encrypt("x"))[1] == "default"
    ring = cipher_for(_cfg(ZEROTRIP_DATA_KEY=OLD, ZEROTRIP_DATA_KEYS=f"2026-12:{NEW},default:{OLD}"))
    assert ring.kids == ["2026-12", "default"] and ring.current_kid == "2026-12"
    blob = alone.encrypt("110105194912310029", b"ctx")
    assert ring.decrypt(blob, b"ctx") == "110105194912310029" and not ring.is_current(blob)
    assert header(ring.encrypt("x")) == (1, "2026-12")
    assert ring.lookup_hashes("v", "id") == [ring.lookup_hash("v", "id"), alone.lookup_hash("v", "id")]


def test_a_key_missing_from_the_ring_and_an_unknown_algorithm_are_refused():
    old = cipher_for(_cfg(ZEROTRIP_DATA_KEY=OLD))
    new_only = cipher_for(_cfg(ZEROTRIP_DATA_KEYS=f"2026-12:{NEW}"))
    with pytest.raises(ValueError, match="not in the ring"):
        new_only.decrypt(old.encrypt("x"))
    blob = bytearray(new_only.encrypt("x"))
    blob[1] = 2  # a profile this build does not implement (e.g. SM4-GCM)
    with pytest.raises(ValueError, match="algorithm 2"):
        new_only.decrypt(bytes(blob))
    with pytest.raises(ValueError):
        FieldCipher(ring=(("a", b"k" * 32),)).decrypt(b"\x09garbage")


@pytest.mark.parametrize("value", ["nokid", ":key", "a:x,a:y", "bad kid!:x", ",", " , "])
def test_malformed_data_key_lists_are_refused(value):
    with pytest.raises(ConfigError, match="ZEROTRIP_DATA_KEYS"):
        _cfg(ZEROTRIP_DATA_KEYS=value)


@pytest.mark.parametrize("value", ["110101194501011234", "13800138000", "", "二" * 300, "x" * 64, "a:b\x1fc"])
def test_a_keyed_hash_is_hmac_sha256_under_the_derived_mac_key(value):
    """Stored look-up hashes must stay what they were: HMAC-SHA256 of "kind:value" under sha256("mac:" + key),
    however it is computed (the key's two HMAC states are prepared once)."""
    for data_key in (os.urandom(32), b"k" * 32, os.urandom(64)):
        cipher = FieldCipher(ring=(("current", data_key), ("old", os.urandom(32))))
        mac_key = hashlib.sha256(b"mac:" + data_key).digest()
        for kind in ("id", "phone", "row"):
            expected = hmac.digest(mac_key, f"{kind}:{value}".encode(), "sha256").hex()
            assert cipher.lookup_hash(value, kind) == expected
            assert cipher.lookup_hashes(value, kind)[0] == expected


@pytest.mark.parametrize("value", ["a", "abcde", "!!!!", "####", "%%%%%%%%", "my secret key!", "密钥" * 20,
                                   "c2hvcnQ", "YWJj" * 3])
def test_a_data_key_that_is_not_base64_of_16_bytes_or_more_is_refused(value):
    """Read loosely, '!!!!' and '####' were both the SHA-256 of nothing, a key anyone can compute."""
    with pytest.raises(ConfigError, match="ZEROTRIP_DATA_KEY: a data key is base64"):
        _cfg(ZEROTRIP_DATA_KEY=value)
    with pytest.raises(ConfigError, match="ZEROTRIP_DATA_KEYS"):  # (kid k2) …, or not kid:key at all
        _cfg(ZEROTRIP_DATA_KEYS=f"k2:{value},default:{OLD}")
    assert cipher_for(_cfg(ZEROTRIP_DATA_KEY=OLD + "=")).kids == ["default"]  # padding is optional


def test_nonces_are_never_handed_out_twice_by_threads_or_across_a_fork():
    """Encryptions draw their GCM nonces from a pool (app/crypto.py `_Nonces`): threads sharing a cipher never
    get one twice, and a child forked while the pool is full does not reuse the parent's."""
    import threading

    cipher = FieldCipher(b"k" * 32)
    start = 3 + len("default")  # v2 header: version, alg, kid length, kid

    def nonce(blob: bytes) -> bytes:
        return blob[start:start + 12]

    cipher.encrypt("x")  # the pool is now full (1,023 left)
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.close(read)
        os.write(write, b"".join(nonce(cipher.encrypt("x")) for _ in range(50)))
        os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as pipe:
        from_child = pipe.read()
    os.waitpid(child, 0)
    seen: list[bytes] = [from_child[i:i + 12] for i in range(0, len(from_child), 12)]
    assert len(seen) == 50

    def encrypt_many():
        mine = [nonce(cipher.encrypt("x")) for _ in range(3000)]
        with lock:
            seen.extend(mine)

    lock = threading.Lock()
    threads = [threading.Thread(target=encrypt_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(seen) == 50 + 4 * 3000 and len(set(seen)) == len(seen)
