"""Proxy grants (亲情代办) for citizens: invitations by QR code, requests, confirm, revoke, and
"who did what on my behalf"."""

from __future__ import annotations

import base64

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy import select

from app.api.activity import ActivitySchema, feed_page
from app.api.base import ErrorSchema
from app.api.schemas import ID_INPUT, NO_NUL, SEEN_NAME, AsciiInteger, Digits, StrictSchema, UtcDateTime
from app.api.security import (
    audit_event,
    audit_read,
    auth_required,
    authorize,
    client_ip,
    config,
    current_account,
    current_caller,
)
from app.authz import SCOPES
from app.clock import clock_now
from app.db import SessionLocal
from app.errors import Conflict
from app.masking import mask_name
from app.models import Account, ProxyGrant, ProxyRequest, Resident
from flows import proxies as flow
from flows import proxy_requests
from flows.programs import PROGRAMS
from notifications.wechat_client import WeChatError, WeChatTransportError, client_for

blp = Blueprint("proxies", __name__, url_prefix="/api/v1/proxies", description="Family proxies (亲情代办)")

ScopeList = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(SCOPES)), validate=ma.validate.Length(max=10))
ProgramList = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(sorted(PROGRAMS))),
                             validate=ma.validate.Length(max=20))


class ProxyInvitationArgs(StrictSchema):
    scopes = ScopeList
    programs = ProgramList
    days = AsciiInteger(validate=ma.validate.Range(1, flow.MAX_DAYS))


class InvitationSchema(ma.Schema):
    id = ma.fields.String(required=True)
    token = ma.fields.String(required=True)
    scene = ma.fields.String(required=True)
    scopes = ma.fields.List(ma.fields.String(), required=True)
    programs = ma.fields.List(ma.fields.String(), required=True)
    expires_at = UtcDateTime(format="iso", required=True)
    qr_png = ma.fields.String(required=True, metadata={"description": "PNG, base64"})
    wxacode_png = ma.fields.String(allow_none=True, metadata={"description": "mini-program code PNG, base64"})


class ProxyAcceptArgs(StrictSchema):
    token = ma.fields.String(required=True, validate=[ma.validate.Length(8, 64), NO_NUL])


class ProxyRequestArgs(StrictSchema):
    name = ma.fields.String(required=True, validate=[ma.validate.Length(1, 64), SEEN_NAME])
    id_number = Digits(required=True, id_number=True, pattern=ID_INPUT,
                       pattern_error="An ID number is 17 digits and a check character.")
    relation = ma.fields.String(required=True, validate=ma.validate.OneOf(flow.RELATIONS))
    scopes = ScopeList
    programs = ProgramList
    days = AsciiInteger(validate=ma.validate.Range(1, flow.MAX_DAYS))


class RequestReceivedSchema(ma.Schema):
    status = ma.fields.String(required=True)
    message = ma.fields.String(required=True)


class GrantConfirmArgs(StrictSchema):
    scopes = ScopeList


class GrantNoBody(StrictSchema):
    """No body needed."""


class GrantSchema(ma.Schema):
    id = ma.fields.String(required=True)
    role = ma.fields.String(required=True, metadata={"enum": ["principal", "proxy", "manager", "staff"]})
    status = ma.fields.String(required=True, metadata={"description": "requested | pending_principal | "
                              "pending_approval | active | suspended (the proxy has unbound her identity; it works "
                              "again when she binds herself) | revoked | declined | expired | withdrawn (a request "
                              "its requester took back)"})
    live = ma.fields.Boolean(required=True)
    scopes = ma.fields.List(ma.fields.String(), required=True)
    programs = ma.fields.List(ma.fields.String(), required=True)
    relation = ma.fields.String(required=True)
    basis = ma.fields.String(required=True)
    principal_name = ma.fields.String(required=True)
    proxy_name = ma.fields.String(required=True)
    created_at = UtcDateTime(format="iso", required=True)
    activated_at = UtcDateTime(format="iso", allow_none=True)
    expires_at = UtcDateTime(format="iso", required=True)
    revoked_at = UtcDateTime(format="iso", allow_none=True)


