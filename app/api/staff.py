"""Staff API: sign-in, work queues of the staff member's jurisdiction, decisions with reasons, the audited
resident look-up, and proxy grants recorded at the office or on a home visit."""

from __future__ import annotations

import base64
import time

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from app import authz, security_log
from app.api import tokens
from app.api.application_views import payload as application_payload
from app.api.applications import ApplicationSchema
from app.api.base import ErrorSchema, page_of
from app.api.proxies import GrantSchema, ProgramList, ScopeList, grant_payload
from app.api.schemas import ID_INPUT, NO_NUL, AsciiInteger, Digits, StrictSchema, UtcDateTime, reason_field
from app.api.security import (
    audit_event,
    audit_read,
    authorize,
    client_ip,
    config,
    current_auth_session,
    current_caller,
)
from app.api.staff_security import current_staff, staff_required
from app.crypto import cipher_for
from app.db import SessionLocal
from app.errors import NotFound, TooManyAttempts, Unauthorized
from app.masking import mask_name
from app.models import Account, Application, ProxyGrant, Resident, StaffTask
from flows import proxies as proxy_flow
from flows import staff as flow

blp = Blueprint("staff", __name__, url_prefix="/api/v1/staff", description="Staff (civil-affairs officers)")

REF_TTL = 8 * 3600


class StaffLoginArgs(StrictSchema):
    username = ma.fields.String(required=True, validate=[ma.validate.Length(1, 64), NO_NUL])
    password = ma.fields.String(required=True, validate=[ma.validate.Length(1, 256), NO_NUL])


class StaffRefreshArgs(StrictSchema):
    refresh_token = ma.fields.String(required=True, validate=[ma.validate.Length(1, 256), NO_NUL])


class StaffSchema(ma.Schema):
    id = ma.fields.String(required=True)
    username = ma.fields.String(required=True)
    display_name = ma.fields.String(required=True)
    role = ma.fields.String(required=True)
    district_code = ma.fields.String(required=True)
    street_code = ma.fields.String(allow_none=True)
    community_code = ma.fields.String(allow_none=True)
    must_change_password = ma.fields.Boolean(load_default=False, metadata={
        "description": "true: every other staff route answers 403 password_change_required until "
                       "POST /api/v1/staff/auth/password"})


class StaffTokenSchema(ma.Schema):
    access_token = ma.fields.String(required=True)
    refresh_token = ma.fields.String(required=True)
    token_type = ma.fields.String(required=True)
    expires_in = ma.fields.Integer(required=True)
    staff = ma.fields.Nested(StaffSchema, required=True)


class StaffLogoutSchema(ma.Schema):
    logged_out = ma.fields.Boolean(required=True)


class StaffQueueArgs(StrictSchema):
    queue = ma.fields.String(load_default="all", validate=ma.validate.OneOf(flow.QUEUES))


class TaskSchema(ma.Schema):
    id = ma.fields.String(required=True)
    kind = ma.fields.String(required=True)
    state = ma.fields.String(required=True)
    application_id = ma.fields.String(allow_none=True)
    resident_name = ma.fields.String(allow_none=True)
    resident_id_masked = ma.fields.String(allow_none=True)
    district_code = ma.fields.String(allow_none=True)
    street_code = ma.fields.String(allow_none=True)
    community_code = ma.fields.String(allow_none=True)
    due_at = UtcDateTime(format="iso", allow_none=True)
    created_at = UtcDateTime(format="iso", required=True)
    closed_at = UtcDateTime(format="iso", allow_none=True)
    decision = ma.fields.String(allow_none=True)
    reason = ma.fields.String(allow_none=True)


class StaffDecideArgs(StrictSchema):
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(flow.DECISIONS))
    reason = reason_field(500)


class StaffLookupArgs(StrictSchema):
    id_number = Digits(required=True, id_number=True, validate=[ma.validate.Length(15, 20), NO_NUL],
                       pattern=ID_INPUT, pattern_error="An ID number is 17 digits and a check character.")
    purpose = ma.fields.String(required=True, validate=ma.validate.OneOf(flow.LOOKUP_PURPOSES))


