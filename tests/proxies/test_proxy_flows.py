"""Proxy grants in-process: a daughter in another household asks and her mother approves; staff record a
grant for a resident without a phone; invitations are single-use; requests reveal nothing."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from app.models import AuditEvent, OutboxMessage, ProxyGrant
from tests.authz import helpers as h


def test_daughter_in_another_household_asks_mother_approves_daughter_acts_within_scope(client, session, cfg):
    mother, mother_acc, mother_id = h.person(session, cfg, "刘桂兰", birth=date(1940, 1, 1), household="H-M")
    daughter, daughter_acc, _ = h.person(session, cfg, "张丽", birth=date(1970, 1, 1), household="H-D")
    mh, dh = h.headers_for(session, cfg, mother_acc), h.headers_for(session, cfg, daughter_acc)
    app_row = h.application(session, mother)

    # Unknown person and a wrong name get exactly the same answer as a match (one open request per ID number:
    # the wrong name comes from another requester).
    _, other_acc, _ = h.person(session, cfg, "李四", household="H-O")
    oh = h.headers_for(session, cfg, other_acc)
    answers = [client.post("/api/v1/proxies/requests", headers=headers, json=body) for headers, body in (
        (dh, {"name": "刘桂兰", "id_number": mother_id, "relation": "child", "scopes": ["view", "confirm"]}),
        (oh, {"name": "别人", "id_number": mother_id, "relation": "child"}),
        (dh, {"name": "刘桂兰", "id_number": h.person(session, cfg)[2][:-1] + "0", "relation": "child"}),
    )]
    assert [a.status_code for a in answers[:2]] == [202, 202]
    assert answers[0].json == answers[1].json
    assert client.get(f"/api/v1/applications/{app_row.id}", headers=dh).status_code == 404

    pending = client.get("/api/v1/proxies/grants", headers=mh).json
    assert [(g["role"], g["status"]) for g in pending] == [("principal", "requested")]
    assert client.post(f"/api/v1/proxies/grants/{pending[0]['id']}/confirm", headers=dh).status_code == 403
    confirmed = client.post(f"/api/v1/proxies/grants/{pending[0]['id']}/confirm", headers=mh)
    assert confirmed.status_code == 200 and confirmed.json["status"] == "active"
    grant_id = confirmed.json["id"]

    listed = client.get(f"/api/v1/applications?subject={grant_id}", headers=dh)
    assert [a["id"] for a in listed.json] == [app_row.id]
    assert client.post(f"/api/v1/applications/{app_row.id}/decline", headers=dh,
                       json={"reason": "not_needed"}).status_code == 403  # decline not in scope
    done = client.post(f"/api/v1/applications/{app_row.id}/confirm", headers=dh)
    assert done.status_code == 200 and done.json["confirmed_by_proxy"] == "张*"
    activity = client.get("/api/v1/proxies/activity", headers=mh).json
    assert activity[0]["action"] == "application.confirm" and activity[0]["actor_name"] == "张*"
    event = session.execute(select(AuditEvent).where(AuditEvent.action == "application.confirm")).scalar_one()
    assert event.actor == f"account:{daughter_acc.id}" and event.on_behalf_of == f"resident:{mother.id}"
    notices = session.execute(select(OutboxMessage.kind).where(OutboxMessage.resident_id == mother.id)).scalars()
    assert "proxy_granted" in set(notices)


def test_staff_record_a_grant_for_a_resident_without_a_phone(client, session, cfg):
    elder, _, elder_id = h.person(session, cfg, "赵老太", birth=date(1935, 5, 5))
    son, son_acc, son_id = h.person(session, cfg, "赵刚", district="140106", street="140106001",
                                    community="140106001001")
    son_h = h.headers_for(session, cfg, son_acc)
    app_row = h.application(session, elder)
    clerk, clerk_h = h.staff(session, cfg, "clerk", "140105")
    _, approver_h = h.staff(session, cfg, "approver", "140105")
    _, other_h = h.staff(session, cfg, "approver", "140106")

    def lookup(headers, number):
        return client.post("/api/v1/staff/residents/lookup", headers=headers,
                           json={"id_number": number, "purpose": "guardianship_grant"}).json["resident_ref"]

    body = {"resident_ref": lookup(clerk_h, elder_id), "proxy_ref": lookup(clerk_h, son_id),
            "basis": "written_authorisation", "document_ref": "委托书 2026-118", "place": "home_visit",
            "scopes": ["view", "confirm"]}
    # The son is in another district: only the principal must be in the clerk's jurisdiction.
    recorded = client.post("/api/v1/staff/proxy-grants", headers=clerk_h, json=body)
    assert recorded.status_code == 201 and recorded.json["status"] == "active"
    grant = session.get(ProxyGrant, recorded.json["id"])
    assert grant.evidence["checked_by"] == f"staff:{clerk.id}" and grant.evidence["place"] == "home_visit"

    assert client.post(f"/api/v1/applications/{app_row.id}/decline", headers=son_h,
                       json={"reason": "not_needed"}).status_code == 403
    assert client.post(f"/api/v1/applications/{app_row.id}/confirm", headers=son_h).status_code == 200

    # A payout scope needs a second staff member, in the jurisdiction, not the recorder.
    client.post(f"/api/v1/staff/proxy-grants/{grant.id}/revoke", headers=approver_h)
    payout = client.post("/api/v1/staff/proxy-grants", headers=clerk_h,
                         json={**body, "resident_ref": lookup(clerk_h, elder_id), "proxy_ref": lookup(clerk_h, son_id),
                               "scopes": ["view", "payout"]})
    assert payout.status_code == 201 and payout.json["status"] == "pending_approval"
    gid = payout.json["id"]

    def waiting(headers):  # the grant's approval in the maker-checker list: only within the principal's district
        answer = client.get("/api/v1/staff/approvals", headers=headers, query_string={"kind": "proxy_grant"})
        assert answer.status_code == 200, answer.json
        return [a["subject_ref"] for a in answer.json]

    assert waiting(approver_h) == [f"grant:{gid}"] and waiting(other_h) == []
    assert client.post(f"/api/v1/staff/proxy-grants/{gid}/approve", headers=clerk_h).status_code == 403
    assert client.post(f"/api/v1/staff/proxy-grants/{gid}/approve", headers=other_h).status_code == 404
    approved = client.post(f"/api/v1/staff/proxy-grants/{gid}/approve", headers=approver_h)
    assert approved.status_code == 200 and approved.json["status"] == "active"


def test_staff_never_record_a_grant_for_themselves(client, session, cfg):
    elder, _, elder_id = h.person(session, cfg, "钱老伯")
    me, _, my_id = h.person(session, cfg, "钱工作")
    _, headers = h.staff(session, cfg, "clerk", "140105", resident_id=me.id)
    refs = [client.post("/api/v1/staff/residents/lookup", headers=headers,
                        json={"id_number": n, "purpose": "guardianship_grant"}).json["resident_ref"]
            for n in (elder_id, my_id)]
    resp = client.post("/api/v1/staff/proxy-grants", headers=headers, json={
        "resident_ref": refs[0], "proxy_ref": refs[1], "basis": "guardianship", "document_ref": "x",
        "place": "office"})
    assert resp.status_code == 403


def test_invitation_is_single_use_and_sensitive_scopes_wait_for_the_resident(client, session, cfg):
    father, father_acc, _ = h.person(session, cfg, "孙父", household="H-S")
    daughter, daughter_acc, _ = h.person(session, cfg, "孙女", household="H-S")
    _, other_acc, _ = h.person(session, cfg, "外人")
    fh, dh = h.headers_for(session, cfg, father_acc), h.headers_for(session, cfg, daughter_acc)
    inv = client.post("/api/v1/proxies/invitations", headers=fh, json={"scopes": ["view", "payout"]})
    assert inv.status_code == 201 and inv.json["qr_png"]
    assert client.post("/api/v1/proxies/invitations", headers=fh, json={"owner_id": "x"}).status_code == 422
    accepted = client.post("/api/v1/proxies/invitations/accept", headers=dh, json={"token": inv.json["token"]})
    assert accepted.status_code == 200 and accepted.json["status"] == "pending_principal"  # payout: never automatic
    again = client.post("/api/v1/proxies/invitations/accept", headers=h.headers_for(session, cfg, other_acc),
                        json={"token": inv.json["token"]})
    assert again.status_code == 404


def test_an_empty_scope_list_is_the_narrowest_grant_not_the_default(client, session, cfg):
    father, father_acc, _ = h.person(session, cfg, "吴大爷", household="H-F")
    fh = h.headers_for(session, cfg, father_acc)
    made = client.post("/api/v1/proxies/invitations", headers=fh, json={"scopes": []})
    assert made.status_code == 201 and made.json["scopes"] == ["view"], made.json
    default = client.post("/api/v1/proxies/invitations", headers=fh, json={})
    assert default.json["scopes"] == ["view", "confirm", "decline", "receive_messages"]

    _, daughter_acc, _ = h.person(session, cfg, "殷瑞宁", household="H-D")
    grant = h.grant(session, father, daughter_acc, session.get(type(father), daughter_acc.resident_id),
                    ("view", "confirm", "decline"), status="pending_principal")
    narrowed = client.post(f"/api/v1/proxies/grants/{grant.id}/confirm", headers=fh, json={"scopes": []})
    assert narrowed.status_code == 200 and narrowed.json["scopes"] == ["view"], narrowed.json


def test_a_repeated_confirmation_changes_nothing_and_other_scopes_are_refused(client, session, cfg):
    father, father_acc, _ = h.person(session, cfg, "吴大爷", household="H-F")
    daughter, daughter_acc, _ = h.person(session, cfg, "殷瑞宁", household="H-D")
    fh = h.headers_for(session, cfg, father_acc)
    grant = h.grant(session, father, daughter_acc, daughter, ("view", "confirm"), status="pending_principal")
    for _ in range(3):
        again = client.post(f"/api/v1/proxies/grants/{grant.id}/confirm", headers=fh)
        assert again.status_code == 200 and again.json["status"] == "active"
    same = client.post(f"/api/v1/proxies/grants/{grant.id}/confirm", headers=fh, json={"scopes": ["confirm"]})
    assert same.status_code == 200  # the scopes it has: a repeat
    other = client.post(f"/api/v1/proxies/grants/{grant.id}/confirm", headers=fh, json={"scopes": ["view"]})
    assert other.status_code == 409 and other.json["error_code"] == "grant_not_pending", other.json
    assert "revoke" in other.json["message"]
    session.expire_all()
    assert session.get(ProxyGrant, grant.id).scopes == ["view", "confirm"]
    confirms = session.scalars(select(AuditEvent).where(AuditEvent.action == "proxy.grant_confirm")).all()
    assert len(confirms) == 1
    for _ in range(2):
        assert client.post(f"/api/v1/proxies/grants/{grant.id}/revoke", headers=fh).status_code == 200
    assert len(session.scalars(select(AuditEvent).where(AuditEvent.action == "proxy.grant_revoke")).all()) == 1


def test_a_proxy_is_offered_only_the_actions_her_grant_covers(client, session, cfg):
    father, father_acc, _ = h.person(session, cfg, "吴大爷", household="H-F")
    daughter, daughter_acc, _ = h.person(session, cfg, "殷瑞宁", household="H-D")
    son, son_acc, _ = h.person(session, cfg, "吴小弟", household="H-S")
    app_row = h.application(session, father)
    h.grant(session, father, daughter_acc, daughter, ("view",))
    son_grant = h.grant(session, father, son_acc, son, ("view", "confirm"))
    dh, sh = h.headers_for(session, cfg, daughter_acc), h.headers_for(session, cfg, son_acc)
    assert client.get(f"/api/v1/applications/{app_row.id}", headers=h.headers_for(session, cfg, father_acc)
                      ).json["actions"] == ["confirm", "decline"]
    assert client.get(f"/api/v1/applications/{app_row.id}", headers=dh).json["actions"] == []
    assert client.get(f"/api/v1/applications/{app_row.id}", headers=sh).json["actions"] == ["confirm"]
    listed = client.get(f"/api/v1/applications?subject={son_grant.id}", headers=sh).json
    assert [a["actions"] for a in listed] == [["confirm"]]


def test_the_resident_sees_a_grant_suspended_while_the_proxy_has_unbound(client, session, cfg):
    father, father_acc, _ = h.person(session, cfg, "吴大爷", household="H-F")
    daughter, daughter_acc, _ = h.person(session, cfg, "殷瑞宁", household="H-D")
    grant = h.grant(session, father, daughter_acc, daughter, ("view",))
    fh, dh = h.headers_for(session, cfg, father_acc), h.headers_for(session, cfg, daughter_acc)
    assert client.get(f"/api/v1/proxies/grants/{grant.id}", headers=fh).json["live"] is True
    assert client.delete("/api/v1/me/identity", headers=dh).status_code in (200, 204)
    shown = client.get(f"/api/v1/proxies/grants/{grant.id}", headers=fh).json
    assert (shown["status"], shown["live"]) == ("suspended", False), shown
    assert client.post(f"/api/v1/proxies/grants/{grant.id}/revoke", headers=fh).json["status"] == "revoked"


def test_a_proxy_who_manages_proxies_finds_the_resident_s_other_grants(client, session, cfg):
    father, father_acc, _ = h.person(session, cfg, "吴大爷", household="H-F")
    daughter, daughter_acc, _ = h.person(session, cfg, "殷瑞宁", household="H-D")
    son, son_acc, _ = h.person(session, cfg, "吴小弟", household="H-S")
    h.grant(session, father, daughter_acc, daughter, ("view", "manage_proxies"))
    sons = h.grant(session, father, son_acc, son, ("view", "confirm"), status="pending_principal")
    listed = client.get("/api/v1/proxies/grants", headers=h.headers_for(session, cfg, daughter_acc)).json
    assert {(g["id"], g["role"]) for g in listed if g["id"] == sons.id} == {(sons.id, "manager")}
    confirmed = client.post(f"/api/v1/proxies/grants/{sons.id}/confirm",
                            headers=h.headers_for(session, cfg, daughter_acc))
    assert confirmed.status_code == 200 and confirmed.json["status"] == "active"
    # a proxy without manage_proxies sees only her own grant
    only = client.get("/api/v1/proxies/grants", headers=h.headers_for(session, cfg, son_acc)).json
    assert [g["id"] for g in only] == [sons.id]


def test_a_request_naming_nobody_visible_is_refused_before_it_holds_the_id_number(session, cfg, client):
    """Found by a probe: a name of one zero-width space was taken (202), and the requester's corrected request
    was then refused for 7 days (one open request per ID number). Such names are a 422 now."""
    _, mother_acc, mother_id = h.person(session, cfg, "刘桂兰", birth=date(1940, 1, 1), household="H-M")
    _, daughter_acc, _ = h.person(session, cfg, "张丽", birth=date(1970, 1, 1), household="H-D")
    dh = h.headers_for(session, cfg, daughter_acc)
    for name in ("\u200b", "\u3164\u3164", "刘\u202e桂兰", " "):
        refused = client.post("/api/v1/proxies/requests", headers=dh,
                              json={"name": name, "id_number": mother_id, "relation": "child"})
        assert refused.status_code == 422 and "name" in refused.json["errors"]["json"], (name, refused.json)
    assert client.post("/api/v1/proxies/requests", headers=dh,
                       json={"name": "刘桂兰", "id_number": mother_id, "relation": "child"}).status_code == 202


def test_confirming_a_grant_that_ran_out_is_refused_not_taken_for_a_repeat(session, cfg, client):
    """Found by a probe: a grant past its end still stored as active answered a confirmation 200 (a repeat
    confirmation); it is 409 grant_not_pending, as for any grant no longer pending, and nothing changes."""
    from datetime import timedelta

    from app.models import ProxyGrant

    mother, mother_acc, _ = h.person(session, cfg, "刘桂兰", birth=date(1940, 1, 1), household="H-M")
    daughter, daughter_acc, _ = h.person(session, cfg, "张丽", birth=date(1970, 1, 1), household="H-D")
    ran_out = h.grant(session, mother, daughter_acc, daughter, expires_in=timedelta(minutes=-5))
    answer = client.post(f"/api/v1/proxies/grants/{ran_out.id}/confirm", headers=h.headers_for(session, cfg, mother_acc))
    assert answer.status_code == 409 and answer.json["error_code"] == "grant_not_pending", answer.json
    session.expire_all()
    assert session.get(ProxyGrant, ran_out.id).activated_at == ran_out.activated_at


def test_a_requester_withdraws_her_pending_request_and_may_ask_again_at_once(session, cfg, client):
    """Found by a probe: a mistyped request held the requester's one open request for that ID number for 7 days
    and could not be taken back. Withdrawing frees it, withdraws the grant it left the person asked, and answers
    the same whether or not anything matched; only the requester may."""
    _, mother_acc, mother_id = h.person(session, cfg, "刘桂兰", birth=date(1940, 1, 1), household="H-M")
    _, daughter_acc, _ = h.person(session, cfg, "张丽", birth=date(1970, 1, 1), household="H-D")
    _, other_acc, _ = h.person(session, cfg, "李四", household="H-O")
    mh, dh, oh = (h.headers_for(session, cfg, a) for a in (mother_acc, daughter_acc, other_acc))

    def ask(name):
        return client.post("/api/v1/proxies/requests", headers=dh,
                           json={"name": name, "id_number": mother_id, "relation": "child"})

    def mine():
        return [g for g in client.get("/api/v1/proxies/grants", headers=dh).json if g["role"] == "proxy"]

    assert ask("刘桂芳").status_code == 202  # a typo: matches nobody
    typo = mine()[0]
    assert ask("刘桂兰").status_code == 409  # one open request per ID number
    assert client.post(f"/api/v1/proxies/requests/{typo['id']}/withdraw", headers=oh).status_code == 404
    gone = client.post(f"/api/v1/proxies/requests/{typo['id']}/withdraw", headers=dh)
    assert gone.status_code == 200 and gone.json["status"] == "withdrawn", gone.json
    assert client.post(f"/api/v1/proxies/requests/{typo['id']}/withdraw", headers=dh).json["status"] == "withdrawn"

    assert ask("刘桂兰").status_code == 202  # at once
    right = next(g for g in mine() if g["status"] == "pending")
    asked = client.get("/api/v1/proxies/grants", headers=mh).json
    assert [(g["role"], g["status"]) for g in asked] == [("principal", "requested")]
    withdrawn = client.post(f"/api/v1/proxies/requests/{right['id']}/withdraw", headers=dh)
    assert withdrawn.status_code == 200 and withdrawn.json == {**right, "status": "withdrawn"} | {
        k: withdrawn.json[k] for k in ("expires_at",)}
    late = client.post(f"/api/v1/proxies/grants/{asked[0]['id']}/confirm", headers=mh)
    assert late.status_code == 409 and late.json["error_code"] == "grant_not_pending"

    assert ask("刘桂兰").status_code == 202
    third = next(g for g in mine() if g["status"] == "pending")
    pending = [g for g in client.get("/api/v1/proxies/grants", headers=mh).json if g["status"] == "requested"]
    assert client.post(f"/api/v1/proxies/grants/{pending[0]['id']}/confirm", headers=mh).status_code == 200
    accepted = client.post(f"/api/v1/proxies/requests/{third['id']}/withdraw", headers=dh)
    assert accepted.status_code == 409 and accepted.json["error_code"] == "proxy_request_accepted"
