"""Builders for lifecycle tests: benefits, certificates, moves, a household receiving 低保."""

from __future__ import annotations

from datetime import date

from app.crypto import cipher_for
from app.models import Application, Benefit, DisabilityCertificate, EconomicRecord, HukouMove
from tests.builders import make_resident


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


def dibao_household(session, cfg, household_id: str, wage_months, wage_source_date: date, as_of: date,
                    start_month: str):
    """A household of 3 receiving 低保 at 1,800 yuan a month (3 × 800 − 600): the head's wage 600 yuan in each of
    `wage_months`. Returns (head, head's ID number, the approved application, the active benefit)."""
    head, number = make_resident(session, cfg, name="张大山", birth_date=date(1960, 3, 3), household_id=household_id,
                                 sex="M", phone="13911120001")
    make_resident(session, cfg, name="王秀兰", birth_date=date(1962, 4, 4), household_id=household_id,
                  relation="配偶", phone="13911120002")
    make_resident(session, cfg, name="张小川", birth_date=date(2001, 5, 5), household_id=household_id, sex="M",
                  relation="子", phone="13911120003")
    for month in wage_months:
        session.add(EconomicRecord(resident_id=head.id, kind="income_wage", period=month, amount_fen=60_000,
                                   source="tax", source_date=wage_source_date))
    application = Application(program="dibao", resident_id=head.id, state="approved", as_of=as_of, prefill={},
                              trace=[])
    session.add(application)
    session.flush()
    case = Benefit(program="dibao", resident_id=head.id, application_id=application.id, tier="3p",
                   monthly_amount_fen=180_000, start_month=start_month, state="active")
    session.add(case)
    session.commit()
    return head, number, application, case
