"""Proactive 低保 proposals from the imported economic records: per household, to its head, idempotent per
as-of date, outbox row in the same transaction; the head confirms and the economic check runs then."""

from __future__ import annotations

from datetime import date

from sqlalchemy import func, select

from app.models import Application, Benefit, EconomicRecord, OutboxMessage, StaffTask
from app.scheduler import run_daily_scans
from flows import casework
from flows.programs.dibao.scan import scan_dibao
from tests.builders import make_resident

AS_OF = date(2026, 11, 25)
MONTHS = ("2026-05", "2026-06", "2026-07", "2026-08", "2026-09", "2026-10")


def _family(session, cfg, hh, wage_fen, *, car=False, name="张小三"):
    head, _ = make_resident(session, cfg, name=name, birth_date=date(1975, 3, 3), household_id=hh, sex="M",
                            phone=None)
    wife, _ = make_resident(session, cfg, name="王芳", birth_date=date(1977, 4, 4), household_id=hh,
                            relation="配偶", phone=None)
    for month in MONTHS:
        session.add(EconomicRecord(resident_id=head.id, kind="income_wage", period=month, amount_fen=wage_fen,
                                   source="tax", source_date=date(2026, 11, 20)))
    if car:
        session.add(EconomicRecord(resident_id=wife.id, kind="vehicle", quantity=1, source="vehicles",
                                   source_date=date(2026, 11, 20)))
    session.commit()
    return head, wife


def test_scan_proposes_eligible_households_to_their_head_once(session, cfg):
    poor, _ = _family(session, cfg, "HA", 60_000)                   # 300 a person: eligible
    _family(session, cfg, "HB", 200_000, name="李富")                # 1000 a person: not eligible
    _family(session, cfg, "HC", 10_000, car=True, name="赵车")        # a car: not eligible
    make_resident(session, cfg, name="无数据", birth_date=date(1970, 1, 1), household_id="HD", phone=None)
    paid, _ = _family(session, cfg, "HE", 10_000, name="钱已保")      # receives 低保 already
    session.add(Benefit(program="dibao", resident_id=paid.id, tier="2p", monthly_amount_fen=150_000,
                        start_month="2026-01", state="active"))
    session.commit()
    result = scan_dibao(cfg, AS_OF)
    assert result.proposed == 1
    app = session.scalars(select(Application)).one()
    assert (app.program, app.resident_id, app.state, app.origin, app.period) == ("dibao", poor.id, "proposed",
                                                                                "proactive", "2026-11")
    assert app.prefill["proposal_income_per_capita"]["value"] == "300.00"
    assert app.prefill["household_size"]["value"] == 2
    msg = session.scalars(select(OutboxMessage)).one()
    assert (msg.kind, msg.application_id, msg.data) == ("proposal_ready", app.id, {"program": "dibao"})
    assert scan_dibao(cfg, AS_OF).skipped                              # once per as-of date
    assert scan_dibao(cfg, date(2026, 11, 26)).proposed == 0           # a proposal is open already
    assert session.scalar(select(func.count()).select_from(Application)) == 1


def test_confirming_the_proposal_runs_the_economic_check(session, cfg):
    head, _ = _family(session, cfg, "HA", 60_000)
    scan_dibao(cfg, AS_OF)
    app = session.scalars(select(Application)).one()
    casework.confirm(session, app, "acct-1", today=AS_OF, declared={"monthly_income_fen": 20_000, "note": "零工"})
    session.commit()
    assert app.state == "home_visit" and app.trace[0]["code"] == "income_per_capita"
    assert app.prefill["declared_note"]["value"] == "零工" and app.prefill["proposal_standard"]["value"] == "800.00"
    assert "economic_check" in app.prefill
    assert session.scalars(select(StaffTask.kind)).all() == ["home_visit"]
    assert casework.confirm(session, app, "acct-1", today=AS_OF).state == "home_visit"  # a repeat changes nothing


def test_a_declined_proposal_is_not_proposed_again_at_once(session, cfg):
    _family(session, cfg, "HA", 60_000)
    scan_dibao(cfg, AS_OF)
    app = session.scalars(select(Application)).one()
    app.state = "declined"
    session.commit()
    assert scan_dibao(cfg, date(2026, 12, 2)).proposed == 0


def test_the_daily_job_runs_the_scan(session, cfg, monkeypatch):
    from app import scheduler

    _family(session, cfg, "HA", 60_000)
    monkeypatch.setattr(scheduler, "today_shanghai", lambda: AS_OF)
    run_daily_scans(cfg)
    assert session.scalar(select(func.count()).select_from(Application).where(Application.program == "dibao")) == 1
