"""Proof of a benefit (补贴电子证明, docs/proof.md): a signed QR code for the resident (or her proxy with `view`)
and for a clerk to print; the public trust list, status by certificate id, and the verification API."""

from __future__ import annotations

import base64
import io
import re

import marshmallow as ma
import qrcode
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from app import security_log
from app.api.base import ErrorSchema
from app.api.schemas import NO_NUL, StrictSchema, UtcDateTime
from app.api.security import (
    audit_event,
    auth_required,
    authorize,
    client_ip,
    client_limit_key,
    config,
    current_caller,
)
from app.api.staff_security import staff_required
from app.db import SessionLocal, session_factory, utcnow
from app.errors import Conflict, NotFound, TooManyAttempts
from app.models import Benefit
from flows import limits, proofs

blp = Blueprint("proofs", __name__, url_prefix="/api/v1", description="Proof of a benefit (signed QR code)")

CERT_ID = re.compile(r"^[0-9a-f]{32}\Z")
# The public verification and status routes: per source address, a fixed window in `rate_hits` (flows.limits).
# A busy counter checks a few codes a minute; a scraper of certificate ids or a CPU burner gets 429.
PUBLIC_LIMIT, PUBLIC_WINDOW = 120, 60


def _rate_limit() -> None:
    from flask import current_app

    with session_factory(current_app.extensions["zerotrip_config"])() as s:
        wait = limits.take(s, f"proofs:{client_limit_key()}", PUBLIC_LIMIT, PUBLIC_WINDOW)
    if wait is not None:
        security_log.refused("proof_rate", address=client_ip(), path=request.path)
        raise TooManyAttempts("Too many verifications from this address; try again later.", retry_after=wait)


class ProofSchema(ma.Schema):
    certificate_id = ma.fields.String(required=True, metadata={"description": "The CWT `cti`, hex"})
    code = ma.fields.String(required=True, metadata={"description": "The QR code's text: `ZT1:` + Base45"})
    qr_png = ma.fields.String(required=True, metadata={"description": "The QR code as a PNG, base64"})
    issued_at = UtcDateTime(format="iso", required=True)
    expires_at = UtcDateTime(format="iso", required=True)
    program = ma.fields.String(required=True)
    program_name = ma.fields.String(required=True)
    tier = ma.fields.String(required=True, metadata={"description": "The tier band, never the amount"})
    name_masked = ma.fields.String(required=True)
    id_last4 = ma.fields.String(required=True, metadata={"description": "Last 4 characters of the ID number"})
    kid = ma.fields.String(required=True, metadata={"description": "Key id (base64) as in the trust list"})
    alg = ma.fields.String(required=True, metadata={"example": "ES256"})


class ClaimsSchema(ma.Schema):
    certificate_id = ma.fields.String(required=True)
    program = ma.fields.String(required=True)
    program_name = ma.fields.String(required=True)
    tier = ma.fields.String(required=True)
    name_masked = ma.fields.String(required=True)
    id_last4 = ma.fields.String(required=True)
    issued_at = UtcDateTime(format="iso", required=True)
    expires_at = UtcDateTime(format="iso", required=True)
    issuer = ma.fields.String(required=True)
    kid = ma.fields.String(required=True)


class VerifyArgs(StrictSchema):
    code = ma.fields.String(required=True, validate=[ma.validate.Length(1, 2000), NO_NUL],
                            metadata={"description": "The text of the QR code, starting with `ZT1:`"})


VERIFY_REASONS = ("in_payment", "benefit_stopped", "benefit_suspended", "expired", "malformed", "unknown_key",
                  "unsupported_alg", "bad_signature", "not_yet_valid", "not_issued")


class VerifySchema(ma.Schema):
    valid = ma.fields.Boolean(required=True)
    status = ma.fields.String(required=True, metadata={"enum": ["valid", "revoked", "expired", "invalid"]})
    reason = ma.fields.String(required=True, metadata={"enum": list(VERIFY_REASONS)})
    message = ma.fields.String(required=True)
    claims = ma.fields.Nested(ClaimsSchema, allow_none=True, required=True,
                              metadata={"description": "What the code says (null when it cannot be read)"})


class StatusSchema(ma.Schema):
    certificate_id = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"enum": ["valid", "revoked", "expired"]})
    reason = ma.fields.String(required=True)
    message = ma.fields.String(required=True)
    expires_at = UtcDateTime(format="iso", required=True)
    checked_at = UtcDateTime(format="iso", required=True)


class TrustKeySchema(ma.Schema):
    kid = ma.fields.String(required=True, metadata={"description": "base64 of the 8-byte key id"})
    alg = ma.fields.String(required=True, metadata={"example": "ES256"})
    status = ma.fields.String(required=True, metadata={"enum": ["current", "retired"]})
    valid_from = ma.fields.String(allow_none=True, required=True)
    valid_until = ma.fields.String(allow_none=True, required=True)
    jwk = ma.fields.Dict(required=True, metadata={"description": "The public key as a JWK (EC, P-256)"})


