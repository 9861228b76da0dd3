"""城乡低保 casework: apply (members pre-filled from the household registry) → automatic economic check with a
report per member → home visit by the street's staff (checklist) → street review → public notice (公示, 7 days,
objections by signed-in residents) → county approval → benefit. Every step has a statutory time limit in
working days (flows.workdays); `flag_overdue` marks late steps. A rejection carries a coded reason and a text.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.blank_text import visible_count
from app.db import utcnow
from app.errors import Conflict, Unprocessable
from app.masking import mask_name
from app.models import (
    Application,
    EconomicRecord,
    Objection,
    PublicNotice,
    Resident,
    StaffTask,
    StepDeadline,
)
from flows import case_states, decision_round, workdays
from flows.applications import take_proposal
from flows.casework import (
    close_deadline,
    close_tasks,
    not_claimed_by_another,
    open_deadline,
    reopen_at_step,
    start_benefit,
)
from flows.conflicts import add_or_conflict
from flows.dates import clock_now, end_of_day, month_of, today_shanghai
from flows.money import yuan
from flows.near_relatives import staff_in_household
from flows.programs import dibao
from notifications.outbox import enqueue

CODE = dibao.CODE
HOME_VISIT_CHECKLIST = dibao.HOME_VISIT_CHECKLIST
STEP_LIMITS = {s.code: s.working_days for s in dibao.STEPS}
OBJECTION_WORKING_DAYS = 5  # the street answers an objection within a week: its task's due day
# The staff steps after the home visit, each a task in the pool of whoever decides it (flows.workbench's
# KIND_PERMISSION): the street's review and the county's approval were in no inbox, overdue list or count.
STEP_TASKS = {"home_visit": "home_visit", "reviewing": "street_review", "approving": "county_approval"}
CASE_STEP = "case"  # the time limit of the whole case (30 working days, extendable once to 45)


# ---- facts and the economic check -----------------------------------------------------------------------------

def household_of(session: Session, resident: Resident) -> list[Resident]:
    return session.scalars(select(Resident).where(Resident.household_id == resident.household_id,
                                                  Resident.death_date.is_(None)).order_by(Resident.id)).all()


def facts_for(session: Session, application: Application, as_of: date) -> dibao.Facts:
    applicant = session.get(Resident, application.resident_id)
    members = household_of(session, applicant)
    ids = [m.id for m in members]
    records = session.scalars(select(EconomicRecord).where(EconomicRecord.resident_id.in_(ids))).all() if ids else []
    by_member: dict[int, list] = {i: [] for i in ids}
    for r in records:
        by_member[r.resident_id].append(dibao.Item(r.kind, r.period, r.amount_fen, r.quantity, r.source,
                                                   r.source_date))
    declared = (application.prefill or {}).get("declared_monthly_income", {}).get("value") or "0"
    return dibao.Facts(
        members=tuple(dibao.Member(m.id, mask_name(m.name), m.relation_to_head, tuple(by_member[m.id]))
                      for m in members),
        hukou_local=bool(applicant.hukou_local),
        alive=applicant.death_date is None or applicant.death_date > as_of,
        source_date=applicant.source_date,
        declared_monthly_income_fen=int(round(float(declared) * 100)),
    )


def economic_report(facts: dibao.Facts, as_of: date) -> list[dict]:
    """Per household member: income by kind over the window, assets by kind, with sources and dates.

    `items` is the report in rows a page can say in words: one per kind (`group` income | asset, `kind`, `name`,
    `amount` in yuan for incomes and deposits, else `quantity`, the `sources` with their dates); `months` is
    the window the incomes are summed over. `income`/`assets`/`sources` are the same figures by name."""
    window = dibao.window(as_of)
    months = set(window)
    out = []
    for m in facts.members:
        incomes: dict[str, int] = {}
        assets: dict[str, int] = {}
        by_kind: dict[str, set] = {}
        sources = set()
        for i in m.items:
            if i.kind in dibao.INCOME_KINDS and i.period in months:
                incomes[i.kind] = incomes.get(i.kind, 0) + i.amount_fen
            elif i.kind in dibao.ASSET_KINDS:
                assets[i.kind] = assets.get(i.kind, 0) + (i.amount_fen if i.kind == "deposit" else i.quantity)
            else:
                continue
            source = (dibao.SOURCE_NAMES.get(i.source, i.source), i.source_date.isoformat())
            sources.add(source)
            by_kind.setdefault(i.kind, set()).add(source)
        out.append({
            "member": m.masked_name, "relation": m.relation,
            "income": {dibao.KIND_NAMES[k]: yuan(v) for k, v in incomes.items()},
            "assets": {dibao.KIND_NAMES[k]: (yuan(v) if k == "deposit" else v) for k, v in assets.items()},
            "sources": [f"{n},{d}" for n, d in sorted(sources)],
            "months": [window[0], window[-1]] if window else [],
            "items": [_report_row("income", k, v, by_kind[k]) for k, v in incomes.items()]
            + [_report_row("asset", k, v, by_kind[k]) for k, v in assets.items()],
        })
    return out


def _report_row(group: str, kind: str, value: int, sources: set) -> dict:
    counted = group == "asset" and kind != "deposit"  # homes, vehicles, firms are counted; money is in yuan
    return {"group": group, "kind": kind, "name": dibao.KIND_NAMES[kind],
            "amount": None if counted else yuan(value), "quantity": value if counted else None,
            "sources": [{"name": n, "date": d} for n, d in sorted(sources)]}


# ---- the steps ------------------------------------------------------------------------------------------------------

IN_PROGRESS = "A 低保 application for this household is already in progress."
ONE_A_MONTH = "Only one 低保 application a month."


def apply(session: Session, applicant: Resident, actor: str, declared_monthly_income_fen: int = 0,
          declared_note: str = "", today: date | None = None) -> Application:
    """A citizen-started application: members pre-filled from the registry, the citizen declares the rest.
    The automatic economic check runs at once."""
    today = today or today_shanghai()
    period = month_of(today)
    if session.scalar(select(Application.id).where(Application.program == CODE, Application.resident_id == applicant.id,
                                                   Application.state.notin_(("rejected", "declined", "expired")))):
        raise Conflict(IN_PROGRESS, error_code="application_in_progress")
    if session.scalar(select(Application.id).where(Application.program == CODE, Application.resident_id == applicant.id,
                                                   Application.period == period)):
        raise Conflict(ONE_A_MONTH, error_code="one_application_a_month")
    application = Application(
        program=CODE, resident_id=applicant.id, period=period, origin="citizen", state="checking", as_of=today,
        prefill=_prefill(session, applicant, declared_monthly_income_fen, declared_note, today),
        confirmed_at=utcnow(), confirmed_by=actor)
    # parallel submissions: the unique key (program, resident_id, period) lets one in
    add_or_conflict(session, application, "applications", ("program", "resident_id", "period"),
                    Conflict(ONE_A_MONTH, error_code="one_application_a_month"))
    check(session, application, today)
    return application


def apply_from_form(session: Session, applicant: Resident, actor: str, values: dict,
                    today: date | None = None) -> Application:
    """The program's apply hook (POST /api/v1/programs/{code}/applications): the form's income in fen, its
    two notes joined into the one declared note."""
    note = "\n".join(t for t in (values.get("income_note", "").strip(), values.get("reason", "").strip()) if t)
    return apply(session, applicant, actor, values.get("monthly_income", 0), note[:500], today)


def _prefill(session: Session, applicant: Resident, declared_monthly_income_fen: int, declared_note: str,
             today: date) -> dict:
    members = household_of(session, applicant)
    src = {"source": "population_registry", "source_date": applicant.source_date.isoformat()}
    declared = {"source": "citizen_declaration", "source_date": today.isoformat()}
    return {
        "name": {"value": applicant.name, **src},
        "household_members": {"value": "、".join(f"{mask_name(m.name)}({m.relation_to_head})" for m in members),
                              **src},
        "street_code": {"value": applicant.street_code, **src},
        "declared_monthly_income": {"value": yuan(declared_monthly_income_fen), **declared},
        "declared_note": {"value": declared_note[:500], **declared},
    }


def confirm_proposal(session: Session, application: Application, actor: str, declared_monthly_income_fen: int = 0,
                     declared_note: str = "", today: date | None = None) -> Application:
    """The household head confirms a proactive proposal (flows.programs.dibao.scan): the members are re-read from the
    registry, the citizen adds only what the state cannot know, and the economic check runs at once."""
    today = today or today_shanghai()
    if application.program != CODE:
        raise Conflict("Not a 低保 application.")
    if application.state != "proposed":
        if application.state in ("declined", "expired"):
            raise Conflict(f"The application is {application.state} and cannot be confirmed; reopen it first.",
                           error_code="application_state")
        return application  # a repeat of the tap: the case is already on its way
    if not take_proposal(session, application, actor, state="checking"):
        return application
    applicant = session.get(Resident, application.resident_id)
    proposal = {k: v for k, v in (application.prefill or {}).items() if k.startswith("proposal_")}
    application.prefill = {**proposal, **_prefill(session, applicant, declared_monthly_income_fen, declared_note,
                                                  today)}
    check(session, application, today)
    return application


def _param(key: str, on: date) -> int:
    return dibao.PARAMETERS[key].at(max(on, dibao.PARAMETERS["start_date"]))


def check(session: Session, application: Application, today: date) -> Application:
    """家庭经济状况核对: the rule over the imported records; a failure rejects at once with the coded reason."""
    open_deadline(session, application, CASE_STEP, today, _param("case_limit_days", today))  # from 受理
    open_deadline(session, application, "checking", today, STEP_LIMITS["checking"])
    facts = facts_for(session, application, today)
    decision = dibao.decide(facts, today)
    application.trace = decision.trace()
    application.prefill = {**application.prefill, "economic_check": {
        "value": economic_report(facts, today), "source": "rule:dibao", "source_date": today.isoformat()},
        "monthly_amount": {"value": yuan(decision.monthly_amount_fen), "source": "rule:dibao",
                           "source_date": today.isoformat()}}
    close_deadline(session, application, "checking", today)
    if not decision.eligible:
        reject(session, application, dibao.rejection_code(decision), _first_failed(decision), today)
        return application
    case_states.move(application, "home_visit")
    resident = session.get(Resident, application.resident_id)
    deadline = open_deadline(session, application, "home_visit", today, STEP_LIMITS["home_visit"])
    relatives = staff_in_household(session, resident)
    # 近亲属 of staff: flagged (单独登记备案) and visited by the district (county), not the street
    session.add(StaffTask(kind="home_visit", resident_id=resident.id, application_id=application.id,
                          district_code=resident.district_code,
                          street_code=None if relatives else resident.street_code,
                          community_code=None if relatives else resident.community_code,
                          dedupe_key=f"home_visit:{application.id}",
                          details={"program": CODE, "checklist": list(HOME_VISIT_CHECKLIST),
                                   **({"near_relative_of_staff": True} if relatives else {})},
                          due_at=end_of_day(deadline.due_on)))  # the step's limit, in working days
    enqueue(session, kind="home_visit_scheduled", idempotency_key=f"application:{application.id}:home_visit_scheduled",
            resident_id=resident.id, application_id=application.id, data={"program": CODE})
    return application


def _first_failed(decision) -> str:
    return next((c.citizen_text for c in decision.conditions if not c.passed), "")


def _require(application: Application, state: str) -> None:
    if application.program != CODE:
        raise Conflict("Not a 低保 application.")
    if application.state != state:
        raise Conflict(f"The application is {application.state}, not {state}.", error_code="state_conflict")


def waiting_for(application: Application, state: str) -> None:
    """409 unless this is a 低保 case at `state`."""
    _require(application, state)


def _take(session: Session, application: Application, state: str) -> None:
    """409 unless this is a 低保 case at `state` — decided by one conditional UPDATE, so that of two staff deciding
    the same step at once one stands and the other writes nothing (both were accepted: the case went on while
    the resident was told it was rejected). On PostgreSQL the second waits for the first's commit, then finds
    the state moved; SQLite runs writing transactions one at a time."""
    _require(application, state)
    won = session.execute(update(Application).where(Application.id == application.id, Application.state == state)
                          .values(updated_at=utcnow()).execution_options(synchronize_session=False)).rowcount
    if not won:
        raise Conflict(f"The application is no longer {state}: someone decided this step a moment ago.",
                       error_code="state_conflict")


def record_home_visit(session: Session, application: Application, staff_id: str, checklist: dict[str, bool],
                      note: str = "", today: date | None = None) -> Application:
    """The street's staff record the visit: every checklist item true → street review; otherwise rejected."""
    today = today or today_shanghai()
    not_claimed_by_another(session, application, STEP_TASKS["home_visit"], staff_id)  # a claim is hers
    _take(session, application, "home_visit")
    missing = [item for item in HOME_VISIT_CHECKLIST if item not in checklist]
    if missing:
        raise Unprocessable("The checklist is incomplete.", errors={"checklist": missing})
    close_deadline(session, application, "home_visit", today)
    close_tasks(session, application, "home_visit")
    ok = all(bool(checklist[item]) for item in HOME_VISIT_CHECKLIST)
    application.trace = [*application.trace, {
        "code": "home_visit", "passed": ok, "value": "ok" if ok else "mismatch", "source": "staff",
        "source_date": today.isoformat(), "staff_id": staff_id,
        "text": "入户调查情况与申报一致" if ok else "入户调查情况与申报不符" + (f"({note[:200]})" if note else "")}]
    if not ok:
        reject(session, application, "home_visit_mismatch", dibao.REJECTION_REASONS["home_visit_mismatch"], today)
        return application
    case_states.move(application, "reviewing")
    _open_step_task(session, application, "reviewing",
                    open_deadline(session, application, "reviewing", today, STEP_LIMITS["reviewing"]))
    return application