class ResidentViewSchema(ma.Schema):
    resident_ref = ma.fields.String(required=True, metadata={"description": "opaque, for this staff member, 8 h"})
    in_jurisdiction = ma.fields.Boolean(required=True)
    name_masked = ma.fields.String(required=True)
    id_number_masked = ma.fields.String(required=True)
    name = ma.fields.String(allow_none=True)
    sex = ma.fields.String(allow_none=True)
    birth_date = ma.fields.Date(allow_none=True)
    district_code = ma.fields.String(allow_none=True)
    street_code = ma.fields.String(allow_none=True)
    community_code = ma.fields.String(allow_none=True)
    has_account = ma.fields.Boolean(allow_none=True)
    grants = ma.fields.List(ma.fields.Nested(GrantSchema), required=True)


class RecordGrantArgs(StrictSchema):
    resident_ref = ma.fields.String(required=True, validate=[ma.validate.Length(10, 200), NO_NUL])
    proxy_ref = ma.fields.String(required=True, validate=[ma.validate.Length(10, 200), NO_NUL])
    basis = ma.fields.String(required=True, validate=ma.validate.OneOf(proxy_flow.STAFF_BASES))
    document_ref = ma.fields.String(required=True, validate=[ma.validate.Length(1, 120), NO_NUL])
    place = ma.fields.String(required=True, validate=ma.validate.OneOf(("office", "home_visit")))
    scopes = ScopeList
    programs = ProgramList
    days = AsciiInteger(validate=ma.validate.Range(1, proxy_flow.MAX_DAYS))


class StaffNoBody(StrictSchema):
    """No body needed."""


def staff_payload(staff) -> dict:
    return {"id": staff.id, "username": staff.username, "display_name": staff.display_name, "role": staff.role,
            "district_code": staff.district_code, "street_code": staff.street_code,
            "community_code": staff.community_code, "must_change_password": bool(staff.must_change_password)}


def _ref(resident: Resident) -> str:
    plain = f"{resident.id}:{int(time.time()) + REF_TTL}"
    blob = cipher_for(config()).encrypt(plain, context=f"resident-ref:{current_staff().id}".encode())
    return base64.urlsafe_b64encode(blob).decode().rstrip("=")


def _resident_from_ref(session, ref: str, field: str) -> Resident:
    try:
        blob = base64.urlsafe_b64decode(ref + "=" * (-len(ref) % 4))
        plain = cipher_for(config()).decrypt(blob, context=f"resident-ref:{current_staff().id}".encode())
        resident_id, expires = (int(x) for x in plain.split(":"))
    except Exception:  # noqa: BLE001 - any tampering or a foreign ref is simply unknown
        raise NotFound(f"Unknown {field}; look the resident up again.") from None
    resident = session.get(Resident, resident_id) if expires > time.time() else None
    if resident is None:
        raise NotFound(f"Unknown {field}; look the resident up again.")
    return resident


