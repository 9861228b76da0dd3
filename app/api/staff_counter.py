"""The counter (帮办) and supervision (监督制约) staff API (issue 13 items 1 and 3)."""

from __future__ import annotations

import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint

from app.api.base import ErrorSchema
from app.api.schemas import ID_INPUT, NO_NUL, Digits, StrictSchema, UtcDateTime, reason_field
from app.api.security import audit_event, authorize, config, current_caller
from app.api.staff_security import current_staff, staff_required
from app.api.staff_workbench import WorkbenchBulkResultSchema, _each, _task, check_assignee
from app.authz import role_allows
from app.db import SessionLocal
from app.errors import Forbidden, NotFound, Unprocessable
from app.masking import mask_name
from app.models import Application, CounterVisit, Resident, StaffMember
from flows import counter as flow
from flows import supervision
from flows import workbench as wb

blp = Blueprint("staff_counter", __name__, url_prefix="/api/v1/staff",
                description="The counter (帮办) and supervision (监督制约)")


class CardSchema(StrictSchema):
    """The ID-card reader's output, text only (never the photo)."""
    name = ma.fields.String(required=True, validate=[ma.validate.Length(1, 32), NO_NUL])
    id_number = Digits(id_number=True, required=True, validate=[ma.validate.Length(15, 20), NO_NUL],
                       pattern=ID_INPUT, pattern_error="An ID number is 17 digits and a check character.")
    sex = ma.fields.String(required=True, validate=[ma.validate.Length(1, 4), NO_NUL])
    birth_date = ma.fields.Date(required=True)
    address = ma.fields.String(required=True, validate=[ma.validate.Length(0, 200), NO_NUL])
    issuing_authority = ma.fields.String(required=True, validate=[ma.validate.Length(0, 64), NO_NUL])
    valid_until = ma.fields.Date(required=True, allow_none=True)


class IdentifyArgs(StrictSchema):
    id_number = Digits(id_number=True, validate=[ma.validate.Length(15, 20), NO_NUL], pattern=ID_INPUT,
                       pattern_error="An ID number is 17 digits and a check character.")
    card = ma.fields.Nested(CardSchema)

    @ma.validates_schema
    def one_of(self, data, **_kwargs):
        if bool(data.get("id_number")) == bool(data.get("card")):
            raise ma.ValidationError("Give either a typed id_number or the card reader's JSON (card).", "_schema")


class CounterItemSchema(ma.Schema):
    application_id = ma.fields.String(required=True)
    program = ma.fields.String(required=True)
    program_name = ma.fields.String(required=True)
    state = ma.fields.String(required=True)
    created_at = UtcDateTime(format="iso", required=True)


class CounterBenefitSchema(ma.Schema):
    benefit_id = ma.fields.String(required=True, metadata={
        "description": "for POST /api/v1/staff/benefits/{benefit_id}/proof (a printed proof of the benefit)"})
    program = ma.fields.String(required=True)
    program_name = ma.fields.String(required=True)
    state = ma.fields.String(required=True, metadata={"enum": ["active", "suspended"]})
    start_month = ma.fields.String(required=True, metadata={"example": "2026-03"})


class CounterDecisionSchema(ma.Schema):
    """A decision of hers that can be appealed today (flows.appeals.appealable): POST …/visits/{id}/appeals."""
    decision_key = ma.fields.String(required=True)
    application_id = ma.fields.String(allow_none=True, metadata={"description": "a decided application, or"})
    benefit_id = ma.fields.String(allow_none=True, metadata={"description": "a benefit stopped, suspended or re-priced"})
    program = ma.fields.String(required=True)
    program_name = ma.fields.String(required=True)
    decision = ma.fields.String(required=True, metadata={
        "description": "approved | rejected (an application) or stopped | suspended | tier_raised | repriced"})
    decided_on = ma.fields.Date(required=True)
    appeal_until = ma.fields.Date(required=True, metadata={"description": "the last day of the 60-day period"})


