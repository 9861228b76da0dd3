"""Proof of a benefit (issue 15 item 2): issued over HTTP, verified offline with the trust list alone and online;
revoked when the benefit stops; tampered, forged and expired codes fail with words; the feed shows who obtained it."""

from __future__ import annotations

import base64
import logging
import zlib
from datetime import date, timedelta

import base45
import cbor2
import pytest
from pycose.keys import EC2Key
from pycose.keys.curves import P256
from pycose.messages import Sign1Message

from app.db import utcnow
from app.models import Benefit
from flows.lifecycle.jobs import run_daily
from tests.authz import helpers as h


@pytest.fixture
def world(session, cfg):
    owner, owner_acc, id_number = h.person(session, cfg, "王建国", sex="M", birth=date(1940, 1, 1))
    daughter, daughter_acc, _ = h.person(session, cfg, "王丽")
    grant = h.grant(session, owner, daughter_acc, daughter, scopes=("view",))
    benefit = Benefit(program="elderly_allowance", resident_id=owner.id, tier="80-89", monthly_amount_fen=5000,
                      start_month="2026-01", state="active")
    session.add(benefit)
    session.commit()
    staff, staff_headers = h.staff(session, cfg, "clerk", owner.district_code)
    return {"owner": owner, "id_number": id_number, "benefit": benefit.id, "grant": grant,
            "oh": h.headers_for(session, cfg, owner_acc), "dh": h.headers_for(session, cfg, daughter_acc),
            "sh": staff_headers}


def _issue(client, w, headers="oh"):
    resp = client.post(f"/api/v1/benefits/{w['benefit']}/proof", headers=w[headers])
    assert resp.status_code == 201, resp.json
    return resp.json


def _offline_verify(code: str, trust: dict) -> dict:
    """A verifier holding only the trust list: Base45, zlib, COSE_Sign1 with pycose, CWT claims. No server."""
    assert code.startswith("ZT1:")
    tagged = cbor2.loads(zlib.decompress(base45.b45decode(code[4:])))
    assert tagged.tag == 18
    protected, unprotected, payload, signature = tagged.value
    header = cbor2.loads(protected)
    assert header[1] == -7, "alg ES256 in the protected header"
    entry = next(k for k in trust["keys"] if base64.b64decode(k["kid"]) == header[4])
    message = Sign1Message.from_cose_obj([protected, dict(unprotected), payload, signature], True)
    pad = lambda s: base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))  # noqa: E731
    message.key = EC2Key(crv=P256, x=pad(entry["jwk"]["x"]), y=pad(entry["jwk"]["y"]))
    assert message.verify_signature(), "the signature verifies with the published key"
    return cbor2.loads(payload)


def test_a_proof_verifies_offline_with_the_trust_list_alone_and_online(client, world):
    proof = _issue(client, world)
    trust = client.get("/api/v1/proofs/trust-list").json
    assert [k["alg"] for k in trust["keys"]] == ["ES256"] and trust["keys"][0]["jwk"]["crv"] == "P-256"
    # ---- from here on, no server: only the trust list and the libraries
    claims = _offline_verify(proof["code"], trust)
    body = claims[-65537]
    assert body == {"v": 1, "b": "elderly_allowance", "bn": proof["program_name"], "t": "80-89", "n": "王*国",
                    "i": world["id_number"][-4:]}
    assert claims[7].hex() == proof["certificate_id"] and claims[1] == trust["issuer"]
    assert claims[4] - claims[6] == 31 * 24 * 3600, "valid 31 days"
    # the project's own verifier agrees, from the trust list alone
    from datetime import UTC, datetime

    from app import proofcode

    mine = proofcode.verify(proof["code"], proofcode.keys_from_trust_list(trust), datetime.now(UTC))
    assert (mine.name_masked, mine.id_last4, mine.certificate_id) == ("王*国", world["id_number"][-4:],
                                                                     proof["certificate_id"])
    # ---- online
    answer = client.post("/api/v1/proofs/verify", json={"code": proof["code"]}).json
    assert (answer["valid"], answer["status"], answer["reason"]) == (True, "valid", "in_payment")
    assert answer["claims"]["id_last4"] == world["id_number"][-4:]
    status = client.get(trust["status_path"].format(certificate_id=proof["certificate_id"]))
    assert status.status_code == 200 and status.json["status"] == "valid"
    assert set(status.json) == {"certificate_id", "status", "reason", "message", "expires_at", "checked_at"}
    assert world["id_number"] not in proof["code"] and "王建国" not in str(answer)


