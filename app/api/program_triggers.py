"""Programs started by an operator (staff, admin): `POST /api/v1/staff/program-triggers` (body: the program).

The same flow as `zerotrip programs trigger` (the program's `trigger` hook): a pending maker-checker approval
that another admin approves at `/api/v1/staff/approvals/{id}/approve`; a second trigger for the same index
month → 409 `trigger_exists`."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from app import digits
from app.api.approvals import ApprovalSchema
from app.api.base import ErrorSchema
from app.api.schemas import NO_NUL, Digits, StrictSchema
from app.api.staff_security import current_staff, staff_required
from app.db import SessionLocal
from app.errors import NotFound
from flows import approvals, programs

blp = Blueprint("program_triggers", __name__, url_prefix="/api/v1/staff/program-triggers",
                description="Programs started by an operator for everyone counted (no application)")


class TriggerArgs(StrictSchema):
    program = ma.fields.String(required=True, validate=[ma.validate.Length(min=1, max=40), NO_NUL],
                               metadata={"description": "the code of a program that declares a trigger"})
    index_month = ma.fields.String(required=True, validate=[ma.validate.Length(equal=7), NO_NUL],
                                   metadata={"example": "2026-11"})
    amount_per_person = Digits(required=True, pattern=digits.AMOUNT.pattern, pattern_error="an amount like 30.00",
                               metadata={"example": "30.00"})
    amount_rural = Digits(pattern=digits.AMOUNT.pattern, pattern_error="an amount like 30.00", load_default=None)


@blp.route("")
class ProgramTrigger(MethodView):
    @staff_required(blp)
    @blp.arguments(TriggerArgs)
    @blp.response(201, ApprovalSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Not an admin (`error_code`: approval_role)")
    @blp.alt_response(404, schema=ErrorSchema, description="No program started by a trigger")
    @blp.alt_response(409, schema=ErrorSchema, description="Already triggered for this index month and not "
                      "withdrawn (`error_code`: trigger_exists, approval_pending)")
    @blp.alt_response(422, schema=ErrorSchema, description="Bad index month or amount")
    def post(self, args):
        """Trigger the program for an index month; pending until another admin approves."""
        program = programs.get(args.pop("program"))
        if program is None or not program.trigger:
            raise NotFound("No program started by a trigger.")
        session = SessionLocal()
        approval = program.hook("trigger")(session, current_staff(), args)
        session.commit()
        return approvals.payload_of(approval)
