"""Keys of proof-of-benefit codes (docs/proof.md): loaded from PEM, with their key ids and validity.

Only `cryptography`: the configuration parses keys at start-up without loading the COSE stack (app/proofcode.py).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

VALID_DAYS = 31


@dataclass(frozen=True)
class ProofKey:
    """One key of the trust list. `private` only on the issuer's side, for the key that signs."""

    kid: bytes
    public: ec.EllipticCurvePublicKey
    status: str = "current"  # current | retired
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    private: ec.EllipticCurvePrivateKey | None = field(default=None, repr=False)


def kid_of(public: ec.EllipticCurvePublicKey) -> bytes:
    """The first 8 bytes of SHA-256 over the SubjectPublicKeyInfo (as EU DCC does)."""
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).digest()[:8]


def load_keys(signing_pem: str, retired_pems: str = "", rotated_at: datetime | None = None) -> list[ProofKey]:
    """The signing key (PEM, P-256 private) first, then retired public keys trusted for VALID_DAYS after
    `rotated_at` (when the signing key took over): two keys are valid during a changeover."""
    private = serialization.load_pem_private_key(signing_pem.encode(), password=None)
    if not isinstance(private, ec.EllipticCurvePrivateKey) or private.curve.name != "secp256r1":
        raise ValueError("the proof key must be an EC P-256 private key")
    keys = [ProofKey(kid=kid_of(private.public_key()), public=private.public_key(), private=private,
                     valid_from=rotated_at)]
    for pem in split_pems(retired_pems):
        loaded = (serialization.load_pem_private_key(pem.encode(), password=None) if "PRIVATE" in pem
                  else serialization.load_pem_public_key(pem.encode()))
        public = loaded.public_key() if hasattr(loaded, "private_numbers") else loaded
        if not isinstance(public, ec.EllipticCurvePublicKey) or public.curve.name != "secp256r1":
            raise ValueError("a retired proof key must be an EC P-256 key")
        if kid_of(public) == keys[0].kid:
            continue
        until = (rotated_at + timedelta(days=VALID_DAYS)) if rotated_at else None
        keys.append(ProofKey(kid=kid_of(public), public=public, status="retired", valid_until=until))
    return keys


def split_pems(text: str) -> list[str]:
    text = (text or "").replace("\\n", "\n")
    blocks, current = [], []
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("-----BEGIN"):
            current = [line]
        elif line.startswith("-----END") and current:
            current.append(line)
            blocks.append("\n".join(current) + "\n")
            current = []
        elif current and line:
            current.append(line)
    return blocks


def generate_pem() -> str:
    private = ec.generate_private_key(ec.SECP256R1())
    return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption()).decode()
