"""The payout account of a benefit's resident: read it masked, change it after a fresh sign-in.

`PUT /api/v1/benefits/{id}/payout-account` — the resident herself or a proxy whose grant has the `payout`
scope (403 without it, 404 for anyone else). The access token's sign-in must be at most 5 minutes old
(AuthSession.auth_time), else 401 with `errors.step_up_required = true`: the app signs in again (wx.login →
/api/v1/auth/wechat-login, a new session with a fresh auth_time) and repeats. The account belongs to the
resident and serves all her benefits. Audited (actor, on whose behalf); the resident is told.
"""

from __future__ import annotations

from datetime import timedelta

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from app.api.base import ErrorSchema
from app.api.schemas import NO_NUL, Digits, StrictSchema, UtcDateTime
from app.api.security import (
    audit_event,
    audit_read,
    auth_required,
    authorize,
    config,
    current_account,
    current_auth_session,
)
from app.db import SessionLocal, utcnow
from app.errors import NotFound, Unauthorized
from app.models import Benefit, PayoutAccount, Resident
from flows import payout as flow

blp = Blueprint("payout", __name__, url_prefix="/api/v1/benefits", description="Payout accounts")

STEP_UP_MAX_AGE = timedelta(minutes=5)


class PayoutAccountArgs(StrictSchema):
    kind = ma.fields.String(required=True, validate=ma.validate.OneOf(tuple(flow.KINDS)))
    bank_name = ma.fields.String(load_default=None, allow_none=True,
                                 validate=[ma.validate.Length(max=64), NO_NUL],
                                 metadata={"description": "required for a bank account"})
    account_number = Digits(required=True, validate=[ma.validate.Length(1, 40), NO_NUL], pattern=r"^[0-9 ]+$",
                            pattern_error="digits_only",
                                      metadata={"description": "digits; bank account 12–19 (cards: Luhn), "
                                                               "social-security card 10–19"})
    holder_name = ma.fields.String(required=True, validate=[ma.validate.Length(1, 64), NO_NUL],
                                   metadata={"description": "must be the resident's own name"})


class PayoutAccountSchema(ma.Schema):
    kind = ma.fields.String(allow_none=True, metadata={"enum": list(flow.KINDS)})
    bank_name = ma.fields.String(allow_none=True)
    account_masked = ma.fields.String(allow_none=True, metadata={"example": "***************1234"})
    source = ma.fields.String(allow_none=True, metadata={"description": "import | citizen | proxy | staff"})
    updated_at = UtcDateTime(allow_none=True)


def _benefit(session, benefit_id: str, action: str):
    benefit = session.get(Benefit, benefit_id) if len(benefit_id) <= 64 else None
    if benefit is None:
        raise NotFound("No such benefit.")
    return benefit, authorize(session, action, benefit, "benefit", object_ref=f"benefit:{benefit.id}")


def require_fresh_sign_in() -> None:
    auth = current_auth_session()
    if auth.auth_time is None or utcnow() - auth.auth_time > STEP_UP_MAX_AGE:
        raise Unauthorized("Sign in again to change where your money is paid.",
                           errors={"step_up_required": True, "max_age_seconds": int(STEP_UP_MAX_AGE.total_seconds())})


@blp.route("/<string:benefit_id>/payout-account")
class BenefitPayoutAccount(MethodView):
    @auth_required(blp)
    @blp.response(200, PayoutAccountSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="The proxy grant has ended")
    @blp.alt_response(404, schema=ErrorSchema, description="No such benefit (or not yours)")
    def get(self, benefit_id):
        """Where this benefit is paid (masked; all fields null when no account is on file)."""
        session = SessionLocal()
        benefit, decision = _benefit(session, benefit_id, "benefit:view")
        audit_read(session, "payout.account_view", decision, object_ref=f"resident:{benefit.resident_id}",
                   details={"benefit": benefit.id})
        session.commit()
        return flow.view(session.get(PayoutAccount, benefit.resident_id))

    @auth_required(blp)
    @blp.arguments(PayoutAccountArgs)
    @blp.response(200, PayoutAccountSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="A proxy without the payout scope, or the grant ended")
    @blp.alt_response(404, schema=ErrorSchema, description="No such benefit (or not yours)")
    @blp.alt_response(422, schema=ErrorSchema, description="Invalid number, length, checksum, bank or holder")
    def put(self, args, benefit_id):
        """Change the payout account (the resident, or a proxy with the `payout` scope). Needs a sign-in within
        the last 5 minutes: otherwise 401 with `errors.step_up_required`."""
        session = SessionLocal()
        benefit, decision = _benefit(session, benefit_id, "payout:change")
        require_fresh_sign_in()
        resident = session.get(Resident, benefit.resident_id)
        account = current_account()
        proxy_name = None
        if decision.via == "proxy":
            proxy = session.get(Resident, account.resident_id) if account.resident_id else None
            proxy_name = proxy.name if proxy else None
        row, changed = flow.change(session, config(), resident, kind=args["kind"], number=args["account_number"],
                                   bank_name=args.get("bank_name"), holder_name=args["holder_name"],
                                   actor_account_id=account.id, via_proxy=decision.via == "proxy",
                                   proxy_name=proxy_name)
        audit_event(session, "payout.account_change", object_ref=f"resident:{resident.id}",
                    on_behalf_of=decision.on_behalf_of, result="changed" if changed else "unchanged",
                    details={"benefit": benefit.id, "kind": args["kind"], "account_masked": row.number_mask,
                             "grant": decision.grant.id if decision.grant else None})
        session.commit()
        return flow.view(row)
