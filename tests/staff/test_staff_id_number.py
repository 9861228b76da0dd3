"""Rules that can fire (issue 9 item 7): a staff member's own ID number is on file (prompted, hidden,
validated, stored like residents'), she records and approves no grant involving herself or her registry
household, and none at all until it is set; rating on someone's behalf needs the proxy's `confirm` scope."""

from __future__ import annotations

import logging
from datetime import date

from click.testing import CliRunner
from sqlalchemy import select

from app.crypto import cipher_for
from app.models import AuditEvent, ServiceRating, StaffMember
from tests.authz import helpers as h
from tests.builders import make_id_number, make_resident

PASSWORD = "a-very-long-password"


def _zerotrip(cfg, *args, input=None):
    from app.cli import cli as zerotrip

    return CliRunner().invoke(zerotrip, list(args), input=input, env={"DATABASE_URL": cfg.database_url},
                              catch_exceptions=False)


def _staff_headers(session, cfg, client, username):
    resp = client.post("/api/v1/staff/auth/login", json={"username": username, "password": PASSWORD})
    assert resp.status_code == 200, resp.json
    return {"Authorization": f"Bearer {resp.json['access_token']}"}


def _grant_body(client, headers, principal_id, proxy_id, scopes=("view", "confirm")):
    def ref(number):
        r = client.post("/api/v1/staff/residents/lookup", headers=headers,
                        json={"id_number": number, "purpose": "guardianship_grant"})
        assert r.status_code == 200, r.json
        return r.json["resident_ref"]

    return {"resident_ref": ref(principal_id), "proxy_ref": ref(proxy_id), "basis": "written_authorisation",
            "document_ref": "委托书 2026-7", "place": "office", "scopes": list(scopes)}


def test_staff_add_prompts_for_the_id_number_without_echo_and_stores_it_like_residents(cfg, session):
    number = make_id_number(date(1984, 2, 29))
    result = _zerotrip(cfg, "staff", "add", "--username", "clerk1", "--role", "clerk", "--district", "140105",
                       input=f"{PASSWORD}\n{PASSWORD}\n{number.lower()}\n")
    assert result.exit_code == 0, result.output
    assert number not in result.output and number.lower() not in result.output
    assert "id_number_set=true" in result.stdout.splitlines()[-1]
    staff = session.execute(select(StaffMember).where(StaffMember.username == "clerk1")).scalar_one()
    cipher = cipher_for(cfg)
    assert staff.id_hash == cipher.lookup_hash(number, "id") and cipher.decrypt(staff.id_enc) == number
    assert staff.id_mask == number[0] + "*" * 16 + number[-1] and number.encode() not in staff.id_enc

    bad = _zerotrip(cfg, "staff", "add", "--username", "clerk2", "--role", "clerk", "--district", "140105",
                    input=f"{PASSWORD}\n{PASSWORD}\n{number[:17]}{'1' if number[17] != '1' else '2'}\n")
    assert bad.exit_code == 2 and "ID_CHECKSUM" in bad.output and number[:17] not in bad.output
    assert session.execute(select(StaffMember).where(StaffMember.username == "clerk2")).first() is None
    wide = _zerotrip(cfg, "staff", "add", "--username", "clerk3", "--role", "clerk", "--district", "140105",
                     "--password", PASSWORD, "--id-number", number[:5] + "٣" + number[6:])
    assert wide.exit_code == 2 and "ID_FORMAT" in wide.output


