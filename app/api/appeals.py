"""Appeals (复核, flows.appeals): asked for from /m/ by the resident or a proxy with `confirm`, or at the counter by
a clerk on the resident's behalf; decided in the workbench by someone who did not take the original decision."""

from __future__ import annotations

import marshmallow as ma
from flask import request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from app import authz
from app.api.base import ErrorSchema, page_of
from app.api.schemas import NO_NUL, StrictSchema, UtcDateTime
from app.api.security import audit_event, audit_read, auth_required, authorize, config, current_caller
from app.api.staff_security import current_staff, staff_required
from app.db import SessionLocal
from app.errors import NotFound, Unprocessable
from app.models import Appeal, Application, Benefit
from flows import appeals as flow
from flows import counter
from flows.dates import today_shanghai

blp = Blueprint("appeals", __name__, url_prefix="/api/v1", description="Appeals (复核)")

_ID = [ma.validate.Length(min=1, max=64), NO_NUL]


class AppealArgs(StrictSchema):
    application_id = ma.fields.String(validate=_ID, metadata={"description": "the decided application, or"})
    benefit_id = ma.fields.String(validate=_ID, metadata={"description": "the benefit whose change is appealed"})
    reason_code = ma.fields.String(required=True, validate=ma.validate.OneOf(sorted(flow.REASONS)))
    comment = ma.fields.String(load_default="", validate=[ma.validate.Length(max=1000), NO_NUL])

    class Meta(StrictSchema.Meta):
        openapi_extra = {"oneOf": [{"required": ["application_id"]}, {"required": ["benefit_id"]}]}

    @ma.validates_schema
    def _one_object(self, data, **_kw):
        if bool(data.get("application_id")) == bool(data.get("benefit_id")):
            raise ma.ValidationError("Give either application_id or benefit_id.", field_name="application_id")


class CounterAppealArgs(AppealArgs):
    consent = ma.fields.String(required=True, validate=ma.validate.OneOf(("signature", "signed_slip")),
                               metadata={"description": "how the resident's consent was recorded at the counter"})


class AppealDecisionArgs(StrictSchema):
    outcome = ma.fields.String(required=True, validate=ma.validate.OneOf(flow.OUTCOMES))
    reason = ma.fields.String(required=True, validate=[ma.validate.Length(min=5, max=2000), NO_NUL])


class AppealNoBody(StrictSchema):
    pass


class AppealSchema(ma.Schema):
    id = ma.fields.String(required=True)
    application_id = ma.fields.String(allow_none=True)
    benefit_id = ma.fields.String(allow_none=True)
    program = ma.fields.String(required=True)
    program_name = ma.fields.String(required=True)
    decided_on = ma.fields.Date(required=True, metadata={"description": "date of the decision appealed"})
    reason_code = ma.fields.String(required=True)
    reason_text = ma.fields.String(required=True)
    comment = ma.fields.String(required=True)
    filed_via = ma.fields.String(required=True, metadata={"description": "owner | proxy | counter"})
    state = ma.fields.String(required=True, metadata={"description": "received | reviewing | decided"})
    state_text = ma.fields.String(required=True)
    outcome = ma.fields.String(allow_none=True, metadata={"description": "upheld | partially_upheld | rejected | "
                                                                          "withdrawn"})
    outcome_text = ma.fields.String(allow_none=True)
    decision_reason = ma.fields.String(allow_none=True)
    decided_at = UtcDateTime(allow_none=True)
    due_on = ma.fields.Date(required=True, metadata={"description": "the working-day limit of the decision"})
    received_at = UtcDateTime(required=True)
    remedies = ma.fields.String(required=True, metadata={"description": "行政复议 / 行政诉讼, paused by nothing"})
    reminded_on = ma.fields.Date(allow_none=True, metadata={"description": "the staff were reminded of the limit"})
    urged_on = ma.fields.Date(allow_none=True, metadata={"description": "催办: the limit has passed"})
    escalated_on = ma.fields.Date(allow_none=True, metadata={"description": "escalated to the supervisors"})


class AppealReasonSchema(ma.Schema):
    code = ma.fields.String(required=True)
    text = ma.fields.String(required=True)


