"""The handling platform's use cases (issue 12): the inbox (a pool per role and jurisdiction, an atomic claim,
days waiting in working days, deadline badges), bulk claim and bulk review, the forced password change.

Generic: no program is named here. Which programs may be reviewed in bulk is what the program modules declare
through the review step (Program.reviewed: decided by a rule re-check plus one staff review; 低保 is
decided by the county after a home visit, street review and 公示, never in bulk)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.orm import Session

from app import audit
from app.authz import APPROVING_ACTIONS, Caller, jurisdiction_clause, refuse_earlier_step, role_allows
from app.blank_text import typed_count
from app.db import note_changed, utcnow
from app.errors import Conflict, Forbidden, Unauthorized, Unprocessable
from app.models import Application, Resident, StaffMember, StaffTask, StepDeadline
from flows import appeals, case_states, workdays
from flows.dates import shanghai_date, today_shanghai
from flows.staff import (
    MIN_PASSWORD,
    check_password,
    claim_attempt,
    end_sessions,
    failed_attempt,
    hash_password,
    require_level,
)

BULK_MAX = 50
# The permission a task kind needs (app.authz.PERMISSIONS): a task is in the pool of every staff member whose
# role has it, in the task's jurisdiction. Kinds not listed need task:decide.
KIND_PERMISSION = {"review": "casework:review", "approve": "casework:approve", "home_visit": "case:home_visit", "objection": "objection:decide",
                   # a case's street review and county approval (a program's steps with those decisions)
                   "street_review": "case:street_review", "county_approval": "case:county_approve",
                   "home_help": "casework:home_help", "appeal": "appeal:decide",
                   # an appeal past its limit (flows.appeals.sweep): in the supervisors' pool, to reassign
                   "appeal_overdue": "task:reassign",
                   # a benefit's re-check after new income data (flows.lifecycle.income): the street's review
                   "benefit_recheck": "casework:review"}
AT_RISK_SHARE = 0.25  # at risk: less than a quarter of the step's time left
BADGES = ("on_track", "at_risk", "overdue", "none")
SCOPES = ("pool", "mine", "all")
# The states a case may be in while one of its tasks is open (the inbox's `state` filter): waiting for the
# person, the economic check, a home visit, a review, the public notice, an approval; or decided (an appeal).
CASE_STATES = tuple(case_states.STATES)  # the inbox's `state` filter: the states a case can be in
# The time limit of the whole case, where a program declares one (e.g. 30 working days from 受理): a deadline row
# of this step; otherwise the whole case is due when its last open step is.
CASE_STEP = "case"


def permission_for(kind: str) -> str:
    return KIND_PERMISSION.get(kind, "task:decide")


def kinds_for(role: str | None, kinds) -> list[str]:
    return [k for k in kinds if role_allows(role, permission_for(k))]


# ---- password ---------------------------------------------------------------------------------------------------

def change_password(session: Session, staff: StaffMember, current: str, new: str, sign_in: str | None = None) -> None:
    """Her own change; every other sign-in of hers ends (`sign_in`: the one asking, which goes on). The current
    password is checked on one of the sign-in's 5 attempts (`staff.claim_attempt`): someone holding her token
    cannot guess it without limit; a wrong one is audited (and the fifth locks the account, audited too)."""
    if typed_count(new) < MIN_PASSWORD:  # twelve zero-width spaces are no password anyone can type
        raise Unprocessable(f"The new password must have at least {MIN_PASSWORD} characters.",
                            errors={"new_password": ["too_short"]}, error_code="password_too_short")
    if new == current:
        raise Unprocessable("The new password must differ from the current one.",
                            errors={"new_password": ["unchanged"]}, error_code="password_unchanged")
    # the new one is checked first: a 422 rolls back, and would leave this attempt spent with the right password
    claimed = claim_attempt(session, staff)
    if not check_password(current, staff.password_hash):
        outcome = failed_attempt(session, staff, claimed)
        audit.record(session, actor=f"staff:{staff.id}", action="staff.password_change", result="bad_password",
                     object_ref=f"staff:{staff.id}")
        if outcome == "locked":
            audit.record(session, actor=f"staff:{staff.id}", action="staff.lockout", result="locked",
                         object_ref=f"staff:{staff.id}")
        session.commit()
        raise Unauthorized("The current password is wrong.")
    session.execute(update(StaffMember).where(StaffMember.id == staff.id).values(failed_logins=0)
                    .execution_options(synchronize_session=False))
    staff.password_hash, staff.password_changed_at, staff.must_change_password = hash_password(new), utcnow(), False
    end_sessions(session, staff, "password_changed", keep=sign_in)


# ---- deadlines and badges ---------------------------------------------------------------------------------------

def badge(created: date, due: date | None, today: date) -> tuple[str, int | None]:
    """(badge, working days left) of a step that started on `created` and is due on `due`."""
    if due is None:
        return "none", None
    if today > due:
        return "overdue", -workdays.working_days_between(due, today)
    total = max(workdays.working_days_between(created, due), 1)
    left = workdays.working_days_between(today, due)
    return ("at_risk" if left < total * AT_RISK_SHARE else "on_track"), left


@dataclass
class InboxFilters:
    scope: str = "pool"
    kind: str | None = None
    program: str | None = None
    community: str | None = None
    state: str | None = None
    overdue: bool = False


def inbox_query(caller: Caller, filters: InboxFilters, today: date):
    """Open tasks of the caller's jurisdiction her role may work on: the pool (unclaimed), hers, or all."""
    kinds = [k for k in _KNOWN_KINDS if role_allows(caller.role, permission_for(k))]
    others_allowed = role_allows(caller.role, "task:decide")
    kind_clause = or_(StaffTask.kind.in_(kinds), StaffTask.kind.not_in(_KNOWN_KINDS)) if others_allowed \
        else StaffTask.kind.in_(kinds)
    query = (select(StaffTask).outerjoin(Application, Application.id == StaffTask.application_id)
             .where(StaffTask.state == "open", kind_clause,
                    jurisdiction_clause(caller, StaffTask.district_code, StaffTask.street_code,
                                        StaffTask.community_code)))
    if filters.scope == "pool":
        query = query.where(StaffTask.claimed_by.is_(None))
    elif filters.scope == "mine":
        query = query.where(StaffTask.claimed_by == caller.staff_id)
    if filters.kind:
        query = query.where(StaffTask.kind == filters.kind)
    if filters.program:
        query = query.where(Application.program == filters.program)
    if filters.community:
        query = query.where(StaffTask.community_code == filters.community)
    if filters.state:
        query = query.where(Application.state == filters.state)
    if filters.overdue:
        query = query.where(StaffTask.due_at.is_not(None), StaffTask.due_at < _end_of(today))
    return query.order_by(StaffTask.due_at.is_(None), StaffTask.due_at, StaffTask.created_at, StaffTask.id)


