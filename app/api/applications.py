"""Applications: list, read, one-tap confirm, decline, reopen."""

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from app import digits
from app.api.application_views import payloads_of_rows
from app.api.base import ErrorSchema, page_of
from app.api.fast_dump import FastDumpSchema
from app.api.schemas import NO_NUL, Digits, StrictSchema, UtcDateTime
from app.api.security import (
    audit_event,
    audit_read,
    auth_required,
    authorize,
    client_ip,
    current_caller,
    current_principal,
)
from app.authz import actions_open_to, resolve_subject
from app.db import SessionLocal, changed_here, select_first
from app.models import Application
from flows import activity, applicants, casework
from flows import applications as flow
from flows.money import fen

blp = Blueprint("applications", __name__, url_prefix="/api/v1/applications", description="Applications")


class FieldSchema(ma.Schema):
    field = ma.fields.String(required=True)
    label = ma.fields.String(required=True)
    value = ma.fields.String(required=True)
    value_name = ma.fields.String(allow_none=True, metadata={
        "description": "the name of an area code (district, street, community) in `value`, else null"})
    source = ma.fields.String(required=True)
    source_name = ma.fields.String(required=True)
    source_date = ma.fields.String(allow_none=True)


class BenefitSchema(ma.Schema):
    id = ma.fields.String(required=True)
    program = ma.fields.String(required=True)
    program_name = ma.fields.String(required=True)
    tier = ma.fields.String(required=True)
    monthly_amount = ma.fields.String(required=True, metadata={"example": "50.00"})
    start_month = ma.fields.String(required=True, metadata={"example": "2026-12"})
    end_month = ma.fields.String(allow_none=True)
    state = ma.fields.String(required=True)
    appeal_until = ma.fields.Date(allow_none=True, metadata={
        "description": "in the benefits list: the last day its latest stop or change may be appealed (复核, "
                       "POST /api/v1/appeals {benefit_id}); null when nothing is open to appeal"})


class TraceSchema(ma.Schema):
    """One checked condition or lifecycle decision, in plain Chinese, with its source and date."""

    kind = ma.fields.String(required=True, metadata={"description": "decision | tier_raised | stopped | suspended"})
    code = ma.fields.String(required=True)
    passed = ma.fields.Boolean(required=True)
    text = ma.fields.String(required=True, metadata={
        "example": "您于2026年11月20日年满80周岁(来源:公安人口库,2026-11-25)"})
    source_name = ma.fields.String(required=True)
    source_date = ma.fields.String(allow_none=True)
    effective_month = ma.fields.String(allow_none=True)


class ApplicantSchema(ma.Schema):
    name = ma.fields.String(required=True, metadata={"example": "王*红"})
    role = ma.fields.String(required=True, metadata={"example": "funeral_arranger"})
    role_text = ma.fields.String(required=True, metadata={"example": "治丧人"})
    state = ma.fields.String(required=True, metadata={"description": "proposed | confirmed | superseded"})


class ApplicationSchema(FastDumpSchema):
    id = ma.fields.String(required=True)
    program = ma.fields.String(required=True)
    program_name = ma.fields.String(required=True)
    state = ma.fields.String(required=True)
    origin = ma.fields.String(required=True)
    as_of = ma.fields.Date(required=True)
    created_at = UtcDateTime(required=True)
    updated_at = UtcDateTime(required=True)
    confirmed_at = UtcDateTime(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)
    appeal_until = ma.fields.Date(allow_none=True, metadata={
        "description": "a decided application: the last day it may be appealed (复核); null otherwise or after it"})
    decline_reason = ma.fields.String(allow_none=True)
    monthly_amount = ma.fields.String(allow_none=True)
    start_month = ma.fields.String(allow_none=True)
    fields = ma.fields.List(ma.fields.Nested(FieldSchema), required=True)
    reasons = ma.fields.List(ma.fields.String(), required=True)
    actions = ma.fields.List(ma.fields.String(), required=True)
    benefit = ma.fields.Nested(BenefitSchema, allow_none=True)
    trace = ma.fields.List(ma.fields.Nested(TraceSchema), required=True)
    confirmed_by_proxy = ma.fields.String(allow_none=True, metadata={
        "description": "masked name of the proxy who confirmed on the resident's behalf (null: the resident)"})
    applicants = ma.fields.List(ma.fields.Nested(ApplicantSchema), metadata={
        "description": "residents other than the subject the application was proposed to (e.g. the family of "
                       "a deceased): the first confirmation wins, the others see who confirmed; empty otherwise"})


