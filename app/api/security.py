"""Authentication for views: `@auth_required(blp)` documents bearer auth and 401, and loads the caller."""

from __future__ import annotations

import functools
from contextlib import contextmanager

from flask import current_app, g, request

from app.api import tokens
from app.api.base import ErrorSchema
from app.db import SessionLocal
from app.errors import Unauthorized


def config():
    return current_app.extensions["zerotrip_config"]


def current_principal() -> tokens.Principal:
    """The verified caller (account id, kind, resident id, sign-in session id): no extra query."""
    return g.principal


def current_account():
    """The caller's Account as an ORM object, loaded on first use (most requests only need the principal)."""
    account = g.get("account")
    if account is None:
        from app.models import Account

        account = g.account = SessionLocal().get(Account, g.principal.account_id)
    return account


def current_auth_session():
    auth = g.get("auth_session")
    if auth is None:
        from app.models import AuthSession

        auth = g.auth_session = SessionLocal().get(AuthSession, g.principal.session_id)
    return auth


def client_limit_key() -> str:
    """The client's address as per-address limits count it (an IPv6 client by its /64)."""
    from app.api.client_address import limit_key

    return limit_key(client_ip())


def client_ip() -> str:
    """The client's address (the TCP peer, or what a trusted reverse proxy says; app/api/client_address.py)."""
    cached = g.get("client_ip")
    if cached is None:
        from app.api.client_address import client_address

        trusted = config().trusted_proxies  # without trusted proxies the header is never read
        cached = g.client_ip = client_address(request.remote_addr,
                                              request.headers.getlist("X-Forwarded-For") if trusted else [], trusted)
    return cached


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("Sign in first: send `Authorization: Bearer <access_token>`.")
    return value.strip()


def authenticate() -> None:
    g.principal = tokens.verify_access(SessionLocal(), config(), _bearer())


def auth_required(blp):
    """Decorator factory: `@auth_required(blp)` on a MethodView method."""

    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            authenticate()
            return fn(*args, **kwargs)

        documented = blp.doc(security=[{"bearerAuth": []}])(wrapper)
        return blp.alt_response(401, schema=ErrorSchema, description="Missing, invalid or expired access token")(documented)

    return decorator


def current_caller():
    """The caller as the authorization layer sees it (citizen or staff)."""
    from app.authz import Caller

    staff = g.get("staff")
    principal = g.principal
    if staff is not None:
        return Caller(kind="staff", account_id=principal.account_id, staff_id=staff.id, role=staff.role,
                      district_code=staff.district_code, street_code=staff.street_code,
                      community_code=staff.community_code, resident_id=None)
    return Caller(kind="citizen", account_id=principal.account_id, resident_id=principal.resident_id)


def _who_acted(session, on_behalf_of: str | None) -> dict:
    """Who acted, stored with the event at the time: a proxy's masked name as then bound; a staff member's office."""
    from app.masking import mask_name
    from app.models import Resident
    from flows.activity import office_code_of, office_of

    staff = g.get("staff")
    if staff is not None:
        return {"office": office_of(staff, session), "office_code": office_code_of(staff)}
    principal = g.get("principal")
    if on_behalf_of and principal is not None and principal.resident_id is not None:
        resident = session.get(Resident, principal.resident_id)
        if resident is not None:
            return {"actor_name": mask_name(resident.name)}
    return {}


def audit_event(session, action: str, *, object_ref: str | None = None, on_behalf_of: str | None = None,
                result: str = "ok", details: dict | None = None, actor: str | None = None, subjects=(),
                actor_kind: str | None = None):
    """Append an audit event for the current request (in the caller's transaction). `subjects`: residents whose
    records a list page showed (each sees the event in her feed, GET /api/v1/me/activity)."""
    from app import audit

    if actor is None:
        actor = current_caller().ref if g.get("principal") is not None else "anonymous"
    stamped = {**_who_acted(session, on_behalf_of or (subjects and "list")), **(details or {})}
    event = {"actor": actor, "action": action, "result": result, "on_behalf_of": on_behalf_of,
             "object_ref": object_ref, "request_id": g.get("request_id"), "source_ip": client_ip(),
             "details": stamped, "subjects": subjects, "actor_kind": actor_kind}
    deferred = g.get(DEFERRED_AUDIT)
    if deferred is not None:  # inside `audit_events_after`: appended once the work's own rows are locked
        deferred.append(event)
        return None
    return audit.record(session, **event)


DEFERRED_AUDIT = "zerotrip_deferred_audit"


@contextmanager
def audit_events_after(session):
    """Collect this request's audit events while the block runs and append them (in order) when it ends without an
    exception. Bulk work locks one row per item (a task claimed, a case reviewed); appending each item's event at
    once took the audit chain's head row between them, so two bulk requests (or a bulk and a single claim) each
    held a row the other waited for: a deadlock on PostgreSQL. Rows first, the chain last: one order for all.
    The caller drops the events of an item whose savepoint rolled back (the list is yielded)."""
    from app import audit

    events: list[dict] = []
    setattr(g, DEFERRED_AUDIT, events)
    try:
        yield events
    finally:
        setattr(g, DEFERRED_AUDIT, None)
    for event in events:
        audit.record(session, **event)


def audit_read(session, action: str, decision, *, object_ref: str | None = None, ids=None,
               details: dict | None = None) -> None:
    """Record a read of a resident's record or case by a proxy or a staff member (owners reading their own data
    are not recorded). A list page is one event naming the ids shown. The resident sees it in her feed."""
    if decision is None or decision.via not in ("proxy", "staff"):
        return
    extra = dict(details or {})
    if ids is not None:
        extra["ids"] = list(ids)
    if decision.grant is not None:
        extra["grant"] = decision.grant.id
    audit_event(session, action, object_ref=object_ref, on_behalf_of=decision.on_behalf_of, details=extra)


def authorize(session, action: str, obj, noun: str, object_ref: str | None = None):
    """`authz.require` for the current caller; a refusal of an existing object is audited (and committed)."""
    from app import authz
    from app.errors import DomainError

    try:
        return authz.require(session, current_caller(), action, obj, noun, address=client_ip())
    except DomainError as exc:
        if obj is not None:
            session.rollback()
            audit_event(session, "authz.denied", object_ref=object_ref, result=exc.code_name,
                        details={"attempted": action})
            session.commit()
        raise
