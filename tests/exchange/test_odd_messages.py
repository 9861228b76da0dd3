"""Messages a department can send that are well signed but oddly shaped: a 400 in words, never a 500, and nothing
stored (probe of 7 Dec 2026: a list as reg_type, text as authorize, NUL in any text on PostgreSQL, and webhook
event ids cut to 64 characters so that two deaths became one record)."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import date

import pytest
from sqlalchemy import func, select

from app.models import ExchangeRecord
from tests.authz import helpers as h
from tests.exchange.helpers import PUSH_PATH, SEARCH_PATH, Department
from tests.exchange.test_exchange_search import PURPOSES

CRITERIA = {"reg_type": "dibao_household", "query_type": "idtype-value",
            "authorize": {"purpose": {"code": "medical_aid", "ref": "CASE-1"}}}


def _search(department, client, number: str, **criteria):
    mid, body = department.envelope("search", {"transaction_id": "T", "search_criteria": {**CRITERIA, **criteria},
                                               "search_request": [{"reference_id": "R1",
                                                                   "query": {"type": "CN-ID", "value": number}}]})
    return department.post(client, SEARCH_PATH, body, mid)


@pytest.mark.parametrize("odd, code", [
    ({"reg_type": ["dibao_household"]}, "reg_type_unknown"),
    ({"reg_type": {"a": 1}}, "reg_type_unknown"),
    ({"authorize": "medical_aid"}, "purpose_missing"),
    ({"authorize": {"purpose": "medical_aid"}}, "purpose_missing"),
    ({"authorize": ["medical_aid"]}, "purpose_missing"),
], ids=["reg_type_list", "reg_type_object", "authorize_text", "purpose_text", "authorize_list"])
def test_a_criterion_of_the_wrong_json_type_is_a_400(client, session, cfg, cli, odd, code):
    _, _, number = h.person(session, cfg, "张丽", birth=date(1975, 1, 1))
    insurance = Department(cli, "ybjodd", "search", PURPOSES)
    resp = _search(insurance, client, number, **odd)
    assert resp.status_code == 400, resp.get_data(as_text=True)
    assert resp.json["error_code"] == code


def test_a_nul_character_anywhere_in_a_message_is_refused_before_anything_is_stored(client, session, cfg, cli):
    _, _, number = h.person(session, cfg, "张丽", birth=date(1975, 1, 1))
    insurance = Department(cli, "ybjnul", "search", PURPOSES)
    assert _search(insurance, client, number, authorize={"purpose": {"code": "medical_aid",
                                                                    "ref": "C\x00"}}).status_code == 400
    police = Department(cli, "gajnul", "push", death_source="public_security")
    pushed = police.push(client, [{"reference_id": "D\x00", "dataset": "deaths",
                                   "record": {"id_number": number, "death_date": "2026-11-01"}}])
    assert (pushed.status_code, pushed.json["error_code"]) == (400, "nul_character"), pushed.get_data(as_text=True)
    mid, body = police.envelope("notify", {"transaction_id": "T", "records": [], "note\x00": 1})
    assert police.post(client, PUSH_PATH, body, mid).status_code == 400  # in a key too
    assert session.scalar(select(func.count()).select_from(ExchangeRecord)) == 0


def _webhook(client, publisher: str, event: dict, content_type: str = "application/json"):
    body = json.dumps(event).encode()
    sig = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    return client.post(f"/exchange/v1/webhooks/opencrvs/{publisher}", data=body,
                       headers={"X-Hub-Signature-256": sig, "Content-Type": content_type})


def test_webhook_event_ids_are_never_cut_so_two_deaths_stay_two(client, session, cfg, cli):
    crvs = Department(cli, "crvsodd", "push", death_source="public_security", extra=("--webhook-secret", "s3cret"))
    _, _, first = h.person(session, cfg, "王甲", birth=date(1940, 1, 1))
    _, _, second = h.person(session, cfg, "王乙", birth=date(1941, 1, 1))
    stem = "crvs-event-" + "0" * 53
    for suffix, number in (("-A", first), ("-B", second)):
        resp = _webhook(client, crvs.id, {"id": stem + suffix, "topic": "DEATH_REGISTERED",
                                          "deceased": {"id_number": number, "death_date": "2026-11-01"}})
        assert (resp.status_code, resp.json["error_code"]) == (400, "envelope_invalid"), resp.get_data(as_text=True)
    for odd in ("", "   ", 5, None, "EV\x00"):
        resp = _webhook(client, crvs.id, {"id": odd, "topic": "DEATH_REGISTERED",
                                          "deceased": {"id_number": first, "death_date": "2026-11-01"}})
        assert resp.status_code == 400, (odd, resp.get_data(as_text=True))
    plain = _webhook(client, crvs.id, {"id": "EV-1", "topic": "DEATH_REGISTERED",
                                       "deceased": {"id_number": first, "death_date": "2026-11-01"}}, "text/plain")
    assert (plain.status_code, plain.json["error_code"]) == (415, "media_type")
    assert session.scalar(select(func.count()).select_from(ExchangeRecord)) == 0
    ok = _webhook(client, crvs.id, {"id": stem[:62] + "-A", "topic": "DEATH_REGISTERED",
                                    "deceased": {"id_number": first, "death_date": "2026-11-01"}})
    assert ok.status_code == 200 and ok.json["message"]["results"][0]["status"] == "accepted", ok.get_data(as_text=True)