def _open_step_task(session: Session, application: Application, state: str, deadline: StepDeadline) -> None:
    """The step's task, due on its limit; a step done again (after a re-investigation) gets a task of its own."""
    kind = STEP_TASKS[state]
    resident = session.get(Resident, application.resident_id)
    earlier = session.scalar(select(func.count()).select_from(StaffTask).where(
        StaffTask.application_id == application.id, StaffTask.kind == kind))
    session.add(StaffTask(kind=kind, resident_id=resident.id, application_id=application.id,
                          district_code=resident.district_code, street_code=resident.street_code,
                          community_code=resident.community_code,
                          dedupe_key=f"{kind}:{application.id}" + (f":{earlier + 1}" if earlier else ""),
                          details={"program": CODE}, due_at=end_of_day(deadline.due_on)))


def _staff_text(base: str, note: str) -> str:
    return base + (f"({note[:200]})" if note else "")


def street_review(session: Session, application: Application, staff_id: str, approve: bool,
                  reason_code: str | None = None, today: date | None = None, note: str = "") -> Application:
    """Street review: approve → public notice for N days; reject with a coded reason (and the staff's words)."""
    today = today or today_shanghai()
    not_claimed_by_another(session, application, STEP_TASKS["reviewing"], staff_id)
    _take(session, application, "reviewing")
    if not approve and reason_code not in dibao.REJECTION_REASONS:
        raise Unprocessable("A rejection needs a reason code.", errors={"reason_code": sorted(dibao.REJECTION_REASONS)})
    close_deadline(session, application, "reviewing", today)
    close_tasks(session, application, STEP_TASKS["reviewing"])
    application.trace = [*application.trace, {
        "code": "street_review", "passed": bool(approve), "value": "approve" if approve else reason_code,
        "source": "staff", "source_date": today.isoformat(), "staff_id": staff_id,
        "text": _staff_text("街道审核通过,进入公示" if approve else
                            f"街道审核未通过:{dibao.REJECTION_REASONS.get(reason_code or '', '')}", note)}]
    if not approve:
        reject(session, application, reason_code, _staff_text(dibao.REJECTION_REASONS[reason_code], note), today)
        return application
    publish(session, application, today)
    return application