def _limits() -> dict:
    """The operator's settings (ZEROTRIP_APPEAL_LIMIT_WORKING_DAYS, ZEROTRIP_APPEAL_FILING_DAYS)."""
    cfg = config()
    return {"limit_working_days": cfg.appeal_limit_working_days, "filing_days": cfg.appeal_filing_days}


def _object(session, args, verb: str):
    """The decided object named in the body, if the caller may `verb` it (404 for a stranger)."""
    if args.get("application_id"):
        obj = session.get(Application, args["application_id"])
        noun = "application"
    else:
        obj = session.get(Benefit, args["benefit_id"])
        noun = "benefit"
    ref = f"{noun}:{(args.get('application_id') or args.get('benefit_id'))[:40]}"
    decision = authorize(session, f"{noun}:{verb}", obj, noun, object_ref=ref)
    return (obj, None, decision) if noun == "application" else (None, obj, decision)


def _appeal(session, appeal_id: str, verb: str):
    """An appeal, if the caller may `verb` the decision it is about (the same rule as for that object)."""
    appeal = session.get(Appeal, appeal_id) if len(appeal_id) <= 64 else None
    if appeal is None:
        raise NotFound("No such appeal.")
    obj = session.get(Application, appeal.application_id) if appeal.decision_key.startswith("application:") \
        else session.get(Benefit, appeal.benefit_id)
    noun = "application" if isinstance(obj, Application) else "benefit"
    try:
        decision = authorize(session, f"{noun}:{verb}", obj, noun, object_ref=f"appeal:{appeal.id}")
    except NotFound:
        raise NotFound("No such appeal.") from None
    return appeal, obj, decision


@blp.route("/appeals/reasons")
class AppealReasons(MethodView):
    @blp.response(200, AppealReasonSchema(many=True))
    def get(self):
        """The documented reasons an appeal may give (public)."""
        return [{"code": k, "text": v} for k, v in flow.REASONS.items()]


