"""Staff accounts: scrypt password hashes, lock-out after failures, work queues of one jurisdiction,
decisions with reasons, and the audited resident look-up."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from datetime import timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from app import digits
from app.authz import ROLES, Caller, jurisdiction_clause
from app.blank_text import typed_count
from app.crypto import cipher_for
from app.db import utcnow
from app.errors import Conflict, Forbidden, TooManyAttempts, Unauthorized, Unprocessable
from app.idnumbers import InvalidIdNumber, mask, validate
from app.models import Account, AuthSession, Resident, StaffMember, StaffTask
from app.security_log import refused
from flows.conflicts import add_or_conflict
from flows.dates import today_shanghai

SCRYPT_N, SCRYPT_R, SCRYPT_P = 2**15, 8, 1
MAX_FAILURES = 5
LOCK_FOR = timedelta(minutes=15)
MIN_PASSWORD = 12
QUEUES = ("review", "home_visit", "overdue", "all")
REVIEW_KINDS = ("review", "data_correction", "identity_verification", "manual_review")
HOME_VISIT_KINDS = ("home_visit", "notify_resident")
DECISIONS = ("approve", "reject", "done")
# Tasks that drive an application through its program: closed only by the program's staff endpoint.
CASE_TASKS = {
    "review": "POST /api/v1/staff/applications/{id}/review",
    "approve": "POST /api/v1/staff/applications/{id}/approve",
    "home_visit": "POST /api/v1/staff/applications/{id}/home-visit",
    "street_review": "POST /api/v1/staff/applications/{id}/street-review",
    "county_approval": "POST /api/v1/staff/applications/{id}/county-decision",
    "objection": "POST /api/v1/staff/objections/{id}/decide",
    "home_help": "POST /api/v1/staff/tasks/{id}/home-help",
    "benefit_recheck": "POST /api/v1/staff/tasks/{id}/recheck",
}
LOOKUP_PURPOSES = ("home_visit", "office_visit", "guardianship_grant", "application_review", "complaint",
                   "data_correction")
INVALID_LOGIN = "The username or password is wrong."


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P, maxmem=64 * 2**20,
                            dklen=32)
    b64 = base64.urlsafe_b64encode
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${b64(salt).decode()}${b64(digest).decode()}"


def check_password(password: str, stored: str) -> bool:
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.urlsafe_b64decode(digest)
        got = hashlib.scrypt(password.encode(), salt=base64.urlsafe_b64decode(salt), n=int(n), r=int(r), p=int(p),
                             maxmem=64 * 2**20, dklen=len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, expected)


_DUMMY_HASH = None


def _dummy_check(password: str) -> None:
    """Spend the same time on an unknown username as on a wrong password."""
    global _DUMMY_HASH
    if _DUMMY_HASH is None:
        _DUMMY_HASH = hash_password(secrets.token_hex(8))
    check_password(password, _DUMMY_HASH)


def create_staff(session: Session, *, username: str, password: str, role: str, district: str,
                 street: str | None = None, community: str | None = None, display_name: str = "",
                 resident_id: int | None = None, id_number: str | None = None, cipher=None) -> StaffMember:
    """A staff member; `id_number` (with the `cipher`) is her own ID number (see `set_id_number`)."""
    if role not in ROLES:
        raise Unprocessable(f"role must be one of {', '.join(ROLES)}")
    if not username or username != username.strip() or len(username) > 64 or not username.isprintable():
        raise Unprocessable("The username has 1 to 64 printable characters and no surrounding spaces.",
                            errors={"username": ["invalid"]}, error_code="username_invalid")
    if len(display_name) > 64 or not display_name.isprintable():
        raise Unprocessable("The display name has at most 64 printable characters.",
                            errors={"display_name": ["invalid"]}, error_code="display_name_invalid")
    if typed_count(password) < MIN_PASSWORD:
        raise Unprocessable(f"The password must have at least {MIN_PASSWORD} characters.", error_code="password_too_short")
    if not (digits.is_ascii_digits(district) and len(district) == 6):
        raise Unprocessable("district must be a 6-digit code")
    if street and not (digits.is_ascii_digits(street) and len(street) == 9 and street.startswith(district)):
        raise Unprocessable("the street code must be 9 digits inside the district")
    if community and not (digits.is_ascii_digits(community) and len(community) == 12):
        raise Unprocessable("the community code must be 12 digits")
    if community and not (street and community.startswith(street)):
        raise Unprocessable("the community code must be inside the street (give --street too)")
    require_level(role, community)
    if session.execute(select(StaffMember.id).where(func.lower(StaffMember.username) == username.lower())).first():
        # `WANG` beside `wang`: two accounts a colleague cannot tell apart
        raise Conflict("a staff member with this username exists", error_code="username_taken")
    account = Account(kind="staff")
    session.add(account)
    session.flush()
    staff = StaffMember(account_id=account.id, username=username, display_name=display_name or username,
                        password_hash=hash_password(password), role=role, district_code=district,
                        street_code=street or None, community_code=community or None, resident_id=resident_id,
                        failed_logins=0)
    # two admins creating the same username at once: one account, the other the same 409
    add_or_conflict(session, staff, "staff_members", ("username",),
                    Conflict("a staff member with this username exists", error_code="username_taken"))
    if id_number:
        set_id_number(session, cipher, staff, id_number)
    return staff


def require_level(role: str, community: str | None) -> None:
    """A community worker's jurisdiction is her community: without one she would act across the whole district
    (open its cases, reveal ID numbers, start counter visits in every street)."""
    if role == "community_worker" and not community:
        raise Unprocessable("A community worker needs her community (and its street).",
                            errors={"community_code": ["required_for_role"]}, error_code="community_required")


def set_id_number(session: Session, cipher, staff: StaffMember, raw: str) -> None:
    """Store the staff member's own ID number like residents' (keyed hash, ciphertext, mask) and link her
    registry entry when there is one. Until this is set she records and approves no proxy grants: the rule
    "staff never handle a grant that involves themselves" needs to know who she is."""
    try:
        number = validate(raw, today_shanghai())
    except InvalidIdNumber as exc:
        raise Unprocessable(f"The ID number is not valid ({exc.code}).", errors={"id_number": [exc.code]}) from None
    id_hashes = cipher.lookup_hashes(number, "id")  # more than one while a data-key rotation runs
    id_hash = id_hashes[0]
    taken = session.execute(select(StaffMember.id).where(StaffMember.id_hash.in_(id_hashes),
                                                         StaffMember.id != staff.id)).first()
    if taken:
        raise Conflict("Another staff member has this ID number.")
    staff.id_hash, staff.id_enc, staff.id_mask = id_hash, cipher.encrypt(number), mask(number)
    resident = session.execute(select(Resident.id).where(Resident.id_hash.in_(id_hashes))).scalar()
    staff.resident_id = resident if resident is not None else staff.resident_id
    session.flush()


def refuse_self_involvement(session: Session, staff: StaffMember, resident_ids, verb: str) -> None:
    """403 unless the staff member has her ID number on file and no resident of the grant is herself or in
    her own registry household (户). Each refusal writes one security log line."""
    if not staff.id_hash:
        refused("staff_id_number_missing", actor=f"staff:{staff.id}", action=verb)
        raise Forbidden("Your own ID number is not on file: an administrator sets it with `zerotrip staff set-id` "
                        "before you can record or approve proxy grants.", error_code="staff_id_number_missing")
    ids = [i for i in resident_ids if i is not None]
    own = session.execute(select(Resident.id, Resident.household_id).where(
        or_(Resident.id_hash == staff.id_hash, Resident.id == staff.resident_id))).all()
    own_ids = {r.id for r in own}
    households = {r.household_id for r in own if r.household_id}
    involved = session.execute(select(Resident.id, Resident.household_id).where(Resident.id.in_(ids))).all() \
        if ids else []
    if any(r.id in own_ids or (r.household_id and r.household_id in households) for r in involved):
        refused("staff_self_involvement", actor=f"staff:{staff.id}", action=verb)
        raise Forbidden(f"Staff never {verb} a grant that involves themselves or their own household.",
                        error_code="staff_self_involvement")


def login(session: Session, username: str, password: str) -> tuple[StaffMember | None, str]:
    """Check a password. Returns (staff, "ok" | "bad_password" | "locked" | "disabled").

    Atomic lock-out: before the password is checked, one attempt is claimed with a conditional
    `UPDATE … SET failed_logins = failed_logins + 1 WHERE failed_logins < 5 AND not locked RETURNING`, committed
    at once. So at most 5 passwords are ever checked per lock period, whatever the concurrency and the number
    of processes; the attempt that spends the fifth claim and fails sets the lock ("locked", audited once)."""
    staff = session.execute(select(StaffMember).where(StaffMember.username == username)).scalar()
    if staff is None:
        _dummy_check(password)
        raise Unauthorized(INVALID_LOGIN)
    claimed = claim_attempt(session, staff)
    account = session.get(Account, staff.account_id)
    if not check_password(password, staff.password_hash):
        return staff, failed_attempt(session, staff, claimed)
    if account is None or account.disabled_at is not None:
        # the right password: its claimed attempt is given back, as on a sign-in (a disabled account kept
        # counting them, and from the fifth every answer was 429 "try again in a moment" instead of 401)
        session.execute(update(StaffMember).where(StaffMember.id == staff.id, StaffMember.failed_logins > 0)
                        .values(failed_logins=StaffMember.failed_logins - 1)
                        .execution_options(synchronize_session=False))
        return staff, "disabled"
    now = utcnow()
    reset = session.execute(
        update(StaffMember)
        .where(StaffMember.id == staff.id, or_(StaffMember.locked_until.is_(None), StaffMember.locked_until <= now))
        .values(failed_logins=0, locked_until=None)
        .returning(StaffMember.id)
        .execution_options(synchronize_session=False)
    ).scalar()
    if reset is None:  # locked by parallel failures while this password was being checked
        raise _locked(session, staff, now)
    account.last_login_at = now
    return staff, "ok"


def claim_attempt(session: Session, staff: StaffMember) -> int:
    """One of the 5 password checks of a lock period, claimed by a conditional UPDATE and committed at once (a
    sign-in, or the current password of a password change); TooManyAttempts when none is left."""
    now = utcnow()
    open_ = or_(StaffMember.locked_until.is_(None), StaffMember.locked_until <= now)
    claimed = session.execute(
        update(StaffMember)
        .where(StaffMember.id == staff.id, open_, StaffMember.failed_logins < MAX_FAILURES)
        .values(failed_logins=StaffMember.failed_logins + 1)
        .returning(StaffMember.failed_logins)
        .execution_options(synchronize_session=False)
    ).scalar()
    session.commit()
    if claimed is None:
        raise _locked(session, staff, now)
    return claimed


def failed_attempt(session: Session, staff: StaffMember, claimed: int) -> str:
    """A wrong password on a claimed attempt: "locked" when it spent the fifth (the lock is set), else
    "bad_password". The caller audits and commits."""
    if claimed >= MAX_FAILURES:
        session.execute(update(StaffMember).where(StaffMember.id == staff.id)
                        .values(locked_until=utcnow() + LOCK_FOR, failed_logins=0)
                        .execution_options(synchronize_session=False))
        return "locked"
    return "bad_password"


def _locked(session: Session, staff: StaffMember, now) -> TooManyAttempts:
    until = session.scalar(select(StaffMember.locked_until).where(StaffMember.id == staff.id))
    if until is None or until <= now:  # not locked: the five attempts are all being checked at this moment
        refusal = TooManyAttempts("Too many sign-in attempts for this account at once; try again in a moment.", 1,
                                  error_code="login_busy")
        refusal.actor = f"staff:{staff.id}"
        return refusal
    refusal = TooManyAttempts("Too many failed sign-ins; the account is locked for a while.",
                              int((until - now).total_seconds()) + 1, error_code="account_locked")
    refusal.actor = f"staff:{staff.id}"
    return refusal


def disable(session: Session, staff: StaffMember) -> int:
    """Disable a staff login at once: the account and every open session."""
    account = session.get(Account, staff.account_id)
    account.disabled_at = utcnow()
    return end_sessions(session, staff, "disabled")


def end_sessions(session: Session, staff: StaffMember, reason: str, keep: str | None = None) -> int:
    """End the staff member's open sign-ins (but `keep`, the one asking): their access and refresh tokens are
    refused on the next request, in every process. A password changed or reset ends the others: a stolen
    session does not outlive the usual remedy."""
    where = [AuthSession.account_id == staff.account_id, AuthSession.revoked_at.is_(None)]
    if keep is not None:
        where.append(AuthSession.id != keep)
    return session.execute(update(AuthSession).where(*where).values(revoked_at=utcnow(), revoked_reason=reason)
                           .execution_options(synchronize_session=False)).rowcount


def queue(session: Session, caller: Caller, name: str):
    """A work queue of the caller's jurisdiction only (a select; the caller pages it)."""
    if name not in QUEUES:
        raise Unprocessable(f"queue must be one of {', '.join(QUEUES)}")
    query = select(StaffTask).where(
        StaffTask.state == "open",
        jurisdiction_clause(caller, StaffTask.district_code, StaffTask.street_code, StaffTask.community_code))
    if name == "review":
        query = query.where(StaffTask.kind.in_(REVIEW_KINDS))
    elif name == "home_visit":
        query = query.where(StaffTask.kind.in_(HOME_VISIT_KINDS))
    elif name == "overdue":
        query = query.where(StaffTask.due_at.is_not(None), StaffTask.due_at < utcnow())
    return query.order_by(StaffTask.due_at.is_(None), StaffTask.due_at, StaffTask.created_at, StaffTask.id)


