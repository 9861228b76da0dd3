"""Staff API of the programs: the casework queue (disability review and every 低保 step) of my jurisdiction with
the full trace, the decisions that move an application (review, home visit, street review, objections, county
approval), the overdue list, the community worker's home-help visit and a benefit's re-check after new income data.

One path per decision: these endpoints drive the application through flows (and close its task); the generic
`POST /staff/tasks/{id}/decide` refuses tasks that belong to an application (409 naming the endpoint).
Every decision is authorized by app.authz (role and jurisdiction; 404 outside it) and audited with its reason.
"""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from app.api.base import ErrorSchema, page_of
from app.api.schemas import NO_NUL, JsonBoolean, StrictSchema, UtcDateTime, reason_field
from app.api.security import audit_event, authorize, current_caller
from app.api.staff import TaskSchema, task_payload
from app.api.staff_security import current_staff, staff_required
from app.authz import APPROVING_ACTIONS, can, separation_of_duties
from app.db import SessionLocal
from app.errors import Conflict, NotFound
from app.models import Application, Objection, PublicNotice, Resident, StaffTask
from flows import casework, home_visits, programs, staff_cases
from flows.dates import today_shanghai
from flows.lifecycle import income

blp = Blueprint("staff_programs", __name__, url_prefix="/api/v1/staff",
                description="Staff casework of the programs (review, 低保 steps, objections, overdue, home help)")

# What the programs declare: those with staff steps, the coded reasons of their step decisions, the items of
# their home-visit checklists.
PROGRAMS = tuple(code for code, p in programs.PROGRAMS.items() if p.waiting_steps)
DISABILITY_CODES = tuple(sorted(casework.REVIEW_REJECTION_REASONS))
STEP_DECISION_CODES = tuple(sorted({code for p in programs.PROGRAMS.values() for action in p.step_actions.values()
                                    if action["path"] in ("street-review", "county-decision")
                                    for code in action["reasons"]}))
CHECKLIST_ITEMS = tuple(dict.fromkeys(item for p in programs.PROGRAMS.values() for item in p.home_visit_checklist))


def _casework(application: Application, code: str | None = None):
    """The own casework module (Program.casework) of the application's program (or of `code`); 409 without."""
    program = programs.get(code or application.program)
    module = program.casework_module() if program else None
    if module is None:
        raise Conflict("This program's process has no such step.", error_code="application_state")
    return module
REASON = reason_field(500, metadata={
    "description": "the decision's reason in plain words: audited, kept in the trace, and shown to the citizen "
                   "with the coded reason of a rejection"})


def _program_with_staff_steps(value: str) -> None:
    """A registered program that has staff steps (checked when asked: the registry may grow)."""
    program = programs.get(value)
    if program is None or not program.waiting_steps:
        raise ma.ValidationError("Not a program with staff steps.")


class CaseQueueArgs(StrictSchema):
    program = ma.fields.String(validate=[ma.validate.Length(max=40), _program_with_staff_steps],
                               metadata={"description": "a program code with staff steps, e.g. " +
                                                        ", ".join(PROGRAMS)})
    step = ma.fields.String(validate=ma.validate.OneOf(staff_cases.STEPS))


class ObjectionViewSchema(ma.Schema):
    id = ma.fields.String(required=True)
    state = ma.fields.String(required=True)
    text = ma.fields.String(required=True)
    created_at = UtcDateTime(required=True)


