"""A home visit (入户调查) as it is done: two investigators at the door, both sign on the phone, a household
member signs (or, for someone who cannot, a family member signs or the thumb-printed paper form is photographed),
photos, the time and optionally the place. A one-person visit cannot be submitted. The phone generates a
`client_id` for each visit, so a resend after losing the network records the visit once."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.authz import Caller, in_jurisdiction, role_allows
from app.db import utcnow
from app.errors import Conflict, Unprocessable
from app.models import Account, Application, HomeVisit, Resident, StaffMember, StaffTask, VisitFile
from flows.conflicts import is_unique_violation

SIGNERS = ("investigator_1", "investigator_2", "household")
HOUSEHOLD_SIGNERS = ("self", "family_member", "thumbprint_form")
MAX_PHOTOS = 10


def previous(session: Session, client_id: str, application: Application) -> HomeVisit | None:
    """The visit already recorded under this client id (a resend); 409 when the id belongs to another case."""
    found = session.scalar(select(HomeVisit).where(HomeVisit.client_id == client_id))
    if found is not None and found.application_id != application.id:
        raise Conflict("This visit id was used for another case.", error_code="client_id_reused")
    return found


def _second(session: Session, caller: Caller, application: Application, staff_id: str, permission: str):
    if staff_id == caller.staff_id:
        raise Unprocessable("A home visit needs two investigators: name the colleague who came with you.",
                            error_code="one_person_visit")
    other = session.get(StaffMember, staff_id) if len(staff_id) <= 64 else None
    resident = session.get(Resident, application.resident_id)
    account = session.get(Account, other.account_id) if other is not None else None
    if other is None or account is None or account.disabled_at is not None or not role_allows(other.role, permission) or not in_jurisdiction(
            Caller.of_staff(other), resident.district_code, resident.street_code, resident.community_code):
        raise Unprocessable("The second investigator must be a colleague who may do home visits for this "
                            "household.", error_code="second_investigator_invalid")
    return other


def _files(session: Session, application: Application, ids: list[str], kinds: tuple[str, ...], what: str):
    rows = []
    for file_id in ids:
        row = session.get(VisitFile, file_id) if len(file_id) <= 64 else None
        if row is None or row.application_id != application.id or row.kind not in kinds:
            raise Unprocessable(f"{what}: upload it for this case first.", error_code="visit_file_invalid")
        rows.append(row)
    return rows


def record(session: Session, caller: Caller, application: Application, args: dict, permission: str,
           program_check: Callable[[], None], program_step: Callable[[], Application]) -> tuple[HomeVisit, bool]:
    """Check that the case waits for its visit (`program_check`, e.g. 409), check the evidence, record the visit,
    then run the program's own home-visit step (`program_step`). Returns (visit, created); a resend with the
    same client id returns the first visit, created False, whatever the case's state by then."""
    found = previous(session, args["client_id"], application)
    if found is not None:
        return found, False
    program_check()
    second = _second(session, caller, application, args["second_investigator"], permission)
    signatures = args["signatures"]
    signer = args["household_signer"]
    if len({signatures["investigator_1"], signatures["investigator_2"], signatures["household"]}) < 3:
        raise Unprocessable("Each person signs on their own: the two investigators' and the household's signatures "
                            "are three different files.", error_code="visit_signatures_same")
    if len(set(args.get("photos") or [])) < len(args.get("photos") or []):
        raise Unprocessable("A photo is listed twice.", error_code="visit_file_invalid")
    drawn = _files(session, application, [signatures["investigator_1"], signatures["investigator_2"]],
                   ("signature",), "A signature of each investigator")
    drawn += _files(session, application, [signatures["household"]],
                    ("thumbprint_form",) if signer == "thumbprint_form" else ("signature",),
                    "The household member's signature (or the photo of the thumb-printed form)")
    if len({row.sha256 for row in drawn}) < 3:  # one drawing uploaded three times is three ids, one signature
        raise Unprocessable("Each person signs on their own: two of the signatures are the same drawing.",
                            error_code="visit_signatures_same")
    photos = args.get("photos") or []
    _files(session, application, photos, ("photo",), "A photo")
    visited_at = _visit_time(args.get("visited_at"), application)
    location = args.get("location") or {}
    visit = HomeVisit(client_id=args["client_id"], application_id=application.id, investigator_1=caller.staff_id,
                      investigator_2=second.id, household_signer=signer,
                      evidence={"signatures": signatures, "photos": photos}, checklist=args["checklist"],
                      note=args.get("note") or "", visited_at=visited_at,
                      latitude=location.get("latitude"), longitude=location.get("longitude"))
    try:  # the visit and the program's step stand or fall together
        with session.begin_nested():
            session.add(visit)
            session.flush()
            program_step()
    except IntegrityError as exc:  # a resend racing the first send: the first one stands
        if not is_unique_violation(exc, "home_visits", "client_id"):
            raise
        session.refresh(application)
        return previous(session, args["client_id"], application), False
    trace = list(application.trace or [])
    for i in range(len(trace) - 1, -1, -1):  # both investigators are kept out of the approval (app.authz)
        if trace[i].get("code") == "home_visit" and trace[i].get("source") == "staff":
            trace[i] = {**trace[i], "second_staff_id": second.id}
            application.trace = trace
            break
    differs = [item for item, ok in args["checklist"].items() if not ok]
    if differs:  # what was found differs from the registry: a change request for the clerk
        resident = session.get(Resident, application.resident_id)
        session.add(StaffTask(kind="data_correction", resident_id=resident.id, application_id=application.id,
                              district_code=resident.district_code, street_code=resident.street_code,
                              community_code=resident.community_code, dedupe_key=f"visit_differs:{visit.id}",
                              details={"program": application.program, "found_at_home_visit": differs,
                                       "home_visit_id": visit.id}))
    return visit, True


CLOCK_SKEW = timedelta(minutes=10)  # a phone's clock may run a little ahead


def _visit_time(given: datetime | None, application: Application) -> datetime:
    """When the visit was made (now when not said): not in the future, nor before the case existed (a phone
    offline at the door sends it later, with the time it was made)."""
    now = utcnow()
    at = _naive_utc(given) or now
    if at > now + CLOCK_SKEW:
        raise Unprocessable("The visit's time is in the future: check the phone's clock.",
                            errors={"visited_at": ["in_the_future"]})
    if application.created_at is not None and at < application.created_at - CLOCK_SKEW:
        raise Unprocessable("The visit's time is before the case was opened.", errors={"visited_at": ["before_the_case"]})
    return at


def _naive_utc(value: datetime | None) -> datetime | None:
    return value.astimezone(UTC).replace(tzinfo=None) if value is not None and value.tzinfo else value
