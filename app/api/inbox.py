"""The in-app inbox: `GET /api/v1/inbox` (newest first, paginated) and `POST /api/v1/inbox/{id}/read`.

The caller sees items tied to her account and items tied to the resident her account is bound to
(messages written before she had an account included).
"""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView

from app.api.base import Blueprint, ErrorSchema, page_of
from app.api.schemas import UtcDateTime
from app.api.security import auth_required, current_account
from app.db import SessionLocal
from app.errors import NotFound
from notifications import inbox

blp = Blueprint("inbox", __name__, url_prefix="/api/v1/inbox", description="The citizen's in-app messages.")


class InboxActionSchema(ma.Schema):
    label = ma.fields.String(required=True, metadata={"description": "button text, e.g. 撤销授权"})
    method = ma.fields.String(required=True, metadata={"enum": ["POST"]})
    path = ma.fields.String(required=True, metadata={"description": "API path to call, e.g. a grant's revoke"})


class InboxItemSchema(ma.Schema):
    id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "message kind, e.g. proposal_ready"})
    title = ma.fields.String(required=True)
    body = ma.fields.String(required=True)
    application_id = ma.fields.String(allow_none=True)
    created_at = UtcDateTime(required=True, format="iso")
    read_at = UtcDateTime(allow_none=True, format="iso")
    action = ma.fields.Nested(InboxActionSchema, allow_none=True,
                              metadata={"description": "one-tap action (a new proxy: revoke it), else null"})


def _with_actions(session, items: list) -> list[dict]:
    actions = inbox.actions_for(session, items)
    fields = ("id", "kind", "title", "body", "application_id", "created_at", "read_at")
    return [{**{f: getattr(i, f) for f in fields}, "action": actions.get(i.id)} for i in items]


@blp.route("")
class InboxList(MethodView):
    @auth_required(blp)
    @blp.response(200, InboxItemSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """The caller's messages, newest first."""
        session = SessionLocal()
        query = inbox.items_for(session, current_account())
        return _with_actions(session, page_of(session, query, pagination_parameters))


@blp.route("/<string:item_id>/read")
class InboxRead(MethodView):
    @auth_required(blp)
    @blp.response(200, InboxItemSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such message for this account")
    def post(self, item_id: str):
        """Mark one message read (idempotent)."""
        session = SessionLocal()
        item = inbox.mark_read(session, current_account(), item_id)
        if item is None:
            raise NotFound("No such message.")
        session.commit()
        return _with_actions(session, [item])[0]
