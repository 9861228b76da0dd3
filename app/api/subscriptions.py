"""Subscribe-message quotas as the backend counts them.

`GET /api/v1/subscriptions`: the templates the app should ask the user to accept, each with
`remaining` — for a one-time template (`long_term` false) the number of grants left (an integer, 0 when
none or refused); for a long-term template `null` while accepted (no count: every send is allowed) and 0
when not accepted or refused. `needs_prompt` tells the app to show the one-tap "turn on notifications"
prompt.

`POST /api/v1/subscriptions {template_id, status}`: one result of `wx.requestSubscribeMessage`
(accept | reject | ban | filter). accept adds one grant (one-time) or turns a long-term template on;
reject/ban mark it refused; filter changes nothing. Unknown template_id → 422.
"""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from app.api.base import Blueprint, ErrorSchema
from app.api.security import auth_required, current_account
from app.db import SessionLocal
from app.errors import Unprocessable
from notifications import subscriptions
from notifications.templates import registry, template_by_id

blp = Blueprint("subscriptions", __name__, url_prefix="/api/v1/subscriptions",
                description="WeChat subscribe-message grants counted by the backend.")


class QuotaSchema(ma.Schema):
    template_id = ma.fields.String(required=True)
    title = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    long_term = ma.fields.Boolean(required=True)
    remaining = ma.fields.Integer(
        required=True, allow_none=True,
        metadata={"description": "one-time: grants left; long-term: null while accepted, 0 otherwise"})
    status = ma.fields.String(allow_none=True, metadata={"description": "last result: accept, reject, ban"})
    needs_prompt = ma.fields.Boolean(required=True)


class PopupResultSchema(ma.Schema):
    template_id = ma.fields.String(required=True, validate=ma.validate.OneOf(sorted(t.id for t in registry().values())))
    status = ma.fields.String(required=True, validate=ma.validate.OneOf(subscriptions.STATUSES))


def _view(q: subscriptions.QuotaView) -> dict:
    return {"template_id": q.template.id, "title": q.template.title, "kind": q.template.kind,
            "long_term": q.template.long_term, "remaining": q.remaining, "status": q.status,
            "needs_prompt": q.needs_prompt}


@blp.route("")
class Subscriptions(MethodView):
    @auth_required(blp)
    @blp.response(200, QuotaSchema(many=True))
    def get(self):
        """The templates to ask for, with the quota the backend has counted."""
        views = subscriptions.quota_for(SessionLocal(), current_account().id, list(registry().values()))
        return [_view(v) for v in views]

    @auth_required(blp)
    @blp.arguments(PopupResultSchema)
    @blp.response(200, QuotaSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="Unknown template_id or status")
    def post(self, body):
        """Record one pop-up result the app got from wx.requestSubscribeMessage."""
        template = template_by_id(body["template_id"])
        if template is None:
            raise Unprocessable("Unknown template_id.", errors={"json": {"template_id": ["Unknown template."]}})
        session = SessionLocal()
        account = current_account()
        subscriptions.record_popup(session, account.id, template, body["status"], source="app")
        session.commit()
        return _view(subscriptions.quota_for(session, account.id, [template])[0])
