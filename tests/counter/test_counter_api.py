"""The counter (帮办, issue 13 item 1) through the staff API: a resident found by a typed ID number or by the
ID-card reader's JSON, odd input refused in words, a proposal confirmed on her behalf with her recorded consent
(an instance file), the receipt, the visit counted as her one trip, everything audited."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from sqlalchemy import select

from app.models import Application, AuditEvent, CounterVisit
from tests.authz import helpers as h
from tests.visits import image_bytes

STREET, COMMUNITY = "140105001", "140105001001"
PNG = image_bytes("PNG")  # a real image: a consent is decoded whole, not taken by its first bytes
FULL_WIDTH = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")


def _card(resident, id_number, **changes):
    card = {"name": resident.name, "id_number": id_number, "sex": "女", "birth_date": resident.birth_date.isoformat(),
            "address": "山西省太原市小店区某街1号", "issuing_authority": "太原市公安局小店分局",
            "valid_until": "2036-01-01"}
    return {**card, **changes}


def _world(session, cfg):
    resident, _, id_number = h.person(session, cfg, "李秀英", birth=date(1940, 5, 6), street=STREET,
                                      community=COMMUNITY)
    proposal = h.application(session, resident)
    _, clerk = h.staff(session, cfg, "clerk", street=STREET)
    return resident, id_number, proposal, clerk


def test_card_json_finds_her_and_consent_confirms_her_proposal(cfg, session, client):
    resident, id_number, proposal, clerk = _world(session, cfg)
    found = client.post("/api/v1/staff/counter/identify", headers=clerk, json={"card": _card(resident, id_number)})
    assert found.status_code == 201, found.json
    visit = found.json
    assert visit["source"] == "card" and visit["name_masked"] != resident.name
    assert id_number not in found.get_data(as_text=True)
    assert [i["application_id"] for i in visit["items"]] == [proposal.id]

    no_consent = client.post(f"/api/v1/staff/counter/visits/{visit['visit_id']}/confirm", headers=clerk,
                             data={"application_id": proposal.id, "consent_kind": "signature"},
                             content_type="multipart/form-data")
    assert no_consent.status_code == 422 and no_consent.json["error_code"] == "consent_missing"
    not_image = client.post(f"/api/v1/staff/counter/visits/{visit['visit_id']}/confirm", headers=clerk,
                            data={"application_id": proposal.id, "consent_kind": "signature",
                                  "consent": (io.BytesIO(b"%PDF-1.4 not an image"), "slip.pdf")})
    assert not_image.status_code == 422 and not_image.json["error_code"] == "consent_type"
    for fake in (b"\x89PNG\r\n\x1a\nhello this is text really", b"\x89PNG\r\n\x1a\n", PNG[:40]):  # a probe's
        faked = client.post(f"/api/v1/staff/counter/visits/{visit['visit_id']}/confirm", headers=clerk,
                            data={"application_id": proposal.id, "consent_kind": "signature",
                                  "consent": (io.BytesIO(fake), "signature.png")})
        assert faked.status_code == 422 and faked.json["error_code"] == "consent_type", faked.json
    huge = client.post(f"/api/v1/staff/counter/visits/{visit['visit_id']}/confirm", headers=clerk,
                       data={"application_id": proposal.id, "consent_kind": "slip_photo",
                             "consent": (io.BytesIO(PNG + b"\x00" * (2 * 1024 * 1024)), "slip.png")})
    assert huge.status_code in (413, 422)
    session.expire_all()
    assert session.get(Application, proposal.id).state == "proposed"  # reading the card is not consent

    done = client.post(f"/api/v1/staff/counter/visits/{visit['visit_id']}/confirm", headers=clerk,
                       data={"application_id": proposal.id, "consent_kind": "signature",
                             "consent": (io.BytesIO(PNG), "signature.png")})
    assert done.status_code == 200, done.json
    session.expire_all()
    assert session.get(Application, proposal.id).state != "proposed"
    row = session.get(CounterVisit, visit["visit_id"])
    consent = row.actions[0]["consent"]
    assert consent["kind"] == "signature" and (Path(cfg.instance_path) / consent["path"]).read_bytes() == PNG

    receipt = client.get(f"/api/v1/staff/counter/visits/{visit['visit_id']}/receipt", headers=clerk)
    assert receipt.status_code == 200
    assert receipt.json["hotline"] == "12345" and receipt.json["cases"][0]["application_id"] == proposal.id
    assert receipt.json["id_number_masked"].startswith(id_number[0]) and id_number not in str(receipt.json)

    events = session.scalars(select(AuditEvent).where(AuditEvent.action.in_(
        ("staff.resident_lookup", "counter.confirm")))).all()
    confirm = next(e for e in events if e.action == "counter.confirm")
    assert confirm.actor.startswith("staff:") and confirm.on_behalf_of == f"resident:{resident.id}"
    lookup = next(e for e in events if e.action == "staff.resident_lookup")
    assert lookup.details["purpose"] == "office_visit"
    # one visit = one trip in the KPIs
    from flows import counter

    assert counter.trips(session, row.visited_on, row.visited_on) == 1


def test_typed_full_width_digits_are_normalised(cfg, session, client):
    resident, id_number, _, clerk = _world(session, cfg)
    found = client.post("/api/v1/staff/counter/identify", headers=clerk,
                        json={"id_number": id_number.translate(FULL_WIDTH)})
    assert found.status_code == 201 and found.json["source"] == "typed"


def test_odd_input_is_refused_in_words(cfg, session, client):
    resident, id_number, _, clerk = _world(session, cfg)
    bad_check = id_number[:17] + ("0" if id_number[17] != "0" else "1")
    refused = client.post("/api/v1/staff/counter/identify", headers=clerk, json={"id_number": bad_check})
    assert refused.status_code == 422 and refused.json["error_code"] == "id_number_invalid"
    wrong_name = client.post("/api/v1/staff/counter/identify", headers=clerk,
                             json={"card": _card(resident, id_number, name="李秀兰")})
    assert wrong_name.status_code == 422 and wrong_name.json["error_code"] == "card_mismatch"
    assert "name" in wrong_name.json["errors"]
    wrong_birth = client.post("/api/v1/staff/counter/identify", headers=clerk,
                              json={"card": _card(resident, id_number, birth_date="1941-05-06")})
    assert wrong_birth.status_code == 422 and wrong_birth.json["error_code"] == "card_mismatch"
    photo = client.post("/api/v1/staff/counter/identify", headers=clerk,
                        json={"card": {**_card(resident, id_number), "photo": "iVBORw0KGgo="}})
    assert photo.status_code == 422
    both = client.post("/api/v1/staff/counter/identify", headers=clerk,
                       json={"id_number": id_number, "card": _card(resident, id_number)})
    assert both.status_code == 422
    huge = client.post("/api/v1/staff/counter/identify", headers=clerk,
                       json={"card": _card(resident, id_number, address="x" * 2_000_000)})
    assert huge.status_code in (413, 422)
    assert session.scalar(select(CounterVisit.id)) is None


def test_who_may_serve_at_the_counter(cfg, session, client):
    resident, id_number, _, clerk = _world(session, cfg)
    body = {"id_number": id_number}
    _, supervisor = h.staff(session, cfg, "supervisor")
    _, admin = h.staff(session, cfg, "admin")
    _, elsewhere = h.staff(session, cfg, "clerk", district="140106")
    assert client.post("/api/v1/staff/counter/identify", json=body).status_code == 401
    assert client.post("/api/v1/staff/counter/identify", headers=supervisor, json=body).status_code == 403
    assert client.post("/api/v1/staff/counter/identify", headers=admin, json=body).status_code == 403
    assert client.post("/api/v1/staff/counter/identify", headers=elsewhere, json=body).status_code == 404
    _, _, _ = h.person(session, cfg, "陌生人")
    citizen = h.headers_for(session, cfg, h.person(session, cfg, "王五")[1])
    assert client.post("/api/v1/staff/counter/identify", headers=citizen, json=body).status_code == 401
    visit = client.post("/api/v1/staff/counter/identify", headers=clerk, json=body).json["visit_id"]
    assert client.get(f"/api/v1/staff/counter/visits/{visit}", headers=elsewhere).status_code == 404
    assert client.get(f"/api/v1/staff/counter/visits/{visit}", headers=supervisor).status_code == 403
    assert client.get("/api/v1/staff/counter/visits/" + "x" * 100, headers=clerk).status_code == 404


def test_a_proxy_grant_recorded_at_the_counter_follows_the_proxy_rules(cfg, session, client):
    from app.models import ProxyGrant

    resident, id_number, _, clerk = _world(session, cfg)
    daughter, _, daughter_id = h.person(session, cfg, "王小红", birth=date(1975, 2, 3), street=STREET,
                                        community=COMMUNITY)
    visit = client.post("/api/v1/staff/counter/identify", headers=clerk, json={"id_number": id_number}).json
    proxy = client.post("/api/v1/staff/residents/lookup", headers=clerk,
                        json={"id_number": daughter_id, "purpose": "guardianship_grant"}).json
    grant = client.post("/api/v1/staff/proxy-grants", headers=clerk,
                        json={"resident_ref": visit["resident_ref"], "proxy_ref": proxy["resident_ref"],
                              "basis": "written_authorisation", "document_ref": "授权书2026-118", "place": "office"})
    assert grant.status_code == 201, grant.json
    row = session.scalars(select(ProxyGrant)).one()
    assert row.resident_id == resident.id and row.proxy_resident_id == daughter.id
    _, elsewhere = h.staff(session, cfg, "clerk", district="140106")
    refused = client.post("/api/v1/staff/proxy-grants", headers=elsewhere,
                          json={"resident_ref": visit["resident_ref"], "proxy_ref": proxy["resident_ref"],
                                "basis": "written_authorisation", "document_ref": "x", "place": "office"})
    assert refused.status_code == 404  # the reference is the clerk's own, short-lived


def test_every_open_case_is_listed_at_the_counter_whatever_its_step(cfg, session, client):
    """A case in its economic check or waiting for the county's approval is open too (flows.case_states)."""
    resident, id_number, proposal, clerk = _world(session, cfg)
    checking = h.application(session, resident, program="dibao", state="approving")
    found = client.post("/api/v1/staff/counter/identify", headers=clerk, json={"card": _card(resident, id_number)})
    assert found.status_code == 201, found.json
    assert {i["application_id"] for i in found.json["items"]} == {proposal.id, checking.id}


def test_the_same_person_identified_twice_in_a_day_is_one_trip(cfg, session, client):
    resident, id_number, _, clerk = _world(session, cfg)
    other, _, other_id = h.person(session, cfg, "王大爷", birth=date(1941, 3, 2), street=STREET, community=COMMUNITY)
    _, supervisor = h.staff(session, cfg, "supervisor", street=STREET)
    for body in ({"id_number": id_number}, {"card": _card(resident, id_number)}, {"id_number": other_id}):
        assert client.post("/api/v1/staff/counter/identify", headers=clerk, json=body).status_code == 201
    assert len(session.scalars(select(CounterVisit)).all()) == 3  # three look-ups recorded…
    board = client.get("/api/v1/staff/supervision", headers=supervisor)
    assert board.status_code == 200, board.json
    assert board.json["trips_this_month"] == 2  # …two people, one trip each
