"""An appeal (复核) filed at the counter, in the same visit (issue 13 item 2): the visit lists her decisions that can
be appealed (flows.appeals' own checks), the appeal needs her recorded consent (an instance file, as for a
confirmation), flows.appeals' rules answer (60 days, one open appeal per decision), the receipt lists the appeal
with its next step and limit, another street's clerk sees nothing, everything is audited."""

from __future__ import annotations

import io
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from app.db import utcnow
from app.models import Appeal, Application, AuditEvent, Benefit, BenefitChange, CounterVisit
from flows import workdays
from flows.dates import today_shanghai
from tests.authz import helpers as h
from tests.visits import image_bytes

STREET, COMMUNITY = "140105001", "140105001001"
PNG = image_bytes("PNG")  # a real image: a consent is decoded whole, not taken by its first bytes


def _decided(session, resident, days_ago: int, state="rejected") -> Application:
    application = Application(program="elderly_allowance", resident_id=resident.id, state=state,
                              decision="rule_not_met", period=f"once-{days_ago}",
                              as_of=today_shanghai() - timedelta(days=days_ago + 30), prefill={}, trace=[],
                              decided_at=utcnow() - timedelta(days=days_ago))
    session.add(application)
    session.commit()
    return application


def _world(session, cfg):
    resident, account, id_number = h.person(session, cfg, "赵奶奶", birth=date(1940, 5, 1), street=STREET,
                                            community=COMMUNITY)
    _, clerk = h.staff(session, cfg, "clerk", street=STREET)
    return resident, account, id_number, clerk


def _appeal(client, clerk, visit_id, consent=PNG, **fields):
    data = {"reason_code": "facts_wrong", "comment": "我1940年出生", "consent_kind": "signature", **fields}
    if consent is not None:
        data["consent"] = (io.BytesIO(consent), "signature.png")
    return client.post(f"/api/v1/staff/counter/visits/{visit_id}/appeals", headers=clerk, data=data,
                       content_type="multipart/form-data")


def test_an_appeal_at_the_counter_with_her_signature_is_on_the_receipt(cfg, session, client):
    resident, account, id_number, clerk = _world(session, cfg)
    refused = _decided(session, resident, days_ago=5)
    too_old = _decided(session, resident, days_ago=61)
    visit = client.post("/api/v1/staff/counter/identify", headers=clerk, json={"id_number": id_number}).json
    visit_id = visit["visit_id"]
    # the decisions she can appeal today: the refusal of 5 days ago, not the one of 61 days ago
    assert [(d["application_id"], d["decision"]) for d in visit["decisions"]] == [(refused.id, "rejected")]
    assert visit["decisions"][0]["appeal_until"] == (date.fromisoformat(visit["decisions"][0]["decided_on"])
                                                     + timedelta(days=60)).isoformat()

    no_consent = _appeal(client, clerk, visit_id, consent=None, application_id=refused.id)
    assert no_consent.status_code == 422 and no_consent.json["error_code"] == "consent_missing"
    not_image = _appeal(client, clerk, visit_id, consent=b"%PDF-1.4", application_id=refused.id)
    assert not_image.status_code == 422 and not_image.json["error_code"] == "consent_type"
    bad_reason = _appeal(client, clerk, visit_id, application_id=refused.id, reason_code="because")
    assert bad_reason.status_code == 422 and bad_reason.json["error_code"] == "form_invalid"
    neither = _appeal(client, clerk, visit_id)
    assert neither.status_code == 422
    assert session.scalar(select(Appeal.id)) is None  # nothing filed without her consent

    over = _appeal(client, clerk, visit_id, application_id=too_old.id)
    assert over.status_code == 409 and over.json["error_code"] == "appeal_period_over"

    made = _appeal(client, clerk, visit_id, application_id=refused.id)
    assert made.status_code == 201, made.json
    assert made.json["filed_via"] == "counter" and made.json["state"] == "received"
    assert date.fromisoformat(made.json["due_on"]) == workdays.add_working_days(today_shanghai(), 20)
    again = _appeal(client, clerk, visit_id, application_id=refused.id, reason_code="other")
    assert again.status_code == 409 and again.json["error_code"] == "appeal_exists"

    # her consent is kept as an instance file, the visit records the appeal, the decision is no longer offered
    session.expire_all()
    row = session.get(CounterVisit, visit_id)
    action = row.actions[-1]
    assert action["action"] == "appeal" and action["appeal_id"] == made.json["id"]
    assert action["consent"]["kind"] == "signature"
    assert (Path(cfg.instance_path) / action["consent"]["path"]).read_bytes() == PNG
    seen = client.get(f"/api/v1/staff/counter/visits/{visit_id}", headers=clerk).json
    assert seen["decisions"] == [] and all("consent" not in a for a in seen["actions"])

    receipt = client.get(f"/api/v1/staff/counter/visits/{visit_id}/receipt", headers=clerk)
    assert receipt.status_code == 200, receipt.json
    [appeal] = receipt.json["appeals"]
    assert appeal["appeal_id"] == made.json["id"] and appeal["step"] == "appeal_review"
    assert appeal["due_on"] == made.json["due_on"] and appeal["application_id"] == refused.id
    assert receipt.json["cases"] == []  # an appeal is not a new case

    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "counter.appeal")).one()
    assert event.actor.startswith("staff:") and event.on_behalf_of == f"resident:{resident.id}"
    assert event.details["visit"] == visit_id and event.details["consent_file"] == action["consent"]["path"]
    # she sees it on her phone when a family member helps her later
    citizen = h.headers_for(session, cfg, account)
    mine = client.get("/api/v1/appeals", headers=citizen).json
    assert [a["id"] for a in mine] == [made.json["id"]]
    feed = client.get("/api/v1/me/activity", headers=citizen).json
    assert "在窗口经您同意代为提交了复核申请" in {e["what"] for e in feed}