def publish(session: Session, application: Application, today: date) -> PublicNotice:
    """公示 of the street's opinion for N days (a parameter) from today; a new opinion after a re-investigation is
    published on the case's one notice again, for a full period."""
    resident = session.get(Resident, application.resident_id)
    days = dibao.PARAMETERS["notice_days"].at(max(today, dibao.PARAMETERS["start_date"]))
    amount = dibao.decide(facts_for(session, application, today), today).monthly_amount_fen
    notice = session.scalar(select(PublicNotice).where(PublicNotice.application_id == application.id))
    if notice is None:
        notice = PublicNotice(application_id=application.id, program=CODE, street_code=resident.street_code)
        session.add(notice)
    notice.masked_name, notice.amount_fen, notice.state = mask_name(resident.name), amount, "open"
    notice.starts_on, notice.ends_on = today, today + timedelta(days=days - 1)
    case_states.move(application, "public_notice")
    return notice


def object_to(session: Session, notice: PublicNotice, account_id: str, text: str, today: date | None = None) -> Objection:
    """An objection by a signed-in resident during the notice period (one per account and notice)."""
    today = today or today_shanghai()
    if notice.state != "open" or not notice.starts_on <= today <= notice.ends_on:
        raise Conflict("The notice period is over; objections are no longer accepted.", error_code="notice_closed")
    text = (text or "").strip()
    visible = visible_count(text)
    if not 5 <= len(text) <= 1000 or visible < 5:  # zero-width or blank-drawn characters are no words (they held a case)
        raise Unprocessable("Say in 5 to 1000 characters what is wrong.", errors={"text": ["5–1000 characters"]})
    row = Objection(notice_id=notice.id, account_id=account_id, text=text, state="open")
    # the unique key (notice_id, account_id) decides between parallel objections
    add_or_conflict(session, row, "objections", ("notice_id", "account_id"),
                    Conflict("You have already objected to this notice.", error_code="objection_exists"))
    application = session.get(Application, notice.application_id)
    resident = session.get(Resident, application.resident_id)
    session.add(StaffTask(kind="objection", resident_id=resident.id, application_id=application.id,
                          street_code=resident.street_code, district_code=resident.district_code,
                          community_code=resident.community_code,
                          details={"notice_id": notice.id, "objection_id": row.id},
                          due_at=end_of_day(workdays.add_working_days(today_shanghai(), OBJECTION_WORKING_DAYS))))
    return row