class CaseSchema(ma.Schema):
    application_id = ma.fields.String(required=True)
    program = ma.fields.String(required=True)
    state = ma.fields.String(required=True)
    decision = ma.fields.String(allow_none=True)
    step = ma.fields.String(allow_none=True, metadata={"description": "the staff step waiting, if any"})
    due_on = ma.fields.Date(allow_none=True)
    overdue = ma.fields.Boolean(required=True)
    calendar_note = ma.fields.String(allow_none=True)
    resident_name = ma.fields.String(required=True)
    resident_id_masked = ma.fields.String(required=True)
    district_code = ma.fields.String(required=True)
    street_code = ma.fields.String(required=True)
    community_code = ma.fields.String(required=True)
    monthly_amount = ma.fields.String(allow_none=True)
    economic_check = ma.fields.List(ma.fields.Dict(), allow_none=True, metadata={
        "description": "低保: the report per household member (income by kind, assets, sources)"})
    checklist = ma.fields.List(ma.fields.String(), allow_none=True, metadata={"description": "低保 home visit"})
    trace = ma.fields.List(ma.fields.Dict(), required=True, metadata={
        "description": "the stored entries in full: code, passed, value, source, source_date, staff_id, text"})
    objections = ma.fields.List(ma.fields.Nested(ObjectionViewSchema), required=True)
    updated_at = UtcDateTime(required=True)


class OverdueSchema(ma.Schema):
    application_id = ma.fields.String(required=True)
    program = ma.fields.String(required=True)
    state = ma.fields.String(required=True)
    step = ma.fields.String(required=True)
    started_on = ma.fields.Date(required=True)
    due_on = ma.fields.Date(required=True)
    working_days = ma.fields.Integer(required=True)
    days_late = ma.fields.Integer(required=True)
    calendar_note = ma.fields.String(allow_none=True)


class _Decision(StrictSchema):
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(("approve", "reject")))
    reason = REASON

    @ma.validates_schema
    def _code(self, data, **_):
        if data.get("decision") == "reject" and not data.get("reason_code"):
            raise ma.ValidationError("A rejection needs a coded reason.", "reason_code")


class ReviewArgs(_Decision):
    reason_code = ma.fields.String(validate=ma.validate.OneOf(DISABILITY_CODES))


class StepDecisionArgs(_Decision):
    reason_code = ma.fields.String(validate=ma.validate.OneOf(STEP_DECISION_CODES))


_FILE_ID = [ma.validate.Length(min=1, max=64), NO_NUL]


def _client_id(value: str) -> None:
    """Letters, digits of 0-9 (ASCII only), '-' and '_' (a UUID as the phone generates it)."""
    if not all(c.isascii() and (c.isalnum() or c in "-_") for c in value):
        raise ma.ValidationError("Use letters, 0-9, '-' and '_' only.")


class VisitSignaturesSchema(StrictSchema):
    investigator_1 = ma.fields.String(required=True, validate=_FILE_ID, metadata={"description": "my signature"})
    investigator_2 = ma.fields.String(required=True, validate=_FILE_ID, metadata={"description": "my colleague's"})
    household = ma.fields.String(required=True, validate=_FILE_ID,
                                 metadata={"description": "the household member's signature, or the photo of the "
                                                          "thumb-printed form (household_signer thumbprint_form)"})


class VisitLocationSchema(StrictSchema):
    latitude = ma.fields.Float(required=True, validate=ma.validate.Range(-90, 90))
    longitude = ma.fields.Float(required=True, validate=ma.validate.Range(-180, 180))


class HomeVisitArgs(StrictSchema):
    client_id = ma.fields.String(required=True, validate=[ma.validate.Length(min=8, max=64), _client_id],
                                 metadata={"description": "generated on the phone per visit: a resend records it once"})
    checklist = ma.fields.Dict(keys=ma.fields.String(validate=ma.validate.OneOf(CHECKLIST_ITEMS)),
                               values=JsonBoolean(), required=True,
                               metadata={"description": "every item of the case's checklist → true/false"})
    note = ma.fields.String(load_default="", validate=[ma.validate.Length(max=500), NO_NUL])
    second_investigator = ma.fields.String(required=True, validate=_FILE_ID,
                                           metadata={"description": "the staff id of the colleague at the door"})
    household_signer = ma.fields.String(required=True, validate=ma.validate.OneOf(home_visits.HOUSEHOLD_SIGNERS))
    signatures = ma.fields.Nested(VisitSignaturesSchema, required=True)
    photos = ma.fields.List(ma.fields.String(validate=_FILE_ID), load_default=list,
                            validate=ma.validate.Length(max=home_visits.MAX_PHOTOS))
    visited_at = UtcDateTime(load_default=None)
    location = ma.fields.Nested(VisitLocationSchema, load_default=None, allow_none=True)


