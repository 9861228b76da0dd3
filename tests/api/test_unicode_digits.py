"""Every numeric request field refuses non-ASCII digits (issue 9 item 4).

The fields are discovered from the OpenAPI document — marked `x-ascii-digits` (app.api.schemas.Digits),
typed integer/number, or with a digit pattern — so a new field is covered without touching this file.
Hypothesis puts Unicode Nd/No/Nl digits (not the mapped full-width ０-９) into each; the answer must be 422
naming that field: never a 500, never accepted (so nothing is stored).
"""

from __future__ import annotations

import logging
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from app.crypto import cipher_for
from app.models import Benefit, PayoutAccount
from tests.authz import helpers as h

FOREIGN_DIGITS = st.characters(categories=("Nd", "No", "Nl")).filter(
    lambda c: not c.isascii() and not 0xFF10 <= ord(c) <= 0xFF19)
EXAMPLES = settings(max_examples=6, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
NUMBERISH_NAME = re.compile(r"(_number|amount|income)$")
SAMPLES = {"id_number": "11010519491231002X", "account_number": "6222020200112233446", "street": "140105001"}


def _resolve(spec, schema):
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def _numeric(prop: dict) -> bool:
    pattern = prop.get("pattern", "")
    return bool(prop.get("x-ascii-digits") or prop.get("type") in ("integer", "number")
                or "0-9" in pattern or "\\d" in pattern)


def numeric_fields(app) -> list[tuple[str, str, str, str, dict]]:
    """(method, path, location json|query, field, property schema) for every numeric request field."""
    spec = app.extensions["zerotrip_api"].spec.to_dict()
    out = []
    for path, item in spec["paths"].items():
        for method, op in item.items():
            if not isinstance(op, dict) or method not in ("get", "post", "put", "patch", "delete"):
                continue
            body = (op.get("requestBody") or {}).get("content", {}).get("application/json", {}).get("schema")
            if body:
                for name, prop in (_resolve(spec, body).get("properties") or {}).items():
                    prop = _resolve(spec, prop)
                    if _numeric(prop) or NUMBERISH_NAME.search(name):
                        out.append((method.upper(), path, "json", name, prop))
            for param in op.get("parameters", []):
                if param.get("in") == "query" and (_numeric(param.get("schema", {}))
                                                   or NUMBERISH_NAME.search(param["name"])):
                    prop = {**param.get("schema", {}), "x-other-required": {
                        p["name"]: SAMPLES.get(p["name"], "1") for p in op["parameters"]
                        if p.get("in") == "query" and p.get("required") and p["name"] != param["name"]}}
                    out.append((method.upper(), path, "query", param["name"], prop))
    return out


def test_discovery_finds_the_known_numeric_fields_and_every_string_one_is_marked(app):
    found = {(m, p, f) for m, p, _, f, _ in numeric_fields(app)}
    for known in [("POST", "/api/v1/me/identity", "id_number"), ("POST", "/api/v1/proxies/requests", "id_number"),
                  ("POST", "/api/v1/staff/residents/lookup", "id_number"),
                  ("PUT", "/api/v1/benefits/{benefit_id}/payout-account", "account_number"),
                  ("POST", "/api/v1/dibao/applications", "declared_monthly_income"),
                  ("POST", "/api/v1/applications/{application_id}/confirm", "declared_monthly_income"),
                  ("GET", "/api/v1/public-notices", "street"), ("POST", "/api/v1/proxies/requests", "days"),
                  ("GET", "/api/v1/applications", "page")]:
        assert known in found, known
    unmarked = [(m, p, f) for m, p, _, f, prop in numeric_fields(app)
                if prop.get("type", "string") == "string" and not prop.get("x-ascii-digits")]
    assert not unmarked, f"numeric string fields not declared with app.api.schemas.Digits: {unmarked}"


def _tokens(session, cfg) -> list[dict]:
    _, acc, _ = h.person(session, cfg, "王秀英")
    heads = [h.headers_for(session, cfg, acc)]
    for role in ("admin", "approver", "reviewer", "clerk"):
        heads.append(h.staff(session, cfg, role=role)[1])
    return heads


def _value(prop: dict, name: str, ch: str, at: int):
    if prop.get("type") in ("integer", "number"):
        return "1" + ch
    base = SAMPLES.get(name, "300.00" if "amount" in name or "income" in name else "1234567890")
    at %= len(base)
    return base[:at] + ch + base[at + 1:]


def _check_field(client, heads, method, url, where, name, prop):
    @EXAMPLES
    @given(ch=FOREIGN_DIGITS, at=st.integers(0, 30))
    def check(ch, at):
        value = _value(prop, name, ch, at)
        for head in heads:
            if where == "json":
                r = client.open(url, method=method, json={name: value}, headers=head)
            else:
                r = client.open(url, method=method, query_string={**prop["x-other-required"], name: value},
                                headers=head)
            if r.status_code not in (401, 403):
                break
        assert r.status_code == 422, (method, url, name, value, r.status_code, r.get_json())
        assert name in (r.get_json().get("errors") or {}).get(where, {}), (method, url, name, r.get_json())

    return check


def test_every_numeric_field_refuses_unicode_digits(app, client, session, cfg, caplog):
    heads = _tokens(session, cfg)
    fields = numeric_fields(app)
    caplog.set_level(logging.WARNING, logger="zerotrip.security")
    for method, path, where, name, prop in fields:
        _check_field(client, heads, method, re.sub(r"\{[^}]+\}", "0" * 32, path), where, name, prop)()
    assert any("rule=ascii_digits" in rec.getMessage() for rec in caplog.records)


def test_the_cases_of_the_report(client, session, cfg, caplog):
    """Full-width digits are mapped and work; "²", "①" or Arabic-Indic digits are 422, never 500 or stored."""
    owner, owner_acc, owner_id = h.person(session, cfg, "王大爷", sex="M")
    benefit = Benefit(program="elderly_allowance", resident_id=owner.id, tier="80-89", monthly_amount_fen=5000,
                      start_month="2026-12", state="active")
    session.add(benefit)
    session.commit()
    head = h.headers_for(session, cfg, owner_acc)
    path = f"/api/v1/benefits/{benefit.id}/payout-account"
    body = {"kind": "social_security_card", "bank_name": None, "holder_name": "王大爷"}
    caplog.set_level(logging.WARNING, logger="zerotrip.security")
    for number in ("6222020000000000²00", "１２３４５６７８９①", "٦٢٢٢٠٢٠٠٠٠٠٠"):
        r = client.put(path, json={**body, "account_number": number}, headers=head)
        assert r.status_code == 422 and "account_number" in r.json["errors"]["json"], r.json
        assert session.get(PayoutAccount, owner.id) is None
    assert sum("rule=ascii_digits" in rec.getMessage() for rec in caplog.records) == 3
    r = client.put(path, json={**body, "account_number": "１２３４５６７８９０"}, headers=head)
    assert r.status_code == 200, r.json
    session.expire_all()
    stored = session.scalars(select(PayoutAccount).where(PayoutAccount.resident_id == owner.id)).one()
    assert cipher_for(cfg).decrypt(stored.number_enc) == "1234567890"

    full_width = owner_id.translate({ord(c): 0xFF10 + int(c) for c in "0123456789"}).replace("X", "ｘ")
    arabic = owner_id[:5] + "٣" + owner_id[6:]
    staff_head = h.staff(session, cfg, role="reviewer")[1]
    lookup = {"purpose": "application_review"}
    for url, extra, heads in (("/api/v1/me/identity", {"name": "王大爷", "phone_code": "x"}, head),
                              ("/api/v1/proxies/requests", {"name": "王大爷", "relation": "child"}, head),
                              ("/api/v1/staff/residents/lookup", lookup, staff_head)):
        r = client.post(url, json={**extra, "id_number": arabic}, headers=heads)
        assert r.status_code == 422 and "id_number" in r.json["errors"]["json"], (url, r.json)
        r = client.post(url, json={**extra, "id_number": full_width}, headers=heads)
        assert r.status_code < 500 and "id_number" not in ((r.json or {}).get("errors") or {}).get("json", {}), \
            (url, r.status_code, r.json)
    r = client.post("/api/v1/staff/residents/lookup", json={**lookup, "id_number": full_width}, headers=staff_head)
    assert r.status_code == 200 and r.json["id_number_masked"] == owner.id_mask, r.json


def test_the_webhook_timestamp_is_ascii_digits_even_when_signed(app, client, caplog):
    import time

    from app.api.wechat_events import signature

    token = app.extensions["zerotrip_config"].wechat_push_token
    now = str(int(time.time()))
    arabic = now.translate({ord(c): 0x0660 + int(c) for c in "0123456789"})
    caplog.set_level(logging.WARNING, logger="zerotrip.security")
    for ts, expected in ((arabic, 401), (now, 200)):
        r = client.get("/api/v1/wechat/events", query_string={
            "signature": signature(token, ts, "n1"), "timestamp": ts, "nonce": "n1", "echostr": "ok"})
        assert r.status_code == expected, (ts, r.status_code, r.data[:200])
    assert sum("rule=ascii_digits" in rec.getMessage() for rec in caplog.records) == 1


def test_a_refusal_s_log_line_names_the_client_a_trusted_proxy_reports(app, client, caplog):
    """The `ascii_digits` and `json_limits` lines carry the address the limits count (app/api/security.py
    `client_ip`), not the proxy's: behind a trusted proxy they all said 127.0.0.1."""
    app.extensions["zerotrip_config"].trusted_proxies = "127.0.0.0/8"
    caplog.set_level(logging.WARNING, logger="zerotrip.security")
    forwarded = {"X-Forwarded-For": "203.0.113.9"}
    assert client.get("/api/v1/public-notices?street=14010500٣", headers=forwarded).status_code == 422
    deep = "[" * 40 + "]" * 40
    assert client.post("/api/v1/me/identity", data=deep, content_type="application/json",
                       headers=forwarded).status_code == 400
    lines = [rec.getMessage() for rec in caplog.records if "result=refused" in rec.getMessage()]
    assert any("rule=ascii_digits" in line for line in lines) and any("rule=json_limits" in line for line in lines)
    assert all("address=203.0.113.9" in line for line in lines), lines


def test_a_whole_number_field_refuses_a_fraction(client, session, cfg):
    """`{"days": 7.5}` was taken as 7 days (marshmallow's Integer cuts the fraction); 7.0 is 7."""
    _, acc, _ = h.person(session, cfg, "王秀英")
    _, _, father_id = h.person(session, cfg, "王大爷", sex="M")
    body = {"id_number": father_id, "name": "王大爷", "relation": "child"}
    head = h.headers_for(session, cfg, acc)
    for days in (7.5, 0.5, 1e-9):
        r = client.post("/api/v1/proxies/requests", json={**body, "days": days}, headers=head)
        assert r.status_code == 422 and "days" in r.json["errors"]["json"], (days, r.status_code, r.json)
    r = client.post("/api/v1/proxies/requests", json={**body, "days": 7.0}, headers=head)
    assert r.status_code < 300, (r.status_code, r.json)
