"""Builders for lifecycle tests: benefits, certificates, moves."""

from __future__ import annotations

from datetime import date

from app.crypto import cipher_for
from app.models import Benefit, DisabilityCertificate, HukouMove


def benefit(session, resident, program="elderly_allowance", tier="80-89", fen=5000, start="2026-01", state="active"):
    b = Benefit(program=program, resident_id=resident.id, origin="application", tier=tier, monthly_amount_fen=fen,
                start_month=start, state=state)
    session.add(b)
    session.commit()
    return b


def certificate(session, cfg, resident, id_number, grade=1, category="4", issue=date(2025, 3, 1),
                expiry=date(2030, 2, 28), source_date=date(2026, 11, 25)):
    number = f"{id_number}{category}{grade}"
    c = DisabilityCertificate(resident_id=resident.id, cert_hash=cipher_for(cfg).lookup_hash(number, "cert"),
                              cert_mask=id_number[0] + "*" * 16 + id_number[-1] + "**", category=category, grade=grade,
                              issue_date=issue, expiry_date=expiry, row_hash="x", source_date=source_date)
    session.add(c)
    session.commit()
    return c


def move_out(session, resident, when):
    session.add(HukouMove(resident_id=resident.id, move_date=when, direction="out", area_code="110105",
                          source_date=when))
    resident.hukou_local = False
    session.commit()