def test_without_an_id_number_no_grant_is_recorded_or_approved_until_set_id(cfg, session, client, caplog):
    elder, _, elder_id = h.person(session, cfg, "赵老伯", household="H-Z1")
    _, _, son_id = h.person(session, cfg, "赵儿子", household="H-Z2")
    _, _, daughter_id = h.person(session, cfg, "赵女儿", household="H-Z3")
    result = _zerotrip(cfg, "staff", "add", "--username", "clerk9", "--role", "clerk", "--district", "140105",
                       "--password", PASSWORD, input="\n")
    assert result.exit_code == 0 and "id_number_set=false" in result.stdout and "set-id" in result.stderr
    headers = _staff_headers(session, cfg, client, "clerk9")
    body = _grant_body(client, headers, elder_id, son_id)
    caplog.set_level(logging.WARNING, logger="zerotrip.security")
    refused = client.post("/api/v1/staff/proxy-grants", headers=headers, json=body)
    assert refused.status_code == 403 and refused.json["error_code"] == "staff_id_number_missing"
    assert "set-id" in refused.json["message"]
    assert sum("rule=staff_id_number_missing" in r.getMessage() for r in caplog.records) == 1

    approver, approver_h = h.staff(session, cfg, "approver", "140105", with_id=False)
    _, clerk_h = h.staff(session, cfg, "clerk", "140105")
    payout = client.post("/api/v1/staff/proxy-grants", headers=clerk_h,
                         json={**_grant_body(client, clerk_h, elder_id, daughter_id), "scopes": ["view", "payout"]})
    assert payout.status_code == 201 and payout.json["status"] == "pending_approval"
    approve = f"/api/v1/staff/proxy-grants/{payout.json['id']}/approve"
    no_id = client.post(approve, headers=approver_h)
    assert no_id.status_code == 403 and no_id.json["error_code"] == "staff_id_number_missing"

    own = make_id_number(date(1979, 5, 5))
    set_id = _zerotrip(cfg, "staff", "set-id", "clerk9", input=f"{own}\n")
    assert set_id.exit_code == 0 and own not in set_id.output, set_id.output
    assert client.post("/api/v1/staff/proxy-grants", headers=headers, json=body).status_code == 201
    assert _zerotrip(cfg, "staff", "set-id", approver.username, "--id-number", make_id_number(date(1977, 7, 7))
                     ).exit_code == 0
    assert client.post(approve, headers=approver_h).json["status"] == "active"
    events = session.execute(select(AuditEvent).where(AuditEvent.action == "staff.set_id")).scalars().all()
    assert len(events) == 2 and own not in str(events[0].details)
    assert _zerotrip(cfg, "staff", "set-id", "nobody", "--id-number", own).exit_code == 2


def test_staff_never_handle_a_grant_of_their_own_registry_household(cfg, session, client):
    mother, _, mother_id = h.person(session, cfg, "钱母亲", household="H-Q")
    _, _, cousin_id = h.person(session, cfg, "钱表亲", household="H-OTHER")
    me, _ = make_resident(session, cfg, name="钱工作", birth_date=date(1980, 8, 8), household_id="H-Q",
                          phone="13700000001")
    my_number = cipher_for(cfg).decrypt(me.id_enc)
    # Added with her ID number only (no resident link given): the registry household is found by the hash.
    assert _zerotrip(cfg, "staff", "add", "--username", "qian", "--role", "approver", "--district", "140105",
                     "--password", PASSWORD, "--id-number", my_number).exit_code == 0
    headers = _staff_headers(session, cfg, client, "qian")
    own_mother = client.post("/api/v1/staff/proxy-grants", headers=headers,
                             json=_grant_body(client, headers, mother_id, cousin_id))
    assert own_mother.status_code == 403 and own_mother.json["error_code"] == "staff_self_involvement"
    herself = client.post("/api/v1/staff/proxy-grants", headers=headers,
                          json=_grant_body(client, headers, cousin_id, my_number))
    assert herself.status_code == 403 and herself.json["error_code"] == "staff_self_involvement"

    _, clerk_h = h.staff(session, cfg, "clerk", "140105")
    pending = client.post("/api/v1/staff/proxy-grants", headers=clerk_h,
                          json={**_grant_body(client, clerk_h, mother_id, cousin_id), "scopes": ["view", "payout"]})
    assert pending.status_code == 201
    approve = client.post(f"/api/v1/staff/proxy-grants/{pending.json['id']}/approve", headers=headers)
    assert approve.status_code == 403 and approve.json["error_code"] == "staff_self_involvement"


def test_a_view_only_proxy_cannot_rate_on_someones_behalf(cfg, session, client, caplog):
    elder, _, _ = h.person(session, cfg, "孙老伯")
    viewer, viewer_acc, _ = h.person(session, cfg, "孙看看")
    helper, helper_acc, _ = h.person(session, cfg, "孙帮忙")
    h.grant(session, elder, viewer_acc, viewer, scopes=("view",))
    h.grant(session, elder, helper_acc, helper, scopes=("view", "confirm"))
    ended = h.application(session, elder, state="approved")
    path = f"/api/v1/applications/{ended.id}/rating"
    caplog.set_level(logging.WARNING, logger="zerotrip.security")
    refused = client.post(path, json={"level": 1}, headers=h.headers_for(session, cfg, viewer_acc))
    assert refused.status_code == 403
    assert sum("rule=proxy_scope" in r.getMessage() for r in caplog.records) == 1
    assert session.execute(select(ServiceRating)).first() is None
    rated = client.post(path, json={"level": 4}, headers=h.headers_for(session, cfg, helper_acc))
    assert rated.status_code == 201, rated.json
