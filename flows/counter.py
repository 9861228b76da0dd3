"""At the counter (帮办, issue 13 item 1): a resident without a phone is served at the window in one trip.

The clerk finds the person by a typed ID number or by the ID-card reader's JSON (one documented shape,
`CARD_FIELDS`; never the card photo). Reading a card is not consent: confirming on the resident's behalf needs
her recorded consent — a signature from a tablet canvas or a photo of the signed slip, stored as an instance
file (`consent/<visit>/<sha256>.<ext>`, PNG or JPEG, at most `CONSENT_MAX_BYTES`). Each visit is one row
(`CounterVisit`): the citizen's trip, counted as one in the KPIs (`trips`). In the same visit she may appeal (复核,
issue 13 item 2) a decision of hers through flows.appeals (`file_appeal`); the receipt lists it. Generic: no program
is named here."""

from __future__ import annotations

import hashlib
from datetime import date
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.authz import Caller
from app.errors import NotFound, Unprocessable
from app.idnumbers import InvalidIdNumber, validate
from app.models import Appeal, Application, Benefit, CounterVisit, Resident, StaffMember, StepDeadline
from flows import case_states, visit_files

CARD_FIELDS = ("name", "id_number", "sex", "birth_date", "address", "issuing_authority", "valid_until")
CONSENT_KINDS = ("signature", "slip_photo")
CONSENT_MAX_BYTES = 2 * 1024 * 1024
_MAGIC = {b"\x89PNG\r\n\x1a\n": "png", b"\xff\xd8\xff": "jpg"}
OPEN_STATES = case_states.IN_PROGRESS  # a case in economic check or awaiting approval is open too
HOTLINE = "12345"


def _id_error(exc: InvalidIdNumber, field: str = "id_number") -> Unprocessable:
    return Unprocessable(f"The ID number is not valid: {exc}.", errors={field: [exc.code]},
                         error_code="id_number_invalid")


def identify(session: Session, caller: Caller, cipher, today: date, *, id_number: str | None = None,
             card: dict | None = None) -> tuple[Resident, str]:
    """The resident of the caller's jurisdiction with this ID number (typed, or read from the card); a card
    whose name or birth date disagrees with the registry is refused (422 `card_mismatch`)."""
    from app.authz import jurisdiction_clause

    raw = card["id_number"] if card else id_number
    try:
        number = validate(raw or "", today)
    except InvalidIdNumber as exc:
        raise _id_error(exc, "card.id_number" if card else "id_number") from None
    resident = session.scalar(select(Resident).where(
        Resident.id_hash.in_(cipher.lookup_hashes(number, "id")),
        jurisdiction_clause(caller, Resident.district_code, Resident.street_code, Resident.community_code)))
    if resident is None:
        raise NotFound("Nobody with this ID number in your jurisdiction's registry.")
    if card:
        wrong = []
        if (card.get("name") or "").strip() != resident.name:
            wrong.append("name")
        if card.get("birth_date") != resident.birth_date:
            wrong.append("birth_date")
        if wrong:
            raise Unprocessable("The card does not match the registry (" + ", ".join(wrong) + "); check the card "
                                "or ask the resident to update the registry.", errors={f: ["mismatch"] for f in wrong},
                                error_code="card_mismatch")
        if card.get("valid_until") and card["valid_until"] < today:
            raise Unprocessable("The ID card has expired.", errors={"valid_until": ["expired"]},
                                error_code="card_expired")
    return resident, ("card" if card else "typed")


def open_visit(session: Session, resident: Resident, staff: StaffMember | None, source: str, today: date,
               staff_id: str | None = None) -> CounterVisit:
    """One trip of the resident to an office (`staff` None: the simulated year's clerk `staff_id` at her
    street's office)."""
    office = (staff.community_code or staff.street_code or staff.district_code) if staff else resident.street_code
    visit = CounterVisit(resident_id=resident.id, staff_id=staff.id if staff else staff_id, office_code=office,
                         district_code=resident.district_code, street_code=resident.street_code,
                         community_code=resident.community_code, source=source, visited_on=today, actions=[])
    session.add(visit)
    session.flush()
    return visit


def record(visit: CounterVisit, **action) -> None:
    visit.actions = [*(visit.actions or []), action]


def hold(session: Session, visit: CounterVisit) -> CounterVisit:
    """Serialize writers of one visit: a no-op UPDATE of its row holds it until the transaction ends (PostgreSQL: a
    row lock, a parallel writer waits; SQLite: the write lock — `with_for_update()` would do nothing there), then
    its `actions` are re-read, so what is appended next starts from the last committed list, not from a copy
    read before a parallel request appended to it (a lost update)."""
    session.execute(update(CounterVisit).where(CounterVisit.id == visit.id)
                    .values(resident_id=CounterVisit.resident_id).execution_options(synchronize_session=False))
    session.refresh(visit, ["actions"])
    return visit


