"""经济困难老年人养老服务补贴 through the CLI and HTTP: proposed from an assessment import with no field asked;
a member without a valid assessment gets a community task instead; an expired assessment stops it from the next
month; the 择高 rule with the 护理补贴 is visible in the trace."""

from __future__ import annotations

import csv
from datetime import date

import pytest
from sqlalchemy import select

from app.models import Benefit, BenefitChange, StaffTask
from tests.authz import helpers as h
from tests.lifecycle.helpers import benefit, certificate


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", "2026-03-10")


def _assessments(tmp_path, rows) -> str:
    path = tmp_path / "care.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["id_number", "assessed_on", "level", "assessor"])
        w.writerows(rows)
    return str(path)


def test_proposed_from_assessments_stops_when_expired_and_shows_higher_of_two(session, cfg, cli, client, tmp_path):
    holder = h.person(session, cfg, "周大", birth=date(1971, 5, 1), household="HH-C1")[0]
    grandma, gm_account, gm_id = h.person(session, cfg, "周奶奶", birth=date(1950, 5, 1), household="HH-C1")
    grandpa = h.person(session, cfg, "周爷爷", birth=date(1948, 5, 1), household="HH-C1")[0]
    uncle, un_account, un_id = h.person(session, cfg, "周叔", birth=date(1960, 1, 1), household="HH-C1")
    outsider, _, out_id = h.person(session, cfg, "吴奶奶", birth=date(1950, 5, 1), household="HH-C2")
    benefit(session, holder, program="dibao", tier="gap", fen=30000, start="2026-01")
    certificate(session, cfg, uncle, un_id, grade=1, issue=date(2025, 3, 1))
    care = benefit(session, uncle, program="disability_care_subsidy", tier="grade1", fen=10000, start="2026-01")
    result = cli("import", "care-assessments", _assessments(tmp_path, [
        [gm_id, "2026-02-01", "3", "太原市老年人能力评估中心"],
        [un_id, "2026-02-15", "4", "太原市老年人能力评估中心"],
        [out_id, "2026-02-01", "4", "太原市老年人能力评估中心"],  # not in a 低保 household
    ]))
    assert result.exit_code == 0 and "imported=3" in result.output, result.output
    assert cli("scheduler", "run-once", "--as-of", "2026-03-10").exit_code == 0

    r = client.get("/api/v1/applications", headers=h.headers_for(session, cfg, gm_account))
    (proposal,) = [a for a in r.json if a["program"] == "elderly_care_service_subsidy"]
    assert proposal["state"] == "proposed" and proposal["monthly_amount"] == "200.00"
    confirmed = client.post(f"/api/v1/applications/{proposal['id']}/confirm",
                            headers=h.headers_for(session, cfg, gm_account))  # no body: nothing is asked
    assert confirmed.status_code == 200 and confirmed.json["state"] == "approved", confirmed.json
    assert confirmed.json["benefit"]["start_month"] == "2026-04"
    assert any("有效期至2027年2月1日" in t["text"] for t in confirmed.json["trace"])

    tasks = session.scalars(select(StaffTask).where(StaffTask.kind == "care_assessment")).all()
    assert [t.resident_id for t in tasks] == [grandpa.id]  # an assessment to arrange, not a proposal
    assert not [a for a in client.get("/api/v1/applications", headers=h.headers_for(
        session, cfg, h.person(session, cfg, "x", birth=date(1990, 1, 1))[1])).json]
    assert outsider.id not in {b.resident_id for b in session.scalars(select(Benefit))}

    r = client.get("/api/v1/applications", headers=h.headers_for(session, cfg, un_account))
    (uncle_app,) = [a for a in r.json if a["program"] == "elderly_care_service_subsidy"]
    done = client.post(f"/api/v1/applications/{uncle_app['id']}/confirm", headers=h.headers_for(session, cfg, un_account))
    assert done.json["state"] == "approved"
    higher = [t["text"] for t in done.json["trace"] if t["code"] == "higher_of_two"]
    assert higher and "择高" in higher[0] and "300.00" in higher[0] and "100.00" in higher[0], done.json["trace"]
    session.expire_all()
    assert (session.get(Benefit, care.id).state, session.get(Benefit, care.id).end_month) == ("stopped", "2026-03")

    # the grandmother's assessment expires on 2027-02-01: stopped from March 2027
    assert cli("scheduler", "run-once", "--as-of", "2027-02-02").exit_code == 0
    session.expire_all()
    mine = session.scalar(select(Benefit).where(Benefit.program == "elderly_care_service_subsidy",
                                                Benefit.resident_id == grandma.id))
    assert (mine.state, mine.end_month) == ("stopped", "2027-02")
    change = session.scalar(select(BenefitChange).where(BenefitChange.benefit_id == mine.id))
    assert (change.kind, change.effective_month, change.reason) == ("stopped", "2027-03", "assessment_expired")
