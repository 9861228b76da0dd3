"""A reminder 90 days before a certificate that a benefit rests on expires (Program.certificate_based): renewed in
time, the benefit goes on without a break; otherwise `stop_on_certificate_expiry` stops it after the expiry.

One message per certificate (idempotency key `certificate:<id>:expiring`), to its holder while a benefit resting
on it is active and no later certificate exists yet; read set-based, a handful a day.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased

from app.models import Benefit, DisabilityCertificate
from flows import programs
from notifications.outbox import enqueue

REMIND_DAYS_BEFORE = 90


def remind_certificate_expiry(conn, _d, as_of: date) -> dict:
    codes = [p.code for p in programs.PROGRAMS.values() if p.certificate_based]
    if not codes:
        return {"certificate_reminders": 0}
    cert, later = DisabilityCertificate, aliased(DisabilityCertificate)
    renewed = exists().where(later.resident_id == cert.resident_id, later.expiry_date > cert.expiry_date)
    rows = Session(bind=conn).execute(
        select(cert.id, cert.resident_id, cert.expiry_date, Benefit.program)
        .join(Benefit, Benefit.resident_id == cert.resident_id)
        .where(Benefit.program.in_(codes), Benefit.state == "active", cert.issue_date <= as_of,
               cert.expiry_date >= as_of, cert.expiry_date <= as_of + timedelta(days=REMIND_DAYS_BEFORE), ~renewed)
        .order_by(cert.id, Benefit.program)).all()
    by_certificate: dict[int, tuple[int, date, list[str]]] = {}
    for cert_id, resident_id, expiry, program in rows:
        by_certificate.setdefault(cert_id, (resident_id, expiry, []))[2].append(program)
    session = Session(bind=conn)
    sent = 0
    try:
        for cert_id, (resident_id, expiry, held) in by_certificate.items():
            sent += enqueue(session, kind="certificate_expiring", idempotency_key=f"certificate:{cert_id}:expiring",
                            resident_id=resident_id, data={"program": held[0], "programs": held,
                                                           "expiry_date": expiry.isoformat()}) is not None
        session.flush()
    finally:
        session.close()
    return {"certificate_reminders": sent}