def grant_payload(session, grant: ProxyGrant, role: str) -> dict:
    from app.authz import grant_is_live

    principal = session.get(Resident, grant.resident_id)
    proxy = session.get(Resident, grant.proxy_resident_id) if grant.proxy_resident_id else None
    status = grant.status
    if status == "requested" and grant.created_at + proxy_requests.REQUEST_TTL <= clock_now():
        status = "expired"  # a request not answered within 7 days can no longer be accepted
    elif status == "active" and grant.expires_at <= clock_now():
        status = "expired"  # past its end: nothing is done or seen through it any more
    live = grant_is_live(grant)
    if live and not _proxy_bound(session, grant):
        status, live = "suspended", False  # the proxy unbound her identity: nothing works through it until she
        # binds herself again (app.authz.proxy_grants_in_force); the resident may still revoke it
    return {"id": grant.id, "role": role, "status": status, "live": live,
            "scopes": list(grant.scopes or []), "programs": list(grant.programs or []), "relation": grant.relation,
            "basis": grant.basis, "principal_name": mask_name(principal.name) if principal else "",
            "proxy_name": mask_name(proxy.name) if proxy else "", "created_at": grant.created_at,
            "activated_at": grant.activated_at, "expires_at": grant.expires_at, "revoked_at": grant.revoked_at}


def _proxy_bound(session, grant: ProxyGrant) -> bool:
    """Whether the grant's proxy person is bound now to an enabled account (the one the grant works from)."""
    return grant.proxy_resident_id is not None and session.execute(
        select(Account.id).where(Account.resident_id == grant.proxy_resident_id, Account.disabled_at.is_(None))
        .limit(1)).first() is not None


def _role(grant: ProxyGrant, account) -> str:
    if account.resident_id is not None and grant.resident_id == account.resident_id:
        return "principal"
    is_proxy = account.resident_id is not None and grant.proxy_resident_id == account.resident_id
    return "proxy" if is_proxy else "manager"


def _own_resident(session) -> Resident:
    account = current_account()
    if account.resident_id is None:
        raise Conflict("Bind your identity first.")
    return session.get(Resident, account.resident_id)


def _png_b64(data: bytes | None) -> str | None:
    return base64.b64encode(data).decode() if data else None


@blp.route("/invitations")
class Invitations(MethodView):
    @auth_required(blp)
    @blp.arguments(ProxyInvitationArgs, required=False)
    @blp.response(201, InvitationSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="Not bound to a resident")
    @blp.alt_response(422, schema=ErrorSchema, description="Unknown scope or program")
    def post(self, args):
        """Invite a family member: a short-lived, single-use QR code (and mini-program code)."""
        session, cfg = SessionLocal(), config()
        resident = _own_resident(session)
        authorize(session, "proxy:manage", resident, "resident", object_ref=f"resident:{resident.id}")
        args = args or {}
        invitation, token = flow.create_invitation(session, resident, current_account(), args.get("scopes"),
                                                   args.get("programs"), args.get("days"))
        audit_event(session, "proxy.invitation_create", object_ref=f"invitation:{invitation.id}",
                    details={"scopes": invitation.scopes})
        session.commit()
        scene = flow.scene_for(token)
        try:
            wxacode = client_for(cfg).wxacode_unlimited(scene, page=None, check_path=False)
        except (WeChatError, WeChatTransportError):
            wxacode = None
        return {"id": invitation.id, "token": token, "scene": scene, "scopes": invitation.scopes,
                "programs": invitation.programs, "expires_at": invitation.expires_at,
                "qr_png": _png_b64(flow.qr_png(scene)), "wxacode_png": _png_b64(wxacode)}


