"""Issue 14 acceptance: a health-insurance client asks whether a resident is in a 低保 household → yes + since;
the resident's feed lists the look-up (department, purpose, what it was told; a confidential purpose only after
its delay); a field outside the allowlist or an unregistered purpose → 403; an unknown ID reads as "not
receiving"; one call takes up to 1,000 IDs."""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from datetime import date, timedelta

from sqlalchemy import select, update

from app.db import utcnow
from app.models import AuditEvent, AuditSubject, Benefit
from tests.authz import helpers as h
from tests.builders import make_id_number
from tests.exchange.helpers import Department

PURPOSES = {
    "medical_aid": {"legal_basis": "《社会救助暂行办法》第二十八条；医疗救助对象认定", "text": "医疗救助资格核验",
                    "fields": {"dibao_household": ["receiving", "since"]}},
    "fraud_check": {"legal_basis": "《医疗保障基金使用监督管理条例》第二十七条", "text": "基金监管核查", "delay_days": 180,
                    "fields": {"dibao_household": ["receiving"]}},
}


def _world(session, cfg):
    head, head_acc, _ = h.person(session, cfg, "刘桂兰", birth=date(1950, 1, 1), household="H-DB")
    member, member_acc, member_number = h.person(session, cfg, "张丽", birth=date(1975, 1, 1), household="H-DB")
    session.add(Benefit(program="dibao", resident_id=head.id, tier="", monthly_amount_fen=60000,
                        start_month="2025-03", state="active"))
    session.commit()
    return member, h.headers_for(session, cfg, member_acc), member_number


def test_health_insurance_asks_about_a_dibao_household(client, session, cfg, cli, caplog):
    member, headers, number = _world(session, cfg)
    insurance = Department(cli, "ybj", "search", PURPOSES)
    unknown = make_id_number(date(1960, 5, 5))
    resp = insurance.search(client, "dibao_household", "medical_aid", [number, unknown], ["receiving", "since"])
    assert resp.status_code == 200, resp.get_data(as_text=True)
    answers = resp.json["message"]["search_response"]
    assert answers[0]["data"] == {"receiving": True, "since": "2025-03"}
    assert answers[1]["data"] == {"receiving": False, "since": None}  # unknown reads as "not receiving"
    assert resp.json["header"]["request_hash"] == resp.headers["X-ZT-Request-Hash"]

    feed = client.get("/api/v1/me/activity", headers=headers, query_string={"page_size": 50}).json
    lookups = [e for e in feed if e["action"] == "exchange.search"]
    assert len(lookups) == 1
    entry = lookups[0]
    assert (entry["actor_kind"], entry["actor_name"], entry["purpose"], entry["purpose_text"]) == (
        "department", "测试部门ybj", "medical_aid", "医疗救助资格核验")
    assert "享受" in entry["what"] and "2025-03" in entry["what"]

    # minimal by default; never more than the allowlist; only registered purposes
    assert insurance.search(client, "dibao_household", "medical_aid", [number]).json["message"][
        "search_response"][0]["data"] == {"receiving": True}
    caplog.set_level(logging.WARNING, logger="zerotrip.security")
    over = insurance.search(client, "dibao_household", "fraud_check", [number], ["receiving", "since"])
    assert (over.status_code, over.json["error_code"]) == (403, "field_not_allowed")
    other = insurance.search(client, "dibao_household", "marketing", [number])
    assert (other.status_code, other.json["error_code"]) == (403, "purpose_not_allowed")
    assert other.json["error_code"] and len([r for r in caplog.records if r.name == "zerotrip.security"]) == 2


def test_confidential_purpose_appears_after_its_delay(client, session, cfg, cli):
    member, headers, number = _world(session, cfg)
    insurance = Department(cli, "ybj2", "search", PURPOSES)
    assert insurance.search(client, "dibao_household", "fraud_check", [number]).status_code == 200
    feed = client.get("/api/v1/me/activity", headers=headers).json
    assert not [e for e in feed if e["action"] == "exchange.search"]
    # the delay runs out (180 days): it is shown, never hidden for ever
    session.execute(update(AuditSubject).where(AuditSubject.resident_id == member.id)
                    .values(visible_at=utcnow() - timedelta(seconds=1)))
    session.commit()
    feed = client.get("/api/v1/me/activity", headers=headers).json
    assert [e["purpose"] for e in feed if e["action"] == "exchange.search"] == ["fraud_check"]