def test_after_the_benefit_stops_the_proof_shows_as_revoked(client, world, session, cfg):
    proof = _issue(client, world)
    world["owner"].death_date = date(2026, 11, 15)
    session.commit()
    assert run_daily(cfg, date(2026, 11, 20)).counts["stopped_death"] == 1
    status = client.get(f"/api/v1/proofs/{proof['certificate_id']}/status").json
    assert (status["status"], status["reason"]) == ("revoked", "benefit_stopped")
    answer = client.post("/api/v1/proofs/verify", json={"code": proof["code"]}).json
    assert (answer["valid"], answer["status"]) == (False, "revoked")
    assert "stopped" in answer["message"]
    # and no new proof for a stopped benefit
    again = client.post(f"/api/v1/benefits/{world['benefit']}/proof", headers=world["oh"])
    assert again.status_code == 409 and again.json["error_code"] == "benefit_not_active"


def _retamper(code: str, mutate) -> str:
    tagged = cbor2.loads(zlib.decompress(base45.b45decode(code[4:])))
    parts = list(tagged.value)
    parts[1] = dict(parts[1])
    mutate(parts)
    return "ZT1:" + base45.b45encode(zlib.compress(cbor2.dumps(cbor2.CBORTag(18, parts)))).decode()


def test_tampered_forged_or_damaged_codes_fail_with_words(client, world, caplog):
    code = _issue(client, world)["code"]

    def raise_tier(parts):
        claims = cbor2.loads(parts[2])
        claims[-65537] = {**claims[-65537], "t": "100+"}
        parts[2] = cbor2.dumps(claims)

    from cryptography.hazmat.primitives.asymmetric import ec

    other = ec.generate_private_key(ec.SECP256R1())
    from app import proofcode

    forged_key = proofcode.ProofKey(kid=proofcode.kid_of(other.public_key()), public=other.public_key(), private=other)
    from datetime import UTC, datetime

    forged = proofcode.encode(proofcode.new_claims(
        certificate_id="ab" * 16, program="dibao", program_name="最低生活保障", tier="1p", name_masked="王*国",
        id_last4="1234", issuer="urn:zerotrip:civil-affairs", now=datetime.now(UTC)), forged_key)
    cases = {
        "bad_signature": _retamper(code, raise_tier),
        "unknown_key": forged,
        "malformed": code[:-6] + "ABCDEF" if not code.endswith("ABCDEF") else code[:-6] + "GHIJKL",
    }
    for reason, bad in cases.items():
        caplog.clear()
        with caplog.at_level(logging.WARNING, logger="zerotrip.security"):
            answer = client.post("/api/v1/proofs/verify", json={"code": bad})
        assert answer.status_code == 200
        assert (answer.json["valid"], answer.json["status"], answer.json["reason"]) == (False, "invalid", reason), reason
        assert len(answer.json["message"].split()) >= 5, "said in words"
        lines = [r.getMessage() for r in caplog.records if r.name == "zerotrip.security"]
        assert len(lines) == 1 and "rule=proof_verification" in lines[0] and f"reason={reason}" in lines[0]
    for junk in ("hello", "ZT1:", "ZT1:%%%%", "ZT1:" + "A" * 1990, " ZT1:00"):
        answer = client.post("/api/v1/proofs/verify", json={"code": junk})
        assert answer.status_code == 200 and answer.json["reason"] == "malformed", junk
    for body in ({"code": 5}, {}, {"code": "x" * 2001}, {"code": "ZT1:", "extra": 1}):
        assert client.post("/api/v1/proofs/verify", json=body).status_code == 422
    for cid in ("0" * 32, "nothex", "a" * 200):
        assert client.get(f"/api/v1/proofs/{cid}/status").status_code == 404


