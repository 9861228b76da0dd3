"""Applications: list, read, one-tap confirm, decline, reopen."""

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from app.api.application_views import payload
from app.api.base import ErrorSchema
from app.api.schemas import NO_NUL, StrictSchema, UtcDateTime
from app.api.security import auth_required, current_account
from app.db import SessionLocal
from app.errors import NotFound
from app.models import Application
from flows import applications as flow

blp = Blueprint("applications", __name__, url_prefix="/api/v1/applications", description="Applications")


class FieldSchema(ma.Schema):
    field = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    value = ma.fields.String(required=True)
    source = ma.fields.String(required=True)
    source_name = ma.fields.String(required=True)
    source_date = ma.fields.String(allow_none=True)


class BenefitSchema(ma.Schema):
    id = ma.fields.String(required=True)
    program = ma.fields.String(required=True)
    program_name = ma.fields.String(required=True)
    tier = ma.fields.String(required=True)
    monthly_amount = ma.fields.String(required=True, metadata={"example": "50.00"})
    start_month = ma.fields.String(required=True, metadata={"example": "2026-12"})
    end_month = ma.fields.String(allow_none=True)
    state = ma.fields.String(required=True)


class ApplicationSchema(ma.Schema):
    id = ma.fields.String(required=True)
    program = ma.fields.String(required=True)
    program_name = ma.fields.String(required=True)
    state = ma.fields.String(required=True)
    origin = ma.fields.String(required=True)
    as_of = ma.fields.Date(required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    confirmed_at = UtcDateTime(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)
    decline_reason = ma.fields.String(allow_none=True)
    monthly_amount = ma.fields.String(allow_none=True)
    start_month = ma.fields.String(allow_none=True)
    fields = ma.fields.List(ma.fields.Nested(FieldSchema), required=True)
    reasons = ma.fields.List(ma.fields.String(), required=True)
    actions = ma.fields.List(ma.fields.String(), required=True)
    benefit = ma.fields.Nested(BenefitSchema, allow_none=True)


class ConfirmArgs(StrictSchema):
    """An empty body accepts the pre-filled data as shown."""


class DeclineArgs(StrictSchema):
    reason = ma.fields.String(required=True, validate=ma.validate.OneOf(flow.DECLINE_REASONS))
    comment = ma.fields.String(validate=[ma.validate.Length(max=500), NO_NUL], load_default=None)


def _own_application(application_id: str) -> Application:
    session = SessionLocal()
    account = current_account()
    application = session.get(Application, application_id) if len(application_id) <= 64 else None
    if application is None or account.resident_id is None or application.resident_id != account.resident_id:
        raise NotFound("No such application.")
    return application


@blp.route("")
class Applications(MethodView):
    @auth_required(blp)
    @blp.response(200, ApplicationSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """My applications, newest first (an account not bound to a resident gets [])."""
        session = SessionLocal()
        query = flow.visible_for_resident(session, current_account().resident_id)
        total = session.scalar(select(ma_count()).select_from(query.subquery()))
        pagination_parameters.item_count = total
        rows = session.scalars(query.limit(pagination_parameters.page_size)
                               .offset(pagination_parameters.first_item)).all()
        return [payload(session, a) for a in rows]


def ma_count():
    from sqlalchemy import func

    return func.count()


@blp.route("/<string:application_id>")
class ApplicationById(MethodView):
    @auth_required(blp)
    @blp.response(200, ApplicationSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such application (or not yours)")
    def get(self, application_id):
        """One application with each pre-filled field, its source, and why you qualify."""
        return payload(SessionLocal(), _own_application(application_id))


@blp.route("/<string:application_id>/confirm")
class ApplicationConfirm(MethodView):
    @auth_required(blp)
    @blp.arguments(ConfirmArgs, required=False)
    @blp.response(200, ApplicationSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such application")
    @blp.alt_response(409, schema=ErrorSchema, description="Declined or otherwise not confirmable")
    def post(self, _args, application_id):
        """One tap: accept the pre-filled data as shown; the rule decides at once. A repeat changes nothing."""
        session = SessionLocal()
        application = flow.confirm(session, _own_application(application_id), current_account().id)
        session.commit()
        return payload(session, application)


@blp.route("/<string:application_id>/decline")
class ApplicationDecline(MethodView):
    @auth_required(blp)
    @blp.arguments(DeclineArgs)
    @blp.response(200, ApplicationSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such application")
    @blp.alt_response(409, schema=ErrorSchema, description="Not in a state that can be declined")
    def post(self, args, application_id):
        """Say no, with a reason; `data_wrong` also opens a correction task for staff."""
        session = SessionLocal()
        application = flow.decline(session, _own_application(application_id), args["reason"], args["comment"],
                                   current_account().id)
        session.commit()
        return payload(session, application)


@blp.route("/<string:application_id>/reopen")
class ApplicationReopen(MethodView):
    @auth_required(blp)
    @blp.response(200, ApplicationSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such application")
    @blp.alt_response(409, schema=ErrorSchema, description="Not declined, or declined more than 30 days ago")
    def post(self, application_id):
        """Undo a decline within 30 days."""
        session = SessionLocal()
        application = flow.reopen(session, _own_application(application_id))
        session.commit()
        return payload(session, application)
