"""The staff API behind the workbench at /staff/ (issue 12): password change, the inbox (pool per role and
jurisdiction, claim, release, reassign, bulk claim, bulk review), staff accounts (admin)."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from app import authz, digits
from app.api.base import ErrorSchema, page_of
from app.api.schemas import ID_INPUT, NO_NUL, AsciiInteger, Digits, StrictSchema, UtcDateTime, reason_field
from app.api.security import (
    audit_event,
    audit_events_after,
    authorize,
    client_ip,
    current_caller,
    current_principal,
)
from app.api.staff import StaffSchema, TaskSchema, staff_payload, task_payload
from app.api.staff_security import current_staff, staff_required
from app.authz import PERMISSIONS, ROLES, may_manage_staff, separation_of_duties
from app.db import SessionLocal, begin_writing, changed_here
from app.errors import Conflict, DomainError, Forbidden, NotFound
from app.masking import mask_name
from app.models import Application, StaffMember, StaffTask
from flows import staff as staff_flow
from flows import workbench as flow

blp = Blueprint("staff_workbench", __name__, url_prefix="/api/v1/staff",
                description="Workbench (办理平台): inbox, claim, bulk work, accounts")


# A new password: at least 12 characters, as the document says; the flow refuses a shorter one with its own reason
# (422 `password_too_short`), which a schema minimum would hide behind a generic validation error.
NEW_PASSWORD = {"minLength": staff_flow.MIN_PASSWORD,
                "description": f"at least {staff_flow.MIN_PASSWORD} characters (else 422 `password_too_short`)"}


class WorkbenchPasswordArgs(StrictSchema):
    current_password = ma.fields.String(required=True, validate=[ma.validate.Length(1, 256), NO_NUL])
    new_password = ma.fields.String(required=True, validate=[ma.validate.Length(1, 256), NO_NUL], metadata=NEW_PASSWORD)


class WorkbenchInboxArgs(StrictSchema):
    scope = ma.fields.String(load_default="pool", validate=ma.validate.OneOf(flow.SCOPES))
    kind = ma.fields.String(validate=[ma.validate.Length(1, 32), NO_NUL], metadata={
        "description": "the step: the task's kind (review, home_visit, objection, appeal, …)"})
    program = ma.fields.String(validate=[ma.validate.Length(1, 40), NO_NUL], metadata={
        "description": "a program code (GET /api/v1/programs)"})
    community = Digits(pattern=r"^[0-9]{12}$", pattern_error="A community code is 12 digits.", metadata={
        "description": "a 12-digit community code (GET /api/v1/staff/communities)"})
    state = ma.fields.String(validate=ma.validate.OneOf(
        flow.CASE_STATES, error="Not a state a case can be in; use one of: {choices}."), metadata={
        "description": "the state of the task's case (application): " + ", ".join(flow.CASE_STATES)})
    overdue = ma.fields.Boolean(load_default=False, metadata={"description": "only tasks past their step's deadline"})


class InboxTaskSchema(TaskSchema):
    program = ma.fields.String(allow_none=True)
    resident_name_masked = ma.fields.String(allow_none=True, metadata={"description": "the workbench shows this"})
    waiting_working_days = ma.fields.Integer(required=True)
    badge = ma.fields.String(required=True, metadata={"description": "on_track | at_risk (< 25% of the time "
                                                                     "left) | overdue | none"})
    working_days_left = ma.fields.Integer(allow_none=True)
    application_state = ma.fields.String(allow_none=True, metadata={"description": "the state of the task's case"})
    case_due_on = ma.fields.Date(allow_none=True, metadata={
        "description": "the deadline of the whole case: the program's limit of the case (e.g. 30 working days from "
                       "受理) where it declares one, else the latest open step's; null when none is open"})
    case_badge = ma.fields.String(required=True, metadata={"description": "the whole case's badge: on_track | "
                                                                          "at_risk | overdue | none"})
    case_working_days_left = ma.fields.Integer(allow_none=True)
    claimed_by = ma.fields.String(allow_none=True)
    claimed_at = UtcDateTime(format="iso", allow_none=True)
    appeal_id = ma.fields.String(allow_none=True, metadata={"description": "an appeal task's appeal (复核)"})
    reminded_on = ma.fields.Date(allow_none=True, metadata={"description": "an appeal task: the day the daily sweep "
                                                                          "reminded (3 working days before its limit)"})
    urged_on = ma.fields.Date(allow_none=True, metadata={"description": "an appeal task: the day of the 催办 (the day "
                                                                       "after its limit)"})
    escalated_on = ma.fields.Date(allow_none=True, metadata={"description": "an appeal task: the day it was escalated "
                                                                           "to the supervisors"})
    objection_id = ma.fields.String(allow_none=True, metadata={"description": "an objection task's objection "
                                                                             "to a 公示"})
    text = ma.fields.String(allow_none=True, metadata={"description": "the task in words, where its kind says it "
                                                                      "(a benefit's re-check after new income data)"})


class WorkbenchCountsSchema(ma.Schema):
    pool = ma.fields.Integer(required=True)
    mine = ma.fields.Integer(required=True)
    overdue = ma.fields.Integer(required=True)


class WorkbenchIdList(StrictSchema):
    ids = ma.fields.List(ma.fields.String(validate=[ma.validate.Length(1, 64), NO_NUL]), required=True,
                         validate=ma.validate.Length(1, flow.BULK_MAX))


class WorkbenchItemResultSchema(ma.Schema):
    id = ma.fields.String(required=True)
    ok = ma.fields.Boolean(required=True)
    status = ma.fields.Integer(required=True)
    error_code = ma.fields.String(allow_none=True, metadata={"description": "why it was refused, e.g. "
                                  "bulk_not_allowed (not decided by one review, e.g. 低保), recheck_failed, "
                                  "task_not_yours, task_claimed, application_state, role_not_allowed"})
    message = ma.fields.String(allow_none=True)
    detail = ma.fields.String(allow_none=True, metadata={"description": "recheck_failed: the rule's condition that "
                                                                        "does not hold today, in the citizen's words"})


class WorkbenchBulkResultSchema(ma.Schema):
    results = ma.fields.List(ma.fields.Nested(WorkbenchItemResultSchema), required=True)
    done = ma.fields.Integer(required=True)
    refused = ma.fields.Integer(required=True)


class WorkbenchReassignArgs(StrictSchema):
    staff_id = ma.fields.String(allow_none=True, required=True, validate=[ma.validate.Length(1, 32), NO_NUL])
    reason = reason_field(200, metadata={"description": "why (audited): leave, workload, conflict of interest"})


class WorkbenchNoBody(StrictSchema):
    """No body needed."""


class WorkbenchAccountArgs(StrictSchema):
    username = ma.fields.String(required=True, validate=[ma.validate.Length(2, 64), NO_NUL])
    display_name = ma.fields.String(load_default="", validate=[ma.validate.Length(0, 64), NO_NUL])
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))
    district_code = Digits(required=True, validate=ma.validate.Length(6, 6))
    street_code = Digits(allow_none=True, validate=ma.validate.Length(9, 9))
    community_code = Digits(allow_none=True, validate=ma.validate.Length(12, 12))
    password = ma.fields.String(required=True, validate=[ma.validate.Length(1, 256), NO_NUL], metadata=NEW_PASSWORD)


class WorkbenchAccountChangeArgs(StrictSchema):
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))
    district_code = Digits(validate=ma.validate.Length(6, 6))
    street_code = Digits(allow_none=True, validate=ma.validate.Length(9, 9))
    community_code = Digits(allow_none=True, validate=ma.validate.Length(12, 12))


class WorkbenchResetArgs(StrictSchema):
    password = ma.fields.String(required=True, validate=[ma.validate.Length(1, 256), NO_NUL], metadata=NEW_PASSWORD)


class WorkbenchAccountSchema(StaffSchema):
    disabled = ma.fields.Boolean(required=True)
    district_name = ma.fields.String(allow_none=True, metadata={"description": "null when no name is known"})
    street_name = ma.fields.String(allow_none=True)
    community_name = ma.fields.String(allow_none=True)
    office = ma.fields.String(required=True, metadata={
        "description": "the office the account works for (most local level), by name when one is known"})


@blp.route("/auth/password")
class Password(MethodView):
    @staff_required(blp, before_password_change=True)
    @blp.arguments(WorkbenchPasswordArgs)
    @blp.response(200, StaffSchema)
    @blp.alt_response(422, schema=ErrorSchema, description="Too short or unchanged")
    def post(self, args):
        """Change my password (required at the first sign-in and after a reset by an administrator)."""
        session = SessionLocal()
        staff = session.merge(current_staff())
        flow.change_password(session, staff, args["current_password"], args["new_password"],
                             current_principal().session_id)
        audit_event(session, "staff.password_change", object_ref=f"staff:{staff.id}")
        session.commit()
        return staff_payload(staff)


def _inbox_row(session, task, today, cases) -> dict:
    out = {**task_payload(session, task), **flow.task_view(session, task, today, cases)}
    out["resident_name_masked"] = mask_name(out["resident_name"]) if out.get("resident_name") else None
    return out


@blp.route("/inbox")
class Inbox(MethodView):
    @staff_required(blp)
    @blp.arguments(WorkbenchInboxArgs, location="query")
    @blp.response(200, InboxTaskSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """My inbox: the pool (open tasks of my jurisdiction that my role may work on, unclaimed), mine, or all;
        most urgent first, with days waiting in working days, the step's deadline badge and the whole case's
        (on track, at risk: < 25% of the time left, overdue). Filters: step (`kind`), program, community, the
        case's state, overdue. The page read is audited."""
        session, today = SessionLocal(), flow.today()
        query = flow.inbox_query(current_caller(), flow.InboxFilters(**args), today)
        rows = page_of(session, query, pagination_parameters)
        cases = flow.case_facts(session, [t.application_id for t in rows])
        out = [_inbox_row(session, t, today, cases) for t in rows]
        audit_event(session, "staff.inbox", details={"scope": args["scope"], "ids": [t.id for t in rows]},
                    subjects=[t.resident_id for t in rows if t.resident_id is not None])
        session.commit()
        return out