class ObjectionDecideArgs(StrictSchema):
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(("upheld", "dismissed")))
    reason = REASON


class HomeHelpArgs(StrictSchema):
    outcome = ma.fields.String(required=True, validate=ma.validate.OneOf(casework.HOME_HELP_OUTCOMES))
    note = ma.fields.String(load_default="", validate=[ma.validate.Length(max=500), NO_NUL])


def case_payload(session, application: Application) -> dict:
    resident = session.get(Resident, application.resident_id)
    deadline = staff_cases.open_deadline_of(session, application)
    prefill = application.prefill or {}
    task = session.scalar(select(StaffTask).where(StaffTask.application_id == application.id,
                                                  StaffTask.kind == "home_visit").order_by(StaffTask.created_at))
    report = (prefill.get("economic_check") or {}).get("value")
    return {
        "application_id": application.id, "program": application.program, "state": application.state,
        "decision": application.decision, "step": staff_cases.step_of(application),
        "due_on": deadline.due_on if deadline else None,
        "overdue": bool(deadline and (deadline.overdue or (deadline.done_on is None
                                                           and deadline.due_on < today_shanghai()))),
        "calendar_note": (deadline.calendar_note or None) if deadline else None,
        "resident_name": resident.name, "resident_id_masked": resident.id_mask,
        "district_code": resident.district_code, "street_code": resident.street_code,
        "community_code": resident.community_code,
        "monthly_amount": (prefill.get("monthly_amount") or {}).get("value"),
        "economic_check": report if isinstance(report, list) else None,
        "checklist": (task.details or {}).get("checklist") if task else None,
        "trace": list(application.trace or []),
        "objections": [{"id": o.id, "state": o.state, "text": o.text, "created_at": o.created_at}
                       for o in staff_cases.objections_of(session, application)],
        "updated_at": application.updated_at,
    }


def _application(session, application_id: str, action: str):
    application = session.get(Application, application_id) if len(application_id) <= 64 else None
    if action in APPROVING_ACTIONS and application is not None and \
            can(session, current_caller(), "application:view", application):
        # whoever did an earlier step of a case she may see is told so, whatever her role carries
        separation_of_duties(session, current_caller(), action, application)
    decision = authorize(session, action, application, "application", object_ref=f"application:{application_id[:40]}")
    separation_of_duties(session, current_caller(), action, application)  # issue 12: who did a step, who decides
    return application, decision


def _audit(session, action: str, application: Application, decision, result: str, details: dict) -> None:
    audit_event(session, action, object_ref=f"application:{application.id}", on_behalf_of=decision.on_behalf_of,
                result=result[:32], details={"program": application.program, "state": application.state, **details})


