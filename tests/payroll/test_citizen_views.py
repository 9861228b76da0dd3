"""Citizen views: a benefit's payments, and the trace of every decision in plain Chinese."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.models import Application, Benefit
from flows import payroll
from flows.lifecycle.jobs import run_daily
from flows.programs.elderly_allowance.scan import scan_turning_80
from tests.api.conftest import Citizen, wechat, wechat_server  # noqa: F401  (fixtures)
from tests.builders import make_resident


def test_payments_and_trace_of_tier_raise_and_death(session, cfg, client, wechat):  # noqa: F811
    li, li_id = make_resident(session, cfg, name="李秀英", phone="13912345678", birth_date=date(1937, 1, 10))
    other, _ = make_resident(session, cfg, name="王大爷", phone="13700000000", birth_date=date(1940, 1, 1),
                             household_id="H2", sex="M")
    scan_turning_80(cfg, date(2026, 10, 1))
    c = Citizen(client, wechat)
    assert c.bind("李秀英", li_id, "13912345678").status_code == 200
    app_id = session.scalar(select(Application.id).where(Application.resident_id == li.id))
    confirmed = c.post(f"/api/v1/applications/{app_id}/confirm")
    assert confirmed.status_code == 200, confirmed.json
    benefit_id = confirmed.json["benefit"]["id"]
    assert confirmed.json["trace"][0]["text"].startswith("您于2017年1月10日年满80周岁(来源:公安人口库,")
    run_daily(cfg, date(2027, 1, 10))
    with cfg_session(cfg) as s:
        payroll.compute(s, "2026-12", date(2026, 12, 5), close=True)
        s.commit()
    li.death_date = date(2027, 3, 3)
    session.commit()
    run_daily(cfg, date(2027, 3, 4))

    pays = c.get(f"/api/v1/benefits/{benefit_id}/payments")
    assert pays.status_code == 200 and "X-Pagination" in pays.headers
    assert pays.json == [{"month": "2026-12", "amount": "50.00", "arrears": "550.00", "total": "600.00",
                          "covered_from": "2026-01", "covered_to": "2026-12", "status": "no_account", "account": None}]
    trace = c.get(f"/api/v1/applications/{app_id}").json["trace"]
    texts = [t["text"] for t in trace]
    assert "您于2027年1月10日年满90周岁,自2027年2月起按90-99档每月100.00元发放(来源:公安人口库,2026-11-25)" in texts
    assert any(t.startswith("人口库登记于2027-03-03去世,自2027年4月起停止发放") for t in texts)
    other_benefit = Benefit(program="elderly_allowance", resident_id=other.id, tier="80-89",
                            monthly_amount_fen=5000, start_month="2026-01")
    session.add(other_benefit)
    session.commit()
    assert c.get(f"/api/v1/benefits/{other_benefit.id}/payments").status_code == 404
    assert c.get("/api/v1/benefits/nope/payments").status_code == 404
    assert client.get(f"/api/v1/benefits/{benefit_id}/payments").status_code == 401


def cfg_session(cfg):
    from app.db import session_factory

    return session_factory(cfg)()


def test_only_the_standing_next_roll_is_shown_as_scheduled(session, cfg, client, wechat):  # noqa: F811
    """A draft computed before a later roll closed (or before the benefit stopped) would announce months already
    paid, or not owed: the citizen sees closed rolls, and the next roll's draft only while it stands."""
    from tests.lifecycle.helpers import benefit

    zhang, zhang_id = make_resident(session, cfg, name="张大爷", phone="13912345679", birth_date=date(1936, 12, 10),
                                    sex="M")
    c = Citizen(client, wechat)
    assert c.bind("张大爷", zhang_id, "13912345679").status_code == 200
    b = benefit(session, zhang, start="2026-01")

    def shown():
        resp = c.get(f"/api/v1/benefits/{b.id}/payments")
        assert resp.status_code == 200, resp.json
        return [(p["month"], p["status"], p["covered_from"], p["covered_to"]) for p in resp.json]

    with cfg_session(cfg) as s:
        payroll.compute(s, "2027-05", date(2026, 12, 10))  # someone looked at a far month's draft
        s.commit()
    assert shown() == [("2027-05", "no_account", "2026-01", "2027-05")]  # (no payout account on file yet)
    with cfg_session(cfg) as s:
        payroll.compute(s, "2027-02", date(2027, 2, 5), close=True)
        s.commit()
    assert shown() == [("2027-02", "no_account", "2026-01", "2027-02")]  # the old draft no longer stands
    with cfg_session(cfg) as s:
        payroll.compute(s, "2027-03", date(2027, 2, 20))
        s.commit()
    assert shown() == [("2027-03", "no_account", "2026-01", "2027-03"), ("2027-02", "no_account", "2026-01", "2027-02")]
    b.state, b.end_month = "stopped", "2027-02"  # e.g. a death in February, after the draft was made
    session.commit()
    assert shown() == [("2027-02", "no_account", "2026-01", "2027-02")]
