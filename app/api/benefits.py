"""Benefits in payment for the signed-in resident."""

from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import func, select

from app.api.application_views import benefit_payload
from app.api.applications import BenefitSchema
from app.api.security import auth_required, current_account
from app.db import SessionLocal
from app.models import Benefit

blp = Blueprint("benefits", __name__, url_prefix="/api/v1/benefits", description="Benefits")


@blp.route("")
class Benefits(MethodView):
    @auth_required(blp)
    @blp.response(200, BenefitSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """My benefits: program, tier, monthly amount, from / to month, state."""
        session, resident_id = SessionLocal(), current_account().resident_id
        if resident_id is None:
            pagination_parameters.item_count = 0
            return []
        query = select(Benefit).where(Benefit.resident_id == resident_id).order_by(Benefit.created_at.desc(), Benefit.id)
        pagination_parameters.item_count = session.scalar(select(func.count()).select_from(query.subquery()))
        rows = session.scalars(query.limit(pagination_parameters.page_size).offset(pagination_parameters.first_item))
        return [benefit_payload(b) for b in rows]