_KNOWN_KINDS = tuple(KIND_PERMISSION)


def _end_of(day: date) -> datetime:
    return datetime(day.year, day.month, day.day)


def counts(session: Session, caller: Caller, today: date) -> dict:
    """Badge counts of the caller's pool and her own claimed tasks (one aggregate query)."""
    base = inbox_query(caller, InboxFilters(scope="all"), today).order_by(None).subquery()
    row = session.execute(select(
        func.count().filter(base.c.claimed_by.is_(None)),
        func.count().filter(base.c.claimed_by == caller.staff_id),
        func.count().filter(and_(base.c.due_at.is_not(None), base.c.due_at < _end_of(today))),
    ).select_from(base)).one()
    return {"pool": row[0], "mine": row[1], "overdue": row[2]}


@dataclass
class CaseFacts:
    """What the inbox shows of a task's case: its program, its state and the whole case's deadline."""
    program: str | None = None
    state: str | None = None
    started: date | None = None
    due: date | None = None


def case_facts(session: Session, application_ids) -> dict[str, CaseFacts]:
    """application id → CaseFacts for one page of the inbox: two set-based queries whatever the page size
    (applications by primary key, open deadlines by the (application_id, step) index)."""
    ids = sorted({a for a in application_ids if a})
    if not ids:
        return {}
    out = {i: CaseFacts(program, state) for i, program, state in session.execute(
        select(Application.id, Application.program, Application.state).where(Application.id.in_(ids)))}
    rows = session.execute(select(StepDeadline.application_id, StepDeadline.step, StepDeadline.started_on,
                                  StepDeadline.due_on)
                           .where(StepDeadline.application_id.in_(ids), StepDeadline.done_on.is_(None))).all()
    whole = {r.application_id for r in rows if r.step == CASE_STEP}
    for r in rows:
        facts = out.setdefault(r.application_id, CaseFacts())
        if r.application_id in whole and r.step != CASE_STEP:
            continue  # the program's own limit of the whole case wins
        if facts.due is None or r.due_on > facts.due:
            facts.started, facts.due = r.started_on, r.due_on
    return out