class VisitSchema(ma.Schema):
    visit_id = ma.fields.String(required=True)
    name_masked = ma.fields.String(required=True)
    id_number_masked = ma.fields.String(required=True)
    birth_year = ma.fields.Integer(required=True)
    source = ma.fields.String(required=True, metadata={"description": "typed | card"})
    items = ma.fields.List(ma.fields.Nested(CounterItemSchema), required=True)
    benefits = ma.fields.List(ma.fields.Nested(CounterBenefitSchema), required=True, metadata={
        "description": "the benefits she holds, in payment or suspended (a proof can be printed for one in payment)"})
    decisions = ma.fields.List(ma.fields.Nested(CounterDecisionSchema), required=True, metadata={
        "description": "her decisions that can be appealed today (复核): within 60 days, none with an open appeal"})
    actions = ma.fields.List(ma.fields.Dict(), required=True)
    resident_ref = ma.fields.String(required=True, metadata={
        "description": "her short-lived reference for POST /api/v1/staff/proxy-grants (a proxy grant at the counter)"})


class ConfirmForm(StrictSchema):
    application_id = ma.fields.String(required=True, validate=[ma.validate.Length(1, 64), NO_NUL])
    consent_kind = ma.fields.String(required=True, validate=ma.validate.OneOf(flow.CONSENT_KINDS))


class ApplyForm(StrictSchema):
    """The form of `POST …/applications` as documented; the program's own fields (`apply_form` of GET
    /api/v1/programs/{code}) come next to these and are checked by their declared kind."""
    program = ma.fields.String(required=True, validate=[ma.validate.Length(1, 40), NO_NUL])
    consent_kind = ma.fields.String(required=True, validate=ma.validate.OneOf(flow.CONSENT_KINDS))


def _apply_schema(program) -> ma.Schema:
    """ApplyForm plus the program's declared fields: an amount (yuan, in fen once loaded) or bounded text."""
    from app.api.program_applications import form_field

    return type("ApplyProgramForm", (ApplyForm,), {f.name: form_field(f) for f in program.apply_form})()


def _apply_args(program_code: str):
    """The program asked for and the loaded form (422 `form_invalid` with the fields at fault)."""
    from flows import programs
    from flows.money import fen

    program = programs.get(program_code) if program_code else None
    if program is None:
        raise Unprocessable("No such program.", errors={"program": ["unknown"]}, error_code="form_invalid")
    if not program.citizen_started:  # before its fields are read (it has none)
        raise Unprocessable(f"{program.name} is not applied for by the citizen: the bureau proposes it.",
                            errors={"program": ["not_citizen_started"]}, error_code="not_citizen_started")
    try:
        args = _apply_schema(program).load({k: request.form[k] for k in request.form})
    except ma.ValidationError as exc:
        raise Unprocessable("The form is incomplete.", errors=exc.messages, error_code="form_invalid") from None
    form = {f.name: (fen(args[f.name]) if f.kind == "amount" else args[f.name].strip()) for f in program.apply_form}
    return program, args, form


def _consent_bytes() -> bytes:
    upload = request.files.get("consent")
    if upload is None:
        raise Unprocessable("The resident's consent (signature or photo of the signed slip) is required.",
                            errors={"consent": ["missing"]}, error_code="consent_missing")
    return upload.stream.read(flow.CONSENT_MAX_BYTES + 1)


class ReceiptCaseSchema(ma.Schema):
    application_id = ma.fields.String(required=True)
    program = ma.fields.String(required=True)
    program_name = ma.fields.String(required=True)
    state = ma.fields.String(required=True)
    step = ma.fields.String(required=True)
    due_on = ma.fields.Date(allow_none=True)
    phone = ma.fields.String(allow_none=True)


class ReceiptAppealSchema(ma.Schema):
    appeal_id = ma.fields.String(required=True)
    program = ma.fields.String(required=True)
    program_name = ma.fields.String(required=True)
    application_id = ma.fields.String(allow_none=True)
    benefit_id = ma.fields.String(allow_none=True)
    state = ma.fields.String(required=True, metadata={"description": "received | reviewing | decided"})
    outcome = ma.fields.String(allow_none=True)
    step = ma.fields.String(required=True, metadata={
        "description": "appeal_review (by someone who did not take the decision appealed) | appeal_decided"})
    due_on = ma.fields.Date(required=True, metadata={"description": "the appeal's working-day limit"})
    phone = ma.fields.String(allow_none=True)