def test_a_delay_over_a_year_is_refused_at_registration(cli):
    bad = {"secret": {"legal_basis": "x", "delay_days": 400, "fields": {}}}
    result = cli("exchange", "client", "add", "--id", "forever", "--name", "x", "--public-key",
                 "MCowBQYDK2VwAyEAGb9ECWmEzf6FQbrBZ9w7lshQhqowtrbLDFw4rXAxZuE=", "--purposes", json.dumps(bad),
                 "--pia", "P", "--agreement", "A", "--agreement-expires", "2030-01-01", "--contact", "c")
    assert result.exit_code == 2


def test_one_call_with_1000_ids(client, session, cfg, cli):
    member, _headers, number = _world(session, cfg)
    insurance = Department(cli, "ybj3", "search", PURPOSES)
    numbers = [number] + [make_id_number(date(1960, 1, 1) + timedelta(days=i)) for i in range(999)]
    resp = insurance.search(client, "dibao_household", "medical_aid", numbers)
    assert resp.status_code == 200
    answers = resp.json["message"]["search_response"]
    assert len(answers) == 1000 and answers[0]["data"] == {"receiving": True}
    assert sum(a["data"]["receiving"] for a in answers) == 1
    too_many = insurance.search(client, "dibao_household", "medical_aid", numbers + [number])
    assert too_many.status_code == 400


def test_exchange_openapi_document(client):
    doc = client.get("/exchange/v1/openapi.json").json
    assert set(doc["paths"]) >= {"/exchange/v1/registry/notify", "/exchange/v1/registry/sync/search"}
    assert all(p.startswith("/exchange/v1/") for p in doc["paths"])


def test_opencrvs_death_webhook_is_hmac_signed(client, session, cfg, cli):
    crvs = Department(cli, "crvs", "push", death_source="public_security", extra=("--webhook-secret", "s3cret"))
    member, _headers, number = _world(session, cfg)
    body = json.dumps({"id": "EV-1", "topic": "DEATH_REGISTERED",
                       "deceased": {"id_number": number, "death_date": "2026-11-01"}}).encode()
    path = f"/exchange/v1/webhooks/opencrvs/{crvs.id}"
    bad = client.post(path, data=body, headers={"X-Hub-Signature-256": "sha256=00", "Content-Type": "application/json"})
    assert (bad.status_code, bad.json["error_code"]) == (401, "signature_invalid")
    sig = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    ok = client.post(path, data=body, headers={"X-Hub-Signature-256": sig, "Content-Type": "application/json"})
    assert ok.status_code == 200, ok.get_data(as_text=True)
    assert ok.json["message"]["results"][0]["status"] == "accepted"
    challenge = client.get(path, query_string={"hub.mode": "subscribe", "hub.challenge": "abc",
                                               "hub.topic": "DEATH_REGISTERED"})
    assert challenge.get_data(as_text=True) == "abc"


def test_a_value_that_is_no_id_number_is_rejected_item_by_item_never_not_receiving(client, session, cfg, cli, caplog):
    """Arabic-Indic digits of a real recipient were answered "not receiving" — a department deciding medical aid
    would have acted on it."""
    _member, _headers, number = _world(session, cfg)
    insurance = Department(cli, "ybj4", "search", PURPOSES)
    arabic = number.translate({ord(str(d)): chr(0x0660 + d) for d in range(10)})
    full_width = number.translate({ord(str(d)): chr(0xFF10 + d) for d in range(10)})
    wrong_check = number[:17] + ("0" if number[17] != "0" else "1")
    caplog.set_level(logging.WARNING, logger="zerotrip.security")
    resp = insurance.search(client, "dibao_household", "medical_aid", [number, arabic, number[:17], wrong_check,
                                                                        full_width, ""])
    assert resp.status_code == 200, resp.get_data(as_text=True)
    answers = resp.json["message"]["search_response"]
    assert [a["status"] for a in answers] == ["succ", "rjct", "rjct", "rjct", "succ", "rjct"]
    assert answers[0]["data"] == answers[4]["data"] == {"receiving": True}
    assert [a["status_reason_message"].split(":")[0] for a in answers if a["status"] == "rjct"] == [
        "ID_DIGITS", "ID_FORMAT", "ID_CHECKSUM", "ID_FORMAT"]
    assert all("data" not in a and a["status_reason_code"] == "rjct.reference_id.invalid"
               for a in answers if a["status"] == "rjct")
    assert sum("rule=ascii_digits" in r.getMessage() for r in caplog.records) == 1
    # the look-up's audit event keeps the purpose asked for, whatever the rejected items said (a junk ID in the
    # list wrote its reason code, ID_DIGITS, as the purpose)
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "exchange.search")
                            .order_by(AuditEvent.seq.desc())).first()
    assert event.details["purpose"] == "medical_aid", event.details
