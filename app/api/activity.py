"""The resident feed: `GET /api/v1/me/activity` — who acted on or looked at my record, at what, why, when
(flows.activity). `GET /api/v1/proxies/activity` is the same feed filtered to proxies and staff."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from app.api.base import page_of
from app.api.schemas import StrictSchema, UtcDateTime
from app.api.security import auth_required, current_account
from app.db import SessionLocal
from flows import activity as flow

blp = Blueprint("activity", __name__, url_prefix="/api/v1/me", description="The resident feed (我的记录被谁查看)")


class ActivityArgs(StrictSchema):
    actor_kind = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(flow.ACTOR_KINDS)),
                                validate=ma.validate.Length(max=4), metadata={
                                    "description": "only these actors (repeat the parameter): self, proxy, staff, "
                                                   "system"})


class ActivitySchema(ma.Schema):
    at = UtcDateTime(format="iso", required=True)
    action = ma.fields.String(required=True, metadata={"example": "application.view"})
    what = ma.fields.String(required=True, metadata={"example": "查看了申请"})
    result = ma.fields.String(required=True)
    actor_kind = ma.fields.String(required=True, metadata={"enum": list(flow.ACTOR_KINDS)})
    actor_name = ma.fields.String(required=True, metadata={
        "description": "a proxy's masked name as bound when she acted (or 已解除绑定的代办人); for staff the "
                       "office, never a staff member's name; 本人 / 系统"})
    office = ma.fields.String(allow_none=True, metadata={
        "description": "staff only: the office that acted, by name (和平街道办事处) when one is known"})
    office_code = ma.fields.String(allow_none=True, metadata={"description": "staff only: the office's area code"})
    purpose = ma.fields.String(allow_none=True, metadata={"description": "why: a code (staff purpose, or proxy)"})
    purpose_text = ma.fields.String(allow_none=True)
    object_id = ma.fields.String(allow_none=True)
    object_ids = ma.fields.List(ma.fields.String(), required=True, metadata={
        "description": "the ids a list page showed (only when all are yours)"})


def feed_page(actor_kinds, pagination_parameters) -> list[dict]:
    session = SessionLocal()
    account = current_account()
    if account.resident_id is None:
        pagination_parameters.item_count = 0
        return []
    rows = page_of(session, flow.feed_query(account.resident_id, tuple(actor_kinds or ())), pagination_parameters,
                   rows=True)
    return [flow.entry(session, event, kind, account.resident_id) for event, kind in rows]


@blp.route("/activity")
class Activity(MethodView):
    @auth_required(blp)
    @blp.arguments(ActivityArgs, location="query")
    @blp.response(200, ActivitySchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """My feed, newest first: every read or action on my record or case by a proxy (masked name) or a staff
        member (office and purpose, never a name), and my own binding and unbinding. Empty while unbound."""
        return feed_page(args.get("actor_kind"), pagination_parameters)
