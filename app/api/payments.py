"""A benefit's payments, month by month, for the resident or her proxy (same authorization as the benefit)."""

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import func, select

from app.api.base import ErrorSchema
from app.api.security import audit_read, auth_required, authorize
from app.db import SessionLocal
from app.errors import NotFound
from app.models import Benefit, PayrollLine
from flows import payroll

blp = Blueprint("payments", __name__, url_prefix="/api/v1/benefits", description="Benefit payments")


class PaymentSchema(ma.Schema):
    month = ma.fields.String(required=True, metadata={"example": "2026-12"})
    amount = ma.fields.String(required=True, metadata={"example": "50.00"})
    arrears = ma.fields.String(required=True, metadata={"example": "0.00"})
    total = ma.fields.String(required=True)
    covered_from = ma.fields.String(required=True)
    covered_to = ma.fields.String(required=True)
    status = ma.fields.String(required=True, metadata={"description": "scheduled | paid | no_account"})
    account = ma.fields.String(allow_none=True, metadata={"description": "masked: ****1234"})


@blp.route("/<string:benefit_id>/payments")
class BenefitPayments(MethodView):
    @auth_required(blp)
    @blp.response(200, PaymentSchema(many=True))
    @blp.alt_response(403, schema=ErrorSchema, description="The proxy grant has ended")
    @blp.alt_response(404, schema=ErrorSchema, description="No such benefit (or not yours)")
    @blp.paginate()
    def get(self, benefit_id, pagination_parameters):
        """Month, amount, arrears and status of each payment of one benefit, newest first."""
        session = SessionLocal()
        benefit = session.get(Benefit, benefit_id) if len(benefit_id) <= 64 else None
        if benefit is None:
            raise NotFound("No such benefit.")
        decision = authorize(session, "benefit:view", benefit, "benefit", object_ref=f"benefit:{benefit.id}")
        pagination_parameters.item_count = session.scalar(
            select(func.count()).select_from(PayrollLine).where(PayrollLine.benefit_id == benefit.id))
        rows = payroll.payments_of(session, benefit.id)
        first = pagination_parameters.first_item
        page = rows[first:first + pagination_parameters.page_size]
        audit_read(session, "benefit.payments_view", decision, object_ref=f"benefit:{benefit.id}",
                   details={"months": [r["month"] for r in page]})
        session.commit()
        return page