class SubjectArgs(StrictSchema):
    subject = ma.fields.String(validate=[ma.validate.Length(1, 64), NO_NUL], metadata={
        "description": "`self` (default) or the id of a proxy grant: list the data of the person you help"})


class ConfirmArgs(StrictSchema):
    """An empty body accepts the pre-filled data as shown. For a 低保 proposal the household may add what the
    state cannot know (both optional, ignored for the other programs)."""

    declared_monthly_income = Digits(
        pattern=digits.AMOUNT.pattern, pattern_error="an amount like 300.00",
        metadata={"description": "低保 only: household income the state cannot see (yuan a month)"})
    declared_note = ma.fields.String(validate=[ma.validate.Length(max=500), NO_NUL],
                                     metadata={"description": "低保 only"})


class DeclineArgs(StrictSchema):
    reason = ma.fields.String(required=True, validate=ma.validate.OneOf(flow.DECLINE_REASONS))
    comment = ma.fields.String(validate=[ma.validate.Length(max=500), NO_NUL], load_default=None)


def _application(application_id: str, action: str):
    """The application, if the caller may do `action` on it (owner, proxy in scope); else 404/403."""
    session = SessionLocal()
    application = session.get(Application, application_id) if len(application_id) <= 64 else None
    decision = authorize(session, action, application, "application", object_ref=f"application:{application_id[:40]}")
    return application, decision


def view(session, application: Application, decision) -> dict:
    """The application as the citizen sees it after an action (committed): read back as GET one reads it."""
    return shown(session, _row(session, application.id), decision)


def _row(session, application_id: str):
    """The application as one plain row with what is shown beside it (`flows.applications.row_by_id`), or None."""
    if len(application_id) > 64:
        return None
    query, params = flow.row_by_id(application_id)
    return select_first(session, query, params)


def shown(session, row, decision) -> dict:
    """A `_row` as the citizen sees it: fields, reasons, benefit, applicants, who confirmed for her, what the
    caller (`decision`: authz's) may do next."""
    return _with_proxy(session, row, payloads_of_rows(session, [row])[0], decision,
                       None if row.has_applicants else [])


def _with_proxy(session, application, out: dict, decision, applicants_of: list[dict] | None = None) -> dict:
    """Who confirmed, when a proxy did (masked name), and the actions open to the caller; `application` is an ORM
    object or a plain row; `applicants_of`: its applicants when already read for the whole page."""
    out["actions"] = actions_open_to(decision, application.program, out["actions"])
    out["confirmed_by_proxy"] = None
    out["applicants"] = applicants.view(session, application.id) if applicants_of is None else applicants_of
    if application.confirmed_via_grant and application.confirmed_by:
        # the proxy as bound when she confirmed (binding history), even if she has unbound since
        out["confirmed_by_proxy"] = activity.name_bound_at(session, application.confirmed_by,
                                                           application.confirmed_at or application.updated_at)
    return out


def _act(session, application: Application, decision, action: str) -> None:
    """Attribute and audit an action: actor, on whose behalf, object, result."""
    audit_event(session, action, object_ref=f"application:{application.id}", on_behalf_of=decision.on_behalf_of,
                result=application.state, details={"grant": decision.grant.id} if decision.grant else None)


@blp.route("")
class Applications(MethodView):
    @auth_required(blp)
    @blp.arguments(SubjectArgs, location="query")
    @blp.response(200, ApplicationSchema(many=True))
    @blp.alt_response(403, schema=ErrorSchema, description="The proxy grant has ended")
    @blp.alt_response(404, schema=ErrorSchema, description="No such subject")
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """My applications (or, with `?subject=<grant id>`, those of the person I help), newest first."""
        session = SessionLocal()
        resident_id, decision = resolve_subject(session, current_caller(), args.get("subject"), "application:view",
                                                address=client_ip())
        only = decision.grant.programs if decision is not None and decision.grant is not None else None
        query, params = flow.rows_for_resident(resident_id, only or None)
        rows = page_of(session, query, pagination_parameters, rows=True, params=params)
        audit_read(session, "application.list", decision, ids=[row.id for row in rows])
        if decision is not None and decision.via in ("proxy", "staff"):
            session.commit()
        others = applicants.views_of(session, [row.id for row in rows if row.has_applicants])
        return [_with_proxy(session, row, out, decision, others.get(row.id, []))
                for row, out in zip(rows, payloads_of_rows(session, rows), strict=True)]


