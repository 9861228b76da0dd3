"""Proxy grants (亲情代办): invitations by QR code, requests by family members, grants recorded by staff.

Rules (plain Python; the HTTP layer only authenticates and authorizes):
- a proxy is an account bound to her own identity, never the principal herself;
- an accepted invitation is active at once only when the registry puts both in one household and the scopes
  hold no payout / manage-proxies scope; otherwise the resident confirms it first;
- a request by a family member says nothing about whether the ID number exists (flows.proxy_requests);
- a staff grant needs a basis (guardianship or written authorisation), records who checked it, is never for
  the staff member herself, and waits for a second staff member when it includes the payout scope;
- every grant that becomes active is announced to the resident, with a one-tap revoke.
"""

from __future__ import annotations

import hashlib
import io
import secrets
from datetime import datetime, timedelta

import qrcode
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from app.authz import DEFAULT_SCOPES, SCOPES, SENSITIVE_SCOPES, grant_is_live, proxy_grants_in_force
from app.clock import clock_now
from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.masking import mask_name
from app.models import Account, ProxyGrant, ProxyInvitation, Resident, StaffMember
from app.security_log import refused
from flows import approvals, proxy_requests
from flows import programs as program_catalogue
from flows import staff as staff_flow
from flows.conflicts import add_or_conflict
from notifications.outbox import enqueue

INVITATION_TTL = timedelta(minutes=30)
DEFAULT_DAYS, MAX_DAYS = 365, 5 * 365
RELATIONS = ("child", "spouse", "sibling", "grandchild", "other_relative", "guardian", "other")
STAFF_BASES = ("guardianship", "written_authorisation")
PENDING = ("requested", "pending_principal", "pending_approval")


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def check_scopes(scopes: list[str] | None, programs: list[str] | None) -> tuple[list[str], list[str]]:
    # none given: the default scopes; an empty list: the narrowest grant, view only (not the default's four)
    scopes = list(dict.fromkeys(DEFAULT_SCOPES if scopes is None else scopes))
    bad = [s for s in scopes if s not in SCOPES]
    if bad:
        raise Unprocessable("Unknown scope.", errors={"json": {"scopes": bad}})
    if "view" not in scopes:
        scopes.insert(0, "view")
    programs = list(dict.fromkeys(programs or []))
    unknown = [p for p in programs if program_catalogue.get(p) is None]
    if unknown:
        raise Unprocessable("Unknown program.", errors={"json": {"programs": unknown}})
    return scopes, programs


def _days(days: int | None) -> int:
    days = DEFAULT_DAYS if days is None else int(days)
    if not 1 <= days <= MAX_DAYS:
        raise Unprocessable(f"A grant lasts 1 to {MAX_DAYS} days.")
    return days


def create_invitation(session: Session, resident: Resident, account: Account, scopes=None, programs=None,
                      days: int | None = None) -> tuple[ProxyInvitation, str]:
    scopes, programs = check_scopes(scopes, programs)
    token = secrets.token_urlsafe(15)  # 20 characters, all valid in a mini-program scene
    invitation = ProxyInvitation(resident_id=resident.id, created_by_account_id=account.id, token_hash=_hash(token),
                                 scopes=scopes, programs=programs, grant_days=_days(days),
                                 expires_at=clock_now() + INVITATION_TTL)
    session.add(invitation)
    session.flush()
    return invitation, token


def scene_for(token: str) -> str:
    return f"i={token}"


def qr_png(text: str) -> bytes:
    code = qrcode.QRCode(border=2)
    code.add_data(text)
    buffer = io.BytesIO()
    code.make_image().save(buffer)
    return buffer.getvalue()


def _existing(session: Session, resident_id: int, account_id: str) -> ProxyGrant | None:
    rows = session.execute(select(ProxyGrant).where(ProxyGrant.resident_id == resident_id,
                                                    ProxyGrant.proxy_account_id == account_id,
                                                    ProxyGrant.status.in_(("active", *PENDING)))).scalars()
    return next((g for g in rows if g.status in PENDING or grant_is_live(g)), None)


def _bound_proxy(session: Session, account: Account, principal_id: int) -> Resident:
    if account.resident_id is None:
        raise Conflict("Bind your own identity first; a proxy acts under her own name.")
    if account.resident_id == principal_id:
        raise Conflict("You cannot be your own proxy.")
    return session.get(Resident, account.resident_id)