class WorkbenchColleagueArgs(StrictSchema):
    permission = ma.fields.String(load_default="case:home_visit", validate=ma.validate.OneOf(
        sorted({p for perms in PERMISSIONS.values() for p in perms})))


class WorkbenchColleagueSchema(ma.Schema):
    id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    role = ma.fields.String(required=True)


@blp.route("/colleagues")
class Colleagues(MethodView):
    @staff_required(blp)
    @blp.arguments(WorkbenchColleagueArgs, location="query")
    @blp.response(200, WorkbenchColleagueSchema(many=True))
    def get(self, args):
        """Active colleagues of my district whose role carries `permission` (e.g. the second investigator of a
        home visit), me excluded."""
        return flow.colleagues(SessionLocal(), current_staff(), args["permission"])


class WorkbenchAreaSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)


@blp.route("/communities")
class Communities(MethodView):
    @staff_required(blp)
    @blp.response(200, WorkbenchAreaSchema(many=True))
    def get(self):
        """The communities of my jurisdiction with their names valid today (the inbox's community filter);
        empty when no area names are imported (`zerotrip import areas`)."""
        from flows import areas

        return areas.communities_within(SessionLocal(), current_staff(), flow.today())


@blp.route("/inbox/counts")
class InboxCounts(MethodView):
    @staff_required(blp)
    @blp.response(200, WorkbenchCountsSchema)
    def get(self):
        """How many tasks wait in my pool, are mine, and are overdue."""
        return flow.counts(SessionLocal(), current_caller(), flow.today())