@blp.route("/appeals")
class Appeals(MethodView):
    @auth_required(blp)
    @blp.arguments(AppealArgs)
    @blp.response(201, AppealSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="The proxy grant does not include `confirm`")
    @blp.alt_response(404, schema=ErrorSchema, description="No such application or benefit")
    @blp.alt_response(409, schema=ErrorSchema, description="Not decided (`error_code`: not_decided), past the "
                      "filing period after the decision (appeal_period_over), or already appealed (appeal_exists)")
    def post(self, args):
        """Ask for a second look at a decision (复核), within 60 days of it (ZEROTRIP_APPEAL_FILING_DAYS); one open
        appeal per decision."""
        session = SessionLocal()
        application, benefit, decision = _object(session, args, "appeal")
        appeal = flow.file(session, application=application, benefit=benefit, reason_code=args["reason_code"],
                           comment=args["comment"], filed_by=current_caller().ref, filed_via=decision.via,
                           grant_id=decision.grant.id if decision.grant else None, **_limits())
        audit_event(session, "appeal.file", object_ref=f"appeal:{appeal.id}", on_behalf_of=decision.on_behalf_of,
                    details={"grant": decision.grant.id} if decision.grant else None)
        session.commit()
        return flow.view(appeal)

    @auth_required(blp)
    @blp.response(200, AppealSchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """My appeals and those of the people I help with `view`, newest first."""
        session, caller = SessionLocal(), current_caller()
        residents = authz.visible_residents_for(session, caller, "view")
        query = (select(Appeal).where(Appeal.resident_id.in_(residents or [-1]))
                 .order_by(Appeal.created_at.desc(), Appeal.id))
        appeals = page_of(session, query, pagination_parameters)
        shown: dict[int, list[str]] = {}
        for appeal in appeals:  # another's appeals shown to her proxy: one read event in each one's feed
            if appeal.resident_id != caller.resident_id:
                shown.setdefault(appeal.resident_id, []).append(appeal.id)
        for resident_id, ids in shown.items():
            audit_event(session, "appeal.list", on_behalf_of=f"resident:{resident_id}", details={"ids": ids})
        if shown:
            session.commit()
        return [flow.view(a) for a in appeals]


@blp.route("/appeals/<string:appeal_id>")
class AppealOne(MethodView):
    @auth_required(blp)
    @blp.response(200, AppealSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such appeal")
    def get(self, appeal_id):
        """One appeal: state, limit, decision with its reason, the external remedies."""
        session = SessionLocal()
        appeal, _obj, decision = _appeal(session, appeal_id, "view")
        if decision.via == "proxy":  # her proxy's read is in her feed, as every read of her case is
            audit_read(session, "appeal.view", decision, object_ref=f"appeal:{appeal.id}")
            session.commit()
        return flow.view(appeal)


@blp.route("/appeals/<string:appeal_id>/withdraw")
class AppealWithdraw(MethodView):
    @auth_required(blp)
    @blp.arguments(AppealNoBody, required=False)
    @blp.response(200, AppealSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such appeal")
    @blp.alt_response(409, schema=ErrorSchema, description="Already decided (`error_code`: appeal_decided)")
    def post(self, _args, appeal_id):
        """Withdraw an open appeal (the resident, or a proxy with `confirm`)."""
        session = SessionLocal()
        appeal, _obj, decision = _appeal(session, appeal_id, "appeal")
        if appeal.outcome != "withdrawn":  # a repeat answers the same and is not recorded twice
            flow.withdraw(session, appeal, current_caller().ref)
            audit_event(session, "appeal.withdraw", object_ref=f"appeal:{appeal.id}",
                        on_behalf_of=decision.on_behalf_of)
        session.commit()
        return flow.view(appeal)


# ---- staff: at the counter, and the decision ---------------------------------------------------------------------

@blp.route("/staff/appeals")
class CounterAppeals(MethodView):
    @staff_required(blp)
    @blp.arguments(CounterAppealArgs)
    @blp.response(201, AppealSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Role not allowed")
    @blp.alt_response(404, schema=ErrorSchema, description="No such application or benefit in your jurisdiction")
    @blp.alt_response(409, schema=ErrorSchema, description="As for residents")
    def post(self, args):
        """Record an appeal at the counter on the resident's behalf, with how her consent was recorded."""
        session = SessionLocal()
        application, benefit, decision = _object_staff(session, args)
        appeal = flow.file(session, application=application, benefit=benefit, reason_code=args["reason_code"],
                           comment=args["comment"], filed_by=current_caller().ref, filed_via="counter", **_limits())
        audit_event(session, "staff.appeal_record", object_ref=f"appeal:{appeal.id}",
                    on_behalf_of=decision.on_behalf_of, details={"consent": args["consent"]})
        session.commit()
        return flow.view(appeal)


class CounterVisitAppealForm(AppealArgs):
    consent_kind = ma.fields.String(required=True, validate=ma.validate.OneOf(counter.CONSENT_KINDS), metadata={
        "description": "signature (drawn on the tablet) | slip_photo (a photo of the signed slip)"})


@blp.route("/staff/counter/visits/<string:visit_id>/appeals")
class CounterVisitAppeals(MethodView):
    @staff_required(blp)
    @blp.doc(requestBody={"content": {"multipart/form-data": {"schema": CounterVisitAppealForm}}})
    @blp.response(201, AppealSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Role not allowed")
    @blp.alt_response(404, schema=ErrorSchema, description="No such visit in your jurisdiction, or no such decision "
                      "of hers")
    @blp.alt_response(409, schema=ErrorSchema, description="Not decided (`error_code`: not_decided), more than 60 "
                      "days after the decision (appeal_period_over), or already appealed (appeal_exists)")
    @blp.alt_response(422, schema=ErrorSchema, description="Bad field (`error_code`: form_invalid), no consent file "
                      "(consent_missing), too large (consent_too_large), not PNG/JPEG (consent_type)")
    def post(self, visit_id):
        """File her appeal (复核) at the counter, in the same visit, with her recorded consent: multipart form with
        `application_id` or `benefit_id` (one of the visit's `decisions`), `reason_code` (GET
        /api/v1/appeals/reasons), `comment`, `consent_kind` (signature | slip_photo) and the image file `consent`
        (PNG or JPEG, at most 2 MB). The receipt lists the appeal with its limit. Audited as done by me on her
        behalf."""
        from app.api.staff_counter import _consent_bytes, _visit

        session, today = SessionLocal(), today_shanghai()
        visit, visit_decision = _visit(session, visit_id)  # authorization first: a stranger's visit is 404
        try:
            args = CounterVisitAppealForm().load({k: request.form[k] for k in request.form})
        except ma.ValidationError as exc:
            raise Unprocessable("The form is incomplete.", errors=exc.messages, error_code="form_invalid") from None
        application, benefit, decision = _object_staff(session, args)
        if (application or benefit).resident_id != visit.resident_id:
            raise NotFound("No such decision of this resident.")
        appeal = counter.file_appeal(session, visit, application=application, benefit=benefit,
                                     reason_code=args["reason_code"], comment=args["comment"],
                                     filed_by=current_caller().ref, today=today, consent_kind=args["consent_kind"],
                                     consent=_consent_bytes(), instance_path=config().instance_path)
        path = visit.actions[-1]["consent"]["path"]
        audit_event(session, "counter.appeal", object_ref=f"appeal:{appeal.id}",
                    on_behalf_of=decision.on_behalf_of or visit_decision.on_behalf_of
                    or f"resident:{visit.resident_id}",
                    details={"visit": visit.id, "decision": appeal.decision_key,
                             "consent_kind": args["consent_kind"], "consent_file": path})
        session.commit()
        return flow.view(appeal), 201


def _object_staff(session, args):
    if args.get("application_id"):
        obj, noun = session.get(Application, args["application_id"]), "application"
    else:
        obj, noun = session.get(Benefit, args["benefit_id"]), "benefit"
    ref = f"{noun}:{(args.get('application_id') or args.get('benefit_id'))[:40]}"
    authorize(session, f"{noun}:view", obj, noun, object_ref=ref)
    decision = authorize(session, "appeal:record", obj, noun, object_ref=ref)
    return (obj, None, decision) if noun == "application" else (None, obj, decision)


@blp.route("/staff/appeals/<string:appeal_id>")
class StaffAppealOne(MethodView):
    @staff_required(blp)
    @blp.response(200, AppealSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such appeal in your jurisdiction")
    def get(self, appeal_id):
        """An appeal as the reviewer sees it (the case page shows the decision appealed)."""
        session = SessionLocal()
        appeal, _obj, decision = _appeal(session, appeal_id, "view")
        audit_event(session, "staff.appeal_view", object_ref=f"appeal:{appeal.id}", on_behalf_of=decision.on_behalf_of)
        session.commit()
        return flow.view(appeal)


@blp.route("/staff/appeals/<string:appeal_id>/decision")
class StaffAppealDecision(MethodView):
    @staff_required(blp)
    @blp.arguments(AppealDecisionArgs)
    @blp.response(200, AppealSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Role not allowed, or the original decider "
                      "(`error_code`: original_decider)")
    @blp.alt_response(404, schema=ErrorSchema, description="No such appeal in your jurisdiction")
    @blp.alt_response(409, schema=ErrorSchema, description="Decided (`error_code`: appeal_decided), claimed by "
                      "someone else (task_claimed), or the rule is still not met on the data (rule_still_not_met)")
    def post(self, args, appeal_id):
        """Decide an appeal with a written reason; upheld re-opens the case or resumes the benefit."""
        session = SessionLocal()
        appeal, obj, decision = _appeal(session, appeal_id, "view")
        verb = "appeal:decide"
        authorize(session, verb, obj, "appeal", object_ref=f"appeal:{appeal.id}")
        authz.separation_of_duties(session, current_caller(), verb, obj)  # an application's or a benefit's
        flow.decide(session, appeal, current_staff().id, args["outcome"], args["reason"], today_shanghai())
        audit_event(session, "staff.appeal_decision", object_ref=f"appeal:{appeal.id}",
                    on_behalf_of=decision.on_behalf_of, result=args["outcome"])
        session.commit()
        return flow.view(appeal)