def decide_objection(session: Session, objection: Objection, upheld: bool, staff_id: str | None = None,
                     note: str = "", today: date | None = None) -> Objection:
    """A staff decision on an objection, during or after the notice period. With a staff id the decision is
    kept in the case's trace; once the period is over and nothing is left open, the notice closes at once."""
    if objection.state != "open":
        raise Conflict("The objection is already decided.", error_code="objection_decided")
    claimed = session.execute(  # one conditional UPDATE: of two parallel decisions one stands
        update(Objection).where(Objection.id == objection.id, Objection.state == "open")
        .values(state="upheld" if upheld else "dismissed").execution_options(synchronize_session=False)
    ).rowcount
    session.refresh(objection)
    if not claimed:
        raise Conflict("The objection is already decided.", error_code="objection_decided")
    if staff_id is None:
        return objection
    today = today or today_shanghai()
    notice = session.get(PublicNotice, objection.notice_id)
    application = session.get(Application, notice.application_id)
    for task in session.scalars(select(StaffTask).where(StaffTask.application_id == application.id,
                                                        StaffTask.kind == "objection", StaffTask.state == "open")):
        if (task.details or {}).get("objection_id") in (objection.id, None):
            task.state, task.closed_at = "done", utcnow()
            task.details = {**task.details, "decision": objection.state, "decided_by": staff_id}
    application.trace = [*application.trace, {
        "code": "objection", "passed": not upheld, "value": objection.state, "source": "staff",
        "source_date": today.isoformat(), "staff_id": staff_id,
        "text": ("公示期间异议经核实成立" if upheld else "公示期间异议经核实不成立") + (f"({note[:200]})" if note else "")}]
    application.updated_at = utcnow()
    # the objector is told it was handled — never the outcome for the applicant, never the applicant's details
    enqueue(session, kind="objection_handled", idempotency_key=f"objection:{objection.id}:handled",
            account_id=objection.account_id,
            data={"program": CODE, "text": "您对城乡低保公示提出的异议，我们已调查核实并处理完毕。感谢您的监督。"
                                          "如有疑问，请拨打12345。"})
    session.flush()
    if upheld and application.state == "public_notice":
        # 民发〔2021〕57号: an objection found to hold → the street investigates again (a new home visit, its
        # limit from today), gives a new opinion, and an approving opinion is published again (重新公示)
        notice.state = "closed"
        reopen_at_step(session, application, "home_visit", "home_visit", STEP_LIMITS["home_visit"], today,
                       f"objection:{objection.id}", task_kind="home_visit")
        enqueue(session, kind="home_visit_scheduled",
                idempotency_key=f"application:{application.id}:home_visit_scheduled:objection:{objection.id}",
                resident_id=application.resident_id, application_id=application.id, data={"program": CODE})
        return objection
    if not upheld and application.state == "public_notice" and not _open_objections(session, application):
        # re-investigated: the street's opinion stands and is published again for a full period (重新公示), on
        # the same notice (one per case), from today
        days = dibao.PARAMETERS["notice_days"].at(max(today, dibao.PARAMETERS["start_date"]))
        notice.state, notice.starts_on, notice.ends_on = "open", today, today + timedelta(days=days - 1)
        notice.amount_fen = dibao.decide(facts_for(session, application, today), today).monthly_amount_fen
        return objection
    if notice.state == "open" and notice.ends_on < today:
        close_notice(session, notice, today)
    return objection


