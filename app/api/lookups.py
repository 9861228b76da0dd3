"""Department look-ups in the resident feed: `GET /api/v1/me/department-lookups` — which department asked about me
(or, with `?subject=<grant id>`, about the person I help with `view`) or was told of a change, for what purpose,
when, and what it was told (flows.activity, actor kind `department`). A proxy's read is itself audited and shows
in the principal's feed."""

from __future__ import annotations

from flask.views import MethodView
from flask_smorest import Blueprint

from app.api.activity import ActivitySchema
from app.api.applications import SubjectArgs
from app.api.base import ErrorSchema, page_of
from app.api.security import audit_read, auth_required, client_ip, current_caller
from app.authz import resolve_subject
from app.db import SessionLocal
from flows import activity as flow

blp = Blueprint("department_lookups", __name__, url_prefix="/api/v1/me",
                description="Department look-ups of my record (数据共享查询记录)")


@blp.route("/department-lookups")
class DepartmentLookups(MethodView):
    @auth_required(blp)
    @blp.arguments(SubjectArgs, location="query")
    @blp.response(200, ActivitySchema(many=True))
    @blp.alt_response(403, schema=ErrorSchema, description="The proxy grant has ended or lacks `view`")
    @blp.alt_response(404, schema=ErrorSchema, description="No such subject")
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """Other departments' queries and notifications about me (or the person I help), newest first."""
        session = SessionLocal()
        resident_id, decision = resolve_subject(session, current_caller(), args.get("subject"), "resident:view",
                                                address=client_ip())
        if resident_id is None:
            pagination_parameters.item_count = 0
            return []
        rows = page_of(session, flow.feed_query(resident_id, ("department",)), pagination_parameters, rows=True)
        entries = [flow.entry(session, event, kind, resident_id) for event, kind in rows]
        audit_read(session, "resident.department_lookups", decision)
        session.commit()
        return entries
