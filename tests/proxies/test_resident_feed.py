"""Issue 9 item 5: every read of a resident's record or case by a proxy or a staff member is an audit event, and
the resident sees them all in one feed, GET /api/v1/me/activity (proxies by masked name, staff by office and
purpose, never a staff member's name); GET /api/v1/proxies/activity is a filter on it."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from app.models import AuditEvent, Benefit, StaffMember
from tests.authz import helpers as h


def _world(session, cfg):
    mother, mother_acc, _ = h.person(session, cfg, "刘桂兰", birth=date(1940, 1, 1), household="H-M")
    neighbour, neighbour_acc, _ = h.person(session, cfg, "赵大妈", birth=date(1941, 1, 1), household="H-N")
    daughter, daughter_acc, _ = h.person(session, cfg, "张丽", birth=date(1970, 1, 1), household="H-D")
    grant = h.grant(session, mother, daughter_acc, daughter, scopes=("view", "confirm"))
    app_row = h.application(session, mother)
    benefit = Benefit(program="elderly_allowance", resident_id=mother.id, application_id=app_row.id, tier="80",
                      monthly_amount_fen=5000, start_month="2026-12", state="active")
    session.add(benefit)
    session.commit()
    task_m = h.task(session, mother, application_id=app_row.id)
    task_n = h.task(session, neighbour)
    staff, staff_h = h.staff(session, cfg, "reviewer", "140105", street="140105001")
    staff_row = session.get(StaffMember, staff.id)
    staff_row.display_name = "李科员"
    session.commit()
    return {"mother": mother, "mh": h.headers_for(session, cfg, mother_acc),
            "nh": h.headers_for(session, cfg, neighbour_acc), "dh": h.headers_for(session, cfg, daughter_acc),
            "grant": grant, "app": app_row, "benefit": benefit, "task_m": task_m, "task_n": task_n,
            "staff_h": staff_h}


def _feed(client, headers, **params) -> list[dict]:
    resp = client.get("/api/v1/me/activity", headers=headers, query_string={"page_size": 100, **params})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.json


def test_every_proxy_read_is_in_the_residents_feed_by_masked_name(client, session, cfg):
    w = _world(session, cfg)
    dh, app_id, benefit_id, grant_id = w["dh"], w["app"].id, w["benefit"].id, w["grant"].id
    reads = {
        "application.view": f"/api/v1/applications/{app_id}",
        "application.list": f"/api/v1/applications?subject={grant_id}",
        "benefit.list": f"/api/v1/benefits?subject={grant_id}",
        "benefit.payments_view": f"/api/v1/benefits/{benefit_id}/payments",
        "payout.account_view": f"/api/v1/benefits/{benefit_id}/payout-account",
    }
    for path in reads.values():
        assert client.get(path, headers=dh).status_code == 200, path
    # The owner's own reads are not "on her behalf": nothing recorded.
    for path in (f"/api/v1/applications/{app_id}", "/api/v1/applications", "/api/v1/benefits",
                 f"/api/v1/benefits/{benefit_id}/payments", f"/api/v1/benefits/{benefit_id}/payout-account"):
        assert client.get(path, headers=w["mh"]).status_code == 200, path

    feed = _feed(client, w["mh"])
    assert sorted(e["action"] for e in feed) == sorted(reads)
    assert {(e["actor_kind"], e["actor_name"], e["purpose"]) for e in feed} == {("proxy", "张*", "proxy")}
    listed = next(e for e in feed if e["action"] == "application.list")
    assert listed["object_ids"] == [app_id]
    assert next(e for e in feed if e["action"] == "benefit.list")["object_ids"] == [benefit_id]
    assert _feed(client, w["nh"]) == []  # nobody else sees it
    # /proxies/activity is the same feed filtered to proxies and staff.
    assert client.get("/api/v1/proxies/activity", headers=w["mh"],
                      query_string={"page_size": 100}).json == _feed(client, w["mh"], actor_kind=["proxy", "staff"])


def test_staff_reads_are_in_the_feed_by_office_and_purpose_never_by_name(client, session, cfg):
    w = _world(session, cfg)
    sh = w["staff_h"]
    assert client.get(f"/api/v1/staff/proxy-grants/{w['grant'].id}", headers=sh).status_code == 200
    assert client.get(f"/api/v1/staff/applications/{w['app'].id}", headers=sh).status_code == 200
    assert client.get(f"/api/v1/staff/tasks/{w['task_m'].id}", headers=sh).status_code == 200
    page = client.get("/api/v1/staff/tasks", headers=sh, query_string={"queue": "all"})
    assert page.status_code == 200 and {t["id"] for t in page.json} == {w["task_m"].id, w["task_n"].id}

    # A list page is ONE event naming the ids, in the feed of each resident it showed.
    session.expire_all()
    lists = session.execute(select(AuditEvent).where(AuditEvent.action == "staff.task_list")).scalars().all()
    assert len(lists) == 1 and set(lists[0].details["ids"]) == {w["task_m"].id, w["task_n"].id}

    resp = client.get("/api/v1/me/activity", headers=w["mh"], query_string={"page_size": 100})
    assert "李科员" not in resp.get_data(as_text=True)
    feed = resp.json
    assert [e["action"] for e in feed] == ["staff.task_list", "staff.task_view", "staff.application_view",
                                           "staff.proxy_grant_view"]
    assert {(e["actor_kind"], e["actor_name"], e["office"]) for e in feed} == {
        ("staff", "街道办事处 140105001", "街道办事处 140105001")}
    assert [e["purpose"] for e in feed] == ["casework", "casework", "case_review", "proxy_grant"]
    # The list event does not show the mother the neighbour's task id.
    assert feed[0]["object_ids"] == [] and feed[0]["object_id"] is None
    neighbour = _feed(client, w["nh"])
    assert [e["action"] for e in neighbour] == ["staff.task_list"]


def test_the_feed_is_paginated_like_the_other_lists(client, session, cfg):
    w = _world(session, cfg)
    for _ in range(3):
        assert client.get(f"/api/v1/applications/{w['app'].id}", headers=w["dh"]).status_code == 200
    resp = client.get("/api/v1/me/activity", headers=w["mh"], query_string={"page_size": 2, "page": 2})
    assert resp.status_code == 200 and len(resp.json) == 1
    assert json.loads(resp.headers["X-Pagination"])["total"] == 3
    bad = client.get("/api/v1/me/activity", headers=w["mh"], query_string={"actor_kind": "someone"})
    assert bad.status_code == 422


def test_a_case_page_read_is_in_every_household_members_feed_and_no_row_number_is_shown(client, session, cfg):
    """The case page shows the household (masked names, birth years, each member's economic check): the wife sees
    that read of her husband's case in her own feed, said as such. A staff look-up of a resident names her by a
    row number in the audit trail: the feed does not show it (object ids are random hex)."""
    husband, husband_acc, husband_id = h.person(session, cfg, "张德明", birth=date(1945, 1, 1), household="H-ZD")
    _, wife_acc, _ = h.person(session, cfg, "王桂兰", birth=date(1947, 1, 1), household="H-ZD")
    case = h.application(session, husband)
    _, sh = h.staff(session, cfg, "reviewer", "140105", street="140105001")
    assert client.get(f"/api/v1/staff/applications/{case.id}/case", headers=sh).status_code == 200
    assert client.post("/api/v1/staff/residents/lookup", headers=sh,
                       json={"id_number": husband_id, "purpose": "guardianship_grant"}).status_code == 200
    seen = _feed(client, h.headers_for(session, cfg, wife_acc))
    assert [(e["action"], e["what"]) for e in seen] == [
        ("staff.case_view", "查看了您的申请案件（您家庭成员的案件，其中有您的信息）")]
    assert seen[0]["object_id"] is None
    own = _feed(client, h.headers_for(session, cfg, husband_acc))
    assert [(e["action"], e["object_id"]) for e in own] == [("staff.resident_lookup", None),
                                                             ("staff.case_view", case.id)]
    session.expire_all()
    lookup = session.scalars(select(AuditEvent).where(AuditEvent.action == "staff.resident_lookup")).one()
    assert lookup.object_ref == f"resident:{husband.id}"  # what the feed must not repeat
