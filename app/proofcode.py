"""The proof-of-benefit code (补贴电子证明码): CWT claims → COSE_Sign1 ES256 → zlib → Base45 → "ZT1:" prefix.

The EU DCC / MOSIP Claim 169 pattern, verifiable offline with the published trust list alone (docs/proof.md).
Pure functions over bytes and dicts: no Flask, no database. It is a verification code, not a GB/T 36901–36905
electronic licence (OFD + SM2); `alg` and `kid` sit in the protected header so another profile (SM2) can be
added beside ES256 without changing the envelope.
"""

from __future__ import annotations

import base64
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import base45
import cbor2
from cryptography.hazmat.primitives.asymmetric import ec
from pycose.algorithms import Es256
from pycose.headers import KID, Algorithm
from pycose.keys import EC2Key
from pycose.keys.curves import P256
from pycose.messages import Sign1Message

from app.proofkeys import VALID_DAYS, ProofKey, generate_pem, kid_of, load_keys, split_pems  # noqa: F401

PREFIX = "ZT1:"
ALG_ES256 = -7  # COSE algorithm id (RFC 9053)
# CWT claim keys (RFC 8392) and the private claim that holds the benefit.
ISS, EXP, IAT, CTI = 1, 4, 6, 7
CLAIM_BENEFIT = -65537
COSE_SIGN1_TAG = 18
MAX_CODE = 2000  # characters; a real code is about 300
MAX_INFLATED = 4096  # bytes after zlib: a decompression bomb stops here


class ProofError(ValueError):
    """The code does not verify. `reason` is stable (API `reason`, the page's words); `str()` says it in English."""

    def __init__(self, reason: str, message: str):
        super().__init__(message)
        self.reason = reason