@blp.route("/invitations/accept")
class InvitationAccept(MethodView):
    @auth_required(blp)
    @blp.arguments(ProxyAcceptArgs)
    @blp.response(200, GrantSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="Invitation unknown, used or expired")
    @blp.alt_response(409, schema=ErrorSchema, description="Not bound, own invitation, or already a proxy")
    def post(self, args):
        """Accept a scanned invitation: active at once in one household, otherwise after the resident confirms."""
        session = SessionLocal()
        account = session.merge(current_account())
        grant = flow.accept_invitation(session, args["token"], account)
        audit_event(session, "proxy.invitation_accept", object_ref=f"grant:{grant.id}",
                    on_behalf_of=f"resident:{grant.resident_id}", details={"status": grant.status})
        session.commit()
        return grant_payload(session, grant, "proxy")


@blp.route("/requests")
class Requests(MethodView):
    @auth_required(blp)
    @blp.arguments(ProxyRequestArgs)
    @blp.response(202, RequestReceivedSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="Bind your own identity first; or `errors.code` "
                      "`proxy_request_open`: you already have an open request for this ID number")
    @blp.alt_response(422, schema=ErrorSchema, description="Malformed input")
    @blp.alt_response(429, schema=ErrorSchema, description="More than 5 requests today (see Retry-After)")
    def post(self, args):
        """Ask to become someone's proxy. The answer, and the `pending` entry you then see in
        `GET /proxies/grants`, are the same whether or not the person is known; it becomes `active` when she
        accepts, `expired` after 7 days. At most 5 requests a day, one open request per ID number."""
        session, cfg = SessionLocal(), config()
        account = session.merge(current_account())
        scopes, programs = flow.check_scopes(args.get("scopes"), args.get("programs"))
        request = proxy_requests.request(session, cfg, account, args["name"], args["id_number"], args["relation"],
                                         scopes, programs, flow._days(args.get("days")), address=client_ip())
        audit_event(session, "proxy.request", object_ref=f"proxy_request:{request.id}")
        session.commit()
        return {"status": "received",
                "message": "If the details match, the person will be asked to confirm in the app."}


def request_payload(session, request, grant, account) -> dict:
    """A request as its requester sees it: the same whether or not it matched anyone."""
    own = session.get(Resident, account.resident_id) if account.resident_id else None
    return {"id": request.id, "role": "proxy", "status": proxy_requests.status_of(request, grant), "live": False,
            "scopes": list(request.scopes or []), "programs": list(request.programs or []),
            "relation": request.relation, "basis": "request", "principal_name": request.name_masked,
            "proxy_name": mask_name(own.name) if own else "", "created_at": request.created_at,
            "activated_at": None, "expires_at": request.expires_at, "revoked_at": None}


