"""A citizen-started 低保 application: household members come from the registry; the citizen declares only
what the state cannot know (e.g. informal income). The economic check runs at once."""

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from app import digits
from app.api.application_views import payload
from app.api.applications import ApplicationSchema
from app.api.base import ErrorSchema
from app.api.schemas import NO_NUL, Digits, StrictSchema
from app.api.security import auth_required, current_account
from app.db import SessionLocal
from app.errors import Forbidden
from app.models import Resident
from flows.money import fen
from flows.programs.dibao import cases

blp = Blueprint("dibao", __name__, url_prefix="/api/v1/dibao", description="城乡低保 applications")


class DibaoArgs(StrictSchema):
    declared_monthly_income = Digits(
        load_default="0.00", pattern=digits.AMOUNT.pattern, pattern_error="an amount like 300.00",
        metadata={"description": "household income the state cannot see (yuan a month), e.g. odd jobs"})
    declared_note = ma.fields.String(load_default="", validate=[ma.validate.Length(max=500), NO_NUL])


@blp.route("/applications")
class DibaoApplications(MethodView):
    @auth_required(blp)
    @blp.arguments(DibaoArgs, required=False)
    @blp.response(201, ApplicationSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Identity not bound")
    @blp.alt_response(409, schema=ErrorSchema, description="An application is already in progress "
                      "(`error_code`: dibao_in_progress), or one was made this month (dibao_one_a_month)")
    def post(self, args):
        """Apply for 低保 for my household; the result of the automatic economic check is in `trace`."""
        session = SessionLocal()
        account = current_account()
        if account.resident_id is None:
            raise Forbidden("Bind your identity first.")
        applicant = session.get(Resident, account.resident_id)
        application = cases.apply(session, applicant, account.id, fen(args["declared_monthly_income"]),
                                  args["declared_note"])
        session.commit()
        return payload(session, application)
