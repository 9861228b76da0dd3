"""Decisions in writing and their delivery (送达, issue 12 item 5; flows.letters): the stop letter, recording a
letter as handed over, posted or left, and the letters waiting to be sent in my jurisdiction."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from app.api.base import ErrorSchema
from app.api.schemas import NO_NUL, StrictSchema
from app.api.security import audit_event, authorize, current_caller
from app.api.staff_security import current_staff, staff_required
from app.api.staff_workbench import WorkbenchLetterSchema
from app.db import SessionLocal
from app.errors import NotFound
from flows import letters
from flows import workbench as wb

blp = Blueprint("staff_letters", __name__, url_prefix="/api/v1/staff",
                description="Decisions in writing (决定书) and their delivery (送达)")


class LetterSentArgs(StrictSchema):
    method = ma.fields.String(required=True, validate=ma.validate.OneOf(letters.METHODS),
                              metadata={"description": "in_person (当面) | post (邮寄) | left_at_home (留置)"})
    delivered_on = ma.fields.Date(metadata={"description": "default today; between the decision and today"})
    note = ma.fields.String(load_default="", validate=[ma.validate.Length(0, 200), NO_NUL],
                            metadata={"description": "e.g. the registered-post number"})


class LetterWaitingArgs(StrictSchema):
    overdue = ma.fields.Boolean(load_default=False, metadata={"description": "only those past send_by"})


class LetterWaitingSchema(ma.Schema):
    letter_id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True, metadata={"description": "decision | stop"})
    program = ma.fields.String(required=True)
    program_name = ma.fields.String(required=True)
    decision = ma.fields.String(required=True, metadata={"description": "rejected | stopped | suspended"})
    resident_name_masked = ma.fields.String(required=True)
    community_code = ma.fields.String(allow_none=True)
    decided_on = ma.fields.Date(required=True)
    send_by = ma.fields.Date(required=True)
    overdue = ma.fields.Boolean(required=True)
    working_days_overdue = ma.fields.Integer(required=True)


def _letter(session, letter_id: str, action: str):
    found = letters.find(session, letter_id)
    kind, obj = (found[0], found[1]) if found else (None, None)
    noun = "benefit" if kind == "stop" else "application"
    decision = authorize(session, action if found else "application:view", obj, noun,
                         object_ref=f"letter:{letter_id[:40]}")
    return found, decision


def _stop(session, change_id: str, action: str):
    found, decision = _letter(session, change_id, action)
    if found[0] != "stop":
        raise NotFound("No such stop letter.")
    return found, decision


@blp.route("/stops/<string:change_id>/letter")
class StopLetter(MethodView):
    @staff_required(blp)
    @blp.response(200, WorkbenchLetterSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such stopped or suspended benefit in your "
                                                           "jurisdiction")
    def get(self, change_id):
        """The letter of a stopped or suspended benefit (停发), to print: the grounds (death, moving away, a
        certificate expired, 低保 ended …), from which month, the remedies (行政复议 60 days, 行政诉讼 6 months),
        the day by which it is sent (3 working days) and whether it was. Audited on her behalf."""
        session = SessionLocal()
        (_, benefit, change), decision = _stop(session, change_id, "benefit:view")
        letter = letters.stop_letter(session, benefit, change, wb.today())
        audit_event(session, "staff.stop_letter", object_ref=f"benefit:{benefit.id}",
                    on_behalf_of=decision.on_behalf_of, details={"letter": change.id})
        session.commit()
        return letter


@blp.route("/letters/<string:letter_id>/sent")
class LetterSent(MethodView):
    @staff_required(blp)
    @blp.arguments(LetterSentArgs)
    @blp.response(201, WorkbenchLetterSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="A supervisor or admin sends no letters")
    @blp.alt_response(404, schema=ErrorSchema, description="No such letter in your jurisdiction")
    @blp.alt_response(409, schema=ErrorSchema, description="Already sent, by staff or through the resident's "
                      "channel (`error_code`: letter_already_sent), or not decided (not_decided)")
    @blp.alt_response(422, schema=ErrorSchema, description="A day of delivery before the decision or after today "
                      "(delivered_on_invalid)")
    def post(self, args, letter_id):
        """Record that the letter (a decision: the application id; a stop: the benefit change id) was handed over
        (当面), posted (邮寄) or left at home (留置). Once per letter: a second record is 409, not a repeat. Audited
        on the resident's behalf (she sees it in her feed)."""
        session, today = SessionLocal(), wb.today()
        found, decision = _letter(session, letter_id, "letter:send")
        letter = letters.record_sent(session, found, method=args["method"], delivered_on=args.get("delivered_on"),
                                     staff_id=current_staff().id, note=args["note"], today=today)
        ref = f"application:{found[1].id}" if found[0] == "decision" else f"benefit:{found[1].id}"
        audit_event(session, "staff.letter_sent", object_ref=ref, on_behalf_of=decision.on_behalf_of,
                    details={"letter": letter["letter_id"], "kind": found[0], "method": args["method"],
                             "delivered_on": letter["delivery"]["delivered_on"].isoformat()})
        session.commit()
        return letter, 201


@blp.route("/letters")
class LettersWaiting(MethodView):
    @staff_required(blp)
    @blp.arguments(LetterWaitingArgs, location="query")
    @blp.response(200, LetterWaitingSchema(many=True))
    def get(self, args):
        """Rejections and stops of my jurisdiction not yet sent (decided within the last 183 days, at most 200,
        oldest first), each with its `send_by` and whether it is overdue."""
        session = SessionLocal()
        return letters.waiting(session, current_caller(), wb.today(), overdue_only=args["overdue"])