@blp.route("/<string:application_id>")
class ApplicationById(MethodView):
    @auth_required(blp)
    @blp.response(200, ApplicationSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Visible, but the proxy grant does not allow this")
    @blp.alt_response(404, schema=ErrorSchema, description="No such application (or not yours)")
    def get(self, application_id):
        """One application with each pre-filled field, its source, and why you qualify."""
        session = SessionLocal()
        row = _row(session, application_id)
        # authz decides on the owner and the program: a transient Application (never added to the session)
        subject = Application(id=row.id, resident_id=row.resident_id, program=row.program) if row else None
        decision = authorize(session, "application:view", subject, "application",
                             object_ref=f"application:{application_id[:40]}")
        if decision.via == "proxy":
            _act(session, row, decision, "application.view")
            session.commit()
        return shown(session, row, decision)


@blp.route("/<string:application_id>/confirm")
class ApplicationConfirm(MethodView):
    @auth_required(blp)
    @blp.arguments(ConfirmArgs, required=False)
    @blp.response(200, ApplicationSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Visible, but the proxy grant does not allow this")
    @blp.alt_response(404, schema=ErrorSchema, description="No such application")
    @blp.alt_response(409, schema=ErrorSchema, description="Declined or otherwise not confirmable "
                      "(`error_code`: application_state)")
    def post(self, args, application_id):
        """One tap: accept the pre-filled data as shown; the rule decides at once. A repeat changes nothing."""
        session = SessionLocal()
        application, decision = _application(application_id, "application:confirm")
        args = args or {}
        declared = {"monthly_income_fen": fen(args.get("declared_monthly_income") or "0"),
                    "note": args.get("declared_note") or ""}
        application = casework.confirm(session, application, current_principal().account_id, declared=declared)
        if changed_here(session, "application", application.id):  # not a repeat, nor a parallel repeat's loser
            via_grant = decision.grant.id if decision.via == "proxy" else None
            if application.confirmed_via_grant != via_grant:  # no flush for an unchanged value
                application.confirmed_via_grant = via_grant
            _act(session, application, decision, "application.confirm")
        session.commit()
        return view(session, application, decision)


@blp.route("/<string:application_id>/decline")
class ApplicationDecline(MethodView):
    @auth_required(blp)
    @blp.arguments(DeclineArgs)
    @blp.response(200, ApplicationSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Visible, but the proxy grant does not allow this")
    @blp.alt_response(404, schema=ErrorSchema, description="No such application")
    @blp.alt_response(409, schema=ErrorSchema, description="Not in a state that can be declined "
                      "(`error_code`: application_state)")
    def post(self, args, application_id):
        """Say no, with a reason; `data_wrong` also opens a correction task for staff."""
        session = SessionLocal()
        application, decision = _application(application_id, "application:decline")
        application = flow.decline(session, application, args["reason"], args["comment"], current_principal().account_id)
        if changed_here(session, "application", application.id):
            _act(session, application, decision, "application.decline")
        session.commit()
        return view(session, application, decision)


@blp.route("/<string:application_id>/reopen")
class ApplicationReopen(MethodView):
    @auth_required(blp)
    @blp.response(200, ApplicationSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Visible, but the proxy grant does not allow this")
    @blp.alt_response(404, schema=ErrorSchema, description="No such application")
    @blp.alt_response(409, schema=ErrorSchema, description="Not declined (`error_code`: "
                      "application_state), or declined more than 30 days ago (reopen_too_late)")
    def post(self, application_id):
        """Undo a decline within 30 days."""
        session = SessionLocal()
        application, decision = _application(application_id, "application:reopen")
        before = application.state
        application = flow.reopen(session, application)
        if before != application.state:
            _act(session, application, decision, "application.reopen")
        session.commit()
        return view(session, application, decision)