def _open_objections(session: Session, application: Application) -> bool:
    return session.scalar(select(Objection.id).join(PublicNotice, PublicNotice.id == Objection.notice_id)
                          .where(PublicNotice.application_id == application.id, Objection.state == "open")
                          .limit(1)) is not None


def close_notice(session: Session, notice: PublicNotice, today: date) -> bool:
    """Close one notice whose period is over: no upheld objection of this period → county approval; an upheld one
    (decided without a staff re-investigation) → rejected. Returns False while an objection is open (it holds the
    case)."""
    reinvestigated = set(session.scalars(select(StaffTask.dedupe_key).where(
        StaffTask.application_id == notice.application_id, StaffTask.dedupe_key.like("home_visit:%:objection:%"))))
    states = [o.state for o in session.scalars(select(Objection).where(Objection.notice_id == notice.id))
              if f"home_visit:{notice.application_id}:objection:{o.id}" not in reinvestigated]
    if "open" in states:
        return False
    notice.state = "closed"
    application = session.get(Application, notice.application_id)
    if application.state != "public_notice":
        return False
    if "upheld" in states:
        reject(session, application, "objection_upheld", dibao.REJECTION_REASONS["objection_upheld"], today)
    else:
        case_states.move(application, "approving")
        _open_step_task(session, application, "approving",
                        open_deadline(session, application, "approving", today, STEP_LIMITS["approving"]))
        _discount_notice(session, application, notice)
    return True