@blp.route("/cases")
class Cases(MethodView):
    @staff_required(blp)
    @blp.arguments(CaseQueueArgs, location="query")
    @blp.response(200, CaseSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """The review queue of my jurisdiction: disability subsidies waiting for review and 低保 cases waiting
        for a home visit, a street review, the end of their 公示 (objections) or county approval — with the
        full trace. The read is audited."""
        session = SessionLocal()
        query = staff_cases.review_queue(current_caller(), args.get("program"), args.get("step"))
        rows = page_of(session, query, pagination_parameters)
        out = [case_payload(session, a) for a in rows]
        audit_event(session, "staff.case_queue", result="ok",
                    details={"program": args.get("program"), "step": args.get("step"), "shown": len(out),
                             "applications": [a.id for a in rows]},
                    subjects=[a.resident_id for a in rows])
        session.commit()
        return out


@blp.route("/overdue")
class Overdue(MethodView):
    @staff_required(blp)
    @blp.response(200, OverdueSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Steps of my jurisdiction past their statutory working-day limit, the latest first in line."""
        session, today = SessionLocal(), today_shanghai()
        query = staff_cases.overdue_steps(current_caller(), today)
        rows = page_of(session, query, pagination_parameters, rows=True)
        audit_event(session, "staff.overdue_list", details={"ids": [a.id for _d, a in rows]},
                    subjects=[a.resident_id for _d, a in rows])
        session.commit()
        return [{"application_id": a.id, "program": a.program, "state": a.state, "step": d.step,
                 "started_on": d.started_on, "due_on": d.due_on, "working_days": d.working_days,
                 "days_late": max((today - d.due_on).days, 0), "calendar_note": d.calendar_note or None}
                for d, a in rows]


@blp.route("/applications/<string:application_id>/review")
class Review(MethodView):
    @staff_required(blp)
    @blp.arguments(ReviewArgs)
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such application in your jurisdiction")
    @blp.alt_response(409, schema=ErrorSchema, description="Not a reviewed case waiting for review")
    def post(self, args, application_id):
        """Review a case of a reviewed program (reviewer): approval re-checks the rule and either sends the case
        to the approvers' pool (a program with an approval step: `approving`) or starts the benefit; a rejection
        carries a coded reason and the text the citizen reads."""
        session = SessionLocal()
        application, decision = _application(session, application_id, "casework:review")
        casework.review(session, application, current_staff().id, args["decision"] == "approve",
                        args.get("reason_code"), note=args["reason"])
        _audit(session, "staff.case_review", application, decision, args["decision"],
               {"reason_code": args.get("reason_code"), "reason": args["reason"]})
        session.commit()
        return case_payload(session, application)


@blp.route("/applications/<string:application_id>/approve")
class Approve(MethodView):
    @staff_required(blp)
    @blp.arguments(ReviewArgs)
    @blp.response(200, CaseSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="You reviewed this case yourself (`error_code`: "
                      "segregation_of_duties), or your role or level does not approve")
    @blp.alt_response(404, schema=ErrorSchema, description="No such application in your jurisdiction")
    @blp.alt_response(409, schema=ErrorSchema, description="Not a reviewed case waiting for approval")
    def post(self, args, application_id):
        """Approve a reviewed case of a program with an approval step (approver of the district; never the
        person who reviewed it): the rule is re-checked on today's data; approval starts the benefit, a
        rejection carries a coded reason and the text the citizen reads."""
        session = SessionLocal()
        application, decision = _application(session, application_id, "casework:approve")
        casework.approve(session, application, current_staff().id, args["decision"] == "approve",
                         args.get("reason_code"), note=args["reason"])
        _audit(session, "staff.case_approve", application, decision, args["decision"],
               {"reason_code": args.get("reason_code"), "reason": args["reason"]})
        session.commit()
        return case_payload(session, application)


@blp.route("/applications/<string:application_id>/home-visit")
class HomeVisit(MethodView):
    @staff_required(blp)
    @blp.arguments(HomeVisitArgs)
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such application in your jurisdiction")
    @blp.alt_response(409, schema=ErrorSchema, description="Not a 低保 case waiting for its home visit")
    @blp.alt_response(422, schema=ErrorSchema, description="The checklist is incomplete")
    def post(self, args, application_id):
        """Record the 低保 home visit (入户调查) with its checklist: all true → street review; otherwise the case
        is rejected (`home_visit_mismatch`)."""
        session = SessionLocal()
        application, decision = _application(session, application_id, "case:home_visit")
        visit, created = home_visits.record(
            session, current_caller(), application, args, "case:home_visit",
            lambda: _casework(application).waiting_for(application, "home_visit"),
            lambda: _casework(application).record_home_visit(session, application, current_staff().id,
                                                             args["checklist"], args["note"]))
        if created:
            _audit(session, "staff.home_visit", application, decision, application.state,
                   {"checklist": args["checklist"], "note": args["note"][:200], "home_visit": visit.id,
                    "second_investigator": visit.investigator_2})
        session.commit()
        return case_payload(session, application)


class ExtendArgs(StrictSchema):
    reason = ma.fields.String(required=True, validate=[ma.validate.Length(min=4, max=200), NO_NUL])


@blp.route("/applications/<string:application_id>/extend")
class ExtendCase(MethodView):
    @staff_required(blp)
    @blp.arguments(ExtendArgs)
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such application in your jurisdiction")
    @blp.alt_response(409, schema=ErrorSchema, description="Already extended once (`error_code`: "
                      "already_extended), or the case is not open (case_closed)")
    def post(self, args, application_id):
        """Extend the 低保 case's time limit once, with a reason (30 → 45 working days from 受理, parameters);
        the resident is told the new date."""
        session = SessionLocal()
        application, decision = _application(session, application_id, "case:extend")
        row = _casework(application).extend(session, application, current_staff().id, args["reason"])
        _audit(session, "staff.case_extend", application, decision, application.state,
               {"reason": args["reason"][:200], "due_on": row.due_on.isoformat()})
        session.commit()
        return case_payload(session, application)


@blp.route("/applications/<string:application_id>/street-review")
class StreetReview(MethodView):
    @staff_required(blp)
    @blp.arguments(StepDecisionArgs)
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such application in your jurisdiction")
    @blp.alt_response(409, schema=ErrorSchema, description="Not a 低保 case waiting for street review")
    def post(self, args, application_id):
        """Street review (reviewer or above): approval opens the 公示 for `notice_days`; a rejection carries a
        coded reason."""
        session = SessionLocal()
        application, decision = _application(session, application_id, "case:street_review")
        _casework(application).street_review(session, application, current_staff().id,
                                             args["decision"] == "approve", args.get("reason_code"),
                                             note=args["reason"])
        _audit(session, "staff.street_review", application, decision, args["decision"],
               {"reason_code": args.get("reason_code"), "reason": args["reason"]})
        session.commit()
        return case_payload(session, application)


@blp.route("/applications/<string:application_id>/county-decision")
class CountyDecision(MethodView):
    @staff_required(blp)
    @blp.arguments(StepDecisionArgs)
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such application in your jurisdiction")
    @blp.alt_response(403, schema=ErrorSchema, description="Not an approver (`error_code`: role_not_allowed; "
                      "role_decides_no_case for a supervisor or admin), one of a street or community "
                      "(district_level_only), a case about her own household (staff_self_involvement), or one whose "
                      "home visit or review she recorded (segregation_of_duties)")
    @blp.alt_response(409, schema=ErrorSchema, description="Not a 低保 case waiting for county approval")
    def post(self, args, application_id):
        """County approval (approver or admin of the district, not of a street): the rule is re-checked on
        today's data; approval starts the benefit from the next month."""
        session = SessionLocal()
        application, decision = _application(session, application_id, "case:county_approve")
        _casework(application).county_decide(session, application, current_staff().id,
                                             args["decision"] == "approve", args.get("reason_code"),
                                             note=args["reason"])
        _audit(session, "staff.county_decision", application, decision, args["decision"],
               {"reason_code": args.get("reason_code"), "reason": args["reason"]})
        session.commit()
        return case_payload(session, application)


@blp.route("/objections/<string:objection_id>/decide")
class ObjectionDecide(MethodView):
    @staff_required(blp)
    @blp.arguments(ObjectionDecideArgs)
    @blp.response(200, CaseSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such objection in your jurisdiction")
    @blp.alt_response(409, schema=ErrorSchema, description="Decided already (`error_code`: objection_decided)")
    def post(self, args, objection_id):
        """Decide an objection to a 公示, during or after the period (reviewer or above). After the period, the
        last decision moves the case at once: upheld → rejected (`objection_upheld`), else county approval."""
        session = SessionLocal()
        objection = session.get(Objection, objection_id) if len(objection_id) <= 64 else None
        notice = session.get(PublicNotice, objection.notice_id) if objection else None
        application = session.get(Application, notice.application_id) if notice else None
        decision = authorize(session, "objection:decide", application, "objection",
                             object_ref=f"objection:{objection_id[:40]}")
        if objection is None:
            raise NotFound("No such objection.")
        separation_of_duties(session, current_caller(), "objection:decide", application)  # not her household's case
        _casework(application, notice.program).decide_objection(session, objection, args["decision"] == "upheld",
                                                current_staff().id, args["reason"])
        audit_event(session, "staff.objection_decide", object_ref=f"objection:{objection.id}",
                    on_behalf_of=decision.on_behalf_of, result=args["decision"],
                    details={"application": application.id, "reason": args["reason"], "state": application.state})
        session.commit()
        return case_payload(session, application)


@blp.route("/tasks/<string:task_id>/home-help")
class HomeHelp(MethodView):
    @staff_required(blp)
    @blp.arguments(HomeHelpArgs)
    @blp.response(200, TaskSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such task in your jurisdiction")
    @blp.alt_response(409, schema=ErrorSchema, description="Not an open home-help task")
    def post(self, args, task_id):
        """The community worker's day-14 home-help visit: the resident confirmed (the application is confirmed
        on her behalf and goes on), declined, or was unreachable (the task stays open, due in 7 days)."""
        session = SessionLocal()
        task = session.get(StaffTask, task_id) if len(task_id) <= 64 else None
        decision = authorize(session, "casework:home_help", task, "task", object_ref=f"task:{task_id[:40]}")
        casework.complete_home_help(session, task, args["outcome"], current_staff().id, note=args["note"],
                                    actor=current_staff().account_id)
        application = session.get(Application, task.application_id) if task.application_id else None
        audit_event(session, "staff.home_help", object_ref=f"task:{task.id}", on_behalf_of=decision.on_behalf_of,
                    result=args["outcome"], details={"application": task.application_id,
                                                     "state": application.state if application else None,
                                                     "note": args["note"][:200]})
        session.commit()
        return task_payload(session, task)


class RecheckArgs(StrictSchema):
    outcome = ma.fields.String(required=True, validate=ma.validate.OneOf(income.OUTCOMES), metadata={
        "description": "confirm: propose the new amount or the stop for a second person's approval; dismiss: the "
                       "payment stays as it is"})
    reason = reason_field(500)


class RecheckSchema(TaskSchema):
    approval_id = ma.fields.String(allow_none=True, metadata={
        "description": "confirmed: the pending approval a different person (casework:approve) approves with "
                       "POST /api/v1/staff/approvals/{id}/approve or `zerotrip approvals approve`"})
    text = ma.fields.String(allow_none=True, metadata={"description": "the re-check in words"})


@blp.route("/tasks/<string:task_id>/recheck")
class Recheck(MethodView):
    @staff_required(blp)
    @blp.arguments(RecheckArgs)
    @blp.response(200, RecheckSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such task in your jurisdiction")
    @blp.alt_response(409, schema=ErrorSchema, description="Not an open re-check task, or the benefit already "
                      "waits for an approval (`error_code`: task_decided, approval_pending)")
    def post(self, args, task_id):
        """A benefit's re-check after new income data (动态管理, reviewer or above): confirm the new amount or the
        stop (it applies from the month after a second person's approval; the family is told then), or dismiss
        it (the payment stays)."""
        session = SessionLocal()
        task = session.get(StaffTask, task_id) if len(task_id) <= 64 else None
        decision = authorize(session, "casework:review", task, "task", object_ref=f"task:{task_id[:40]}")
        separation_of_duties(session, current_caller(), "casework:review", task)  # not her own household's
        approval = income.handle(session, task, current_staff(), args["outcome"], args["reason"])
        audit_event(session, "staff.benefit_recheck", object_ref=f"task:{task.id}",
                    on_behalf_of=decision.on_behalf_of, result=args["outcome"],
                    details={"benefit": (task.details or {}).get("benefit_id"), "reason": args["reason"][:200],
                             "approval": approval.id if approval else None})
        session.commit()
        return {**task_payload(session, task), "approval_id": approval.id if approval else None,
                "text": (task.details or {}).get("text")}