def task_view(session: Session, task: StaffTask, today: date, cases: dict | None = None) -> dict:
    created = shanghai_date(task.created_at)
    due = shanghai_date(task.due_at) if task.due_at else None
    state, left = badge(created, due, today)
    if cases is None:
        cases = case_facts(session, [task.application_id])
    case = cases.get(task.application_id) or CaseFacts()
    case_badge, case_left = badge(case.started, case.due, today) if case.due else ("none", None)
    return {"waiting_working_days": workdays.working_days_between(created, today), "badge": state,
            "working_days_left": left, "program": case.program or (task.details or {}).get("program"),
            "application_state": case.state, "case_due_on": case.due, "case_badge": case_badge,
            "case_working_days_left": case_left,
            "claimed_by": task.claimed_by, "claimed_at": task.claimed_at,
            "appeal_id": (task.details or {}).get("appeal_id"), **appeals.chased(task),
            "objection_id": (task.details or {}).get("objection_id") if task.kind == "objection" else None,
            "text": (task.details or {}).get("text")}


def colleagues(session: Session, me: StaffMember, permission: str) -> list[dict]:
    """Active staff of my district whose role carries `permission`, me excluded (names as they sign in)."""
    from app.models import Account

    rows = session.execute(select(StaffMember).join(Account, Account.id == StaffMember.account_id)
                           .where(StaffMember.district_code == me.district_code, StaffMember.id != me.id,
                                  Account.disabled_at.is_(None))
                           .order_by(StaffMember.username)).scalars()
    return [{"id": s.id, "name": s.display_name or s.username, "role": s.role} for s in rows
            if role_allows(s.role, permission)][:200]


# ---- claim --------------------------------------------------------------------------------------------------------

