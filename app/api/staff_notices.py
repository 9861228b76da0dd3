"""公示 and objections on the workbench (issue 12 item 7): the notices of my jurisdiction, one objection with its
notice and case (decided through `POST /api/v1/staff/objections/{id}/decide`), and the printable sheet of one
community's open notices for the notice board.

A notice shows what the public list shows (flows.public_notices.public_entry: the masked name stored when it was
published) — never a full ID number; no answer here names the objector. Everything is limited to the caller's
jurisdiction (app.authz): an objection elsewhere is 404, a community elsewhere is 404."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from app import authz
from app.api.base import ErrorSchema, page_of
from app.api.schemas import Digits, StrictSchema, UtcDateTime
from app.api.security import audit_event, authorize, current_caller
from app.api.staff_security import staff_required
from app.db import SessionLocal
from app.errors import Forbidden, NotFound
from app.models import Application, Objection, PublicNotice
from flows import public_notices as flow
from flows.dates import today_shanghai

blp = Blueprint("staff_notices", __name__, url_prefix="/api/v1/staff",
                description="公示 and objections on the workbench: my jurisdiction's notices, an objection, "
                            "the printable sheet of a community")

COMMUNITY = {"pattern": r"^[0-9]{12}$", "pattern_error": "a 12-digit community code"}


class StaffNoticeArgs(StrictSchema):
    state = ma.fields.String(validate=ma.validate.OneOf(flow.STATES), metadata={
        "description": "open, or closed (in the last 30 days); both when left out"})
    community = Digits(**COMMUNITY)


class StaffNoticeObjectionSchema(ma.Schema):
    id = ma.fields.String(required=True)
    state = ma.fields.String(required=True, metadata={"description": "open | upheld | dismissed"})


class PublicEntrySchema(ma.Schema):
    """A notice exactly as the public list shows it."""

    id = ma.fields.String(required=True)
    program = ma.fields.String(required=True)
    program_name = ma.fields.String(required=True)
    street_code = ma.fields.String(required=True)
    name = ma.fields.String(required=True, metadata={"example": "张*三", "description": "masked at publication"})
    monthly_amount = ma.fields.String(required=True, metadata={"example": "350.00"})
    starts_on = ma.fields.Date(required=True)
    ends_on = ma.fields.Date(required=True)


class StaffNoticeSchema(PublicEntrySchema):
    state = ma.fields.String(required=True, metadata={"description": "open | closed | withdrawn"})
    application_id = ma.fields.String(required=True)
    street_name = ma.fields.String(allow_none=True)
    community_code = ma.fields.String(required=True)
    community_name = ma.fields.String(allow_none=True)
    objection_count = ma.fields.Integer(required=True)
    open_objections = ma.fields.Integer(required=True)
    objections = ma.fields.List(ma.fields.Nested(StaffNoticeObjectionSchema), required=True,
                                metadata={"description": "id and state only: never who objected"})


class StaffObjectionNoticeSchema(PublicEntrySchema):
    state = ma.fields.String(required=True)
    community_code = ma.fields.String(required=True)
    community_name = ma.fields.String(allow_none=True)
    street_name = ma.fields.String(allow_none=True)


class StaffObjectionSchema(ma.Schema):
    id = ma.fields.String(required=True)
    state = ma.fields.String(required=True, metadata={"description": "open | upheld | dismissed"})
    text = ma.fields.String(required=True, metadata={"description": "what the objector wrote (not who)"})
    created_at = UtcDateTime(required=True)
    notice = ma.fields.Nested(StaffObjectionNoticeSchema, required=True)
    application_id = ma.fields.String(required=True)
    application_state = ma.fields.String(required=True)
    task_id = ma.fields.String(allow_none=True, metadata={"description": "the inbox task of this objection"})
    task_state = ma.fields.String(allow_none=True)
    other_open_objections = ma.fields.Integer(required=True)
    notice_days = ma.fields.Integer(allow_none=True, metadata={
        "description": "the program's 公示 period today: a dismissed objection re-publishes for this many days"})


class NoticeSheetArgs(StrictSchema):
    community = Digits(required=True, **COMMUNITY)


class NoticeSheetSchema(ma.Schema):
    community_code = ma.fields.String(required=True)
    community_name = ma.fields.String(allow_none=True)
    street_code = ma.fields.String(required=True)
    office = ma.fields.String(required=True, metadata={"description": "the street office that publishes"})
    today = ma.fields.Date(required=True)
    entries = ma.fields.List(ma.fields.Nested(PublicEntrySchema), required=True,
                             metadata={"description": "the community's notices open today, as the public list"})
    program_names = ma.fields.List(ma.fields.String(), required=True)
    starts_on = ma.fields.Date(allow_none=True)
    ends_on = ma.fields.Date(allow_none=True)
    phones = ma.fields.List(ma.fields.String(), required=True, metadata={"description": "where to object by phone"})
    hotline = ma.fields.String(required=True)
    citizen_path = ma.fields.String(required=True, metadata={"description": "the residents' app (sign in to object)"})


def _lister():
    caller = current_caller()
    if not authz.role_allows(caller.role, "casework:queue"):
        raise Forbidden("Your role does not see the notices.", error_code="role_not_allowed")
    return caller


@blp.route("/public-notices")
class StaffNotices(MethodView):
    @staff_required(blp)
    @blp.arguments(StaffNoticeArgs, location="query")
    @blp.response(200, StaffNoticeSchema(many=True))
    @blp.paginate(page_size=20, max_page_size=100)
    def get(self, args, pagination_parameters):
        """The 公示 of my jurisdiction: open ones and those closed in the last 30 days, open first — the masked
        name as published, community, program, amount, period, state and the objections counted (never who
        objected). The page read is audited."""
        session, today = SessionLocal(), today_shanghai()
        caller = _lister()
        rows = page_of(session, flow.jurisdiction_query(caller, today, args.get("state"), args.get("community")),
                       pagination_parameters, rows=True)
        out = flow.staff_rows(session, rows, today)
        audit_event(session, "staff.notice_list", details={"state": args.get("state"), "ids": [n["id"] for n in out]})
        session.commit()
        return out


@blp.route("/public-notices/sheet")
class StaffNoticeSheet(MethodView):
    @staff_required(blp)
    @blp.arguments(NoticeSheetArgs, location="query")
    @blp.response(200, NoticeSheetSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such community in your jurisdiction")
    def get(self, args):
        """The printable 公示 of one community for its notice board: its notices open today as the public list
        shows them, the period, the office, and how to object (phone, 12345, the residents' app)."""
        session, today = SessionLocal(), today_shanghai()
        caller, community = _lister(), args["community"]
        if not authz.in_jurisdiction(caller, community[:6], community[:9], community):
            raise NotFound("No such community in your jurisdiction.")
        out = flow.sheet(session, caller, community, today)
        audit_event(session, "staff.notice_sheet", details={"community": community,
                                                            "ids": [e["id"] for e in out["entries"]]})
        session.commit()
        return out


@blp.route("/objections/<string:objection_id>")
class StaffObjection(MethodView):
    @staff_required(blp)
    @blp.response(200, StaffObjectionSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such objection in your jurisdiction")
    def get(self, objection_id):
        """One objection to a 公示: what was written (never by whom), the notice as published, the case and the
        inbox task; decided with `POST /api/v1/staff/objections/{id}/decide`. The read is audited."""
        session = SessionLocal()
        objection = session.get(Objection, objection_id) if len(objection_id) <= 64 else None
        notice = session.get(PublicNotice, objection.notice_id) if objection else None
        application = session.get(Application, notice.application_id) if notice else None
        decision = authorize(session, "application:view", application, "objection",
                             object_ref=f"objection:{objection_id[:40]}")
        out = flow.objection_view(session, objection, notice, application, today_shanghai())
        audit_event(session, "staff.objection_view", object_ref=f"objection:{objection.id}",
                    on_behalf_of=decision.on_behalf_of)
        session.commit()
        return out
