"""Service ratings (好差评): `POST /api/v1/applications/{id}/rating {level, comment}` after a case ends."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from app.api.base import ErrorSchema
from app.api.schemas import NO_NUL, StrictSchema, UtcDateTime
from app.api.security import audit_event, auth_required, authorize, client_ip, current_account, current_caller
from app.db import SessionLocal
from app.errors import Forbidden, NotFound
from app.models import Application, StaffTask
from app.security_log import refused
from flows import ratings as flow

blp = Blueprint("ratings", __name__, url_prefix="/api/v1/applications", description="Service ratings (好差评)")


class RatingArgs(StrictSchema):
    level = ma.fields.Integer(required=True, strict=True, validate=ma.validate.Range(1, 5),
                              metadata={"description": "1 非常不满意 … 5 非常满意; 1–2 open a follow-up by staff"})
    comment = ma.fields.String(validate=[ma.validate.Length(max=500), NO_NUL], load_default=None, allow_none=True)


class RatingSchema(ma.Schema):
    id = ma.fields.String(required=True)
    application_id = ma.fields.String(required=True)
    level = ma.fields.Integer(required=True)
    level_text = ma.fields.String(required=True)
    comment = ma.fields.String(allow_none=True)
    created_at = UtcDateTime(required=True)
    follow_up_due_at = UtcDateTime(allow_none=True, metadata={
        "description": "for a dissatisfied rating: staff follow up by then (15 working days)"})


def _application(session, application_id: str) -> Application:
    """The caller's own application, or one she may view as a proxy; staff do not rate."""
    application = session.get(Application, application_id) if len(application_id) <= 64 else None
    if application is None or current_caller().kind != "citizen":
        raise NotFound("No such application.")
    authorize(session, "application:view", application, "application", object_ref=f"application:{application_id}")
    return application


def _payload(session, rating) -> dict:
    task = session.get(StaffTask, rating.follow_up_task_id) if rating.follow_up_task_id else None
    return {"id": rating.id, "application_id": rating.application_id, "level": rating.level,
            "level_text": flow.LEVELS[rating.level], "comment": rating.comment, "created_at": rating.created_at,
            "follow_up_due_at": task.due_at if task else None}


@blp.route("/<string:application_id>/rating")
class Rating(MethodView):
    @auth_required(blp)
    @blp.response(200, RatingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such application, or not rated by you yet")
    def get(self, application_id):
        """My rating of this case, if I gave one."""
        session = SessionLocal()
        application = _application(session, application_id)
        rating = flow.existing(session, application.id, current_account().id)
        if rating is None:
            raise NotFound("Not rated yet.")
        return _payload(session, rating)

    @auth_required(blp)
    @blp.arguments(RatingArgs)
    @blp.response(201, RatingSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such application (or not yours)")
    @blp.alt_response(409, schema=ErrorSchema, description="The case has not ended (`error_code`: "
                      "case_not_ended), or you already rated it (rating_exists)")
    def post(self, args, application_id):
        """Rate the service (好差评) once the case has ended; 1–2 open a follow-up task for staff (15 working days)."""
        session = SessionLocal()
        application = _application(session, application_id)
        try:
            authorize(session, "application:rate", application, "application",
                      object_ref=f"application:{application_id}")
        except Forbidden:
            refused("proxy_scope", actor=current_account().id, address=client_ip(), action="application:rate")
            raise
        rating = flow.rate(session, application, current_account().id, args["level"], args["comment"])
        on_behalf = None if current_account().resident_id == application.resident_id else \
            f"resident:{application.resident_id}"
        audit_event(session, "rating.create", object_ref=f"application:{application.id}", on_behalf_of=on_behalf,
                    details={"level": rating.level, "follow_up": bool(rating.follow_up_task_id)})
        session.commit()
        return _payload(session, rating)