class ReceiptSchema(ma.Schema):
    visit_id = ma.fields.String(required=True)
    visited_on = ma.fields.Date(required=True)
    office = ma.fields.String(required=True, metadata={
        "description": "the office visited as people read it (和平街道办事处); its kind and code when no name is known"})
    office_code = ma.fields.String(allow_none=True)
    office_name = ma.fields.String(allow_none=True, metadata={"description": "the area's name, null when unknown"})
    office_phone = ma.fields.String(allow_none=True, metadata={
        "description": "the office's reception phone (接待电话), null when none is recorded"})
    office_address = ma.fields.String(allow_none=True)
    hotline = ma.fields.String(required=True, metadata={"description": "12345 (政务服务热线)"})
    id_number_masked = ma.fields.String(required=True)
    cases = ma.fields.List(ma.fields.Nested(ReceiptCaseSchema), required=True)
    appeals = ma.fields.List(ma.fields.Nested(ReceiptAppealSchema), required=True, metadata={
        "description": "the appeals (复核) filed at this visit"})


def _visit_payload(session, visit: CounterVisit) -> dict:
    from flows import programs

    resident = session.get(Resident, visit.resident_id)

    def name_of(code: str) -> str:
        program = programs.get(code)
        return program.name if program else code

    items = [{"application_id": a.id, "program": a.program, "program_name": name_of(a.program), "state": a.state,
              "created_at": a.created_at} for a in flow.open_items(session, resident.id)]
    benefits = [{"benefit_id": b.id, "program": b.program, "program_name": name_of(b.program), "state": b.state,
                 "start_month": b.start_month} for b in flow.held_benefits(session, resident.id)]
    from app.api.staff import _ref
    from flows.appeals import appealable

    return {"visit_id": visit.id, "resident_ref": _ref(resident), "name_masked": mask_name(resident.name), "id_number_masked": resident.id_mask,
            "birth_year": resident.birth_date.year, "source": visit.source, "items": items, "benefits": benefits,
            "decisions": appealable(session, resident.id, wb.today(), config().appeal_filing_days),
            "actions": [{k: v for k, v in a.items() if k != "consent"} for a in visit.actions or []]}


def _visit(session, visit_id: str):
    visit = session.get(CounterVisit, visit_id) if len(visit_id) <= 64 else None
    decision = authorize(session, "counter:serve", visit, "visit", object_ref=f"counter_visit:{visit_id[:40]}")
    return visit, decision