def claim(session: Session, task: StaffTask, staff: StaffMember) -> StaffTask:
    """Make a pool task personal: one conditional UPDATE (open and unclaimed → claimed by her). Of two claimers
    one wins; the other gets 409 `task_claimed`. Claiming one's own task again is a no-op — also when her own
    parallel claim won a moment ago: the loser re-reads the task and answers from the winner's state."""
    if task.claimed_by == staff.id and task.state == "open":
        return task
    _refuse_own_earlier_step(session, task, staff.id, "task:claim")
    appeals.on_claim(session, task, staff.id)  # an appeal: never its original decider; received → reviewing
    won = session.execute(
        update(StaffTask).where(StaffTask.id == task.id, StaffTask.state == "open", StaffTask.claimed_by.is_(None))
        .values(claimed_by=staff.id, claimed_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    session.refresh(task)
    if not won:
        if task.claimed_by == staff.id and task.state == "open":
            return task  # her own claim (a repeat sent at the same time) won: the same answer
        if task.state != "open":
            raise Conflict(f"The task is {task.state}; there is nothing to claim.", error_code="task_decided")
        raise Conflict("Someone else claimed this task a moment ago.", error_code="task_claimed")
    note_changed(session, "task", task.id)
    return task


def _refuse_own_earlier_step(session: Session, task: StaffTask, staff_id: str, action: str) -> None:
    """A case's approval task is never held by who reviewed it or recorded its home visit (she cannot approve it,
    and holding it blocked everyone who could): 403 `segregation_of_duties`, as her approval would be."""
    if KIND_PERMISSION.get(task.kind) not in APPROVING_ACTIONS or task.application_id is None:
        return
    application = session.get(Application, task.application_id)
    if application is not None:
        refuse_earlier_step(application, staff_id, f"staff:{staff_id}", action)


def release(session: Session, task: StaffTask, staff: StaffMember) -> StaffTask:
    """Put one's own claimed task back into the pool."""
    done = session.execute(
        update(StaffTask).where(StaffTask.id == task.id, StaffTask.state == "open", StaffTask.claimed_by == staff.id)
        .values(claimed_by=None, claimed_at=None).execution_options(synchronize_session=False)).rowcount
    session.refresh(task)
    if not done:
        raise Conflict("The task is not claimed by you.", error_code="task_not_yours")
    return task


def reassign(session: Session, task: StaffTask, to: StaffMember, *, held_by: str | None = None) -> bool:
    """A supervisor moves an open task to someone (or back to the pool with `to=None`); with `held_by`, only while
    that staff member still holds it (a bulk move of an absent worker's tasks: of two at once, one moves each
    task) — 409 `task_moved` otherwise. False when it was already where it is sent (a repeat, or a parallel
    repeat's loser): nothing changed, nothing to record."""
    if to is not None:
        _refuse_own_earlier_step(session, task, to.id, "task:reassign")
        appeals.before_assign(session, task, to.id)
    target = to.id if to else None
    condition = [StaffTask.id == task.id, StaffTask.state == "open", StaffTask.claimed_by.is_distinct_from(target)]
    if held_by is not None:
        condition.append(StaffTask.claimed_by == held_by)
    done = session.execute(
        update(StaffTask).where(*condition)
        .values(claimed_by=target, claimed_at=utcnow() if to else None)
        .execution_options(synchronize_session=False)).rowcount
    session.refresh(task)
    if not done and task.state == "open" and held_by is None and task.claimed_by == target:
        return False
    if not done and task.state == "open":
        raise Conflict("The task is no longer held by that staff member.", error_code="task_moved")
    if not done:
        raise Conflict(f"The task is {task.state}.", error_code="task_decided")
    return True


# ---- bulk review ------------------------------------------------------------------------------------------------

def bulk_review_one(session: Session, application: Application, staff_id: str, today: date) -> None:
    """Complete the review step of one reviewed application in a bulk run, only when its program is decided by a
    rule re-check plus staff review (Program.reviewed) and the re-check passes today; otherwise refused (nothing
    is rejected in bulk). Where the program declares an approval step, the case then waits in the approvers'
    pool (flows.casework.review)."""
    from flows import casework, programs

    if not casework.is_reviewed(application.program):
        raise Conflict("This program is not decided by a single review; open the case.",
                       error_code="bulk_not_allowed")
    if application.state != "reviewing":
        raise Conflict(f"The application is {application.state}, not waiting for review.",
                       error_code="application_state")
    casework.not_claimed_by_another(session, application, "review", staff_id)
    decision = programs.get(application.program).decide(casework.program_facts(session, application, today), today)
    if not decision.eligible:
        failed = next((c.citizen_text for c in decision.conditions if not c.passed), "")
        raise Conflict(f"The rule re-check does not pass today: {failed}", error_code="recheck_failed",
                       errors={"condition": [failed]} if failed else None)
    casework.review(session, application, staff_id, True, today=today)


# ---- accounts --------------------------------------------------------------------------------------------------

def change_account(session: Session, admin: StaffMember, staff: StaffMember, changes: dict) -> StaffMember:
    if staff.id == admin.id:
        raise Forbidden("You cannot change your own role or jurisdiction.", error_code="own_account")
    if "role" in changes:
        staff.role = changes["role"]
    district = changes.get("district_code", staff.district_code)
    street = changes.get("street_code", staff.street_code)
    community = changes.get("community_code", staff.community_code)
    if district != admin.district_code:
        raise Forbidden("Accounts stay within your own district.", error_code="outside_jurisdiction")
    if street and not street.startswith(district):
        raise Unprocessable("The street code must be inside the district.")
    if community and not (street and community.startswith(street)):
        raise Unprocessable("The community code must be inside the street.")
    require_level(changes.get("role", staff.role), community)
    staff.district_code, staff.street_code, staff.community_code = district, street or None, community or None
    return staff


def reset_password(session: Session, staff: StaffMember, password: str) -> None:
    if typed_count(password) < MIN_PASSWORD:
        raise Unprocessable(f"The password must have at least {MIN_PASSWORD} characters.",
                            error_code="password_too_short")
    staff.password_hash, staff.must_change_password = hash_password(password), True
    staff.failed_logins, staff.locked_until = 0, None
    end_sessions(session, staff, "password_reset")  # every sign-in ends: she signs in with the new password


def today() -> date:
    return today_shanghai()


# ---- the registry, search-first ----------------------------------------------------------------------------------

SEARCH_LIMIT = 20
SEARCH_PURPOSES = ("home_visit", "office_visit", "application_review", "complaint", "data_correction")


def search_residents(session: Session, caller: Caller, cipher, *, id_number: str | None = None,
                     name: str | None = None, birth_year: int | None = None, community: str | None = None,
                     on: date | None = None) -> list:
    """Search-first registry within the caller's jurisdiction: an exact ID number, or a full name plus a birth
    year or a community (two-character names like 王芳 are common, so a name alone is refused). At most 20."""
    from app.idnumbers import InvalidIdNumber, validate

    where = jurisdiction_clause(caller, Resident.district_code, Resident.street_code, Resident.community_code)
    query = select(Resident).where(where)
    if id_number:
        try:
            number = validate(id_number, on or today_shanghai())
        except InvalidIdNumber as exc:
            raise Unprocessable("The ID number is not valid.", errors={"id_number": [exc.code]}) from None
        query = query.where(Resident.id_hash.in_(cipher.lookup_hashes(number, "id")))
    else:
        if not name or not (birth_year or community):
            raise Unprocessable("Give an exact ID number, or a full name with a birth year or a community.",
                                error_code="search_too_broad")
        query = query.where(Resident.name == name.strip())
        if birth_year:
            query = query.where(Resident.birth_date >= date(birth_year, 1, 1),
                                Resident.birth_date <= date(birth_year, 12, 31))
        if community:
            query = query.where(Resident.community_code == community)
    return list(session.scalars(query.order_by(Resident.birth_date, Resident.id).limit(SEARCH_LIMIT)))
