"""At the counter (帮办, issue 13 item 1): the clerk starts the application a resident without a phone asks for,
on her behalf and with her recorded consent, through the program's own use case (the one her phone's form uses):
the program is taken from the request and asked of the registry; a repeat gets the program's own answer; the
receipt lists the new case with its next step and date; the act is audited and in her activity feed."""

from __future__ import annotations

import io
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from app.models import Application, AuditEvent, CounterVisit
from flows.programs import PROGRAMS
from tests.authz import helpers as h
from tests.visits import image_bytes

STREET, COMMUNITY = "140105001", "140105001001"
PNG = image_bytes("PNG")  # a real image: a consent is decoded whole, not taken by its first bytes
CITIZEN_STARTED = next(p for p in PROGRAMS.values() if p.citizen_started)
PROPOSED_ONLY = next(p for p in PROGRAMS.values() if not p.citizen_started)


def _visit(session, cfg, client):
    resident, _, id_number = h.person(session, cfg, "李秀英", birth=date(1950, 5, 6), street=STREET,
                                      community=COMMUNITY)
    _, clerk = h.staff(session, cfg, "clerk", street=STREET)
    visit = client.post("/api/v1/staff/counter/identify", headers=clerk, json={"id_number": id_number})
    assert visit.status_code == 201, visit.json
    return resident, clerk, visit.json["visit_id"]


def _form(program=CITIZEN_STARTED, consent=PNG, **fields):
    data = {"program": getattr(program, "code", program), "consent_kind": "signature", **fields}
    if consent is not None:
        data["consent"] = (io.BytesIO(consent), "signature.png")
    return data


def _fields(amount="120.50", note="打零工"):
    """The program's declared fields: an amount for each yuan field, a line of text for each text field."""
    return {f.name: amount if f.kind == "amount" else note for f in CITIZEN_STARTED.apply_form}


def test_the_program_says_whether_the_citizen_applies_and_with_which_fields(client):
    shown = client.get(f"/api/v1/programs/{CITIZEN_STARTED.code}").json
    assert shown["apply_form"]["fields"] == [f.as_dict() for f in CITIZEN_STARTED.apply_form]
    assert shown["apply_form"]["path"] == f"/api/v1/programs/{CITIZEN_STARTED.code}/applications"
    assert client.get(f"/api/v1/programs/{PROPOSED_ONLY.code}").json["apply_form"] is None


def test_the_clerk_starts_her_application_with_her_consent_and_the_receipt_lists_it(cfg, session, client):
    resident, clerk, visit_id = _visit(session, cfg, client)
    path = f"/api/v1/staff/counter/visits/{visit_id}/applications"
    started = client.post(path, headers=clerk, data=_form(**_fields()))
    assert started.status_code == 201, started.json
    action = started.json["actions"][-1]
    assert action["action"] == "apply" and action["program"] == CITIZEN_STARTED.code and "consent" not in action
    session.expire_all()
    application = session.get(Application, action["application_id"])
    assert application.resident_id == resident.id and application.program == CITIZEN_STARTED.code
    assert application.origin == "citizen" and application.confirmed_by == f"resident:{resident.id}"
    declared = [v["value"] for v in application.prefill.values() if v.get("source") == "citizen_declaration"]
    assert "120.50" in declared and any("打零工" in v for v in declared)
    consent = session.get(CounterVisit, visit_id).actions[-1]["consent"]
    assert consent["kind"] == "signature" and (Path(cfg.instance_path) / consent["path"]).read_bytes() == PNG

    receipt = client.get(f"/api/v1/staff/counter/visits/{visit_id}/receipt", headers=clerk).json
    case = next(c for c in receipt["cases"] if c["application_id"] == application.id)
    assert case["program_name"] == CITIZEN_STARTED.name and case["state"] == application.state
    from flows.counter import OPEN_STATES

    assert application.state in OPEN_STATES  # nothing on record says she is not in need: her case goes on
    assert case["step"] == application.state and case["due_on"], case  # its next step and the date it is due by

    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "counter.apply")).one()
    assert event.actor.startswith("staff:") and event.on_behalf_of == f"resident:{resident.id}"
    assert event.object_ref == f"application:{application.id}" and event.details["visit"] == visit_id
    # in her feed, like other acts on her behalf: the office and the purpose, never the clerk's name
    from flows import activity

    rows = session.execute(activity.feed_query(resident.id)).all()
    mine = [activity.entry(session, e, kind, resident.id) for e, kind in rows if e.action == "counter.apply"]
    assert mine and mine[0]["what"] == activity.WHAT["counter.apply"] and mine[0]["purpose"] == "office_visit"
    assert mine[0]["object_id"] == application.id