def _task(session, task_id: str, action: str, bulk: bool = False):
    task = session.get(StaffTask, task_id) if len(task_id) <= 64 else None
    if bulk:  # inside a savepoint: refusals are audited per item by `_each`
        return task, authz.require(session, current_caller(), action, task, "task", address=client_ip())
    decision = authorize(session, action, task, "task", object_ref=f"task:{task_id[:40]}")
    return task, decision


def check_assignee(session, task: StaffTask, to: StaffMember) -> None:
    """Whom a supervisor may give a task: an enabled account whose jurisdiction holds the task and whose role
    works on its kind — what her own claim would need (else the task would sit where nobody can see it)."""
    from app.models import Account

    account = session.get(Account, to.account_id)
    if account is None or account.disabled_at is not None:
        raise Conflict("That staff account is disabled.", error_code="assignee_not_allowed")
    if not authz.decide(session, authz.Caller.of_staff(to), "task:claim", task).allowed or not flow.role_allows(
            to.role, flow.permission_for(task.kind)):
        raise Conflict("That staff member could not see or work on this task (jurisdiction or role).",
                       error_code="assignee_not_allowed")


def _claimable(session, task_id: str, bulk: bool = False):
    task, decision = _task(session, task_id, "task:claim", bulk)
    if not flow.role_allows(current_caller().role, flow.permission_for(task.kind)):
        raise Forbidden(f"Your role does not work on {task.kind} tasks.", error_code="role_not_allowed")
    return task, decision


