"""The code's parser refuses hostile input in words, without spending memory: a zlib bomb, a huge or foreign CBOR."""

from __future__ import annotations

import zlib
from datetime import UTC, datetime

import base45
import cbor2
import pytest

from app import proofcode


def _wrap(raw: bytes) -> str:
    return "ZT1:" + base45.b45encode(zlib.compress(raw, 9)).decode()


@pytest.mark.parametrize("raw", [
    b"\x00" * 1_000_000,  # inflates to 1 MB: stopped at 4 KiB
    cbor2.dumps(cbor2.CBORTag(18, [b"", {}, b"", b""])),  # no alg
    cbor2.dumps(cbor2.CBORTag(98, [b"", {}, b"", b""])),  # COSE_Sign, not COSE_Sign1
    cbor2.dumps({"not": "cose"}),
    cbor2.dumps(cbor2.CBORTag(18, [cbor2.dumps({1: -7, 4: b"12345678"}), {}, b"\xff", b"0" * 64])),
    b"\xff\xff",
])
def test_hostile_codes_are_refused_with_a_reason(raw):
    code = _wrap(raw)
    assert len(code) < proofcode.MAX_CODE
    with pytest.raises(proofcode.ProofError) as refused:
        proofcode.verify(code, [], datetime.now(UTC))
    assert refused.value.reason in ("malformed", "unsupported_alg", "unknown_key")
    assert len(str(refused.value).split()) >= 4


def test_an_unknown_algorithm_is_named_so_an_sm2_profile_can_sit_beside_es256():
    raw = cbor2.dumps(cbor2.CBORTag(18, [cbor2.dumps({1: -48, 4: b"12345678"}), {}, cbor2.dumps({}), b"0" * 64]))
    with pytest.raises(proofcode.ProofError) as refused:
        proofcode.verify(_wrap(raw), [], datetime.now(UTC))
    assert refused.value.reason == "unsupported_alg"


@pytest.mark.parametrize("claims", [[1, 2, 3], "text", {-65537: "not a map"}], ids=["list", "text", "benefit_text"])
def test_a_well_signed_code_whose_claims_are_no_map_is_malformed(claims):
    """Only a holder of the signing key can make one, but the verification route must still answer (a list of
    claims raised IndexError: a 500 where the docs promise a verdict)."""
    from cryptography.hazmat.primitives.asymmetric import ec
    from pycose.headers import KID, Algorithm
    from pycose.messages import Sign1Message

    from app.proofkeys import ProofKey

    private = ec.generate_private_key(ec.SECP256R1())
    key = ProofKey(kid=b"k1", public=private.public_key(), private=private)
    message = Sign1Message(phdr={Algorithm: proofcode.Es256, KID: key.kid}, payload=cbor2.dumps(claims))
    message.key = proofcode._cose_key(key)
    code = proofcode.PREFIX + base45.b45encode(zlib.compress(message.encode(), 9)).decode()
    with pytest.raises(proofcode.ProofError) as refused:
        proofcode.verify(code, [key], datetime.now(UTC))
    assert refused.value.reason == "malformed"