def test_an_expired_code_fails_with_words(client, world, monkeypatch):
    code = _issue(client, world)["code"]
    import app.api.proofs as api

    later = utcnow() + timedelta(days=31, minutes=1)
    monkeypatch.setattr(api, "utcnow", lambda: later)
    answer = client.post("/api/v1/proofs/verify", json={"code": code}).json
    assert (answer["valid"], answer["status"], answer["reason"]) == (False, "expired", "expired")  # not "invalid"
    assert "expired" in answer["message"]
    monkeypatch.setattr(api, "utcnow", lambda: later - timedelta(minutes=2))
    assert client.post("/api/v1/proofs/verify", json={"code": code}).json["valid"] is True


def test_a_proxy_with_view_and_a_clerk_obtain_it_and_the_resident_sees_who_in_her_feed(client, world):
    by_daughter = _issue(client, world, "dh")
    by_clerk = client.post(f"/api/v1/staff/benefits/{world['benefit']}/proof", headers=world["sh"])
    assert by_clerk.status_code == 201 and by_clerk.json["qr_png"]
    assert base64.b64decode(by_clerk.json["qr_png"]).startswith(b"\x89PNG")
    feed = client.get("/api/v1/me/activity", headers=world["oh"]).json
    issued = [e for e in feed if e["action"] == "benefit.proof_issue"]
    assert {e["actor_kind"] for e in issued} == {"proxy", "staff"}
    assert all(e["what"] == "开具了补贴电子证明" for e in issued)
    assert next(e for e in issued if e["actor_kind"] == "proxy")["actor_name"] == "王*"
    assert next(e for e in issued if e["actor_kind"] == "staff")["purpose"] == "benefit_proof"
    for proof in (by_daughter, by_clerk.json):
        assert client.post("/api/v1/proofs/verify", json={"code": proof["code"]}).json["valid"] is True


def test_a_proxy_without_this_program_or_a_clerk_elsewhere_gets_no_proof(client, world, session, cfg):
    other, other_acc, _ = h.person(session, cfg, "王二")
    h.grant(session, world["owner"], other_acc, other, scopes=("view",), programs=("dibao",))
    refused = client.post(f"/api/v1/benefits/{world['benefit']}/proof", headers=h.headers_for(session, cfg, other_acc))
    assert refused.status_code in (403, 404)
    _, elsewhere = h.staff(session, cfg, "approver", "140106")
    assert client.post(f"/api/v1/staff/benefits/{world['benefit']}/proof", headers=elsewhere).status_code == 404
    assert client.post(f"/api/v1/staff/benefits/{world['benefit']}/proof", headers=world["oh"]).status_code == 401
    assert client.post(f"/api/v1/benefits/{world['benefit']}/proof", headers=world["sh"]).status_code == 401
    from sqlalchemy import func, select

    from app.models import BenefitProof

    assert session.scalar(select(func.count()).select_from(BenefitProof)) == 0, "nothing issued"


def test_the_public_routes_are_limited_per_address(client, world, monkeypatch, caplog):
    import app.api.proofs as api

    code = _issue(client, world)
    monkeypatch.setattr(api, "PUBLIC_LIMIT", 3)
    for _ in range(2):
        assert client.post("/api/v1/proofs/verify", json={"code": code["code"]}).status_code == 200
    assert client.get(f"/api/v1/proofs/{code['certificate_id']}/status").status_code == 200
    with caplog.at_level(logging.WARNING, logger="zerotrip.security"):
        over = client.get(f"/api/v1/proofs/{code['certificate_id']}/status")
    assert over.status_code == 429 and int(over.headers["Retry-After"]) >= 1
    assert client.post("/api/v1/proofs/verify", json={"code": code["code"]}).status_code == 429
    assert [r.getMessage() for r in caplog.records if "rule=proof_rate" in r.getMessage()][:1]
    other = client.get("/api/v1/proofs/trust-list", environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert other.status_code == 200, "the trust list is not limited (verifiers cache it)"
    fresh = client.post("/api/v1/proofs/verify", json={"code": code["code"]}, environ_base={"REMOTE_ADDR": "10.9.9.9"})
    assert fresh.status_code == 200, "another address has its own window"