def test_a_stopped_benefit_is_appealed_at_the_counter(cfg, session, client):
    resident, _, id_number, clerk = _world(session, cfg)
    benefit = Benefit(program="elderly_allowance", resident_id=resident.id, tier="80-89", monthly_amount_fen=10000,
                      start_month="2026-01", end_month="2026-09", state="stopped")
    session.add(benefit)
    session.flush()
    session.add(BenefitChange(benefit_id=benefit.id, change_key="stop:moved_out", kind="stopped",
                              effective_month="2026-10", reason="moved_out", as_of=today_shanghai() - timedelta(days=3),
                              trace=[]))
    session.commit()
    visit = client.post("/api/v1/staff/counter/identify", headers=clerk, json={"id_number": id_number}).json
    assert [(d["benefit_id"], d["decision"]) for d in visit["decisions"]] == [(benefit.id, "stopped")]
    made = _appeal(client, clerk, visit["visit_id"], benefit_id=benefit.id, consent_kind="slip_photo",
                   consent=image_bytes("JPEG"))
    assert made.status_code == 201, made.json
    receipt = client.get(f"/api/v1/staff/counter/visits/{visit['visit_id']}/receipt", headers=clerk).json
    assert [a["benefit_id"] for a in receipt["appeals"]] == [benefit.id]


def test_only_her_decisions_and_only_in_the_clerks_jurisdiction(cfg, session, client):
    resident, _, id_number, clerk = _world(session, cfg)
    refused = _decided(session, resident, days_ago=5)
    neighbour, _, _ = h.person(session, cfg, "钱爷爷", birth=date(1941, 2, 1), street=STREET, community=COMMUNITY)
    not_hers = _decided(session, neighbour, days_ago=5)
    _, other_street = h.staff(session, cfg, "clerk", street="140105002")
    _, supervisor = h.staff(session, cfg, "supervisor")
    visit_id = client.post("/api/v1/staff/counter/identify", headers=clerk, json={"id_number": id_number}).json[
        "visit_id"]

    stranger = _appeal(client, other_street, visit_id, application_id=refused.id)
    assert stranger.status_code == 404
    assert _appeal(client, supervisor, visit_id, application_id=refused.id).status_code == 403
    assert _appeal(client, {}, visit_id, application_id=refused.id).status_code == 401
    assert _appeal(client, clerk, "x" * 100, application_id=refused.id).status_code == 404
    neighbours = _appeal(client, clerk, visit_id, application_id=not_hers.id)
    assert neighbours.status_code == 404
    assert _appeal(client, clerk, visit_id, application_id="nope").status_code == 404
    assert session.scalar(select(Appeal.id)) is None