def accept_invitation(session: Session, token: str, account: Account) -> ProxyGrant:
    invitation = session.execute(select(ProxyInvitation).where(ProxyInvitation.token_hash == _hash(token or ""))
                                 ).scalar()
    if invitation is None or invitation.used_at is not None or invitation.expires_at <= clock_now():
        raise NotFound("The invitation is not valid any more; ask for a new QR code.")
    principal = session.get(Resident, invitation.resident_id)
    proxy_resident = _bound_proxy(session, account, principal.id)
    if _existing(session, principal.id, account.id) is not None:
        raise _already_yours()
    claimed = session.execute(update(ProxyInvitation).where(ProxyInvitation.id == invitation.id,
                                                            ProxyInvitation.used_at.is_(None))
                              .values(used_at=clock_now(), used_by_account_id=account.id)).rowcount
    if not claimed:
        raise NotFound("The invitation is not valid any more; ask for a new QR code.")
    session.refresh(invitation)
    same_household = proxy_resident.household_id == principal.household_id
    automatic = same_household and not (set(invitation.scopes) & SENSITIVE_SCOPES)
    grant = ProxyGrant(created_at=clock_now(), resident_id=principal.id, proxy_account_id=account.id,
                       proxy_resident_id=proxy_resident.id,
                       status="pending_principal", scopes=list(invitation.scopes), programs=list(invitation.programs),
                       relation="household" if same_household else "family",
                       basis="invitation_same_household" if same_household else "invitation",
                       evidence={"invitation_id": invitation.id}, created_by=f"account:{account.id}",
                       expires_at=clock_now() + timedelta(days=invitation.grant_days))
    # one open grant per pair (unique key uq_proxy_grants_family_pair): of parallel accepts of several of the
    # resident's invitations one inserts; the others get the same 409 as a repeat (their invitations unused)
    add_family_grant(session, grant, _already_yours())
    invitation.grant_id = grant.id
    if automatic:
        activate(session, grant, proxy_resident)
    else:
        _ask_principal(session, grant, proxy_resident)
    return grant


def _already_yours() -> Conflict:
    return Conflict("You already are (or are about to be) this person's proxy.", error_code="proxy_grant_exists")


def add_family_grant(session: Session, grant: ProxyGrant, conflict: Exception) -> None:
    """Insert a grant from an invitation or a request; `conflict` when the pair already has one open (its unique
    key decides between parallel requests). A grant of the pair past its end, or a request of it unanswered for
    7 days, is closed first (`expired`): neither is in force or answerable, and neither holds the key."""
    now = clock_now()
    session.execute(update(ProxyGrant).where(
        ProxyGrant.resident_id == grant.resident_id, ProxyGrant.proxy_account_id == grant.proxy_account_id,
        ProxyGrant.basis.not_in(STAFF_BASES),
        or_(and_(ProxyGrant.status == "active", ProxyGrant.expires_at <= now),
            and_(ProxyGrant.status == "requested", ProxyGrant.created_at <= now - proxy_requests.REQUEST_TTL)))
        .values(status="expired").execution_options(synchronize_session=False))
    add_or_conflict(session, grant, "proxy_grants", ("resident_id", "proxy_account_id"), conflict)