STATUS_PATH = "/api/v1/proofs/{certificate_id}/status"


class TrustListSchema(ma.Schema):
    format = ma.fields.String(required=True, metadata={"example": "ZT1"})
    status_path = ma.fields.String(required=True, metadata={
        "description": "Where, on this server, a verifier asks a proof's online status (relative: the host it "
                       "fetched the list from)", "example": STATUS_PATH})
    issuer = ma.fields.String(required=True)
    generated_at = ma.fields.String(required=True)
    keys = ma.fields.List(ma.fields.Nested(TrustKeySchema), required=True)


def _png(text: str) -> str:
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_Q, border=4, box_size=6)
    code.add_data(text)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return base64.b64encode(buffer.getvalue()).decode()


def _issue(benefit_id: str, action: str) -> dict:
    session = SessionLocal()
    benefit = session.get(Benefit, benefit_id) if len(benefit_id) <= 64 else None
    if benefit is None:
        raise NotFound("No such benefit.")
    decision = authorize(session, action, benefit, "benefit", object_ref=f"benefit:{benefit.id}")
    if benefit.state != "active":
        raise Conflict("Only a benefit in payment can be proven; this one has stopped or is suspended.",
                       error_code="benefit_not_active")
    issued = proofs.issue(session, config(), benefit, issued_by=current_caller().ref, via=decision.via, now=utcnow())
    details = {"certificate_id": issued.proof.id, "program": benefit.program}
    if decision.grant is not None:
        details["grant"] = decision.grant.id
    audit_event(session, "benefit.proof_issue", object_ref=f"benefit:{benefit.id}",
                on_behalf_of=decision.on_behalf_of, details=details)
    session.commit()
    return {**issued.claims.as_dict(), "code": issued.code, "qr_png": _png(issued.code), "alg": "ES256"}


_ISSUE_DOC = dict(description="Active benefits only (409 `benefit_not_active` otherwise)")


@blp.route("/benefits/<string:benefit_id>/proof")
class BenefitProof(MethodView):
    @auth_required(blp)
    @blp.response(201, ProofSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="The proxy grant has ended")
    @blp.alt_response(404, schema=ErrorSchema, description="No such benefit (or not yours)")
    @blp.alt_response(409, schema=ErrorSchema, **_ISSUE_DOC)
    def post(self, benefit_id):
        """A new proof-of-benefit QR code (valid 31 days) for my benefit, or for the person I help (`view`)."""
        return _issue(benefit_id, "benefit:proof")


@blp.route("/staff/benefits/<string:benefit_id>/proof")
class StaffBenefitProof(MethodView):
    @staff_required(blp)
    @blp.response(201, ProofSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such benefit in your jurisdiction")
    @blp.alt_response(409, schema=ErrorSchema, **_ISSUE_DOC)
    def post(self, benefit_id):
        """A proof-of-benefit QR code to print at the counter (audited; the resident sees it in her feed)."""
        return _issue(benefit_id, "benefit:proof")


@blp.route("/proofs/trust-list")
class TrustList(MethodView):
    @blp.response(200, TrustListSchema, headers={"Cache-Control": {"schema": {"type": "string"}}})
    def get(self):
        """The public trust list: every key whose signatures a verifier should accept now (two during a
        key changeover), with its key id, validity and public key (JWK). No sign-in."""
        doc = {**proofs.trust_list(config(), utcnow()), "status_path": STATUS_PATH}
        return doc, 200, {"Cache-Control": "public, max-age=3600"}


@blp.route("/proofs/<string:certificate_id>/status")
class ProofStatus(MethodView):
    @blp.response(200, StatusSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No proof with this certificate id was issued")
    @blp.alt_response(429, schema=ErrorSchema, description="Rate limit per source address (see Retry-After)")
    def get(self, certificate_id):
        """Online status of a proof by its certificate id: valid, revoked (the benefit stopped) or expired.
        Public and free of personal data; the certificate id is 128 random bits."""
        _rate_limit()
        found = proofs.status_of(SessionLocal(), certificate_id, utcnow()) if CERT_ID.match(certificate_id) else None
        if found is None:
            raise NotFound("No proof with this certificate id was issued.")
        return found, 200, {"Cache-Control": "no-store"}


@blp.route("/proofs/verify")
class VerifyProof(MethodView):
    @blp.arguments(VerifyArgs)
    @blp.response(200, VerifySchema)
    @blp.alt_response(422, schema=ErrorSchema, description="The body is not `{code: <text>}`")
    @blp.alt_response(429, schema=ErrorSchema, description="Rate limit per source address (see Retry-After)")
    def post(self, args):
        """Verify a code: signature against the trust list, dates, then the online status. Always 200 with a
        verdict (`valid`, `status`, `reason`, `message`); an invalid code is an answer, not an error."""
        _rate_limit()
        answer = proofs.verify(SessionLocal(), config(), args["code"], utcnow())
        if answer["status"] == "invalid":
            security_log.refused("proof_verification", address=client_ip(), reason=answer["reason"],
                                 path=request.path)
        return answer
