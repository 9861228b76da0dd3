"""The one place that decides "may this caller do this action on this object".

Plain Python over the models, no Flask. Three ways to be allowed:
- owner: a citizen account bound to the resident the object belongs to;
- proxy: an active, unexpired proxy grant from that resident to the proxy *person* the caller's account is
  bound to now, whose scopes (and programs, when limited) cover the action. A grant belongs to the person and
  works only from the account currently bound to her (`proxy_grants_in_force`, also used for message
  routing): unbinding suspends it at once, binding the same person again (on any account) restores it;
- staff: a staff member whose role allows the action and whose jurisdiction (district → street →
  community) contains the object.

`require()` raises NotFound when the caller may not even know the object exists, Forbidden when the object
is visible to the caller but the action is not allowed (a proxy out of scope, a revoked or expired grant,
a staff role below the action).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, select
from sqlalchemy.orm import Session

from app import security_log
from app.clock import clock_now
from app.errors import Forbidden, NotFound
from app.models import (
    Account,
    Application,
    ApplicationApplicant,
    Benefit,
    CounterVisit,
    ProxyGrant,
    ProxyRequest,
    Resident,
    StaffMember,
    StaffTask,
)

# Proxy scopes. Payout and manage-proxies are never granted automatically.
SCOPES = ("view", "confirm", "decline", "receive_messages", "payout", "manage_proxies")
SENSITIVE_SCOPES = frozenset({"payout", "manage_proxies"})
DEFAULT_SCOPES = ("view", "confirm", "decline", "receive_messages")

# Staff roles are permission sets, not a rank (issue 12 item 1): an approver is not a reviewer, a supervisor and
# an admin decide no case. `PERMISSIONS` below says what each may do.
ROLES = ("clerk", "community_worker", "reviewer", "approver", "supervisor", "admin")

# Citizen actions → the proxy scope that covers them (the owner may do all of them).
CITIZEN_ACTIONS = {
    "application:view": "view",
    "application:confirm": "confirm",
    "application:decline": "decline",
    "application:reopen": "decline",
    "application:rate": "confirm",  # rating on someone's behalf speaks for her (and 1–2 opens a staff task)
    "application:appeal": "confirm",  # 复核 (flows.appeals): asking for a second look speaks for her
    "benefit:appeal": "confirm",
    "benefit:view": "view",
    "benefit:proof": "view",  # a proof-of-benefit code (docs/proof.md): what a proxy may see, she may prove
    "resident:view": "view",
    "payout:change": "payout",
    "proxy:manage": "manage_proxies",
}
# Grant actions (on a ProxyGrant): principal, the proxy herself, a managing proxy, staff.
GRANT_ACTIONS = ("grant:view", "grant:revoke", "grant:confirm", "grant:approve")
# Proxy-request actions (on a ProxyRequest): only its requester, never anyone else (not even the person asked:
# she sees the grant it left her).
REQUEST_ACTIONS = ("proxy_request:withdraw",)
# Staff actions → the roles allowed (permission sets: no role implies another).
_SEE = frozenset({"application:view", "benefit:view", "benefit:proof", "resident:view", "resident:lookup",
                  "task:view", "grant:view", "casework:queue"})
# Actions that decide (or move) a case: never a supervisor's nor an admin's.
CASE_DECISIONS = frozenset({"task:decide", "casework:review", "casework:approve", "case:home_visit",
                            "case:street_review", "objection:decide", "case:county_approve", "casework:bulk_review",
                            "appeal:decide"})
PERMISSIONS: dict[str, frozenset[str]] = {
    # the township's civil-affairs assistant: intake, help at home, the 低保 home visit (with a second person)
    "clerk": _SEE | {"proxy:record", "casework:home_help", "case:home_visit", "task:claim", "appeal:record",
                     "counter:serve", "letter:send"},
    # home visits and help in her own community (her jurisdiction is the community)
    "community_worker": _SEE | {"proxy:record", "casework:home_help", "case:home_visit", "task:claim",
                                "appeal:record", "counter:serve", "letter:send"},
    "reviewer": _SEE | {"proxy:record", "casework:home_help", "case:home_visit", "task:claim", "task:decide",
                        "counter:serve",
                        "casework:review", "casework:bulk_review", "case:street_review", "objection:decide",
                        "grant:revoke", "appeal:record", "appeal:decide", "case:extend", "letter:send"},
    # approves a reviewed case (a reviewed program's approval step, 低保's county approval) — never one she
    # reviewed herself (separation_of_duties below)
    "approver": _SEE | {"proxy:record", "task:claim", "task:decide", "casework:review", "casework:approve",
                        "case:county_approve", "grant:revoke", "grant:approve", "appeal:decide", "case:extend",
                        "letter:send"},
    # reassigns work, signs off monthly rolls, decides no case
    "supervisor": _SEE | {"task:reassign", "payroll:signoff", "grant:revoke", "supervision:view"},
    # accounts and settings, decides no case
    "admin": _SEE | {"staff:manage", "exchange:manage", "grant:revoke", "grant:approve"},
}
STAFF_ACTIONS = {action: tuple(r for r in ROLES if action in PERMISSIONS[r])
                 for action in sorted(set().union(*PERMISSIONS.values()))}
# Which roles may check (approve) a maker-checker approval whose kind names `checker_role` (flows.approvals).
CHECKERS = {"reviewer": ("reviewer", "approver"), "approver": ("approver", "admin"), "admin": ("admin",),
            "supervisor": ("supervisor",)}


def role_allows(role: str | None, action: str) -> bool:
    """Does this staff role carry the permission `action`?"""
    return action in PERMISSIONS.get(role or "", frozenset())


def may_decide_cases(role: str | None) -> bool:
    """Supervisors and admins decide no case (segregation of duties)."""
    return bool(PERMISSIONS.get(role or "", frozenset()) & CASE_DECISIONS)


def may_check_approval(role: str | None, checker_role: str) -> bool:
    """May a staff member with `role` approve an approval whose kind needs `checker_role`?"""
    return (role or "") in CHECKERS.get(checker_role, (checker_role,))


def may_manage_staff(role: str | None) -> bool:
    return role_allows(role, "staff:manage")


def may_sign_off_roll(role: str | None) -> bool:
    return role_allows(role, "payroll:signoff")


def may_reassign(role: str | None) -> bool:
    return role_allows(role, "task:reassign")


# Staff actions reserved to the district (county) level: a staff member bound to a street or community is refused.
DISTRICT_LEVEL_ACTIONS = frozenset({"case:county_approve", "casework:approve"})
ACTIONS = tuple(sorted(set(CITIZEN_ACTIONS) | set(GRANT_ACTIONS) | set(REQUEST_ACTIONS) | set(STAFF_ACTIONS)))


@dataclass(frozen=True)
class Caller:
    kind: str  # citizen | staff
    account_id: str
    resident_id: int | None = None
    staff_id: str | None = None
    role: str | None = None
    district_code: str | None = None
    street_code: str | None = None
    community_code: str | None = None

    @property
    def ref(self) -> str:
        return f"{'staff' if self.kind == 'staff' else 'account'}:{self.staff_id or self.account_id}"

    @classmethod
    def of_staff(cls, staff) -> Caller:
        """A member of staff (a StaffMember) as the rules see her: role and jurisdiction."""
        return cls(kind="staff", account_id=staff.account_id, staff_id=staff.id, role=staff.role,
                   district_code=staff.district_code, street_code=staff.street_code,
                   community_code=staff.community_code)


@dataclass
class Decision:
    allowed: bool
    visible: bool
    via: str | None = None  # owner | proxy | staff
    grant: ProxyGrant | None = None
    resident_id: int | None = None
    reason: str = ""
    extra: dict = field(default_factory=dict)

    def __bool__(self) -> bool:
        return self.allowed

    @property
    def on_behalf_of(self) -> str | None:
        """The principal when acting as a proxy (or staff acting on a resident's record)."""
        if self.via in ("proxy", "staff") and self.resident_id is not None:
            return f"resident:{self.resident_id}"
        return None


def _deny(visible: bool, reason: str, **kw) -> Decision:
    return Decision(False, visible, reason=reason, **kw)


def grant_is_live(grant: ProxyGrant, now: datetime | None = None) -> bool:
    return grant.status == "active" and grant.revoked_at is None and grant.expires_at > (now or clock_now())


def actions_open_to(decision, program: str | None, actions: list[str]) -> list[str]:
    """Of an application's next `actions` (confirm, decline, reopen), those the caller may take: all for the owner;
    for a proxy, those her grant's scopes cover for the program (a view-only proxy was offered confirm and
    decline, and every tap was refused)."""
    grant = getattr(decision, "grant", None)
    if decision is None or decision.via != "proxy" or grant is None:
        return actions
    return [a for a in actions if grant_covers(grant, CITIZEN_ACTIONS[f"application:{a}"], program)]


def grant_covers(grant: ProxyGrant, scope: str, program: str | None) -> bool:
    if scope not in (grant.scopes or []):
        return False
    return not grant.programs or program is None or program in grant.programs


def grants_between(session: Session, proxy_account_id: str, resident_id: int) -> list[ProxyGrant]:
    """Grants once held through this account (whoever it is bound to now)."""
    return list(session.execute(
        select(ProxyGrant).where(ProxyGrant.proxy_account_id == proxy_account_id,
                                 ProxyGrant.resident_id == resident_id)
        .order_by(ProxyGrant.created_at.desc())).scalars())


def grants_of_person(session: Session, proxy_resident_id: int, resident_id: int) -> list[ProxyGrant]:
    """Grants from `resident_id` to the proxy person `proxy_resident_id`, newest first (any status)."""
    return list(session.execute(
        select(ProxyGrant).where(ProxyGrant.proxy_resident_id == proxy_resident_id,
                                 ProxyGrant.resident_id == resident_id)
        .order_by(ProxyGrant.created_at.desc())).scalars())


def proxy_grants_in_force(session: Session, *, principal_id: int | None = None,
                          proxy_resident_id: int | None = None, now: datetime | None = None
                          ) -> list[tuple[ProxyGrant, str]]:
    """THE rule for a proxy, used by authorization and by message routing (notifications.recipients):
    (grant, account id) for every live grant (active, not revoked, unexpired) whose proxy person is bound *now*
    to an enabled account — that account is the only one the grant works from. A proxy who unbinds has no
    account here (her grants are suspended); binding the same person again, on any account, restores them."""
    query = (select(ProxyGrant, Account.id)
             .join(Account, and_(Account.resident_id == ProxyGrant.proxy_resident_id, Account.disabled_at.is_(None)))
             .where(ProxyGrant.status == "active", ProxyGrant.revoked_at.is_(None),
                    ProxyGrant.expires_at > (now or clock_now())))
    if principal_id is not None:
        query = query.where(ProxyGrant.resident_id == principal_id)
    if proxy_resident_id is not None:
        query = query.where(ProxyGrant.proxy_resident_id == proxy_resident_id)
    return [(grant, account_id) for grant, account_id in session.execute(query.order_by(ProxyGrant.created_at.desc()))]


def acts_as_proxy_of(caller: Caller, grant: ProxyGrant) -> bool:
    """The caller is the grant's proxy person (through the account bound to her now)."""
    return caller.resident_id is not None and grant.proxy_resident_id == caller.resident_id


def in_jurisdiction(caller: Caller, district: str | None, street: str | None, community: str | None) -> bool:
    if caller.kind != "staff" or not caller.district_code or district != caller.district_code:
        return False
    if caller.street_code and street != caller.street_code:
        return False
    return not (caller.community_code and community != caller.community_code)


def jurisdiction_clause(caller: Caller, district_col, street_col, community_col):
    """SQL condition restricting a list to the staff member's jurisdiction."""
    parts = [district_col == caller.district_code]
    if caller.street_code:
        parts.append(street_col == caller.street_code)
    if caller.community_code:
        parts.append(community_col == caller.community_code)
    return and_(*parts)


def _subject(session: Session, obj, place: bool = True) -> tuple[int | None, str | None, tuple | None]:
    """(resident id, program, (district, street, community)) of an object; the place (which costs a query
    for applications, benefits and grants) only when `place` is true — staff jurisdiction needs it."""
    if isinstance(obj, Resident):
        return obj.id, None, (obj.district_code, obj.street_code, obj.community_code)
    if isinstance(obj, StaffTask | CounterVisit):
        return obj.resident_id, None, (obj.district_code, obj.street_code, obj.community_code)
    if isinstance(obj, Application | Benefit):
        resident_id, program = obj.resident_id, obj.program
    elif isinstance(obj, ProxyGrant):
        resident_id, program = obj.resident_id, None
    elif isinstance(obj, ProxyRequest):
        resident_id, program = obj.requester_resident_id, None
    else:
        raise TypeError(f"no authorization rule for {type(obj).__name__}")
    if not place:
        return resident_id, program, None
    resident = session.get(Resident, resident_id)
    where = (resident.district_code, resident.street_code, resident.community_code) if resident else None
    return resident_id, program, where


def decide(session: Session, caller: Caller | None, action: str, obj) -> Decision:
    if caller is None or obj is None:
        return _deny(False, "no caller or no object")
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    if isinstance(obj, ProxyRequest):
        return _decide_request(caller, action, obj)
    resident_id, program, where = _subject(session, obj, place=caller.kind == "staff")
    if caller.kind == "staff":
        return _decide_staff(caller, action, resident_id, where)
    if isinstance(obj, StaffTask | CounterVisit):
        return _deny(False, "staff work items are not visible to citizens")
    if isinstance(obj, ProxyGrant):
        return _decide_grant(session, caller, action, obj)
    if isinstance(obj, Application) and action in APPLICANT_ACTIONS and _is_applicant(session, caller, obj):
        return Decision(True, True, via="applicant", resident_id=resident_id)
    return _decide_citizen(session, caller, action, resident_id, program)


# An applicant who is not the subject (申请人 ≠ 对象, flows.applicants): she sees and confirms the application
# proposed to her without any proxy grant — nothing else of the subject's.
APPLICANT_ACTIONS = ("application:view", "application:confirm")


def _is_applicant(session: Session, caller: Caller, application: Application) -> bool:
    if caller.resident_id is None or caller.resident_id == application.resident_id or not application.id:
        return False
    return session.scalar(select(ApplicationApplicant.id).where(
        ApplicationApplicant.application_id == application.id,
        ApplicationApplicant.resident_id == caller.resident_id)) is not None


def _decide_staff(caller: Caller, action: str, resident_id: int | None, where: tuple | None) -> Decision:
    if where is None or not in_jurisdiction(caller, *where):
        return _deny(False, "outside the staff member's jurisdiction")
    allowed = STAFF_ACTIONS.get(action)
    if allowed is None:
        return _deny(True, f"staff may not {action}", resident_id=resident_id)
    if not role_allows(caller.role, action):
        if action in CASE_DECISIONS and not may_decide_cases(caller.role):
            return _deny(True, f"the {caller.role} role decides no case", resident_id=resident_id,
                         extra={"error_code": "role_decides_no_case"})
        return _deny(True, f"{action} needs one of the roles {', '.join(allowed)}", resident_id=resident_id,
                     extra={"error_code": "role_not_allowed"})
    if action in DISTRICT_LEVEL_ACTIONS and (caller.street_code or caller.community_code):
        return _deny(True, f"{action} is decided at the district (county) level", resident_id=resident_id,
                     extra={"error_code": "district_level_only"})
    return Decision(True, True, via="staff", resident_id=resident_id)


def _decide_citizen(session: Session, caller: Caller, action: str, resident_id: int | None,
                    program: str | None, now: datetime | None = None) -> Decision:
    scope = CITIZEN_ACTIONS.get(action)
    if scope is None:
        return _deny(False, f"citizens may not {action}")
    if caller.resident_id is not None and caller.resident_id == resident_id:
        return Decision(True, True, via="owner", resident_id=resident_id)
    now = now or clock_now()  # a grant's days run on the test clock too
    if resident_id is None:
        return _deny(False, "not the caller's, and no proxy grant")
    if caller.resident_id is None:
        # An unbound account: grants she held through it are suspended until she binds herself again.
        held = grants_between(session, caller.account_id, resident_id)
        suspended = [g for g in held if grant_is_live(g, now)]
        if suspended:
            return _deny(True, "the proxy grant is suspended: the proxy has unbound her identity",
                         grant=suspended[0], resident_id=resident_id, extra={"rule": "proxy_grant_suspended"})
        grants = held
        live = []
    else:
        grants = grants_of_person(session, caller.resident_id, resident_id)
        in_force = {g.id for g, account_id in proxy_grants_in_force(
            session, principal_id=resident_id, proxy_resident_id=caller.resident_id, now=now)
            if account_id == caller.account_id}
        live = [g for g in grants if g.id in in_force]
    for grant in live:
        if grant_covers(grant, scope, program):
            return Decision(True, True, via="proxy", grant=grant, resident_id=resident_id)
    if any(grant_covers(g, "view", program) for g in live):
        return _deny(True, f"the proxy grant does not include {scope}", grant=live[0], resident_id=resident_id)
    if live:
        return _deny(False, "the proxy grant does not cover this", resident_id=resident_id)
    ended = [g for g in grants if g.activated_at is not None]
    if ended:
        return _deny(True, "the proxy grant has been revoked or has expired", grant=ended[0],
                     resident_id=resident_id)
    return _deny(False, "not the caller's, and no proxy grant")


def _decide_request(caller: Caller, action: str, request: ProxyRequest) -> Decision:
    if (action in REQUEST_ACTIONS and caller.kind != "staff" and caller.resident_id is not None
            and caller.resident_id == request.requester_resident_id):
        return Decision(True, True, via="owner", resident_id=request.requester_resident_id)
    return _deny(False, "not the caller's request")


def _decide_grant(session: Session, caller: Caller, action: str, grant: ProxyGrant) -> Decision:
    if action not in GRANT_ACTIONS:
        return _deny(False, f"{action} does not apply to a grant")
    principal = caller.resident_id is not None and caller.resident_id == grant.resident_id
    is_proxy = acts_as_proxy_of(caller, grant)
    if principal:
        if action == "grant:approve":
            return _deny(True, "a second approval is given by staff", resident_id=grant.resident_id)
        return Decision(True, True, via="owner", resident_id=grant.resident_id)
    if is_proxy and action in ("grant:view", "grant:revoke"):
        return Decision(True, True, via="proxy_self", grant=grant, resident_id=grant.resident_id)
    managing = _decide_citizen(session, caller, "proxy:manage", grant.resident_id, None)
    if managing.allowed and action in ("grant:view", "grant:revoke", "grant:confirm"):
        if action == "grant:confirm" and (set(grant.scopes or []) & SENSITIVE_SCOPES or is_proxy):
            return _deny(True, "payout and manage-proxies scopes need the resident herself",
                         resident_id=grant.resident_id)
        return Decision(True, True, via="proxy", grant=managing.grant, resident_id=grant.resident_id)
    if is_proxy:
        return _deny(True, f"the proxy may not {action} her own grant", resident_id=grant.resident_id)
    return _deny(False, "not a party to this grant", resident_id=grant.resident_id)


def can(session: Session, caller: Caller | None, action: str, obj) -> bool:
    return decide(session, caller, action, obj).allowed


def require(session: Session, caller: Caller | None, action: str, obj, noun: str = "object",
            address: str | None = None) -> Decision:
    decision = decide(session, caller, action, obj)
    if decision.allowed:
        return decision
    if decision.extra.get("rule"):
        security_log.refused(decision.extra["rule"], actor=caller.ref if caller else None, address=address,
                             action=action)
    if not decision.visible:
        raise NotFound(f"No such {noun}.")
    raise Forbidden(f"You may not do this: {decision.reason}.", error_code=decision.extra.get("error_code"))


def visible_residents_for(session: Session, caller: Caller, scope: str = "view") -> list[int]:
    """Residents whose data the citizen caller may list: herself plus grants in force with `scope`."""
    out = [caller.resident_id] if caller.resident_id is not None else []
    if caller.resident_id is None:
        return out
    for grant, account_id in proxy_grants_in_force(session, proxy_resident_id=caller.resident_id):
        if account_id == caller.account_id and scope in (grant.scopes or []) and grant.resident_id not in out:
            out.append(grant.resident_id)
    return out


def resolve_subject(session: Session, caller: Caller, subject: str | None, action: str, address: str | None = None):
    """`?subject=`: None/"self" → the caller's own resident; a grant id → that grant's principal, if the
    caller is its proxy person and the grant (still) allows `action` (an unbound account that held the grant is
    told it is suspended). Returns (resident id or None, Decision or None)."""
    if subject in (None, "", "self"):
        return caller.resident_id, None
    grant = session.get(ProxyGrant, subject) if len(subject) <= 64 else None
    held = grant is not None and caller.resident_id is None and grant.proxy_account_id == caller.account_id
    if grant is None or not (acts_as_proxy_of(caller, grant) or held):
        raise NotFound("No such subject.")
    resident = session.get(Resident, grant.resident_id)
    decision = require(session, caller, action, resident, "subject", address=address)
    return resident.id, decision


# ---- segregation of duties (issue 12 item 4) -------------------------------------------------------------------
# The approving actions, and the earlier steps whose staff may not approve the same case (trace entries with
# source "staff" carry the code of the step and the staff id).
APPROVING_ACTIONS = frozenset({"case:county_approve", "casework:approve"})
EARLIER_STEPS = frozenset({"home_visit", "street_review", "staff_review", "objection"})


def separation_of_duties(session: Session, caller: Caller, action: str,
                         application: Application | StaffTask | Benefit) -> None:
    """403 with words when a staff member would decide a case about herself or her registry household, or
    approve a case whose home visit or review she did herself. Called after `require` on every deciding action
    (CASE_DECISIONS), whatever the object names the resident: an application, a task about her, a benefit; on
    approving actions before `require` too when the caller may see the case (she is told why, whatever her role)."""
    if caller.kind != "staff" or action not in CASE_DECISIONS:
        return
    staff = session.get(StaffMember, caller.staff_id)
    resident = session.get(Resident, application.resident_id) if application.resident_id is not None else None
    if staff is not None and resident is not None:
        own = session.execute(select(Resident.id, Resident.household_id).where(
            (Resident.id_hash == staff.id_hash) if staff.id_hash else (Resident.id == staff.resident_id))).all() \
            if (staff.id_hash or staff.resident_id) else []
        if any(r.id == resident.id or (r.household_id and r.household_id == resident.household_id) for r in own):
            security_log.refused("staff_self_involvement", actor=caller.ref, action=action)
            raise Forbidden("No one decides a case about themselves or their own household; another member of "
                            "staff must handle it.", error_code="staff_self_involvement")
    if action in APPROVING_ACTIONS and isinstance(application, Application):
        refuse_earlier_step(application, caller.staff_id, caller.ref, action)


def refuse_earlier_step(application: Application, staff_id: str, actor: str, action: str) -> None:
    """403 `segregation_of_duties` when `staff_id` recorded the case's home visit or did its review: she may not
    approve it — nor claim or be given its approval task, which she would hold without being able to decide."""
    earlier = [e for e in (application.trace or []) if e.get("source") == "staff"
               and staff_id in (e.get("staff_id"), e.get("second_staff_id")) and e.get("code") in EARLIER_STEPS]
    if earlier:
        security_log.refused("segregation_of_duties", actor=actor, action=action)
        raise Forbidden("You recorded the home visit or did the review of this case, so a different person "
                        "must approve it.", error_code="segregation_of_duties")
