"""Issue 14 item 1, the admin screen's API: an admin registers a department over HTTP with the CLI's rules (no PIA
→ refused; allowlists checked against the datasets), adds a second key for a changeover and revokes the first at
once; the department's signed calls follow each step. Nobody else manages clients; every change is audited."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from app.models import AuditEvent
from flows.exchange import signing
from tests.authz import helpers as h

URL = "/api/v1/staff/exchange/clients"
PURPOSES = {"medical_aid": {"legal_basis": "《社会救助暂行办法》第二十八条", "text": "医疗救助资格核验",
                            "fields": {"dibao_household": ["receiving", "since"]}}}


class _Registered:
    """A department registered through the API (not the CLI): signs its calls like tests.exchange.helpers."""

    def __init__(self, client_id: str, key: Ed25519PrivateKey, key_id: str):
        self.id, self.key, self.key_id = client_id, key, key_id

    def search(self, client, number: str, key=None, key_id=None):
        from tests.exchange.helpers import SEARCH_PATH, Department

        fake = Department.__new__(Department)
        fake.id, fake.key, fake.key_id = self.id, key or self.key, key_id or self.key_id
        criteria = {"reg_type": "dibao_household", "query_type": "idtype-value",
                    "authorize": {"purpose": {"code": "medical_aid", "ref": "CASE-9"}}}
        mid, body = fake.envelope("search", {"transaction_id": "T", "search_criteria": criteria, "search_request": [
            {"reference_id": "R0", "query": {"type": "CN-ID", "value": number}}]})
        return fake.post(client, SEARCH_PATH, body, mid)


def _body(key: Ed25519PrivateKey, **over) -> dict:
    return {"id": "ybj", "name": "太原市医疗保障局", "public_key": signing.public_key_text(key), "key_id": "ybj-k1",
            "actions": ["search"], "purposes": PURPOSES, "pia_ref": "PIA-2026-007", "agreement_ref": "AGR-2026-007",
            "agreement_expires": "2030-12-31", "contact": "data@ybj.example.gov.cn", **over}


def test_an_admin_registers_rotates_and_revokes_a_department(client, session, cfg):
    _, admin = h.staff(session, cfg, "admin", "140105")
    _, number = h.person(session, cfg, "周桂芳")[::2]
    key1 = Ed25519PrivateKey.generate()

    datasets = client.get("/api/v1/staff/exchange/datasets", headers=admin)
    assert datasets.status_code == 200
    assert "receiving" in {f["name"] for d in datasets.json["answers"] if d["code"] == "dibao_household"
                           for f in d["fields"]}

    # the CLI's rules: no PIA → refused by the contract; a field the dataset lacks → bad_registration
    assert client.post(URL, json=_body(key1, pia_ref=""), headers=admin).status_code == 422
    wrong = {"medical_aid": {**PURPOSES["medical_aid"], "fields": {"dibao_household": ["income"]}}}
    refused = client.post(URL, json=_body(key1, purposes=wrong), headers=admin)
    assert refused.status_code == 422 and refused.json["error_code"] == "bad_registration", refused.json
    assert client.post(URL, json=_body(key1, public_key="not a key"), headers=admin).json["error_code"] \
        == "bad_registration"
    assert client.post(URL, json=_body(key1, per_minute="６００"), headers=admin).status_code == 201  # full-width
    assert client.post(URL, json=_body(key1), headers=admin).status_code == 409

    listed = client.get(URL, headers=admin).json
    assert [(c["id"], c["per_minute"], c["agreement_in_force"], [k["id"] for k in c["keys"]]) for c in listed] == \
        [("ybj", 600, True, ["ybj-k1"])]
    dept = _Registered("ybj", key1, "ybj-k1")
    assert dept.search(client, number).status_code == 200

    # a changeover: both keys valid, then the old one revoked at once
    key2 = Ed25519PrivateKey.generate()
    added = client.post(f"{URL}/ybj/keys", json={"public_key": signing.public_key_text(key2), "key_id": "ybj-k2"},
                        headers=admin)
    assert added.status_code == 201 and [k["id"] for k in added.json["keys"]] == ["ybj-k1", "ybj-k2"]
    assert client.post(f"{URL}/ybj/keys", json={"public_key": signing.public_key_text(key2), "key_id": "ybj-k2"},
                       headers=admin).json["error_code"] == "bad_registration"  # the id is taken
    assert dept.search(client, number, key=key2, key_id="ybj-k2").status_code == 200
    assert dept.search(client, number).status_code == 200
    revoked = client.post(f"{URL}/ybj/keys/ybj-k1/revoke", headers=admin)
    assert revoked.status_code == 200 and revoked.json["keys"][0]["revoked_at"]
    answer = dept.search(client, number)
    assert answer.status_code == 401 and answer.json["error_code"] == "key_revoked", answer.json
    assert dept.search(client, number, key=key2, key_id="ybj-k2").status_code == 200
    assert client.post(f"{URL}/ybj/keys/ybj-k1/revoke", headers=admin).status_code == 200  # again: no change
    assert client.post(f"{URL}/other/keys/ybj-k2/revoke", headers=admin).status_code == 404

    session.expire_all()
    actions = [e.action for e in session.scalars(select(AuditEvent).where(AuditEvent.object_ref == "exchange:ybj")
                                                  .order_by(AuditEvent.seq))]
    assert actions == ["exchange.client_register", "exchange.key_add", "exchange.key_revoke"]


def test_only_a_district_admin_manages_clients(client, session, cfg):
    key = Ed25519PrivateKey.generate()
    for role, street in (("reviewer", None), ("supervisor", None), ("approver", None), ("admin", "140105001")):
        _, headers = h.staff(session, cfg, role, "140105", street=street)
        assert client.get(URL, headers=headers).status_code == 403, role
        assert client.post(URL, json=_body(key), headers=headers).status_code == 403, role
    _, citizen_account, _ = h.person(session, cfg, "王大爷")
    assert client.get(URL, headers=h.headers_for(session, cfg, citizen_account)).status_code == 401


def test_a_purpose_that_follows_a_whole_program_can_be_registered_on_the_screen(client, session, cfg):
    """The CLI could register `programs` in a purpose (a subscription to every stop of 低保 under a legal basis);
    the workbench's form refused the field (422 unknown field), so only an operator could."""
    _, admin = h.staff(session, cfg, "admin", "140105")
    purposes = {"premium_aid": {"legal_basis": "《社会救助暂行办法》第二十八条；医保参保资助", "programs": ["dibao"],
                                "fields": {"dibao_household": ["receiving"]}}}
    made = client.post(URL, json=_body(Ed25519PrivateKey.generate(), id="ybjp", key_id="ybjp-k1",
                                       actions=["search", "subscribe"], purposes=purposes), headers=admin)
    assert made.status_code == 201, made.get_data(as_text=True)
    assert made.json["purposes"]["premium_aid"]["programs"] == ["dibao"]
    unknown = {"premium_aid": {**purposes["premium_aid"], "programs": ["no_such_program"]}}
    refused = client.post(URL, json=_body(Ed25519PrivateKey.generate(), id="ybjq", key_id="ybjq-k1",
                                          actions=["subscribe"], purposes=unknown), headers=admin)
    assert (refused.status_code, refused.json["error_code"]) == (422, "bad_registration")
    assert "no_such_program" in refused.json["message"]
    blank = client.post(URL, json=_body(Ed25519PrivateKey.generate(), id="ybjr", key_id="ybjr-k1", name="   "),
                        headers=admin)
    assert (blank.status_code, blank.json["error_code"]) == (422, "bad_registration")