def confirm(session: Session, grant: ProxyGrant, actor: str, scopes: list[str] | None = None) -> bool:
    """The resident (or a proxy who manages her proxies) says yes, optionally narrowing the scopes. True when
    this call activated the grant; False for a repeat of a confirmation already made (the same scopes, or none
    asked): nothing changes. Asking other scopes of an active grant is 409: it cannot be widened or narrowed
    after the fact (revoke it and invite again)."""
    if grant.status == "active" and grant.expires_at is not None and grant.expires_at <= clock_now():
        raise Conflict("The grant has expired; it cannot be confirmed (invite again).", error_code="grant_not_pending")
    if grant.status == "active":
        wanted = check_scopes(scopes, grant.programs)[0] if scopes is not None else None
        if wanted is not None and set(wanted) != set(grant.scopes or []):
            raise Conflict("The grant is already active with other scopes; to change them, revoke it and invite "
                           "again.", error_code="grant_not_pending")
        return False
    if grant.status not in ("requested", "pending_principal"):
        raise Conflict(f"The grant is {grant.status}; it cannot be confirmed.", error_code="grant_not_pending")
    proxy_requests.check_confirmable(session, grant)
    narrowed = list(grant.scopes or [])
    if scopes is not None:
        narrowed, _ = check_scopes(scopes, grant.programs)
        if not set(narrowed) <= set(grant.scopes or []):
            raise Unprocessable("Confirming can only narrow the scopes that were asked for.")
    # one conditional UPDATE: of parallel confirms (or a confirm and a decline) one changes the grant
    claimed = session.execute(
        update(ProxyGrant).where(ProxyGrant.id == grant.id, ProxyGrant.status.in_(("requested", "pending_principal")))
        .values(status="active", scopes=narrowed, approved_by=actor, activated_at=clock_now())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(grant)
    if not claimed:
        return confirm(session, grant, actor, scopes)
    activate(session, grant, session.get(Resident, grant.proxy_resident_id) if grant.proxy_resident_id else None)
    proxy_requests.accepted(session, grant)
    return True


def decline(session: Session, grant: ProxyGrant, actor: str) -> ProxyGrant:
    if grant.status not in PENDING:
        raise Conflict(f"The grant is {grant.status}; only a pending grant can be declined.",
                       error_code="grant_not_pending")
    claimed = session.execute(
        update(ProxyGrant).where(ProxyGrant.id == grant.id, ProxyGrant.status.in_(PENDING))
        .values(status="declined", revoked_at=clock_now(), revoked_by=actor)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(grant)
    if not claimed:
        return decline(session, grant, actor)
    return grant


def revoke(session: Session, grant: ProxyGrant, actor: str) -> bool:
    """Either side, at once: the next request of the proxy for the resident's data is refused. True when this
    call ended the grant (False: it had ended already). A conditional UPDATE on the status read: a confirmation
    landing meanwhile (pending → active) is seen and the grant revoked as active, not overwritten as declined
    after its activation was announced."""
    if grant.status in ("revoked", "declined", "expired"):
        return False
    ended = "revoked" if grant.status == "active" else "declined"
    claimed = session.execute(
        update(ProxyGrant).where(ProxyGrant.id == grant.id, ProxyGrant.status == grant.status)
        .values(status=ended, revoked_at=clock_now(), revoked_by=actor)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(grant)
    return True if claimed else revoke(session, grant, actor)


def activate(session: Session, grant: ProxyGrant, proxy_resident: Resident | None) -> None:
    grant.status, grant.activated_at = "active", clock_now()
    session.flush()
    enqueue(session, kind="proxy_granted", idempotency_key=f"proxy-grant:{grant.id}:active",
            resident_id=grant.resident_id,
            data={"grant_id": grant.id, "proxy_name": mask_name(proxy_resident.name) if proxy_resident else "",
                  "scopes": list(grant.scopes), "text": "您已新增一位亲情代办人,如非本人意愿可一键撤销",
                  "revoke_path": f"/api/v1/proxies/grants/{grant.id}/revoke"})


def _ask_principal(session: Session, grant: ProxyGrant, proxy_resident: Resident) -> None:
    enqueue(session, kind="proxy_request", idempotency_key=f"proxy-grant:{grant.id}:asked",
            resident_id=grant.resident_id,
            data={"grant_id": grant.id, "proxy_name": mask_name(proxy_resident.name), "scopes": list(grant.scopes),
                  "invited": True, "text": "您邀请的家人已接受亲情代办邀请,请在小程序中确认后生效"})


def record_by_staff(session: Session, staff: StaffMember, principal: Resident, proxy_resident: Resident, *,
                    basis: str, document_ref: str, checked_at: datetime | None, place: str,
                    scopes=None, programs=None, days: int | None = None) -> ProxyGrant:
    if basis not in STAFF_BASES:
        raise Unprocessable("basis must be guardianship or written_authorisation")
    staff_flow.refuse_self_involvement(session, staff, (principal.id, proxy_resident.id), "record")
    if principal.id == proxy_resident.id:
        raise Conflict("A resident cannot be her own proxy.")
    scopes, programs = check_scopes(scopes, programs)
    proxy_account = session.execute(select(Account).where(Account.resident_id == proxy_resident.id,
                                                          Account.disabled_at.is_(None))).scalar()
    if proxy_account is None:
        raise Conflict("The proxy must first sign in to the mini-program and bind her own identity.",
                       error_code="proxy_not_bound")
    if _existing(session, principal.id, proxy_account.id) is not None:
        raise _already_proxy()
    # a staff grant of the pair past its end is closed (`expired`), so that it does not hold the pair's unique key
    session.execute(update(ProxyGrant).where(
        ProxyGrant.resident_id == principal.id, ProxyGrant.proxy_resident_id == proxy_resident.id,
        ProxyGrant.basis.in_(STAFF_BASES), ProxyGrant.status == "active", ProxyGrant.expires_at <= clock_now())
        .values(status="expired").execution_options(synchronize_session=False))
    grant = ProxyGrant(created_at=clock_now(), resident_id=principal.id, proxy_account_id=proxy_account.id,
                       proxy_resident_id=proxy_resident.id, status="pending_approval", scopes=scopes,
                       programs=programs, relation="guardian" if basis == "guardianship" else "family", basis=basis,
                       evidence={"document_ref": document_ref[:120], "checked_by": f"staff:{staff.id}",
                                 "checked_at": (checked_at or clock_now()).isoformat(timespec="seconds"),
                                 "place": place},
                       created_by=f"staff:{staff.id}", expires_at=clock_now() + timedelta(days=_days(days)))
    # one open staff grant per pair (unique key uq_proxy_grants_staff_pair): of parallel recordings one inserts;
    # the others get the same 409 as a repeat sent later
    add_or_conflict(session, grant, "proxy_grants", ("resident_id", "proxy_resident_id"), _already_proxy())
    if "payout" not in scopes:
        grant.approved_by = f"staff:{staff.id}"
        activate(session, grant, proxy_resident)
    else:  # the payout scope waits for a second person: one maker-checker approval (flows.approvals)
        approvals.propose(session, GRANT_APPROVAL, f"grant:{grant.id}", {"grant_id": grant.id}, staff)
    return grant


def _already_proxy() -> Conflict:
    return Conflict("This person already is (or is about to be) the resident's proxy.", error_code="proxy_grant_exists")


def approve_by_second_staff(session: Session, grant: ProxyGrant, staff: StaffMember) -> ProxyGrant:
    """The checker's step of the grant's maker-checker approval (flows.approvals): of two staff approving at
    once, the approval's conditional UPDATE lets one through (one activation, one message); the other gets
    409 grant_not_pending."""
    if grant.status != "pending_approval":
        raise Conflict(f"The grant is {grant.status}; nothing to approve.", error_code="grant_not_pending")
    if grant.created_by == f"staff:{staff.id}":
        refused("self_approval", actor=f"staff:{staff.id}", kind=GRANT_APPROVAL)
        raise Forbidden("A second staff member must approve a grant with the payout scope.", error_code="self_approval")
    staff_flow.refuse_self_involvement(session, staff, (grant.resident_id, grant.proxy_resident_id), "approve")
    approval = approvals.pending_for(session, GRANT_APPROVAL, f"grant:{grant.id}")
    if approval is None:
        session.refresh(grant)
        raise Conflict(f"The grant is {grant.status}; nothing to approve.", error_code="grant_not_pending")
    approvals.approve(session, approval, staff, conflict_code="grant_not_pending", via_owner=True)
    session.refresh(grant)
    return grant


def _apply_grant_approval(session: Session, approval, staff: StaffMember) -> None:
    grant = session.get(ProxyGrant, approval.payload.get("grant_id") or approval.subject_ref.split(":", 1)[1])
    claimed = session.execute(
        update(ProxyGrant).where(ProxyGrant.id == grant.id, ProxyGrant.status == "pending_approval")
        .values(status="active", approved_by=f"staff:{staff.id}", activated_at=clock_now())
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(grant)
    if not claimed:
        raise Conflict(f"The grant is {grant.status}; nothing to approve.", error_code="grant_not_pending")
    activate(session, grant, session.get(Resident, grant.proxy_resident_id) if grant.proxy_resident_id else None)


def _grant_approval_visible_to(session: Session, approval, staff: StaffMember) -> bool:
    """A grant's approval is listed to staff who may see the grant (its principal within their jurisdiction)."""
    grant_id = (approval.payload or {}).get("grant_id") or approval.subject_ref.partition(":")[2]
    return approvals.staff_may(session, staff, "grant:view", session.get(ProxyGrant, grant_id))


def _grant_principal(session: Session, subject_ref: str, payload: dict) -> int | None:
    """The principal of the grant an approval is about (`grant:<id>`)."""
    grant = session.get(ProxyGrant, (payload or {}).get("grant_id") or subject_ref.partition(":")[2])
    return grant.resident_id if grant is not None else None


GRANT_APPROVAL = "proxy_grant"
approvals.register(approvals.Kind(GRANT_APPROVAL, "approver", _apply_grant_approval,
                                  lambda a: f"代办授权(含代收款项) {a.subject_ref}", direct=False,
                                  visible_to=_grant_approval_visible_to, resident_of=_grant_principal))


def grants_of(session: Session, account: Account) -> list[ProxyGrant]:
    """Grants where the person bound to the account is the principal, or the proxy (a grant belongs to the proxy
    person; an unbound account has none). Requests not yet accepted are not listed to the requester: she sees
    her requests instead (flows.proxy_requests.requests_of)."""
    if account.resident_id is None:
        return []
    clauses = [and_(ProxyGrant.proxy_resident_id == account.resident_id, ~proxy_requests.UNACCEPTED_REQUEST),
               ProxyGrant.resident_id == account.resident_id]
    # a proxy who manages someone's proxies (manage_proxies, in force now) sees that person's grants too: she
    # could act on each by its id, but had no way to find them
    managed = [grant.resident_id for grant, held_by in proxy_grants_in_force(
        session, proxy_resident_id=account.resident_id) if held_by == account.id and "manage_proxies" in grant.scopes]
    if managed:
        clauses.append(ProxyGrant.resident_id.in_(managed))  # requests waiting for an answer too: hers to give
    return list(session.execute(select(ProxyGrant).where(or_(*clauses))
                                .order_by(ProxyGrant.created_at.desc(), ProxyGrant.id)).scalars())
