"""The facts of a certificate-based program (Program.certificate_based): the registry's facts of the resident,
her disability certificate (the one valid on the date with the most severe grade, else the latest), and —
for a program with `requires_household_benefit` — whether a household member receives that benefit."""

from __future__ import annotations

from datetime import date

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from app.models import Application, Benefit, DisabilityCertificate, Resident
from flows import programs


def certificate_of(session: Session, resident_id: int, as_of: date):
    """The certificate the rule reads, as the program module's `Certificate` value (None without one)."""
    certs = session.scalars(select(DisabilityCertificate).where(DisabilityCertificate.resident_id == resident_id)).all()
    if not certs:
        return None
    valid = [c for c in certs if c.issue_date <= as_of <= c.expiry_date]
    return min(valid, key=lambda c: (c.grade, -c.expiry_date.toordinal())) if valid else max(
        certs, key=lambda c: c.expiry_date)


def in_household_receiving(session: Session, resident, program_code: str) -> bool:
    """Whether a member of the resident's registry household receives `program_code`'s benefit now."""
    if not program_code:
        return False
    member = aliased(Resident)
    return bool(session.scalar(select(exists().where(
        Benefit.program == program_code, Benefit.state == "active", Benefit.resident_id == member.id,
        member.household_id == resident.household_id))))


def facts_of(session: Session, program, resident, as_of: date):
    """The program rule's Facts for `resident` on `as_of` (the Facts and Certificate types of its module)."""
    module = __import__(program.decide.__module__, fromlist=["Facts"])
    best = certificate_of(session, resident.id, as_of)
    cert = None if best is None else module.Certificate(
        category=best.category, grade=best.grade, issue_date=best.issue_date, expiry_date=best.expiry_date,
        source_date=best.source_date, mask=best.cert_mask, source=best.source)
    household = in_household_receiving(session, resident, program.requires_household_benefit)
    return module.Facts(birth_date=resident.birth_date, death_date=resident.death_date,
                        hukou_local=bool(resident.hukou_local), source_date=resident.source_date, certificate=cert,
                        in_household_benefit=household, household_benefit_source_date=as_of,
                        source=resident.source or "population_registry")


def facts_for(session: Session, application: Application, as_of: date):
    """The program's facts hook (Program.facts)."""
    program = programs.get(application.program)
    return facts_of(session, program, session.get(Resident, application.resident_id), as_of)
