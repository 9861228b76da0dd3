"""Benefits in payment for the signed-in resident."""

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from app.api.application_views import benefit_payload
from app.api.applications import BenefitSchema, SubjectArgs
from app.api.base import ErrorSchema, page_of
from app.api.security import audit_read, auth_required, client_ip, config, current_caller
from app.authz import resolve_subject
from app.db import SessionLocal
from app.models import Benefit
from flows import appeals
from flows.dates import today_shanghai

blp = Blueprint("benefits", __name__, url_prefix="/api/v1/benefits", description="Benefits")


@blp.route("")
class Benefits(MethodView):
    @auth_required(blp)
    @blp.arguments(SubjectArgs, location="query")
    @blp.response(200, BenefitSchema(many=True))
    @blp.alt_response(403, schema=ErrorSchema, description="The proxy grant has ended")
    @blp.alt_response(404, schema=ErrorSchema, description="No such subject")
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """My benefits (or, with `?subject=<grant id>`, those of the person I help)."""
        session = SessionLocal()
        resident_id, decision = resolve_subject(session, current_caller(), args.get("subject"), "benefit:view",
                                                address=client_ip())
        if resident_id is None:
            pagination_parameters.item_count = 0
            return []
        query = select(Benefit).where(Benefit.resident_id == resident_id).order_by(Benefit.created_at.desc(), Benefit.id)
        if decision is not None and decision.grant is not None and decision.grant.programs:
            query = query.where(Benefit.program.in_(decision.grant.programs))
        rows = page_of(session, query, pagination_parameters)
        audit_read(session, "benefit.list", decision, ids=[b.id for b in rows])
        session.commit()
        windows = appeals.benefit_appeal_windows(session, [b.id for b in rows], today_shanghai(),
                                                 config().appeal_filing_days)
        return [benefit_payload(b, windows.get(b.id)) for b in rows]