def _b64url(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def public_jwk(public: ec.EllipticCurvePublicKey) -> dict:
    numbers = public.public_numbers()
    return {"kty": "EC", "crv": "P-256", "x": _b64url(numbers.x.to_bytes(32, "big")),
            "y": _b64url(numbers.y.to_bytes(32, "big"))}


def public_from_jwk(jwk: dict) -> ec.EllipticCurvePublicKey:
    if jwk.get("kty") != "EC" or jwk.get("crv") != "P-256":
        raise ValueError("only EC P-256 keys")
    x, y = (int.from_bytes(_unb64url(jwk[k]), "big") for k in ("x", "y"))
    return ec.EllipticCurvePublicNumbers(x, y, ec.SECP256R1()).public_key()


def _iso(when: datetime | None) -> str | None:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if when else None


def trust_list(keys: list[ProofKey], issuer: str, now: datetime) -> dict:
    """The published trust list: every key a verifier should accept now (a retired key until its end)."""
    entries = []
    for key in keys:
        if key.valid_until is not None and key.valid_until <= now:
            continue
        entries.append({"kid": base64.b64encode(key.kid).decode(), "alg": "ES256", "status": key.status,
                        "valid_from": _iso(key.valid_from), "valid_until": _iso(key.valid_until),
                        "jwk": public_jwk(key.public)})
    return {"format": "ZT1", "issuer": issuer, "generated_at": _iso(now), "keys": entries}


def keys_from_trust_list(doc: dict) -> list[ProofKey]:
    """The keys of a published trust list (what an offline verifier holds)."""
    out = []
    for entry in doc.get("keys", []):
        if entry.get("alg") != "ES256":
            continue  # a profile this verifier does not know (e.g. SM2 later)
        until = entry.get("valid_until")
        out.append(ProofKey(kid=base64.b64decode(entry["kid"]), public=public_from_jwk(entry["jwk"]),
                            status=entry.get("status", "current"),
                            valid_until=datetime.fromisoformat(until.replace("Z", "+00:00")) if until else None))
    return out


# ---- issuing ------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Claims:
    certificate_id: str  # hex; the CWT `cti`
    program: str
    program_name: str
    tier: str
    name_masked: str
    id_last4: str
    issued_at: datetime
    expires_at: datetime
    issuer: str = ""
    kid: str = ""  # base64, as in the trust list

    def as_dict(self) -> dict:
        return {"certificate_id": self.certificate_id, "program": self.program, "program_name": self.program_name,
                "tier": self.tier, "name_masked": self.name_masked, "id_last4": self.id_last4,
                "issued_at": self.issued_at, "expires_at": self.expires_at, "issuer": self.issuer, "kid": self.kid}


def _cose_key(key: ProofKey) -> EC2Key:
    numbers = key.public.public_numbers()
    d = key.private.private_numbers().private_value.to_bytes(32, "big") if key.private else b""
    return EC2Key(crv=P256, x=numbers.x.to_bytes(32, "big"), y=numbers.y.to_bytes(32, "big"), d=d)


def encode(claims: Claims, key: ProofKey) -> str:
    """Sign the claims with `key` (ES256) and return the text of the QR code."""
    if key.private is None:
        raise ValueError("this key cannot sign")
    payload = {ISS: claims.issuer, IAT: int(claims.issued_at.timestamp()), EXP: int(claims.expires_at.timestamp()),
               CTI: bytes.fromhex(claims.certificate_id),
               CLAIM_BENEFIT: {"v": 1, "b": claims.program, "bn": claims.program_name, "t": claims.tier,
                               "n": claims.name_masked, "i": claims.id_last4}}
    message = Sign1Message(phdr={Algorithm: Es256, KID: key.kid}, payload=cbor2.dumps(payload))
    message.key = _cose_key(key)
    return PREFIX + base45.b45encode(zlib.compress(message.encode(), 9)).decode()


def new_claims(*, certificate_id: str, program: str, program_name: str, tier: str, name_masked: str,
               id_last4: str, issuer: str, now: datetime) -> Claims:
    now = now.replace(microsecond=0)
    return Claims(certificate_id, program, program_name, tier, name_masked, id_last4, now,
                  now + timedelta(days=VALID_DAYS), issuer)


# ---- verifying ----------------------------------------------------------------------------------------------

def _unwrap(code: str) -> bytes:
    if not isinstance(code, str) or len(code) > MAX_CODE:
        raise ProofError("malformed", "This is not a proof code (too long or not text).")
    code = code.strip()
    if not code.startswith(PREFIX):
        raise ProofError("malformed", "This is not a proof code: it does not start with ZT1:.")
    try:
        packed = base45.b45decode(code[len(PREFIX):])
    except Exception:  # noqa: BLE001  (base45 raises ValueError or KeyError for bad characters)
        raise ProofError("malformed", "The code is damaged: it is not valid Base45.") from None
    try:
        inflater = zlib.decompressobj()
        raw = inflater.decompress(packed, MAX_INFLATED)
        if inflater.unconsumed_tail or not inflater.eof:
            raise zlib.error("truncated or too large")
    except zlib.error:
        raise ProofError("malformed", "The code is damaged: it does not decompress.") from None
    return raw


def verify(code: str, keys: list[ProofKey], now: datetime, issuer: str | None = None) -> Claims:
    """Check the signature with the trust-list keys, then the dates. Raises ProofError with the reason."""
    raw = _unwrap(code)
    try:
        outer = cbor2.loads(raw)
        # Tagged COSE_Sign1 (18) or untagged. cbor2 6 decodes inside a tag to a tuple and a
        # frozendict; pycose wants a list and a dict.
        body = outer.value if isinstance(outer, cbor2.CBORTag) and outer.tag == COSE_SIGN1_TAG else outer
        if not isinstance(body, list | tuple) or len(body) != 4 or not isinstance(body[0], bytes):
            raise ValueError("not COSE_Sign1")
        header = cbor2.loads(body[0]) if body[0] else {}
        if not isinstance(header, Mapping):
            raise ValueError("protected header is not a map")
    except Exception:  # noqa: BLE001  (cbor2 raises many kinds on junk)
        raise ProofError("malformed", "The code is damaged: it is not a signed COSE message.") from None
    # alg and kid are read before anything else: a profile this verifier lacks (e.g. SM2) is named as such.
    if header.get(1) != ALG_ES256:
        raise ProofError("unsupported_alg", "The code is signed with an algorithm this verifier does not accept.")
    kid = header.get(4)
    key = next((k for k in keys if k.kid == kid), None)
    if key is None or (key.valid_until is not None and key.valid_until <= now):
        raise ProofError("unknown_key", "The code is signed with a key that is not on the trust list.")
    try:
        unprotected = dict(body[1]) if isinstance(body[1], Mapping) else body[1]
        message = Sign1Message.from_cose_obj([body[0], unprotected, body[2], body[3]], True)
        payload = cbor2.loads(message.payload)
    except Exception:  # noqa: BLE001  (pycose and cbor2 raise many kinds on junk)
        raise ProofError("malformed", "The code is damaged: it is not a signed COSE message.") from None
    message.key = _cose_key(ProofKey(kid=key.kid, public=key.public))
    try:
        good = message.verify_signature()
    except Exception:  # noqa: BLE001
        good = False
    if not good:
        raise ProofError("bad_signature", "The signature does not match: the code was altered or forged.")
    try:
        if not isinstance(payload, dict):  # signed, but a list or a text: no claims (IndexError was a 500)
            raise TypeError("claims are not a map")
        body = payload[CLAIM_BENEFIT]
        claims = Claims(certificate_id=payload[CTI].hex(), program=str(body["b"]), program_name=str(body["bn"]),
                        tier=str(body["t"]), name_masked=str(body["n"]), id_last4=str(body["i"]),
                        issued_at=datetime.fromtimestamp(payload[IAT], UTC),
                        expires_at=datetime.fromtimestamp(payload[EXP], UTC), issuer=str(payload.get(ISS, "")),
                        kid=base64.b64encode(key.kid).decode())
    except (KeyError, IndexError, TypeError, ValueError, AttributeError, OverflowError):
        raise ProofError("malformed", "The code is signed but its content is not a proof of benefit.") from None
    if issuer is not None and claims.issuer != issuer:
        raise ProofError("unknown_key", "The code was issued by someone else.")
    if claims.expires_at <= now:
        raise ProofError("expired", "The code has expired: ask for a new one.")
    if claims.issued_at > now + timedelta(minutes=5):
        raise ProofError("not_yet_valid", "The code is dated in the future.")
    return claims