def test_a_second_identical_start_gets_the_programs_answer_and_starts_nothing(cfg, session, client):
    _, clerk, visit_id = _visit(session, cfg, client)
    path = f"/api/v1/staff/counter/visits/{visit_id}/applications"
    assert client.post(path, headers=clerk, data=_form(**_fields())).status_code == 201
    again = client.post(path, headers=clerk, data=_form(**_fields()))
    assert again.status_code == 409 and again.json["error_code"], again.json
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Application)) == 1
    assert [a["action"] for a in session.get(CounterVisit, visit_id).actions] == ["apply"]
    receipt = client.get(f"/api/v1/staff/counter/visits/{visit_id}/receipt", headers=clerk).json
    assert len(receipt["cases"]) == 1


def test_bad_input_is_refused_in_words_and_starts_nothing(cfg, session, client):
    _, clerk, visit_id = _visit(session, cfg, client)
    path = f"/api/v1/staff/counter/visits/{visit_id}/applications"
    yuan = next(f.name for f in CITIZEN_STARTED.apply_form if f.kind == "amount")
    text = next(f for f in CITIZEN_STARTED.apply_form if f.kind == "text")
    cases = [
        (_form(**{**_fields(), "program": "no_such_program"}), "form_invalid"),
        (_form(**{**_fields(), "program": ""}), "form_invalid"),
        (_form(program=PROPOSED_ONLY), "not_citizen_started"),
        (_form(**{**_fields(), yuan: "12,5"}), "form_invalid"),
        (_form(**{**_fields(), text.name: "x" * (text.max_length + 1)}), "form_invalid"),
        (_form(**{**_fields(), "nickname": "多余的字段"}), "form_invalid"),
        (_form(**{**_fields(), "consent_kind": "verbal"}), "form_invalid"),
        (_form(consent=None, **_fields()), "consent_missing"),
        (_form(consent=b"%PDF-1.4 not an image", **_fields()), "consent_type"),
        (_form(consent=b"", **_fields()), "consent_missing"),
    ]
    for data, code in cases:
        refused = client.post(path, headers=clerk, data=data, content_type="multipart/form-data")
        assert refused.status_code == 422 and refused.json["error_code"] == code, (code, refused.json)
    full_width = client.post(path, headers=clerk, data=_form(**{**_fields(), yuan: "１２０．５"}))
    assert full_width.status_code == 422  # a full-width point is not a digit: refused, never guessed
    as_json = client.post(path, headers=clerk, json={"program": CITIZEN_STARTED.code})
    assert as_json.status_code == 422 and as_json.json["error_code"] == "form_invalid"
    urlencoded = client.post(path, headers=clerk, data={"program": CITIZEN_STARTED.code},
                             content_type="application/x-www-form-urlencoded")  # a probe: it said "send JSON"
    assert urlencoded.status_code == 415 and "multipart/form-data" in urlencoded.json["message"], urlencoded.json
    session.expire_all()
    assert session.scalar(select(Application.id)) is None
    assert session.get(CounterVisit, visit_id).actions == []
    assert not (Path(cfg.instance_path) / "consent" / visit_id).exists()  # nothing kept when nothing started


def test_who_may_start_one(cfg, session, client):
    _, clerk, visit_id = _visit(session, cfg, client)
    path = f"/api/v1/staff/counter/visits/{visit_id}/applications"
    _, elsewhere = h.staff(session, cfg, "clerk", district="140106")
    _, supervisor = h.staff(session, cfg, "supervisor")
    citizen = h.headers_for(session, cfg, h.person(session, cfg, "王五")[1])
    assert client.post(path, data=_form(**_fields())).status_code == 401
    assert client.post(path, headers=citizen, data=_form(**_fields())).status_code == 401
    assert client.post(path, headers=elsewhere, data=_form(**_fields())).status_code == 404
    assert client.post(path, headers=supervisor, data=_form(**_fields())).status_code == 403
    assert client.post("/api/v1/staff/counter/visits/nope/applications", headers=clerk,
                       data=_form(**_fields())).status_code == 404
    assert session.scalar(select(Application.id)) is None