def decide_task(session: Session, task: StaffTask, staff: StaffMember, decision: str, reason: str) -> StaffTask:
    if decision not in DECISIONS:
        raise Unprocessable(f"decision must be one of {', '.join(DECISIONS)}")
    if task.state != "open":
        raise Conflict(f"The task is {task.state}; it was decided already.", error_code="task_decided")
    if task.kind in CASE_TASKS and task.application_id:
        # one path for decisions that move an application: the program endpoints (docs/programs.md, "Staff API")
        raise Conflict(f"This {task.kind} task belongs to an application; decide it with {CASE_TASKS[task.kind]}.")
    if task.claimed_by not in (None, staff.id):  # a claim is hers until released or reassigned
        raise Conflict("Another staff member has claimed this task.", error_code="task_not_yours")
    # Claiming the task is one conditional UPDATE (open → closed): of two staff deciding at once, one decision
    # stands and the other gets 409 task_decided; a claim taken meanwhile by a colleague stands too.
    now = utcnow()
    details = {**(task.details or {}), "decision": decision, "reason": reason[:500], "decided_by": staff.id,
               "decided_at": now.isoformat(timespec="seconds")}
    claimed = session.execute(
        update(StaffTask).where(StaffTask.id == task.id, StaffTask.state == "open",
                                or_(StaffTask.claimed_by.is_(None), StaffTask.claimed_by == staff.id))
        .values(state="closed", closed_at=now, details=details)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(task)
    if not claimed and task.state == "open":
        raise Conflict("Another staff member has claimed this task.", error_code="task_not_yours")
    if not claimed:
        raise Conflict(f"The task is {task.state}; it was decided already.", error_code="task_decided")
    return task


def find_resident(session: Session, cfg, caller: Caller, id_number: str) -> tuple[Resident | None, str]:
    """(resident or None, keyed-hash reference for the audit). Outside the jurisdiction counts as not found."""
    try:
        number = validate(id_number, today_shanghai())
    except InvalidIdNumber as exc:
        raise Unprocessable("The ID number is not valid.", errors={"json": {"id_number": [exc.code]}}) from None
    id_hashes = cipher_for(cfg).lookup_hashes(number, "id")
    id_hash = id_hashes[0]
    resident = session.execute(select(Resident).where(Resident.id_hash.in_(id_hashes))).scalar()
    return resident, f"idh:{id_hash[:24]}"


def staff_for(session: Session, usernames: list[str]) -> list[StaffMember]:
    return list(session.execute(select(StaffMember).where(or_(*(StaffMember.username == u for u in usernames))))
                .scalars())
