"""Proof of a benefit (补贴电子证明): issue a signed code, answer its status online by certificate id.

The code itself (app/proofcode.py) verifies offline with the trust list; the status here adds what a code
cannot know: whether the benefit has stopped since (then the proof is revoked).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from app import proofcode
from app.crypto import cipher_for
from app.masking import mask_name
from app.models import Benefit, BenefitProof, Resident
from app.models.ids import new_id
from flows import programs


@dataclass(frozen=True)
class Issued:
    proof: BenefitProof
    code: str
    claims: proofcode.Claims


def _aware(naive: datetime) -> datetime:
    return naive.replace(tzinfo=UTC)


def issue(session: Session, cfg, benefit: Benefit, *, issued_by: str, via: str, now: datetime) -> Issued:
    """A new code for an active benefit (the caller has been authorized). The row goes in the caller's
    transaction; raises ValueError when the benefit is not in payment."""
    if benefit.state != "active":
        raise ValueError("only a benefit in payment can be proven")
    resident = session.get(Resident, benefit.resident_id)
    key = cfg.proof_keyring[0]
    program = programs.get(benefit.program)
    id_number = cipher_for(cfg).decrypt(resident.id_enc)
    claims = proofcode.new_claims(
        certificate_id=new_id(), program=benefit.program, program_name=program.name if program else benefit.program,
        tier=benefit.tier or "", name_masked=mask_name(resident.name), id_last4=id_number[-4:],
        issuer=cfg.proof_issuer, now=_aware(now))
    claims = replace(claims, kid=base64.b64encode(key.kid).decode())
    code = proofcode.encode(claims, key)
    proof = BenefitProof(id=claims.certificate_id, benefit_id=benefit.id, resident_id=resident.id,
                         program=benefit.program, kid=claims.kid, alg="ES256",
                         issued_at=claims.issued_at.replace(tzinfo=None),
                         expires_at=claims.expires_at.replace(tzinfo=None), issued_by=issued_by, via=via)
    session.add(proof)
    return Issued(proof, code, claims)


STATUS_WORDS = {
    "valid": "The benefit is in payment and the proof is valid.",
    "revoked": "The benefit has stopped or is suspended: this proof is revoked.",
    "expired": "The proof has expired (31 days); ask for a new one.",
}


def status_of(session: Session, certificate_id: str, now: datetime) -> dict | None:
    """{certificate_id, status, reason, message, expires_at} or None when no such certificate was issued."""
    proof = session.get(BenefitProof, certificate_id)
    if proof is None:
        return None
    benefit = session.get(Benefit, proof.benefit_id)
    if benefit is None or benefit.state != "active":
        status, reason = "revoked", f"benefit_{benefit.state if benefit else 'removed'}"
    elif proof.expires_at <= now:
        status, reason = "expired", "expired"
    else:
        status, reason = "valid", "in_payment"
    return {"certificate_id": proof.id, "status": status, "reason": reason, "message": STATUS_WORDS[status],
            "expires_at": proof.expires_at, "checked_at": now}


def trust_list(cfg, now: datetime) -> dict:
    return proofcode.trust_list(cfg.proof_keyring, cfg.proof_issuer, _aware(now))


def verify(session: Session, cfg, code: str, now: datetime) -> dict:
    """The verification API's answer: the signature and dates offline-style, then the online status."""
    try:
        claims = proofcode.verify(code, cfg.proof_keyring, _aware(now), issuer=cfg.proof_issuer)
    except proofcode.ProofError as exc:
        status = "expired" if exc.reason == "expired" else "invalid"  # a good code past its date is not forged
        return {"valid": False, "status": status, "reason": exc.reason, "message": str(exc), "claims": None}
    online = status_of(session, claims.certificate_id, now)
    if online is None:  # signed by our key but not on record: treat as not issued
        return {"valid": False, "status": "invalid", "reason": "not_issued",
                "message": "The signature is good but this certificate was never issued.", "claims": claims.as_dict()}
    return {"valid": online["status"] == "valid", "status": online["status"], "reason": online["reason"],
            "message": online["message"], "claims": claims.as_dict()}