@blp.route("/requests/<string:request_id>/withdraw")
class RequestWithdraw(MethodView):
    @auth_required(blp)
    @blp.arguments(GrantNoBody, required=False)
    @blp.response(200, GrantSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such request of yours")
    @blp.alt_response(409, schema=ErrorSchema, description="Accepted already (`error_code`: proxy_request_accepted; "
                      "revoke the grant instead) or expired (`proxy_request_expired`)")
    def post(self, _args, request_id):
        """Take back a request of mine while it is pending (a mistyped name, the wrong relation): it shows as
        `withdrawn`, and a new request for the same ID number may be made at once. The same answer whether or
        not it matched anyone; a repeat changes nothing."""
        session = SessionLocal()
        found = session.get(ProxyRequest, request_id) if len(request_id) <= 64 else None
        authorize(session, "proxy_request:withdraw", found, "request", object_ref=f"proxy_request:{request_id[:40]}")
        account = current_account()
        request, grant = proxy_requests.withdraw(session, account, found)
        audit_event(session, "proxy.request_withdraw", object_ref=f"proxy_request:{request.id}")
        session.commit()
        return request_payload(session, request, grant, account)


@blp.route("/grants")
class Grants(MethodView):
    @auth_required(blp)
    @blp.response(200, GrantSchema(many=True))
    def get(self):
        """My proxies (I am the principal), the people I help (I am the proxy), and my requests not yet accepted
        (`pending`, or `expired` after 7 days — whether or not they matched anyone)."""
        session = SessionLocal()
        account = current_account()
        grants = [grant_payload(session, g, _role(g, account)) for g in flow.grants_of(session, account)]
        requests = [request_payload(session, r, g, account) for r, g in proxy_requests.requests_of(session, account)]
        return sorted(grants + requests, key=lambda x: x["created_at"], reverse=True)


def _grant(session, grant_id: str, action: str) -> tuple[ProxyGrant, object]:
    grant = session.get(ProxyGrant, grant_id) if len(grant_id) <= 64 else None
    decision = authorize(session, action, grant, "grant", object_ref=f"grant:{grant_id[:40]}")
    return grant, decision


@blp.route("/grants/<string:grant_id>")
class GrantById(MethodView):
    @auth_required(blp)
    @blp.response(200, GrantSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such grant")
    def get(self, grant_id):
        """One grant (the principal, the proxy, or a proxy who manages the principal's proxies)."""
        session = SessionLocal()
        grant, decision = _grant(session, grant_id, "grant:view")
        audit_read(session, "proxy.grant_view", decision, object_ref=f"grant:{grant.id}")
        session.commit()
        return grant_payload(session, grant, _role(grant, current_account()))


@blp.route("/grants/<string:grant_id>/confirm")
class GrantConfirm(MethodView):
    @auth_required(blp)
    @blp.arguments(GrantConfirmArgs, required=False)
    @blp.response(200, GrantSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Not allowed to confirm this grant")
    @blp.alt_response(404, schema=ErrorSchema, description="No such grant")
    @blp.alt_response(409, schema=ErrorSchema, description="Not pending (`error_code`: grant_not_pending)")
    def post(self, args, grant_id):
        """The resident says yes to a request or an invitation from another household (may narrow scopes)."""
        session = SessionLocal()
        grant, decision = _grant(session, grant_id, "grant:confirm")
        if flow.confirm(session, grant, current_caller().ref, (args or {}).get("scopes")):  # not a repeat
            audit_event(session, "proxy.grant_confirm", object_ref=f"grant:{grant.id}",
                        on_behalf_of=decision.on_behalf_of, details={"scopes": grant.scopes})
        session.commit()
        return grant_payload(session, grant, _role(grant, current_account()))


@blp.route("/grants/<string:grant_id>/decline")
class GrantDecline(MethodView):
    @auth_required(blp)
    @blp.arguments(GrantNoBody, required=False)
    @blp.response(200, GrantSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Not allowed")
    @blp.alt_response(404, schema=ErrorSchema, description="No such grant")
    @blp.alt_response(409, schema=ErrorSchema, description="Not pending (`error_code`: grant_not_pending)")
    def post(self, _args, grant_id):
        """The resident says no to a pending request."""
        session = SessionLocal()
        grant, decision = _grant(session, grant_id, "grant:confirm")
        flow.decline(session, grant, current_caller().ref)
        audit_event(session, "proxy.grant_decline", object_ref=f"grant:{grant.id}", on_behalf_of=decision.on_behalf_of)
        session.commit()
        return grant_payload(session, grant, _role(grant, current_account()))


@blp.route("/grants/<string:grant_id>/revoke")
class GrantRevoke(MethodView):
    @auth_required(blp)
    @blp.arguments(GrantNoBody, required=False)
    @blp.response(200, GrantSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such grant")
    def post(self, _args, grant_id):
        """Either side ends the grant at once: the proxy's next request for the resident's data is refused."""
        session = SessionLocal()
        grant, decision = _grant(session, grant_id, "grant:revoke")
        if flow.revoke(session, grant, current_caller().ref):  # not a repeat
            audit_event(session, "proxy.grant_revoke", object_ref=f"grant:{grant.id}",
                        on_behalf_of=decision.on_behalf_of if decision.via == "proxy" else None)
        session.commit()
        return grant_payload(session, grant, _role(grant, current_account()))


@blp.route("/activity")
class Activity(MethodView):
    @auth_required(blp)
    @blp.response(200, ActivitySchema(many=True))
    @blp.paginate()
    def get(self, pagination_parameters):
        """Who did what on my behalf: the resident feed (`GET /api/v1/me/activity`) filtered to proxies and
        staff, newest first."""
        return feed_page(("proxy", "staff"), pagination_parameters)