@blp.route("/auth/login")
class Login(MethodView):
    @blp.arguments(StaffLoginArgs)
    @blp.response(200, StaffTokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Wrong username or password, or disabled")
    @blp.alt_response(429, schema=ErrorSchema, description="Locked after too many failures (see Retry-After)")
    def post(self, args):
        """Password sign-in: a 15-minute access token and a refresh token (session ends after 8 hours)."""
        session, cfg = SessionLocal(), config()
        from app.api.tokens import request_context

        try:
            staff, outcome = flow.login(session, args["username"], args["password"])
        except TooManyAttempts as exc:
            session.rollback()
            security_log.refused("staff_lockout", actor=getattr(exc, "actor", None), address=client_ip())
            raise
        except Exception as exc:
            from app import audit

            session.rollback()
            audit.record(session, actor="anonymous", action="staff.login", result=getattr(exc, "code_name", "error"),
                         **request_context())
            session.commit()
            raise
        if outcome != "ok":
            from app import audit

            audit.record(session, actor=f"staff:{staff.id}", action="staff.login",
                         result="bad_password" if outcome == "locked" else outcome, **request_context())
            if outcome == "locked":
                audit.record(session, actor=f"staff:{staff.id}", action="staff.lockout", result="locked",
                             object_ref=f"staff:{staff.id}", **request_context())
                security_log.refused("staff_lockout", actor=f"staff:{staff.id}", address=client_ip(),
                                     result="locked")
            session.commit()
            raise Unauthorized(flow.INVALID_LOGIN)
        account = session.get(Account, staff.account_id)
        pair = tokens.start_session(session, cfg, account)
        session.commit()
        return {**pair, "staff": staff_payload(staff)}


@blp.route("/auth/refresh")
class Refresh(MethodView):
    @blp.arguments(StaffRefreshArgs)
    @blp.response(200, StaffTokenSchema)
    @blp.alt_response(401, schema=ErrorSchema, description="Refresh token invalid, used or revoked")
    def post(self, args):
        """Rotate the refresh token; a reused token ends the whole session (and is a security event)."""
        from app.models import StaffMember

        session, cfg = SessionLocal(), config()
        account, pair = tokens.rotate_refresh_token(session, cfg, args["refresh_token"], kind="staff")
        staff = session.execute(select(StaffMember).where(StaffMember.account_id == account.id)).scalar()
        session.commit()
        return {**pair, "staff": staff_payload(staff)}


@blp.route("/auth/logout")
class Logout(MethodView):
    @staff_required(blp, before_password_change=True)
    @blp.response(200, StaffLogoutSchema)
    def post(self):
        """End this staff session at once."""
        session = SessionLocal()
        tokens.revoke_session(session, session.merge(current_auth_session()), "logout")
        session.commit()
        return {"logged_out": True}


@blp.route("/me")
class Me(MethodView):
    @staff_required(blp, before_password_change=True)
    @blp.response(200, StaffSchema)
    def get(self):
        """The signed-in staff member: role and jurisdiction."""
        return staff_payload(current_staff())


def task_payload(session, task: StaffTask) -> dict:
    resident = session.get(Resident, task.resident_id) if task.resident_id else None
    details = task.details or {}
    return {"id": task.id, "kind": task.kind, "state": task.state, "application_id": task.application_id,
            "resident_name": resident.name if resident else None,
            "resident_id_masked": resident.id_mask if resident else None,
            "district_code": task.district_code, "street_code": task.street_code,
            "community_code": task.community_code, "due_at": task.due_at, "created_at": task.created_at,
            "closed_at": task.closed_at, "decision": details.get("decision"), "reason": details.get("reason")}


@blp.route("/tasks")
class Tasks(MethodView):
    @staff_required(blp)
    @blp.arguments(StaffQueueArgs, location="query")
    @blp.response(200, TaskSchema(many=True))
    @blp.paginate()
    def get(self, args, pagination_parameters):
        """A work queue (review, home_visit, overdue, all) of my jurisdiction only, most urgent first. The page
        read is audited (one event naming the tasks; each listed resident sees it in her feed)."""
        session = SessionLocal()
        query = flow.queue(session, current_caller(), args["queue"])
        rows = page_of(session, query, pagination_parameters)
        out = [task_payload(session, t) for t in rows]
        audit_event(session, "staff.task_list", details={"queue": args["queue"], "ids": [t.id for t in rows]},
                    subjects=[t.resident_id for t in rows if t.resident_id is not None])
        session.commit()
        return out


def _task(session, task_id: str, action: str):
    task = session.get(StaffTask, task_id) if len(task_id) <= 64 else None
    return task, authorize(session, action, task, "task", object_ref=f"task:{task_id[:40]}")


@blp.route("/tasks/<string:task_id>")
class TaskById(MethodView):
    @staff_required(blp)
    @blp.response(200, TaskSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such task in your jurisdiction")
    def get(self, task_id):
        """One task of my jurisdiction."""
        session = SessionLocal()
        task, decision = _task(session, task_id, "task:view")
        audit_event(session, "staff.task_view", object_ref=f"task:{task.id}", on_behalf_of=decision.on_behalf_of)
        session.commit()
        return task_payload(session, task)


@blp.route("/tasks/<string:task_id>/decide")
class TaskDecide(MethodView):
    @staff_required(blp)
    @blp.arguments(StaffDecideArgs)
    @blp.response(200, TaskSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such task in your jurisdiction")
    @blp.alt_response(409, schema=ErrorSchema, description="Decided already (`error_code`: task_decided)")
    def post(self, args, task_id):
        """Decide a task with a reason (reviewer or above)."""
        session = SessionLocal()
        task, decision = _task(session, task_id, "task:decide")
        authz.separation_of_duties(session, current_caller(), "task:decide", task)  # not about her own household
        flow.decide_task(session, task, current_staff(), args["decision"], args["reason"])
        audit_event(session, "staff.task_decide", object_ref=f"task:{task.id}", on_behalf_of=decision.on_behalf_of,
                    result=args["decision"])
        session.commit()
        return task_payload(session, task)


@blp.route("/applications/<string:application_id>")
class ApplicationById(MethodView):
    @staff_required(blp)
    @blp.response(200, ApplicationSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such application in your jurisdiction")
    def get(self, application_id):
        """One application of a resident in my jurisdiction (the read is audited)."""
        session = SessionLocal()
        application = session.get(Application, application_id) if len(application_id) <= 64 else None
        decision = authorize(session, "application:view", application, "application",
                             object_ref=f"application:{application_id[:40]}")
        audit_event(session, "staff.application_view", object_ref=f"application:{application.id}",
                    on_behalf_of=decision.on_behalf_of)
        session.commit()
        return {**application_payload(session, application), "confirmed_by_proxy": None}


@blp.route("/residents/lookup")
class ResidentLookup(MethodView):
    @staff_required(blp)
    @blp.arguments(StaffLookupArgs)
    @blp.response(200, ResidentViewSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such resident (in your jurisdiction)")
    @blp.alt_response(422, schema=ErrorSchema, description="Malformed ID number")
    def post(self, args):
        """Look a resident up by full ID number with a purpose (always audited). Outside the jurisdiction only
        the masked name is shown, and only to name a proxy for a guardianship grant."""
        from app import authz

        session, caller = SessionLocal(), current_caller()
        resident, hash_ref = flow.find_resident(session, config(), caller, args["id_number"])
        allowed = resident is not None and authz.can(session, caller, "resident:lookup", resident)
        as_proxy = resident is not None and not allowed and args["purpose"] == "guardianship_grant"
        result = "ok" if allowed else ("proxy_only" if as_proxy else "not_found")
        audit_event(session, "staff.resident_lookup", object_ref=f"resident:{resident.id}" if resident else hash_ref,
                    on_behalf_of=f"resident:{resident.id}" if allowed else None, result=result,
                    details={"purpose": args["purpose"]}, subjects=[resident.id] if as_proxy else ())
        session.commit()
        if not (allowed or as_proxy):
            raise NotFound("No such resident in your jurisdiction.")
        out = {"resident_ref": _ref(resident), "in_jurisdiction": allowed, "name_masked": mask_name(resident.name),
               "id_number_masked": resident.id_mask, "name": None, "sex": None, "birth_date": None,
               "district_code": None, "street_code": None, "community_code": None, "has_account": None,
               "grants": []}
        if allowed:
            has_account = session.execute(select(Account.id).where(Account.resident_id == resident.id)).first()
            grants = session.execute(select(ProxyGrant).where(ProxyGrant.resident_id == resident.id)
                                     .order_by(ProxyGrant.created_at.desc())).scalars()
            out.update(name=resident.name, sex=resident.sex, birth_date=resident.birth_date,
                       district_code=resident.district_code, street_code=resident.street_code,
                       community_code=resident.community_code, has_account=has_account is not None,
                       grants=[grant_payload(session, g, "staff") for g in grants])
        return out


@blp.route("/proxy-grants")
class RecordGrant(MethodView):
    @staff_required(blp)
    @blp.arguments(RecordGrantArgs)
    @blp.response(201, GrantSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Involves yourself, or role not allowed")
    @blp.alt_response(404, schema=ErrorSchema, description="Unknown resident reference")
    @blp.alt_response(409, schema=ErrorSchema, description="The proxy has no bound account, or is a proxy already")
    def post(self, args):
        """Record a grant for a resident without a phone (guardianship or written authorisation, checked by
        me). A grant with the payout scope waits for a second staff member's approval."""
        session = SessionLocal()
        principal = _resident_from_ref(session, args["resident_ref"], "resident_ref")
        proxy_resident = _resident_from_ref(session, args["proxy_ref"], "proxy_ref")
        decision = authorize(session, "proxy:record", principal, "resident", object_ref=f"resident:{principal.id}")
        grant = proxy_flow.record_by_staff(session, current_staff(), principal, proxy_resident, basis=args["basis"],
                                           document_ref=args["document_ref"], checked_at=None, place=args["place"],
                                           scopes=args.get("scopes"), programs=args.get("programs"),
                                           days=args.get("days"))
        audit_event(session, "staff.proxy_grant_record", object_ref=f"grant:{grant.id}",
                    on_behalf_of=decision.on_behalf_of, result=grant.status,
                    details={"basis": grant.basis, "place": args["place"], "scopes": grant.scopes})
        session.commit()
        return grant_payload(session, grant, "staff")


def _grant(session, grant_id: str, action: str):
    grant = session.get(ProxyGrant, grant_id) if len(grant_id) <= 64 else None
    return grant, authorize(session, action, grant, "grant", object_ref=f"grant:{grant_id[:40]}")


@blp.route("/proxy-grants/<string:grant_id>")
class GrantById(MethodView):
    @staff_required(blp)
    @blp.response(200, GrantSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such grant in your jurisdiction")
    def get(self, grant_id):
        """One grant of a resident in my jurisdiction."""
        session = SessionLocal()
        grant, decision = _grant(session, grant_id, "grant:view")
        audit_read(session, "staff.proxy_grant_view", decision, object_ref=f"grant:{grant.id}")
        session.commit()
        return grant_payload(session, grant, "staff")


@blp.route("/proxy-grants/<string:grant_id>/approve")
class GrantApprove(MethodView):
    @staff_required(blp)
    @blp.arguments(StaffNoBody, required=False)
    @blp.response(200, GrantSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such grant in your jurisdiction")
    @blp.alt_response(409, schema=ErrorSchema, description="Not waiting for a second approval (`error_code`: "
                      "grant_not_pending)")
    def post(self, _args, grant_id):
        """Second approval of a grant with the payout scope (approver or admin, not the recorder)."""
        session = SessionLocal()
        grant, decision = _grant(session, grant_id, "grant:approve")
        proxy_flow.approve_by_second_staff(session, grant, current_staff())
        audit_event(session, "staff.proxy_grant_approve", object_ref=f"grant:{grant.id}",
                    on_behalf_of=decision.on_behalf_of)
        session.commit()
        return grant_payload(session, grant, "staff")


@blp.route("/proxy-grants/<string:grant_id>/revoke")
class GrantRevoke(MethodView):
    @staff_required(blp)
    @blp.arguments(StaffNoBody, required=False)
    @blp.response(200, GrantSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such grant in your jurisdiction")
    def post(self, _args, grant_id):
        """End a grant (e.g. the guardianship ended); reviewer or above."""
        session = SessionLocal()
        grant, decision = _grant(session, grant_id, "grant:revoke")
        if proxy_flow.revoke(session, grant, current_caller().ref):  # not a repeat
            audit_event(session, "staff.proxy_grant_revoke", object_ref=f"grant:{grant.id}",
                        on_behalf_of=decision.on_behalf_of)
        session.commit()
        return grant_payload(session, grant, "staff")