def _discount_notice(session: Session, application: Application, notice: PublicNotice) -> None:
    """Where the 公示 days do not count toward the case's time limit (a parameter), its limit moves by them."""
    if _param("notice_days_count", notice.starts_on):
        return
    row = session.scalar(select(StepDeadline).where(StepDeadline.application_id == application.id,
                                                    StepDeadline.step == CASE_STEP, StepDeadline.done_on.is_(None)))
    if row is not None:
        days = workdays.working_days_between(notice.starts_on - timedelta(days=1), notice.ends_on)
        row.due_on = workdays.add_working_days(row.due_on, days)


def close_notices(session: Session, today: date) -> int:
    """After the period: no upheld objection → county approval; an upheld one → rejected. Open objections wait."""
    moved = 0
    for notice in session.scalars(select(PublicNotice).where(PublicNotice.state == "open", PublicNotice.ends_on < today)):
        moved += close_notice(session, notice, today)
    return moved


def county_decide(session: Session, application: Application, staff_id: str, approve: bool,
                  reason_code: str | None = None, today: date | None = None, note: str = "") -> Application:
    """County approval: the rule is re-checked on today's data; approval starts the benefit next month."""
    today = today or today_shanghai()
    not_claimed_by_another(session, application, STEP_TASKS["approving"], staff_id)
    _take(session, application, "approving")
    close_deadline(session, application, "approving", today)
    close_tasks(session, application, STEP_TASKS["approving"])
    if not approve:
        code = reason_code if reason_code in dibao.REJECTION_REASONS else "county_rejected"
        application.trace = [*application.trace, {
            "code": "county_approval", "passed": False, "value": code, "source": "staff",
            "source_date": today.isoformat(), "staff_id": staff_id,
            "text": _staff_text(f"区县民政部门审批未通过:{dibao.REJECTION_REASONS[code]}", note)}]
        reject(session, application, code, _staff_text(dibao.REJECTION_REASONS[code], note), today)
        return application
    decision = dibao.decide(facts_for(session, application, today), today)
    application.trace = [*decision.trace(), *[t for t in application.trace if t.get("source") == "staff"],
                         {"code": "county_approval", "passed": decision.eligible, "value": "approve",
                          "source": "staff", "source_date": today.isoformat(), "staff_id": staff_id,
                          "text": "区县民政部门审批通过" if decision.eligible else "审批时复核不符合条件"}]
    if not decision.eligible:
        reject(session, application, dibao.rejection_code(decision), _first_failed(decision), today)
        return application
    start_benefit(session, application, decision)
    close_deadline(session, application, CASE_STEP, today)
    return application


