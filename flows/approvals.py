"""One maker-checker mechanism (四眼原则) for every action that needs a second person.

`propose` records what the maker wants (kind + payload) as a pending approval; `approve` by someone else
applies it through the kind's handler in the same transaction; `withdraw` by the maker ends it unapplied.
The pending → approved step is one conditional UPDATE: of two checkers at once one wins, the other gets
409 `approval_not_pending`. Every step is audited; a self-approval is refused with a security log line.

A kind declares who may check it (the least role) and how to apply it: `register(Kind(...))` from the module
that owns the action (parameter changes: flows.parameters; payout grants: flows.proxies). Later kinds (the roll
sign-off, staff admin) register the same way.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.orm import Session

from app.audit import record
from app.authz import Caller, decide, jurisdiction_clause, may_check_approval
from app.db import utcnow
from app.errors import Conflict, Forbidden, NotFound
from app.models import Approval, AuditEvent, Resident, StaffMember
from app.security_log import refused
from flows.conflicts import add_or_conflict


@dataclass(frozen=True)
class Kind:
    name: str
    checker_role: str  # the least role that may approve
    apply: Callable[[Session, Approval, StaffMember], None]
    describe: Callable[[Approval], str] = lambda a: a.kind
    # False: approved only through its owner's route (which runs that kind's own checks first, e.g. the
    # jurisdiction and self-involvement rules of a payout grant), never through the generic approve.
    direct: bool = True
    # Whether a member of staff may see this approval in a list and approve it (None: everyone who may list
    # approvals): a kind about one household shows only within the jurisdiction of that household.
    visible_to: Callable[[Session, Approval, StaffMember], bool] | None = None
    # For a kind about one household: the resident its subject names (None when there is none), stamped on the
    # approval when proposed, so that lists filter by the resident's jurisdiction (and page) in SQL.
    resident_of: Callable[[Session, str, dict], int | None] | None = None


KINDS: dict[str, Kind] = {}
# Modules that register kinds, imported on first use (so this module imports none of them).
KIND_MODULES = ("flows.parameters", "flows.proxies", "flows.exchange.corrections", "flows.payroll_gate",
                "flows.lifecycle.income")


def register(kind: Kind) -> Kind:
    KINDS[kind.name] = kind
    return kind


def kind_of(name: str) -> Kind:
    if name not in KINDS:
        all_kinds()
    if name not in KINDS:
        raise NotFound(f"No approval kind {name[:40]!r}.")
    return KINDS[name]


def all_kinds() -> dict[str, Kind]:
    """Every kind, their modules imported first."""
    for module in KIND_MODULES:
        importlib.import_module(module)
    from flows import programs  # a program's trigger module registers the kind of its approval

    for program in programs.PROGRAMS.values():
        if program.trigger:
            importlib.import_module(program.trigger.partition(":")[0])
    return KINDS


def actor_of(staff: StaffMember) -> str:
    return f"staff:{staff.id}"


def _role_at_least(staff: StaffMember, role: str) -> bool:
    """Roles are permission sets (app.authz.CHECKERS says who may check a kind that names `role`)."""
    return may_check_approval(staff.role, role)


def propose(session: Session, kind: str, subject_ref: str, payload: dict, maker: StaffMember | str) -> Approval:
    """A pending approval; 409 `approval_pending` if the same subject already waits for one."""
    resident_of = kind_of(kind).resident_of
    maker_ref = maker if isinstance(maker, str) else actor_of(maker)
    approval = Approval(kind=kind, subject_ref=subject_ref[:120], payload=payload, maker=maker_ref, state="pending",
                        resident_id=resident_of(session, subject_ref, payload) if resident_of else None)
    add_or_conflict(session, approval, "approvals", ("kind", "subject_ref"), Conflict(
        f"A change of {subject_ref[:60]} already waits for approval; withdraw it first.", error_code="approval_pending"))
    record(session, actor=maker_ref, action="approval.propose", object_ref=f"approval:{approval.id}",
           details={"kind": kind, "subject": subject_ref[:120]})
    return approval


def get(session: Session, approval_id: str) -> Approval:
    approval = session.get(Approval, approval_id) if len(approval_id) <= 32 else None
    if approval is None:
        raise NotFound("No such approval.")
    return approval


def pending_for(session: Session, kind: str, subject_ref: str) -> Approval | None:
    return session.execute(select(Approval).where(Approval.kind == kind, Approval.subject_ref == subject_ref,
                                                  Approval.state == "pending")).scalar()


def approve(session: Session, approval: Approval, checker: StaffMember, *, conflict_code: str = "approval_not_pending",
            via_owner: bool = False) -> Approval:
    """The second person's approval: applies the change in this transaction. 403 for the maker herself or a
    role below the kind's; 409 `conflict_code` when not pending (withdrawn, or another checker won)."""
    kind = kind_of(approval.kind)
    who = actor_of(checker)
    if not kind.direct and not via_owner:
        raise Conflict(f"An approval of kind {approval.kind} is given where its subject is handled "
                       f"({approval.subject_ref}).", error_code="approval_elsewhere")
    if approval.maker == who:
        refused("self_approval", actor=who, kind=approval.kind, approval=approval.id)
        raise Forbidden("A different person must approve what you proposed.", error_code="self_approval")
    if _account_of_maker(session, approval.maker, checker):
        refused("self_approval", actor=who, kind=approval.kind, approval=approval.id, via="maker_set_account")
        raise Forbidden("The maker created this account or set its password: a different person must approve "
                        "what she proposed.", error_code="self_approval")
    if not _role_at_least(checker, kind.checker_role):
        refused("approval_role", actor=who, kind=approval.kind, role=checker.role)
        raise Forbidden(f"Approving this needs the {kind.checker_role} role.")
    if kind.visible_to is not None and not kind.visible_to(session, approval, checker):
        refused("approval_jurisdiction", actor=who, kind=approval.kind, approval=approval.id)
        raise Forbidden("This approval is about a household outside your jurisdiction.",
                        error_code="outside_jurisdiction")
    claimed = session.execute(
        update(Approval).where(Approval.id == approval.id, Approval.state == "pending")
        .values(state="approved", checker=who, decided_at=utcnow())
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(approval)
    if not claimed:
        raise Conflict(f"The approval is {approval.state}; nothing to approve.", error_code=conflict_code)
    kind.apply(session, approval, checker)
    record(session, actor=who, action="approval.approve", object_ref=f"approval:{approval.id}",
           details={"kind": approval.kind, "subject": approval.subject_ref, "maker": approval.maker})
    return approval


# What gives an admin the password of another staff account: she could sign in as it and be her own checker.
_ACCOUNT_TAKEN = ("staff.account_create", "staff.account_reset_password")


def _account_of_maker(session: Session, maker: str, checker: StaffMember) -> bool:
    """Whether the maker created the checker's account or reset its password (the audit trail says who): one
    admin could otherwise create a second admin, sign in as it and approve her own change. Conservative — an
    account she once reset stays excluded from checking her proposals; any other admin may check them."""
    return session.execute(select(AuditEvent.seq).where(
        AuditEvent.actor == maker, AuditEvent.object_ref == f"staff:{checker.id}",
        AuditEvent.action.in_(_ACCOUNT_TAKEN)).limit(1)).first() is not None


def withdraw(session: Session, approval: Approval, by: StaffMember) -> Approval:
    """The maker takes back a pending change; 403 for anyone else, 409 once approved or withdrawn."""
    who = actor_of(by)
    if approval.maker != who:
        refused("approval_withdraw_other", actor=who, approval=approval.id)
        raise Forbidden("Only the person who proposed a change withdraws it.")
    claimed = session.execute(
        update(Approval).where(Approval.id == approval.id, Approval.state == "pending")
        .values(state="withdrawn", decided_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    session.refresh(approval)
    if not claimed:
        raise Conflict(f"The approval is {approval.state}; nothing to withdraw.", error_code="approval_not_pending")
    record(session, actor=who, action="approval.withdraw", object_ref=f"approval:{approval.id}",
           details={"kind": approval.kind, "subject": approval.subject_ref})
    return approval


def listing(session: Session, state: str | None = "pending", kind: str | None = None, limit: int = 200,
            staff: StaffMember | None = None):
    """The newest approvals (of a state, of a kind); with `staff`, only those she may see."""
    return session.execute(listing_query(state, kind, staff).limit(limit)).scalars().all()


def listing_query(state: str | None = "pending", kind: str | None = None, staff: StaffMember | None = None):
    """The approvals of a state (None: all) and of a kind (None: all), newest first, as a SELECT to page; with
    `staff`, only those she may see: an approval about one household (a kind with `resident_of`) only when that
    resident lives within her jurisdiction, as the kind's `visible_to` decides when she approves it."""
    query = select(Approval).order_by(Approval.created_at.desc(), Approval.id.desc())
    if state:
        query = query.where(Approval.state == state)
    if kind:
        query = query.where(Approval.kind == kind)
    if staff is not None:
        households = sorted(name for name, k in all_kinds().items() if k.resident_of is not None)
        within = jurisdiction_clause(Caller.of_staff(staff), Resident.district_code, Resident.street_code,
                                     Resident.community_code)
        query = (query.outerjoin(Resident, Resident.id == Approval.resident_id)
                 .where(or_(Approval.kind.not_in(households), within)))
    return query


def staff_may(session: Session, staff: StaffMember, action: str, obj) -> bool:
    """Whether this member of staff may `action` on `obj` by the object-level rules (app.authz.decide; nothing
    audited): what a kind about one household or one grant uses as its `visible_to`."""
    return obj is not None and decide(session, Caller.of_staff(staff), action, obj).allowed


def payload_of(approval: Approval) -> dict:
    return {"id": approval.id, "kind": approval.kind, "subject_ref": approval.subject_ref,
            "payload": approval.payload, "maker": approval.maker, "checker": approval.checker,
            "state": approval.state, "created_at": approval.created_at, "decided_at": approval.decided_at}