@blp.route("/tasks/<string:task_id>/claim")
class Claim(MethodView):
    @staff_required(blp)
    @blp.arguments(WorkbenchNoBody, required=False)
    @blp.response(200, InboxTaskSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such task in your jurisdiction")
    @blp.alt_response(409, schema=ErrorSchema, description="Claimed by someone else (`error_code`: task_claimed) "
                      "or decided (task_decided)")
    def post(self, _args, task_id):
        """Claim a task from the pool: it becomes mine (of two claimers one wins)."""
        session = SessionLocal()
        task, decision = _claimable(session, task_id)
        flow.claim(session, task, current_staff())
        if changed_here(session, "task", task.id):
            audit_event(session, "staff.task_claim", object_ref=f"task:{task.id}", on_behalf_of=decision.on_behalf_of)
        session.commit()
        return _inbox_row(session, task, flow.today(), None)


@blp.route("/tasks/<string:task_id>/release")
class Release(MethodView):
    @staff_required(blp)
    @blp.arguments(WorkbenchNoBody, required=False)
    @blp.response(200, InboxTaskSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such task in your jurisdiction")
    @blp.alt_response(409, schema=ErrorSchema, description="Not yours (`error_code`: task_not_yours)")
    def post(self, _args, task_id):
        """Put my claimed task back into the pool."""
        session = SessionLocal()
        task, decision = _task(session, task_id, "task:claim")
        flow.release(session, task, current_staff())
        audit_event(session, "staff.task_release", object_ref=f"task:{task.id}", on_behalf_of=decision.on_behalf_of)
        session.commit()
        return _inbox_row(session, task, flow.today(), None)


@blp.route("/tasks/<string:task_id>/reassign")
class Reassign(MethodView):
    @staff_required(blp)
    @blp.arguments(WorkbenchReassignArgs)
    @blp.response(200, InboxTaskSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Not a supervisor")
    @blp.alt_response(404, schema=ErrorSchema, description="No such task in your jurisdiction, or no such staff")
    @blp.alt_response(409, schema=ErrorSchema, description="The staff member could not work on it: disabled, "
                      "another jurisdiction or a role that does not claim it (`error_code`: assignee_not_allowed)")
    def post(self, args, task_id):
        """A supervisor gives an open task to a staff member who could claim it herself (or back to the pool)."""
        session = SessionLocal()
        task, decision = _task(session, task_id, "task:reassign")
        to = None
        if args["staff_id"]:
            to = session.get(StaffMember, args["staff_id"])
            if to is None or to.district_code != task.district_code:
                raise NotFound("No such staff member here.")
            check_assignee(session, task, to)
        task_from = task.claimed_by
        if flow.reassign(session, task, to):  # a repeat (already hers, or in the pool) records nothing
            audit_event(session, "staff.task_reassign", object_ref=f"task:{task.id}",
                        on_behalf_of=decision.on_behalf_of,
                        details={"to": to.id if to else None, "from": task_from, "reason": args["reason"]})
        session.commit()
        return _inbox_row(session, task, flow.today(), None)


def _each(session, ids, one, noun: str) -> dict:
    """Run `one(id)` per item in its own savepoint; a result per item, in the order asked, nothing skipped silently
    (each refusal is audited too). The items are worked in the order of their ids and the audit events appended
    after the last one (`audit_events_after`): two bulk requests, or a bulk and a single claim, lock the rows they
    share in one order and the audit chain last — never each waiting for the other."""
    begin_writing(session)
    results: list = [None] * len(ids)
    with audit_events_after(session) as events:
        for i in sorted(range(len(ids)), key=lambda i: ids[i]):
            item, kept = ids[i], len(events)
            try:
                with session.begin_nested():
                    one(item)
                results[i] = {"id": item, "ok": True, "status": 200, "error_code": None, "message": None,
                              "detail": None}
            except DomainError as exc:
                del events[kept:]  # what the rolled-back item would have recorded
                audit_event(session, "authz.denied" if exc.status in (403, 404) else "staff.bulk_refused",
                            object_ref=f"{noun}:{item[:40]}", result=exc.code_name, details={"bulk": True})
                results[i] = {"id": item, "ok": False, "status": exc.status, "error_code": exc.error_code,
                              "message": exc.message, "detail": ((exc.errors or {}).get("condition") or [None])[0]}
    session.commit()
    done = sum(r["ok"] for r in results)
    return {"results": results, "done": done, "refused": len(results) - done}


@blp.route("/bulk-claim")
class BulkClaim(MethodView):
    @staff_required(blp)
    @blp.arguments(WorkbenchIdList)
    @blp.response(200, WorkbenchBulkResultSchema)
    def post(self, args):
        """Claim up to 50 tasks: a result per task (claimed, or refused with its reason)."""
        session = SessionLocal()

        def one(task_id):
            task, decision = _claimable(session, task_id, bulk=True)
            flow.claim(session, task, current_staff())
            if changed_here(session, "task", task.id):
                audit_event(session, "staff.task_claim", object_ref=f"task:{task.id}",
                            on_behalf_of=decision.on_behalf_of, details={"bulk": True})

        return _each(session, list(dict.fromkeys(args["ids"])), one, "task")


@blp.route("/bulk-review")
class BulkReview(MethodView):
    @staff_required(blp)
    @blp.arguments(WorkbenchIdList)
    @blp.response(200, WorkbenchBulkResultSchema)
    def post(self, args):
        """Complete the review step (approve) of up to 50 applications of programs decided by a staff review
        whose rule re-check passes today; anything else (another program, a failing re-check, a case about
        yourself) is refused for that item with its reason. Never a 低保 decision. Where the program declares an
        approval step, the reviewed cases then wait in the approvers' pool (`approving`)."""
        session, today = SessionLocal(), flow.today()

        def one(application_id):
            application = session.get(Application, application_id) if len(application_id) <= 64 else None
            decision = authz.require(session, current_caller(), "casework:bulk_review", application,
                                     "application", address=client_ip())
            separation_of_duties(session, current_caller(), "casework:bulk_review", application)
            flow.bulk_review_one(session, application, current_staff().id, today)
            audit_event(session, "staff.case_review", object_ref=f"application:{application.id}",
                        on_behalf_of=decision.on_behalf_of, result="approve", details={"bulk": True})

        return _each(session, list(dict.fromkeys(args["ids"])), one, "application")


# ---- the registry, search-first ------------------------------------------------------------------------------

class WorkbenchSearchArgs(StrictSchema):
    id_number = Digits(id_number=True, validate=[ma.validate.Length(15, 20), NO_NUL], pattern=ID_INPUT,
                       pattern_error="An ID number is 17 digits and a check character.")
    name = ma.fields.String(validate=[ma.validate.Length(2, 32), NO_NUL])
    birth_year = AsciiInteger(validate=ma.validate.Range(1900, 2100))
    community = Digits(validate=ma.validate.Length(12, 12))
    purpose = ma.fields.String(required=True, validate=ma.validate.OneOf(flow.SEARCH_PURPOSES))


class WorkbenchFoundSchema(ma.Schema):
    name_masked = ma.fields.String(required=True)
    id_number_masked = ma.fields.String(required=True)
    birth_year = ma.fields.Integer(allow_none=True)
    community_code = ma.fields.String(allow_none=True)
    community_name = ma.fields.String(allow_none=True)


@blp.route("/residents/search")
class ResidentSearch(MethodView):
    @staff_required(blp)
    @blp.arguments(WorkbenchSearchArgs)
    @blp.response(200, WorkbenchFoundSchema(many=True))
    @blp.alt_response(422, schema=ErrorSchema, description="Too broad (`error_code`: search_too_broad) or malformed")
    def post(self, args):
        """Search the registry of my jurisdiction: an exact ID number, or a full name with a birth year or a
        community; with a purpose; at most 20 masked results. Audited (each found resident sees it in her feed)."""
        from app.api.security import config
        from app.crypto import cipher_for
        from flows import areas

        session, today = SessionLocal(), flow.today()
        found = flow.search_residents(session, current_caller(), cipher_for(config()), id_number=args.get("id_number"),
                                      name=args.get("name"), birth_year=args.get("birth_year"),
                                      community=args.get("community"), on=today)
        names = areas.names(session, [r.community_code for r in found], today)
        audit_event(session, "staff.resident_search", details={"purpose": args["purpose"], "found": len(found),
                                                               "by": "id_number" if args.get("id_number") else "name"},
                    subjects=[r.id for r in found])
        session.commit()
        return [{"name_masked": mask_name(r.name), "id_number_masked": r.id_mask,
                 "birth_year": r.birth_date.year if r.birth_date else None, "community_code": r.community_code,
                 "community_name": names.get(r.community_code)} for r in found]


# ---- the case page and the decision in writing (flows.case_view) ------------------------------------------------

class WorkbenchCaseSchema(ma.Schema):
    application_id = ma.fields.String(required=True)
    program = ma.fields.String(required=True)
    program_name = ma.fields.String(required=True)
    state = ma.fields.String(required=True)
    decision = ma.fields.String(allow_none=True)
    resident = ma.fields.Dict(required=True, metadata={"description": "masked: name, ID number, phone"})
    household = ma.fields.List(ma.fields.Dict(), required=True)
    prefill = ma.fields.List(ma.fields.Dict(), required=True, metadata={
        "description": "field, value, value_name (an area code's name, else null), source, source_date"})
    trace = ma.fields.List(ma.fields.Dict(), required=True)
    economic_check = ma.fields.List(ma.fields.Dict(), required=True, metadata={
        "description": "the economic-check report per member: member, relation, months (the income window), items "
                       "(group income | asset, kind, name, amount in yuan or quantity, sources with dates)"})
    deadlines = ma.fields.List(ma.fields.Dict(), required=True)
    timeline = ma.fields.List(ma.fields.Dict(), required=True, metadata={
        "description": "every event: at (UTC), when (Beijing time), actor_kind (staff | self | proxy | system), "
                       "actor_name, actor_role, action, on_behalf_of_name (masked), purpose, result"})
    actions = ma.fields.List(ma.fields.String(), required=True, metadata={
        "description": "what the caller may do besides the step's decision, as authz decides: extend (POST "
                       "…/extend: the time limit, once, with a reason)"})
    decision_letter = ma.fields.Boolean(required=True)
    letter = ma.fields.Nested("WorkbenchCaseLetterSchema", allow_none=True,
                              metadata={"description": "the decision letter's delivery; null until decided"})
    stop_letters = ma.fields.List(ma.fields.Nested("WorkbenchCaseStopLetterSchema"), required=True,
                                  metadata={"description": "stop letters of the benefits the case granted"})
    step_action = ma.fields.Dict(allow_none=True, metadata={"description": "the decision the current state waits "
                                                                          "for: {path, reasons}, else null"})
    near_relative_of_staff = ma.fields.Boolean(required=True, metadata={
        "description": "the household includes a member of staff (单独登记备案; home visit by the district)"})
    home_visit_checklist = ma.fields.List(ma.fields.String(), allow_none=True,
                                          metadata={"description": "items of an open home visit, else null"})
    rechecks = ma.fields.List(ma.fields.Dict(), required=True, metadata={
        "description": "re-checks of the case's benefit after new income data (动态管理), newest first: task_id, "
                       "state (open | closed | cancelled), text (in words), reasons (the rule's conditions in "
                       "words), proposed (reprice | stop), effective_month, monthly_amount, decision (confirm | "
                       "dismiss | superseded), approval_id, approval_state"})


class WorkbenchRevealArgs(StrictSchema):
    field = ma.fields.String(required=True, validate=ma.validate.OneOf(("id_number", "phone")))
    purpose = ma.fields.String(required=True, validate=ma.validate.OneOf(
        ("home_visit", "office_visit", "application_review", "complaint", "data_correction", "decision_letter")))


class WorkbenchRevealSchema(ma.Schema):
    field = ma.fields.String(required=True)
    value = ma.fields.String(required=True)


class WorkbenchLetterDeliverySchema(ma.Schema):
    method = ma.fields.String(required=True, metadata={"description": "electronic (the decision message accepted "
                                                                      "by WeChat or SMS) | in_person (当面) | post "
                                                                      "(邮寄) | left_at_home (留置)"})
    delivered_on = ma.fields.Date(required=True)
    recorded_by = ma.fields.String(allow_none=True, metadata={"description": "staff:<id>; null when electronic"})
    recorded_at = UtcDateTime(format="iso", allow_none=True)
    note = ma.fields.String(allow_none=True)
    channel = ma.fields.String(allow_none=True, metadata={"description": "wechat | sms (electronic only)"})


class WorkbenchCaseLetterSchema(ma.Schema):
    letter_id = ma.fields.String(required=True)
    send_by = ma.fields.Date(required=True)
    sent = ma.fields.Boolean(required=True)
    delivery = ma.fields.Nested(WorkbenchLetterDeliverySchema, allow_none=True)
    overdue = ma.fields.Boolean(required=True)


class WorkbenchCaseStopLetterSchema(WorkbenchCaseLetterSchema):
    decision = ma.fields.String(required=True, metadata={"description": "stopped | suspended"})
    decision_code = ma.fields.String(allow_none=True, metadata={"description": "death, moved_out, …"})
    decided_on = ma.fields.Date(required=True)
    effective_month = ma.fields.String(required=True)


class WorkbenchLetterSchema(ma.Schema):
    letter_id = ma.fields.String(required=True, metadata={"description": "the application id (decision) or the "
                                                                          "benefit change id (stop)"})
    kind = ma.fields.String(required=True, metadata={"description": "decision | stop"})
    application_id = ma.fields.String(allow_none=True)
    benefit_id = ma.fields.String(metadata={"description": "stop letters"})
    effective_month = ma.fields.String(metadata={"description": "stop letters: from which month"})
    program_name = ma.fields.String(required=True)
    applicant_name = ma.fields.String(required=True)
    id_number_masked = ma.fields.String(required=True)
    decision = ma.fields.String(required=True, metadata={"description": "approved | rejected | stopped | "
                                                                        "suspended"})
    decision_code = ma.fields.String(allow_none=True)
    decided_on = ma.fields.Date(required=True)
    reasons = ma.fields.List(ma.fields.String(), required=True)
    remedies = ma.fields.Dict(allow_none=True, metadata={"description": "行政复议 days and 行政诉讼 months"})
    send_by = ma.fields.Date(required=True, metadata={"description": "3 working days after the decision"})
    sent = ma.fields.Boolean(required=True)
    delivery = ma.fields.Nested(WorkbenchLetterDeliverySchema, allow_none=True)
    overdue = ma.fields.Boolean(required=True, metadata={"description": "a rejection or stop unsent past send_by"})


def _case_app(session, application_id: str):
    application = session.get(Application, application_id) if len(application_id) <= 64 else None
    decision = authorize(session, "application:view", application, "application",
                         object_ref=f"application:{application_id[:40]}")
    return application, decision


@blp.route("/applications/<string:application_id>/case")
class CasePage(MethodView):
    @staff_required(blp)
    @blp.response(200, WorkbenchCaseSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such application in your jurisdiction")
    def get(self, application_id):
        """The case page: the resident masked, pre-filled fields with source and date, the rule's trace, the
        household and economic check per member, deadlines with badges, the timeline. The read is audited."""
        from flows import case_view

        session = SessionLocal()
        application, decision = _case_app(session, application_id)
        out, household = case_view.case(session, application, flow.today(), current_caller())
        audit_event(session, "staff.case_view", object_ref=f"application:{application.id}",
                    on_behalf_of=decision.on_behalf_of, subjects=household,
                    details={"household": len(household)} if household else None)
        session.commit()
        return out


@blp.route("/applications/<string:application_id>/reveal")
class Reveal(MethodView):
    @staff_required(blp)
    @blp.arguments(WorkbenchRevealArgs)
    @blp.response(200, WorkbenchRevealSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such application in your jurisdiction")
    def post(self, args, application_id):
        """Show the applicant's full ID number or phone, for a stated purpose; audited on her behalf (she sees
        it in her feed)."""
        from app.api.security import config
        from app.crypto import cipher_for
        from app.models import Resident
        from flows import case_view

        session = SessionLocal()
        application, decision = _case_app(session, application_id)
        value = case_view.reveal(session, cipher_for(config()), session.get(Resident, application.resident_id),
                                 args["field"])
        audit_event(session, "staff.resident_reveal", object_ref=f"application:{application.id}",
                    on_behalf_of=decision.on_behalf_of,
                    details={"field": args["field"], "purpose": args["purpose"]})
        session.commit()
        return {"field": args["field"], "value": value}


@blp.route("/applications/<string:application_id>/decision-letter")
class DecisionLetter(MethodView):
    @staff_required(blp)
    @blp.response(200, WorkbenchLetterSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such application in your jurisdiction")
    @blp.alt_response(409, schema=ErrorSchema, description="Not decided yet (`error_code`: not_decided)")
    def get(self, application_id):
        """The decision in writing (决定书) of a decided case, to print: decision, reasons, remedies (行政复议
        60 days, 行政诉讼 6 months), the day by which it is sent (3 working days), whether and how it was sent
        (送达) and whether that is overdue. Audited on her behalf."""
        from flows import letters

        session = SessionLocal()
        application, decision = _case_app(session, application_id)
        letter = letters.decision_letter(session, application, flow.today())
        audit_event(session, "staff.decision_letter", object_ref=f"application:{application.id}",
                    on_behalf_of=decision.on_behalf_of)
        session.commit()
        return letter


# ---- the gated monthly roll (flows.payroll_gate) --------------------------------------------------------------

class WorkbenchSignOffArgs(StrictSchema):
    note = ma.fields.String(required=True, validate=[ma.validate.Length(2, 500), NO_NUL])


class WorkbenchRollSchema(ma.Schema):
    month = ma.fields.String(required=True)
    state = ma.fields.String(required=True, metadata={"description": "none | draft | closed"})
    anomalies = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Integer(), required=True)
    closed_by = ma.fields.String(allow_none=True)
    closed_by_name = ma.fields.String(allow_none=True, metadata={"description": "the closer's name"})
    signoff = ma.fields.String(required=True, metadata={"description": "none | pending | approved | withdrawn"})
    signed_off_by = ma.fields.String(allow_none=True)
    signed_off_by_name = ma.fields.String(allow_none=True, metadata={"description": "the supervisor's name"})
    signed_off_at = UtcDateTime(format="iso", allow_none=True)
    note = ma.fields.String(allow_none=True)


def _month(month: str) -> str:
    if len(month) != 7 or not (digits.is_ascii_digits(month[:4]) and month[4] == "-"
                               and digits.is_ascii_digits(month[5:]) and "01" <= month[5:] <= "12"
                               and month[:4] >= "1900"):
        raise NotFound("No roll for that month (YYYY-MM).")
    return month


@blp.route("/payroll/<string:month>")
class Roll(MethodView):
    @staff_required(blp)
    @blp.response(200, WorkbenchRollSchema)
    def get(self, month):
        """The roll of a month: closed or not, its anomaly counts, who closed it and the supervisor's sign-off."""
        from flows import payroll_gate

        return payroll_gate.status(SessionLocal(), _month(month))


@blp.route("/payroll/<string:month>/sign-off")
class RollSignOff(MethodView):
    @staff_required(blp)
    @blp.arguments(WorkbenchSignOffArgs)
    @blp.response(200, WorkbenchRollSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Not a supervisor, or the one who closed the roll")
    @blp.alt_response(409, schema=ErrorSchema, description="Signed off already (`error_code`: signoff_not_pending)")
    def post(self, args, month):
        """Sign off the anomaly report of a closed roll (a supervisor other than the closer), with a note. Only
        then does `zerotrip payroll release` write the bank files."""
        from flows import payroll_gate

        session = SessionLocal()
        payroll_gate.sign_off(session, _month(month), current_staff(), args["note"])
        session.commit()
        return payroll_gate.status(session, month)


# ---- staff accounts (admin) ----------------------------------------------------------------------------------

def _admin():
    if not may_manage_staff(current_staff().role):
        raise Forbidden("Staff accounts are managed by an admin.", error_code="role_not_allowed")


def _account_payload(session, staff, names: dict[str, str] | None = None) -> dict:
    """An account with the names of its areas (`names`: code → name, looked up here when not given)."""
    from app.models import Account
    from flows import areas

    codes = (staff.district_code, staff.street_code, staff.community_code)
    if names is None:
        names = areas.names(session, codes, flow.today())
    office = staff.community_code or staff.street_code or staff.district_code
    account = session.get(Account, staff.account_id)
    return {**staff_payload(staff), "disabled": account is not None and account.disabled_at is not None,
            "district_name": names.get(staff.district_code), "street_name": names.get(staff.street_code),
            "community_name": names.get(staff.community_code),
            "office": areas.office_label(office, names.get(office))}


def _account(session, staff_id: str) -> StaffMember:
    staff = session.get(StaffMember, staff_id) if len(staff_id) <= 32 else None
    admin = current_staff()
    if staff is None or staff.district_code != admin.district_code or (
            admin.street_code and staff.street_code != admin.street_code):
        raise NotFound("No such staff member in your jurisdiction.")
    return staff


@blp.route("/accounts")
class Accounts(MethodView):
    @staff_required(blp)
    @blp.response(200, WorkbenchAccountSchema(many=True))
    def get(self):
        """Staff accounts of my jurisdiction (admin)."""
        _admin()
        session, admin = SessionLocal(), current_staff()
        query = select(StaffMember).where(StaffMember.district_code == admin.district_code)
        if admin.street_code:
            query = query.where(StaffMember.street_code == admin.street_code)
        from flows import areas

        found = session.scalars(query.order_by(StaffMember.username)).all()
        names = areas.names(session, {c for s in found for c in (s.district_code, s.street_code, s.community_code)},
                            flow.today())
        return [_account_payload(session, s, names) for s in found]

    @staff_required(blp)
    @blp.arguments(WorkbenchAccountArgs)
    @blp.response(201, WorkbenchAccountSchema)
    def post(self, args):
        """Create a staff account (admin); the first sign-in must change the password. Audited."""
        _admin()
        session, admin = SessionLocal(), current_staff()
        if args["district_code"] != admin.district_code:
            raise Forbidden("Accounts are created within your own district.", error_code="outside_jurisdiction")
        staff = staff_flow.create_staff(session, username=args["username"], password=args["password"],
                                        role=args["role"], district=args["district_code"],
                                        street=args.get("street_code"), community=args.get("community_code"),
                                        display_name=args["display_name"])
        staff.must_change_password = True
        audit_event(session, "staff.account_create", object_ref=f"staff:{staff.id}",
                    details={"role": staff.role, "district": staff.district_code, "street": staff.street_code,
                             "community": staff.community_code})
        session.commit()
        return _account_payload(session, staff)


@blp.route("/accounts/<string:staff_id>")
class AccountById(MethodView):
    @staff_required(blp)
    @blp.arguments(WorkbenchAccountChangeArgs)
    @blp.response(200, WorkbenchAccountSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such staff member in your jurisdiction")
    def patch(self, args, staff_id):
        """Change a staff member's role or jurisdiction (admin; not one's own). Audited."""
        _admin()
        session = SessionLocal()
        staff = _account(session, staff_id)
        flow.change_account(session, current_staff(), staff, args)
        audit_event(session, "staff.account_change", object_ref=f"staff:{staff.id}", details=dict(args))
        session.commit()
        return _account_payload(session, staff)


@blp.route("/accounts/<string:staff_id>/disable")
class AccountDisable(MethodView):
    @staff_required(blp)
    @blp.arguments(WorkbenchNoBody, required=False)
    @blp.response(200, WorkbenchAccountSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such staff member in your jurisdiction")
    def post(self, _args, staff_id):
        """Disable a staff login at once (admin; not one's own). Audited."""
        _admin()
        session = SessionLocal()
        staff = _account(session, staff_id)
        if staff.id == current_staff().id:
            raise Forbidden("You cannot disable your own account.", error_code="own_account")
        staff_flow.disable(session, staff)
        audit_event(session, "staff.account_disable", object_ref=f"staff:{staff.id}")
        session.commit()
        return _account_payload(session, staff)


@blp.route("/accounts/<string:staff_id>/reset-password")
class AccountReset(MethodView):
    @staff_required(blp)
    @blp.arguments(WorkbenchResetArgs)
    @blp.response(200, WorkbenchAccountSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such staff member in your jurisdiction")
    def post(self, args, staff_id):
        """Set a temporary password (admin); the next sign-in must change it. Audited."""
        _admin()
        session = SessionLocal()
        staff = _account(session, staff_id)
        flow.reset_password(session, staff, args["password"])
        audit_event(session, "staff.account_reset_password", object_ref=f"staff:{staff.id}")
        session.commit()
        return _account_payload(session, staff)