def _append(session: Session, visit: CounterVisit, **action) -> None:
    """`record` on the held, freshly read visit (see `hold`)."""
    hold(session, visit)
    record(visit, **action)


def confirmed_here(session: Session, visit: CounterVisit, application_id: str) -> bool:
    """Whether this visit already confirmed the application — read after holding the visit, so of parallel
    confirms of one proposal exactly one finds it not yet confirmed (and records it); a repeat, sent later or at
    the same time, gets the same answer without a second entry (or audit event)."""
    hold(session, visit)
    return any(a.get("action") == "confirm" and a.get("application_id") == application_id
               for a in visit.actions or [])


def open_items(session: Session, resident_id: int) -> list[Application]:
    """The resident's open proposals and applications (as subject), newest first."""
    return list(session.scalars(select(Application).where(
        Application.resident_id == resident_id, Application.state.in_(OPEN_STATES))
        .order_by(Application.created_at.desc(), Application.id)).all())


def held_benefits(session: Session, resident_id: int) -> list[Benefit]:
    """The benefits she holds that are in payment or suspended, oldest first (a proof is printed for one in
    payment: POST /api/v1/staff/benefits/{id}/proof)."""
    return list(session.scalars(select(Benefit).where(
        Benefit.resident_id == resident_id, Benefit.state.in_(("active", "suspended")))
        .order_by(Benefit.start_month, Benefit.id)).all())


def consent_type(data: bytes) -> str:
    """The consent image's extension (png or jpg); 422 when empty, too large, neither, or not decodable."""
    if not data:
        raise Unprocessable("The consent file is empty.", error_code="consent_missing")
    if len(data) > CONSENT_MAX_BYTES:
        raise Unprocessable(f"The consent file is larger than {CONSENT_MAX_BYTES // 1024 // 1024} MB.",
                            error_code="consent_too_large")
    ext = next((e for magic, e in _MAGIC.items() if data.startswith(magic)), None)
    if ext is None:
        raise Unprocessable("The consent must be a PNG or JPEG image (a signature or a photo of the signed slip).",
                            error_code="consent_type")
    # the legal record of her agreement: decoded whole, not taken by its first bytes (kept as given)
    visit_files.decode(data, not_an_image="consent_type")
    return ext


def store_consent(instance_path: str, visit: CounterVisit, data: bytes) -> str:
    """Keep the consent image (PNG or JPEG, decoded whole by `consent_type`) as given, as an instance file; its
    relative path."""
    ext = consent_type(data)
    digest = hashlib.sha256(data).hexdigest()
    relative = Path("consent") / visit.id / f"{digest}.{ext}"
    target = Path(instance_path) / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".part")
    tmp.write_bytes(data)
    tmp.replace(target)
    return relative.as_posix()


def confirm(session: Session, visit: CounterVisit, application: Application, staff_id: str, today: date,
            consent: dict) -> Application:
    """Confirm the resident's proposal on her behalf, with her recorded consent (`consent`: kind, path, sha)."""
    from flows import casework

    if application.resident_id != visit.resident_id:
        raise NotFound("No such application of this resident.")
    del staff_id  # recorded by the caller's audit event
    # she confirms, at the counter: the actor is the resident (an applicant ≠ subject is checked as such); the
    # staff member who helped is in the visit and in the audit trail
    casework.confirm(session, application, f"resident:{visit.resident_id}", today)
    _append(session, visit, action="confirm", application_id=application.id, consent=consent)
    return application


def start_application(session: Session, visit: CounterVisit, program, form: dict, today: date, *,
                      consent_kind: str, consent: bytes, instance_path: str) -> Application:
    """Start the application she asks for, on her behalf, with her recorded consent: the program's own `apply`
    use case (the one her phone's form uses, with its rules: a repeat gets the program's answer and starts
    nothing), then her consent is kept and the visit records the case so that the receipt lists it."""
    if not program.citizen_started:
        raise Unprocessable(f"{program.name} is not applied for by the citizen: the bureau proposes it.",
                            errors={"program": ["not_citizen_started"]}, error_code="not_citizen_started")
    consent_type(consent)  # refused before anything is started
    resident = session.get(Resident, visit.resident_id)
    # she applies, at the counter: the actor is the resident; the clerk who helped is in the visit and the audit
    application = program.hook("apply")(session, resident, f"resident:{resident.id}", form, today)
    path = store_consent(instance_path, visit, consent)
    _append(session, visit, action="apply", application_id=application.id, program=program.code,
           consent={"kind": consent_kind, "path": path})
    return application


