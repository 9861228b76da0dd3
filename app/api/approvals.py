"""Maker-checker approvals over HTTP (staff): list, propose a parameter change, approve, withdraw.

The CLI (`zerotrip params …`, `zerotrip approvals …`) and these routes run the same flows (flows.approvals,
flows.parameters): a different person approves, the maker may withdraw until then, each step audited."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from app.api.base import ErrorSchema, page_of
from app.api.schemas import NO_NUL, JsonBoolean, StrictSchema, UtcDateTime
from app.api.staff_security import current_staff, staff_required
from app.db import SessionLocal
from app.errors import Forbidden
from flows import approvals, parameters

blp = Blueprint("approvals", __name__, url_prefix="/api/v1/staff",
                description="Maker-checker approvals (parameter changes, payout grants, …)")


class ApprovalSchema(ma.Schema):
    id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    subject_ref = ma.fields.String(required=True)
    payload = ma.fields.Dict(required=True)
    maker = ma.fields.String(required=True)
    checker = ma.fields.String(allow_none=True)
    state = ma.fields.String(required=True, metadata={"description": "pending | approved | withdrawn"})
    created_at = UtcDateTime(required=True)
    decided_at = UtcDateTime(allow_none=True)


class ApprovalListArgs(StrictSchema):
    state = ma.fields.String(load_default="pending", validate=ma.validate.OneOf(("pending", "approved",
                                                                                  "withdrawn", "all")))
    kind = ma.fields.String(load_default=None, validate=ma.validate.Length(max=40), metadata={
        "description": "one kind, e.g. `parameter_change`, `proxy_grant`, `benefit_recheck`; an unknown kind is 422"})

    @ma.validates("kind")
    def _known_kind(self, value, **_kwargs):
        if value is not None and value not in approvals.all_kinds():
            raise ma.ValidationError(f"No approval kind {value[:40]!r}.")


class ParamChangeArgs(StrictSchema):
    program = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=40), NO_NUL])
    key = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=60), NO_NUL])
    value = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=20), NO_NUL])
    from_month = ma.fields.String(required=True, data_key="from", validate=ma.validate.Length(equal=7))
    arrears = JsonBoolean(load_default=False)


class NoBody(StrictSchema):
    """No body needed."""


@blp.route("/approvals")
class Approvals(MethodView):
    @staff_required(blp)
    @blp.arguments(ApprovalListArgs, location="query")
    @blp.response(200, ApprovalSchema(many=True))
    @blp.paginate(page_size=50, max_page_size=200)
    def get(self, args, pagination_parameters):
        """Approvals, pending by default (reviewer or above), newest first; an approval about one household only
        within its jurisdiction."""
        staff = current_staff()
        if staff.role == "clerk":
            raise Forbidden("Approvals are listed to reviewers and above.", error_code="approval_role")
        query = approvals.listing_query(None if args["state"] == "all" else args["state"], args["kind"], staff)
        return [approvals.payload_of(a) for a in page_of(SessionLocal(), query, pagination_parameters)]


@blp.route("/params")
class ParamChanges(MethodView):
    @staff_required(blp)
    @blp.arguments(ParamChangeArgs)
    @blp.response(201, ApprovalSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Not an admin (`error_code`: approval_role)")
    @blp.alt_response(409, schema=ErrorSchema, description="A change of this parameter already waits "
                      "(`error_code`: approval_pending)")
    @blp.alt_response(422, schema=ErrorSchema, description="Unknown key, wrong type, out of range, or a closed "
                      "month (`error_code`: parameter_invalid, month_closed)")
    def post(self, args):
        """Propose a dated parameter change (admin); it applies once another admin approves it."""
        staff = current_staff()
        if staff.role != "admin":
            raise Forbidden("Parameter changes are proposed by an admin.", error_code="approval_role")
        session = SessionLocal()
        approval = parameters.propose_change(session, staff, args["program"], args["key"], args["value"],
                                             args["from_month"], arrears=args["arrears"])
        session.commit()
        return approvals.payload_of(approval)


@blp.route("/approvals/<string:approval_id>/approve")
class ApprovalApprove(MethodView):
    @staff_required(blp)
    @blp.arguments(NoBody, required=False)
    @blp.response(200, ApprovalSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Your own proposal, or your role may not approve it "
                      "(`error_code`: self_approval)")
    @blp.alt_response(404, schema=ErrorSchema, description="No such approval")
    @blp.alt_response(409, schema=ErrorSchema, description="Not pending, or approved where its subject is handled "
                      "(`error_code`: approval_not_pending, approval_elsewhere)")
    def post(self, _args, approval_id):
        """Approve what someone else proposed: the change is applied in the same transaction."""
        session = SessionLocal()
        approval = approvals.approve(session, approvals.get(session, approval_id), current_staff())
        session.commit()
        return approvals.payload_of(approval)


@blp.route("/approvals/<string:approval_id>/withdraw")
class ApprovalWithdraw(MethodView):
    @staff_required(blp)
    @blp.arguments(NoBody, required=False)
    @blp.response(200, ApprovalSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Not yours")
    @blp.alt_response(404, schema=ErrorSchema, description="No such approval")
    @blp.alt_response(409, schema=ErrorSchema, description="Not pending (`error_code`: approval_not_pending)")
    def post(self, _args, approval_id):
        """Withdraw your own pending proposal."""
        session = SessionLocal()
        approval = approvals.withdraw(session, approvals.get(session, approval_id), current_staff())
        session.commit()
        return approvals.payload_of(approval)