@blp.route("/counter/identify")
class Identify(MethodView):
    @staff_required(blp)
    @blp.arguments(IdentifyArgs)
    @blp.response(201, VisitSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Role does not serve at the counter")
    @blp.alt_response(404, schema=ErrorSchema, description="Nobody with this ID number in your jurisdiction")
    @blp.alt_response(422, schema=ErrorSchema, description="Bad ID number (`error_code`: id_number_invalid), the "
                      "card disagrees with the registry (card_mismatch) or has expired (card_expired)")
    def post(self, args):
        """Find the resident at the window by a typed ID number or by the ID-card reader's JSON, and open a
        visit (her one trip). Reading the card is not consent. Audited with the purpose office_visit."""
        from app.crypto import cipher_for

        caller = current_caller()
        if not role_allows(caller.role, "counter:serve"):
            raise Forbidden("Your role does not serve at the counter.", error_code="role_not_allowed")
        session, today = SessionLocal(), wb.today()
        resident, source = flow.identify(session, caller, cipher_for(config()), today,
                                         id_number=args.get("id_number"), card=args.get("card"))
        visit = flow.open_visit(session, resident, current_staff(), source, today)
        audit_event(session, "staff.resident_lookup", object_ref=f"counter_visit:{visit.id}",
                    on_behalf_of=f"resident:{resident.id}",
                    details={"purpose": "office_visit", "by": source, "counter": True}, subjects=[resident.id])
        session.commit()
        return _visit_payload(session, visit), 201


@blp.route("/counter/visits/<string:visit_id>")
class Visit(MethodView):
    @staff_required(blp)
    @blp.response(200, VisitSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such visit in your jurisdiction")
    def get(self, visit_id):
        """The visit: the resident (masked), her open proposals and applications, what was done so far."""
        session = SessionLocal()
        visit, _ = _visit(session, visit_id)
        return _visit_payload(session, visit)


@blp.route("/counter/visits/<string:visit_id>/confirm")
class CounterConfirm(MethodView):
    @staff_required(blp)
    @blp.doc(requestBody={"content": {"multipart/form-data": {"schema": ConfirmForm}}})
    @blp.response(200, VisitSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such visit, or no such application of hers")
    @blp.alt_response(422, schema=ErrorSchema, description="No consent file (`error_code`: consent_missing), too "
                      "large (consent_too_large), not PNG/JPEG (consent_type)")
    def post(self, visit_id):
        """Confirm one of her proposals on her behalf, with her recorded consent: multipart form with
        `application_id`, `consent_kind` (signature | slip_photo) and the image file `consent` (PNG or JPEG,
        at most 2 MB). Audited as done by me on her behalf. Idempotent: a repeat (also one sent at the same time)
        gets the same answer and records nothing more."""
        session, today = SessionLocal(), wb.today()
        visit, decision = _visit(session, visit_id)  # authorization first: a stranger's visit is 404
        try:
            args = ConfirmForm().load({k: request.form[k] for k in request.form})
        except ma.ValidationError as exc:
            raise Unprocessable("The form is incomplete.", errors=exc.messages, error_code="form_invalid") from None
        data = _consent_bytes()
        application = session.get(Application, args["application_id"])
        if application is None or application.resident_id != visit.resident_id:
            raise NotFound("No such application of this resident.")
        flow.consent_type(data)  # a repeat with a bad file is refused as the first one would be
        if flow.confirmed_here(session, visit, application.id):  # a repeat: the same answer, nothing new
            session.commit()
            session.expire_all()  # what was read before the parallel confirm that won committed is re-read
            return _visit_payload(session, visit)
        path = flow.store_consent(config().instance_path, visit, data)
        flow.confirm(session, visit, application, current_staff().id, today,
                     {"kind": args["consent_kind"], "path": path})
        audit_event(session, "counter.confirm", object_ref=f"application:{application.id}",
                    on_behalf_of=decision.on_behalf_of or f"resident:{visit.resident_id}",
                    details={"visit": visit.id, "consent_kind": args["consent_kind"], "consent_file": path})
        session.commit()
        return _visit_payload(session, visit)


@blp.route("/counter/visits/<string:visit_id>/applications")
class CounterApply(MethodView):
    @staff_required(blp)
    @blp.doc(requestBody={"content": {"multipart/form-data": {"schema": ApplyForm}}})
    @blp.response(201, VisitSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such visit in your jurisdiction")
    @blp.alt_response(409, schema=ErrorSchema, description="The program's own rule for a repeat (e.g. one in "
                      "progress, one a month): nothing is started")
    @blp.alt_response(422, schema=ErrorSchema, description="Unknown program or bad field (`error_code`: "
                      "form_invalid), a program the citizen does not apply for (not_citizen_started), no consent "
                      "file (consent_missing), too large (consent_too_large), not PNG/JPEG (consent_type)")
    def post(self, visit_id):
        """Start the application she asks for, on her behalf, with her recorded consent: multipart form with
        `program` (a program whose guide has `apply_form`), its form fields by name (amounts in yuan like 300.00,
        text), `consent_kind` (signature | slip_photo) and the image file `consent` (PNG or JPEG, at most 2 MB).
        The program's own use case starts it (the one her phone's form uses); the visit lists it on the receipt.
        Audited as done by me on her behalf (in her activity feed)."""
        session, today = SessionLocal(), wb.today()
        visit, decision = _visit(session, visit_id)  # authorization first: a stranger's visit is 404
        program, args, form = _apply_args((request.form.get("program") or "").strip()[:40])
        application = flow.start_application(session, visit, program, form, today, consent_kind=args["consent_kind"],
                                             consent=_consent_bytes(), instance_path=config().instance_path)
        path = visit.actions[-1]["consent"]["path"]
        audit_event(session, "counter.apply", object_ref=f"application:{application.id}",
                    on_behalf_of=decision.on_behalf_of or f"resident:{visit.resident_id}",
                    details={"visit": visit.id, "program": program.code, "consent_kind": args["consent_kind"],
                             "consent_file": path})
        session.commit()
        return _visit_payload(session, visit), 201


@blp.route("/counter/visits/<string:visit_id>/receipt")
class Receipt(MethodView):
    @staff_required(blp)
    @blp.response(200, ReceiptSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such visit in your jurisdiction")
    def get(self, visit_id):
        """What the printed receipt says: case numbers, next step and its date, the office and its phone, 12345."""
        session = SessionLocal()
        visit, _ = _visit(session, visit_id)
        return flow.receipt(session, visit, wb.today())


# ---- supervision ----------------------------------------------------------------------------------------------

def _supervisor():
    caller = current_caller()
    if not role_allows(caller.role, "supervision:view"):
        raise Forbidden("The supervision dashboard is a supervisor's.", error_code="role_not_allowed")
    return caller


class DashboardSchema(ma.Schema):
    today = ma.fields.Date(required=True)
    per_step = ma.fields.List(ma.fields.Dict(), required=True)
    overdue = ma.fields.List(ma.fields.Dict(), required=True)
    median_days = ma.fields.List(ma.fields.Dict(), required=True)
    activity = ma.fields.List(ma.fields.Dict(), required=True)
    audit = ma.fields.Dict(required=True)
    roll = ma.fields.Dict(required=True)
    staff = ma.fields.List(ma.fields.Dict(), required=True, metadata={"description": "staff of the district "
                                                                                    "(reassignment targets)"})
    trips_this_month = ma.fields.Integer(required=True, metadata={"description": "residents served at a counter: "
                                                                          "one trip per person and day"})
    appeals = ma.fields.List(ma.fields.Dict(), required=True,
                             metadata={"description": "appeals (复核) per office (the resident's street): "
                                                           "received, reviewing, overdue and each outcome"})
    letters_overdue = ma.fields.List(ma.fields.Dict(), required=True, metadata={
        "description": "rejections and stops not sent within 3 working days (as GET /api/v1/staff/letters"
                       "?overdue=true)"})


@blp.route("/supervision")
class Dashboard(MethodView):
    @staff_required(blp)
    @blp.response(200, DashboardSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Not a supervisor")
    def get(self):
        """The supervisor's dashboard of her jurisdiction."""
        caller = _supervisor()
        session = SessionLocal()
        out = supervision.dashboard(session, caller, wb.today(), audit_anchor_path=config().audit_anchor_path)
        for row in out["overdue"]:
            row["due_on"] = row["due_on"].isoformat()
        for row in out["letters_overdue"]:
            row["decided_on"], row["send_by"] = row["decided_on"].isoformat(), row["send_by"].isoformat()
        return out


class BulkReassignArgs(StrictSchema):
    from_staff_id = ma.fields.String(required=True, validate=[ma.validate.Length(1, 32), NO_NUL])
    to_staff_id = ma.fields.String(required=True, allow_none=True, validate=[ma.validate.Length(1, 32), NO_NUL])
    reason = reason_field(200)


@blp.route("/supervision/bulk-reassign")
class BulkReassign(MethodView):
    @staff_required(blp)
    @blp.arguments(BulkReassignArgs)
    @blp.response(200, WorkbenchBulkResultSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Not a supervisor")
    @blp.alt_response(404, schema=ErrorSchema, description="No such staff member here")
    def post(self, args):
        """Give every open task an absent staff member holds in my jurisdiction to someone else (or back to the
        pool with `to_staff_id: null`), with a reason; a result per task, each audited."""
        caller = _supervisor()
        session = SessionLocal()
        absent = session.get(StaffMember, args["from_staff_id"])
        if absent is None or absent.district_code != caller.district_code:
            raise NotFound("No such staff member here.")
        to = None
        if args["to_staff_id"]:
            to = session.get(StaffMember, args["to_staff_id"])
            if to is None or to.district_code != caller.district_code:
                raise NotFound("No such staff member here.")
            if to.id == absent.id:
                raise Unprocessable("Give the tasks to someone else, or back to the pool.",
                                    errors={"json": {"to_staff_id": ["The same staff member as from_staff_id."]}})
        ids = [t.id for t in supervision.tasks_held_by(session, caller, absent.id)]

        def one(task_id):
            task, decision = _task(session, task_id, "task:reassign", bulk=True)
            if to is not None:
                check_assignee(session, task, to)
            wb.reassign(session, task, to, held_by=absent.id)  # moved since the list was read: 409 task_moved
            audit_event(session, "staff.task_reassign", object_ref=f"task:{task.id}",
                        on_behalf_of=decision.on_behalf_of,
                        details={"from": absent.id, "to": to.id if to else None, "reason": args["reason"],
                                 "bulk": True})

        return _each(session, ids, one, "task")