def file_appeal(session: Session, visit: CounterVisit, *, application: Application | None, benefit: Benefit | None,
                reason_code: str, comment: str, filed_by: str, today: date, consent_kind: str, consent: bytes,
                instance_path: str) -> Appeal:
    """File her appeal (复核) of one of her decisions, on her behalf, with her recorded consent: flows.appeals'
    own use case (its 60-day period, one open appeal per decision), then her consent is kept and the visit records
    the appeal so that the receipt lists it."""
    from flows import appeals

    subject = application if application is not None else benefit
    if subject is None or subject.resident_id != visit.resident_id:
        raise NotFound("No such decision of this resident.")
    consent_type(consent)  # refused before anything is filed
    appeal = appeals.file(session, application=application, benefit=benefit, reason_code=reason_code,
                          comment=comment, filed_by=filed_by, filed_via="counter", today=today)
    path = store_consent(instance_path, visit, consent)
    _append(session, visit, action="appeal", appeal_id=appeal.id, decision_key=appeal.decision_key,
           consent={"kind": consent_kind, "path": path})
    return appeal


def next_step(session: Session, application: Application) -> dict:
    """The open step of a case and its due date (from its statutory deadline), for the receipt: the step the case
    is at when it has a deadline of its own, else the latest one opened (a whole-case limit opens with a step)."""
    rows = session.scalars(select(StepDeadline).where(StepDeadline.application_id == application.id,
                                                      StepDeadline.done_on.is_(None))
                           .order_by(StepDeadline.started_on.desc(), StepDeadline.id.desc())).all()
    row = next((r for r in rows if r.step == application.state), rows[0] if rows else None)
    return {"step": row.step if row else application.state, "due_on": row.due_on if row else None}


def receipt(session: Session, visit: CounterVisit, today: date) -> dict:
    from flows import areas, programs

    ids = [a["application_id"] for a in visit.actions or [] if a.get("application_id")]
    cases = []
    for app_id in dict.fromkeys(ids):
        application = session.get(Application, app_id)
        program = programs.get(application.program)
        cases.append({"application_id": application.id, "program": application.program,
                      "program_name": program.name if program else application.program,
                      "state": application.state, **next_step(session, application),
                      "phone": (program.guide or {}).get("phone") if program else None})
    appeal_ids = dict.fromkeys(a["appeal_id"] for a in visit.actions or [] if a.get("appeal_id"))
    appeals = [_receipt_appeal(session, session.get(Appeal, appeal_id)) for appeal_id in appeal_ids]
    # the office she visited: its name (the code only when no name is known), its reception phone and address as
    # recorded in the areas (None when not recorded: the receipt then gives 12345 alone, it never invents one)
    office = areas.offices(session, [visit.office_code], today).get(visit.office_code) or {}
    resident = session.get(Resident, visit.resident_id)
    return {"visit_id": visit.id, "visited_on": visit.visited_on,
            "office": office.get("office") or visit.office_code, "office_code": visit.office_code,
            "office_name": office.get("name"), "office_phone": office.get("phone"),
            "office_address": office.get("address"), "hotline": HOTLINE,
            "id_number_masked": resident.id_mask, "cases": cases, "appeals": appeals}


def _receipt_appeal(session: Session, appeal: Appeal) -> dict:
    """An appeal filed at the visit, for the receipt: its number, the next step (复核 by someone who did not take the
    decision appealed, flows.appeals) and its working-day limit."""
    from flows import programs

    program = programs.get(appeal.program)
    return {"appeal_id": appeal.id, "program": appeal.program, "program_name": program.name if program else
            appeal.program, "application_id": appeal.application_id, "benefit_id": appeal.benefit_id,
            "state": appeal.state, "outcome": appeal.outcome,
            "step": "appeal_review" if appeal.state != "decided" else "appeal_decided", "due_on": appeal.due_on,
            "phone": (program.guide or {}).get("phone") if program else None}


def trips(session: Session, start: date, end: date) -> int:
    """Citizens' trips to an office between two days (inclusive): one per resident and day, however many times
    she was identified at a counter that day (a second look-up of the same person is not a second trip)."""
    visits = (select(CounterVisit.resident_id, CounterVisit.visited_on).distinct()
              .where(CounterVisit.visited_on >= start, CounterVisit.visited_on <= end).subquery())
    return session.scalar(select(func.count()).select_from(visits)) or 0
