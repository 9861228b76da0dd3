"""公示 on the workbench (issue 12 item 7): the notices of a staff member's jurisdiction with their objections
counted, one objection with its notice, and the printable sheet of one community's open notices for the notice
board. A notice shows exactly what the public list shows (`public_entry`: the masked name stored at publication,
the street, the program, the amount, the period) — never an ID number, an address or a household member; and
no view here carries the objector's account or name."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.authz import Caller, jurisdiction_clause
from app.models import Application, Objection, PublicNotice, Resident, StaffTask
from flows import areas, programs
from flows.money import yuan

RECENT_DAYS = 30  # closed notices stay on the list this many days after their period
STATES = ("open", "closed")
HOTLINE = "12345"
CITIZEN_PATH = "/m/"


def public_entry(n: PublicNotice) -> dict:
    """What the public list (GET /api/v1/public-notices) shows of a notice; the workbench shows the same."""
    program = programs.get(n.program)
    return {"id": n.id, "program": n.program, "program_name": program.name if program else n.program,
            "street_code": n.street_code, "name": n.masked_name, "monthly_amount": yuan(n.amount_fen),
            "starts_on": n.starts_on, "ends_on": n.ends_on}


def notice_days(program_code: str, today: date) -> int | None:
    """The program's 公示 period in days on `today` (a dated parameter), e.g. for a re-publication."""
    program = programs.get(program_code)
    dated = (program.parameters or {}).get("notice_days") if program else None
    if dated is None:
        return None
    try:
        return int(dated.at(max(today, program.start_date)))
    except LookupError:
        return None


def jurisdiction_query(caller: Caller, today: date, state: str | None = None, community: str | None = None):
    """(PublicNotice, community code) of the caller's jurisdiction: open ones and those closed in the last
    RECENT_DAYS days (or only `state`), open first, the newest first (a select)."""
    query = (select(PublicNotice, Resident.community_code)
             .join(Application, Application.id == PublicNotice.application_id)
             .join(Resident, Resident.id == Application.resident_id)
             .where(jurisdiction_clause(caller, Resident.district_code, Resident.street_code,
                                        Resident.community_code)))
    recent = today - timedelta(days=RECENT_DAYS)
    if state == "open":
        query = query.where(PublicNotice.state == "open")
    elif state == "closed":
        query = query.where(PublicNotice.state != "open", PublicNotice.ends_on >= recent)
    else:
        query = query.where(or_(PublicNotice.state == "open", PublicNotice.ends_on >= recent))
    if community:
        query = query.where(Resident.community_code == community)
    return query.order_by((PublicNotice.state == "open").desc(), PublicNotice.starts_on.desc(), PublicNotice.id)


def objections_by_notice(session: Session, notice_ids: list[str]) -> dict[str, list[dict]]:
    """notice id → its objections (id and state only: never who objected), oldest first."""
    out: dict[str, list[dict]] = {i: [] for i in notice_ids}
    if not notice_ids:
        return out
    for oid, nid, state in session.execute(select(Objection.id, Objection.notice_id, Objection.state)
                                           .where(Objection.notice_id.in_(notice_ids))
                                           .order_by(Objection.created_at, Objection.id)):
        out[nid].append({"id": oid, "state": state})
    return out


def staff_rows(session: Session, rows, today: date) -> list[dict]:
    """The workbench's list: the public entry plus state, community (code and name), the case and objections."""
    ids = [n.id for n, _ in rows]
    objections = objections_by_notice(session, ids)
    names = areas.names(session, [c for _, c in rows] + [n.street_code for n, _ in rows], today)
    out = []
    for n, community in rows:
        entry = public_entry(n)
        found = objections[n.id]
        out.append({**entry, "state": n.state, "application_id": n.application_id,
                    "street_name": names.get(n.street_code), "community_code": community,
                    "community_name": names.get(community), "objection_count": len(found),
                    "open_objections": sum(o["state"] == "open" for o in found), "objections": found})
    return out


def objection_view(session: Session, objection: Objection, notice: PublicNotice, application: Application,
                   today: date) -> dict:
    """One objection for the staff who decide it: its words, its notice as published, the case — not who."""
    resident = session.get(Resident, application.resident_id)
    names = areas.names(session, [resident.community_code, notice.street_code], today)
    tasks = session.scalars(select(StaffTask).where(StaffTask.application_id == application.id,
                                                    StaffTask.kind == "objection")
                            .order_by(StaffTask.created_at.desc())).all()
    task = next((t for t in tasks if (t.details or {}).get("objection_id") == objection.id), None)
    others = session.scalar(select(func.count()).select_from(Objection).where(
        Objection.notice_id == notice.id, Objection.id != objection.id, Objection.state == "open")) or 0
    return {"id": objection.id, "state": objection.state, "text": objection.text, "created_at": objection.created_at,
            "notice": {**public_entry(notice), "state": notice.state, "community_code": resident.community_code,
                       "community_name": names.get(resident.community_code),
                       "street_name": names.get(notice.street_code)},
            "application_id": application.id, "application_state": application.state,
            "task_id": task.id if task else None, "task_state": task.state if task else None,
            "other_open_objections": others, "notice_days": notice_days(notice.program, today)}


def office_of(street_name: str | None) -> str | None:
    """The office that publishes a street's 公示: 街道办事处, or a township's 人民政府."""
    if not street_name:
        return None
    if street_name.endswith("街道"):
        return street_name + "办事处"
    return street_name + "人民政府" if street_name.endswith(("镇", "乡")) else street_name


def sheet(session: Session, caller: Caller, community: str, today: date) -> dict:
    """The printable 公示 of one community: its notices open today, as the public list shows them, the office
    that publishes them and how to object."""
    rows = session.execute(jurisdiction_query(caller, today, "open", community)
                           .where(PublicNotice.starts_on <= today, PublicNotice.ends_on >= today)).all()
    street = community[:9]
    names = areas.names(session, [community, street], today)
    entries = [public_entry(n) for n, _ in rows]
    phones = []
    for code in dict.fromkeys(e["program"] for e in entries):
        program = programs.get(code)
        phone = (program.guide or {}).get("phone") if program else None
        if phone and phone not in phones:
            phones.append(phone)
    return {"community_code": community, "community_name": names.get(community), "street_code": street,
            "office": office_of(names.get(street)) or street, "today": today, "entries": entries,
            "program_names": list(dict.fromkeys(e["program_name"] for e in entries)),
            "starts_on": min((e["starts_on"] for e in entries), default=None),
            "ends_on": max((e["ends_on"] for e in entries), default=None),
            "phones": phones or [HOTLINE], "hotline": HOTLINE, "citizen_path": CITIZEN_PATH}