def extend(session: Session, application: Application, staff_id: str, reason: str, today: date | None = None):
    """Extend the case's time limit once, with a reason (30 → 45 working days from 受理, parameters); the
    resident is told the new date."""
    today = today or today_shanghai()
    row = session.scalar(select(StepDeadline).where(StepDeadline.application_id == application.id,
                                                    StepDeadline.step == CASE_STEP))
    if row is None or row.done_on is not None:
        raise Conflict("The case is not open, so there is no time limit to extend.", error_code="case_closed")
    base, longer = _param("case_limit_days", row.started_on), _param("case_limit_extended_days", row.started_on)
    if _extended(row, longer):
        raise Conflict("The time limit was already extended once.", error_code="already_extended")
    row.due_on = workdays.add_working_days(row.due_on, longer - row.working_days)
    row.working_days, row.overdue = longer, False
    row.calendar_note = f"延长:{reason[:100]}"
    application.updated_at = utcnow()
    enqueue(session, kind="case_extended", idempotency_key=f"application:{application.id}:case_extended",
            resident_id=application.resident_id, application_id=application.id,
            data={"program": CODE, "text": f"因{reason[:60].rstrip('。')}，您的城乡低保申请办理时限延长至"
                  f"{row.due_on.year}年{row.due_on.month}月{row.due_on.day}日（{longer}个工作日）。"
                  f"如有疑问，请联系社区或拨打12345。", "due_on": row.due_on.isoformat(), "base_days": base})
    return row


def _extended(row: StepDeadline, longer: int) -> bool:
    return row.working_days >= longer or (row.calendar_note or "").startswith("延长")


def extendable(session: Session, application: Application) -> bool:
    """Whether `extend` would extend the case now: its time limit runs and was not extended yet (the case page
    offers the action only then)."""
    row = session.scalar(select(StepDeadline).where(StepDeadline.application_id == application.id,
                                                    StepDeadline.step == CASE_STEP))
    return row is not None and row.done_on is None and not _extended(
        row, _param("case_limit_extended_days", row.started_on))


def reject(session: Session, application: Application, code: str, text: str, today: date) -> None:
    case_states.move(application, "rejected", decision=code)
    application.decided_at = clock_now()
    for kind in STEP_TASKS.values():  # nothing left to do at any step of a refused case
        close_tasks(session, application, kind)
    for row in session.scalars(select(StepDeadline).where(StepDeadline.application_id == application.id,
                                                          StepDeadline.done_on.is_(None))):
        row.done_on = today
    enqueue(session, kind="rejected", idempotency_key=decision_round.rejection_key(session, application.id),
            resident_id=application.resident_id, application_id=application.id,
            data={"program": CODE, "reason_code": code, "reason": text})


def flag_overdue(session: Session, today: date) -> int:
    """Mark every open step whose working-day limit has passed (set-based)."""
    return session.execute(update(StepDeadline).where(StepDeadline.done_on.is_(None), StepDeadline.due_on < today,
                                                      StepDeadline.overdue.is_(False)).values(overdue=True)).rowcount


# The step a refused case goes back to when an appeal is upheld: the staff step that refused it; a refusal by the
# economic check goes to the home visit, which verifies what the shared data could not.
REOPEN_AT = {"home_visit": "home_visit", "street_review": "reviewing", "county_approval": "approving"}


def reopen_after_appeal(session: Session, application: Application, today: date, cause: str) -> Application:
    """The program's `reopen` hook (flows.casework.reopen): back to the step that refused, its limit again."""
    refused = next((e for e in reversed(application.trace or []) if e.get("source") == "staff"
                    and e.get("passed") is False and e.get("code") in REOPEN_AT), None)
    state = REOPEN_AT[refused["code"]] if refused else "home_visit"
    return reopen_at_step(session, application, state, state, STEP_LIMITS[state], today, cause,
                          task_kind=STEP_TASKS.get(state))


def sweep(session: Session, today: date) -> dict:
    """The daily pass over open 低保 cases: notice periods that ended, steps past their working-day limit."""
    return {"notices_closed": close_notices(session, today), "steps_overdue": flag_overdue(session, today)}


def confirm(session: Session, application: Application, actor: str, today: date, declared: dict | None = None):
    """The program's confirmation hook (flows.casework.confirm): a proactive proposal's economic check runs now,
    with what the household declares (`declared`: {"monthly_income_fen", "note"})."""
    declared = declared or {}
    return confirm_proposal(session, application, actor, declared.get("monthly_income_fen", 0),
                            declared.get("note", ""), today=today)
