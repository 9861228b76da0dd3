"""The authorization matrix: every route that takes an object id × every kind of caller.

Callers: owner, stranger, proxy in scope, proxy out of scope (view only), revoked proxy, expired proxy,
staff of this district, staff of another district, no token. The test fails when an id-bearing route is
added without being listed here. The staff callers beyond these two (another street, a community worker outside
her community, supervisors and admins deciding a case, a relative of the applicant, the maker checking her own
work) are in tests/authz/test_staff_matrix.py, which requires a row there for every staff route here.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from app.db import utcnow
from app.models import (
    Appeal,
    Application,
    Approval,
    Benefit,
    BenefitChange,
    CounterVisit,
    InboxItem,
    Objection,
    ProxyRequest,
    PublicNotice,
)
from flows import visit_files
from flows.dates import today_shanghai
from flows.programs.dibao.cases import HOME_VISIT_CHECKLIST
from tests.authz import helpers as h
from tests.visits import image_bytes

ROLES = ("owner", "stranger", "proxy_in", "proxy_out", "revoked", "expired", "staff_here", "staff_there", "none")
# A proxy who unbound her identity (issue 9 item 2): her grant is suspended; she gets what a revoked proxy gets.
EXTRA_ROLES = {"unbound": "revoked"}

# Public catalogue entries, not objects of anyone: no authorization to test.
# Public notices (公示) are public by law: any signed-in citizen may object to one (no owner, no grant).
PUBLIC = {("GET", "/api/v1/programs/<string:code>"),
          # Applying for a program (a code from the public catalogue) is for oneself: the applicant is the caller
          # (tests/dibao/test_dibao_flow.py), no one else's object is named.
          ("POST", "/api/v1/programs/<string:code>/applications"),
          ("POST", "/api/v1/public-notices/<string:notice_id>/objections"),
          # A proof's online status by its certificate id (128 random bits) is public and holds no personal data
          # (tests/proofs/test_proof_api.py checks what it says).
          ("GET", "/api/v1/proofs/<string:certificate_id>/status")}

# (method, rule) → (object key, body, expected status per role in ROLES order)
CITIZEN_APP = {"owner": 200, "stranger": 404, "proxy_in": 200, "proxy_out": 403, "revoked": 403, "expired": 403,
               "staff_here": 401, "staff_there": 401, "none": 401}
A = "/api/v1/applications/<string:application_id>"
G = "/api/v1/proxies/grants/<string:grant_id>"
SG = "/api/v1/staff/proxy-grants/<string:grant_id>"
T = "/api/v1/staff/tasks/<string:task_id>"
SA = "/api/v1/staff/applications/<string:application_id>"
B = "/api/v1/benefits/<string:benefit_id>"
AP = "/api/v1/staff/approvals/<string:approval_id>"
CV = "/api/v1/staff/counter/visits/<string:visit_id>"
STAFF = {"owner": 401, "stranger": 401, "proxy_in": 401, "proxy_out": 401, "revoked": 401, "expired": 401,
         "staff_here": 200, "staff_there": 404, "none": 401}
GRANT_OTHERS = {"stranger": 404, "proxy_out": 404, "revoked": 404, "expired": 404, "staff_here": 401,
                "staff_there": 401, "none": 401}

MATRIX = {
    ("GET", A): ("application", None, {**CITIZEN_APP, "proxy_out": 200}),
    ("POST", A + "/confirm"): ("application", None, CITIZEN_APP),
    ("POST", A + "/decline"): ("application", {"reason": "not_needed"}, CITIZEN_APP),
    ("POST", A + "/reopen"): ("application", None, CITIZEN_APP),
    # Ratings: the case has not ended (409) / not rated yet (404) once authorization has passed.
    ("GET", A + "/rating"): ("application", None, {**CITIZEN_APP, "owner": 404, "proxy_in": 404, "proxy_out": 404}),
    # Rating on someone's behalf needs `confirm` (issue 9 item 7): the view-only proxy_out gets 403.
    ("POST", A + "/rating"): ("application", {"level": 5}, {**CITIZEN_APP, "owner": 409, "proxy_in": 409}),
    ("GET", "/api/v1/benefits/<string:benefit_id>/payments"): ("benefit", None, {**CITIZEN_APP, "proxy_out": 200}),
    ("GET", G): ("grant", None, {"owner": 200, "proxy_in": 200, **GRANT_OTHERS}),
    ("POST", G + "/confirm"): ("grant", None, {"owner": 200, "proxy_in": 403, **GRANT_OTHERS}),
    ("POST", G + "/decline"): ("grant", None, {"owner": 409, "proxy_in": 403, **GRANT_OTHERS}),
    ("POST", G + "/revoke"): ("grant", None, {"owner": 200, "proxy_in": 200, **GRANT_OTHERS}),
    # A proxy request (the world's owner asked to help someone): only its requester withdraws it, not even her
    # own proxies on her behalf.
    ("POST", "/api/v1/proxies/requests/<string:request_id>/withdraw"): (
        "proxy_request", None, {"owner": 200, "proxy_in": 404, **GRANT_OTHERS}),
    ("POST", "/api/v1/inbox/<string:item_id>/read"): (
        "inbox", None, {**CITIZEN_APP, "proxy_in": 404, "proxy_out": 404, "revoked": 404, "expired": 404}),
    # Maker-checker approvals (flows.approvals): a reviewer may not approve a parameter change (admin), and
    # only its maker withdraws it.
    ("POST", AP + "/approve"): ("approval", None, {**STAFF, "staff_here": 403, "staff_there": 403}),
    ("POST", AP + "/withdraw"): ("approval", None, {**STAFF, "staff_here": 403, "staff_there": 403}),
    ("GET", T): ("task", None, STAFF),
    ("POST", T + "/decide"): ("task", {"decision": "done", "reason": "checked at home"}, STAFF),
    # a benefit's re-check after new income data (flows.lifecycle.income): the world's task is a home-help task,
    # not a re-check (409) once role and jurisdiction have passed
    ("POST", T + "/recheck"): ("task", {"outcome": "confirm", "reason": "收入核实无误"}, {**STAFF, "staff_here": 409}),
    ("GET", "/api/v1/staff/applications/<string:application_id>"): ("application", None, STAFF),
    ("GET", SG): ("grant", None, STAFF),
    ("POST", SG + "/approve"): ("grant", None, {**STAFF, "staff_here": 403}),  # reviewer < approver
    ("POST", SG + "/revoke"): ("grant", None, STAFF),
    # Programs casework (app/api/staff_programs.py): the elderly-allowance proposal is in no staff step (409)
    # once role and jurisdiction have passed; county approval needs the approver role (the world's staff are
    # reviewers, 403); the objection is decided once (200).
    ("POST", SA + "/review"): ("application", {"decision": "approve", "reason": "核对无误"}, {**STAFF, "staff_here": 409}),
    # the approval step of a reviewed program needs a district approver (the world's staff are reviewers, 403);
    # approving one's own review is 403 too (tests/staff_programs/test_staff_programs.py)
    ("POST", SA + "/approve"): ("application", {"decision": "approve", "reason": "核对无误"},
                                {**STAFF, "staff_here": 403}),
    ("POST", SA + "/home-visit"): ("application", {
        "client_id": "matrix-visit-1", "checklist": dict.fromkeys(HOME_VISIT_CHECKLIST, True),
        "second_investigator": "x" * 32, "household_signer": "self",
        "signatures": {"investigator_1": "a" * 32, "investigator_2": "b" * 32, "household": "c" * 32}},
        {**STAFF, "staff_here": 409}),
    # Home-visit photos and signatures: an empty upload is 422 once authorization has passed; a stored photo is
    # shown to staff who may see the case.
    ("POST", SA + "/visit-files"): ("application", None, {**STAFF, "staff_here": 422}),
    ("GET", "/api/v1/staff/visit-files/<string:file_id>"): ("visit_file", None, STAFF),
    # the world's application is not a 低保 case with an open time limit: 409 once authorization has passed
    ("POST", SA + "/extend"): ("application", {"reason": "需补充核查收入"}, {**STAFF, "staff_here": 409}),
    ("POST", SA + "/street-review"): ("application", {"decision": "approve", "reason": "核对无误"},
                                      {**STAFF, "staff_here": 409}),
    ("POST", SA + "/county-decision"): ("application", {"decision": "approve", "reason": "核对无误"},
                                        {**STAFF, "staff_here": 403}),
    ("POST", "/api/v1/staff/objections/<string:objection_id>/decide"): (
        "objection", {"decision": "dismissed", "reason": "经核实不成立"}, STAFF),
    # the objection's page on the workbench (issue 12 item 7): its words, its notice and case, never the objector
    ("GET", "/api/v1/staff/objections/<string:objection_id>"): ("objection", None, STAFF),
    ("POST", T + "/home-help"): ("task", {"outcome": "confirmed"}, {**STAFF, "staff_here": 409}),
    # Payout account: reading is like the payments; a change needs the payout scope (the world's proxy lacks it).
    ("GET", B + "/payout-account"): ("benefit", None, {**CITIZEN_APP, "proxy_out": 200}),
    ("PUT", B + "/payout-account"): ("benefit", {"kind": "bank_account", "bank_name": "中国工商银行",
                                                 "account_number": "6222020200112233446", "holder_name": "王大爷"},
                                     {**CITIZEN_APP, "proxy_in": 403}),
    # Proof of a benefit (issue 15 item 2): whoever may view the benefit may obtain its proof (a proxy needs
    # `view`); a clerk prints one in her jurisdiction. Each is a new code (201).
    ("POST", B + "/proof"): ("benefit", None, {**CITIZEN_APP, "owner": 201, "proxy_in": 201, "proxy_out": 201}),
    ("POST", "/api/v1/staff/benefits/<string:benefit_id>/proof"): ("benefit", None, {**STAFF, "staff_here": 201}),
    # Workbench (issue 12; every role in tests/staff/test_workbench_api.py): the reviewer claims a task of her
    # jurisdiction; releasing one she has not claimed is 409; reassigning needs a supervisor (403); staff
    # accounts need an admin (403 for the world's reviewers, before any look-up).
    ("POST", T + "/claim"): ("task", None, STAFF),
    # The case page, a reveal with a purpose (audited into the resident's feed), the decision letter (the
    # world's application is not decided: 409 once authorization has passed).
    (("GET", SA + "/case")): ("application", None, STAFF),
    ("POST", SA + "/reveal"): ("application", {"field": "id_number", "purpose": "application_review"}, STAFF),
    ("GET", SA + "/decision-letter"): ("application", None, {**STAFF, "staff_here": 409}),
    # Letters (送达, flows.letters): a stopped benefit's letter; recording a decided case's letter as sent (once:
    # the world's reviewer records it, 201).
    ("GET", "/api/v1/staff/stops/<string:change_id>/letter"): ("stop", None, STAFF),
    ("POST", "/api/v1/staff/letters/<string:letter_id>/sent"): ("letter", {"method": "in_person"},
                                                                 {**STAFF, "staff_here": 201}),
    # The monthly roll is the city's (no jurisdiction): any staff member reads its state; a supervisor signs it off.
    ("GET", "/api/v1/staff/payroll/<string:month>"): ("month", None, {**STAFF, "staff_there": 200}),
    ("POST", "/api/v1/staff/payroll/<string:month>/sign-off"): ("month", {"note": "已核对"},
                                                                 {**STAFF, "staff_here": 403, "staff_there": 403}),
    ("POST", T + "/release"): ("task", None, {**STAFF, "staff_here": 409}),
    ("POST", T + "/reassign"): ("task", {"staff_id": None, "reason": "休假"}, {**STAFF, "staff_here": 403}),
    # The counter (帮办): a visit is the resident's trip, in the jurisdiction of her address.
    ("GET", CV): ("visit", None, STAFF),
    ("GET", CV + "/receipt"): ("visit", None, STAFF),
    # a reviewer serves at the counter; without the consent file → 422 once authorization has passed
    ("POST", CV + "/confirm"): ("visit", None, {**STAFF, "staff_here": 422}),
    # starting her application: without the program and her consent → 422 once authorization has passed
    ("POST", CV + "/applications"): ("visit", None, {**STAFF, "staff_here": 422}),
    # her appeal (复核) at the counter: without the decision, the reason and her consent → 422 once authorization
    # has passed (tests/counter/test_counter_appeal.py for the rest)
    ("POST", CV + "/appeals"): ("visit", None, {**STAFF, "staff_here": 422}),
    ("PATCH", "/api/v1/staff/accounts/<string:staff_id>"): ("staff", {"role": "clerk"},
                                                             {**STAFF, "staff_here": 403, "staff_there": 403}),
    ("POST", "/api/v1/staff/accounts/<string:staff_id>/disable"): ("staff", None,
                                                                    {**STAFF, "staff_here": 403, "staff_there": 403}),
    ("POST", "/api/v1/staff/accounts/<string:staff_id>/reset-password"): (
        "staff", {"password": "a temporary secret"}, {**STAFF, "staff_here": 403, "staff_there": 403}),
    # Appeals (复核, issue 13): seen by whoever may view the decision; withdrawn by the owner or a proxy with
    # `confirm` (again: the same answer); decided by a reviewer of the jurisdiction (the original decider's 403:
    # tests/authz/test_staff_matrix.py).
    # Exchange clients (issue 14 item 1): a district admin's; the world's reviewers are refused before any look-up.
    ("POST", "/api/v1/staff/exchange/clients/<string:client_id>/keys"): (
        "exchange", {"public_key": "AAAA"}, {**STAFF, "staff_here": 403, "staff_there": 403}),
    ("POST", "/api/v1/staff/exchange/clients/<string:client_id>/keys/<string:key_id>/revoke"): (
        "exchange", None, {**STAFF, "staff_here": 403, "staff_there": 403}),
    ("GET", "/api/v1/appeals/<string:appeal_id>"): ("appeal", None, {**CITIZEN_APP, "proxy_out": 200}),
    ("POST", "/api/v1/appeals/<string:appeal_id>/withdraw"): ("appeal", None, CITIZEN_APP),
    ("GET", "/api/v1/staff/appeals/<string:appeal_id>"): ("appeal", None, STAFF),
    ("POST", "/api/v1/staff/appeals/<string:appeal_id>/decision"): (
        "appeal", {"outcome": "rejected", "reason": "经复核，原决定认定事实清楚。"}, STAFF),
}

# Routes naming their object in the body (issue 13): filing an appeal on a stranger's decision → 404, like any
# id-bearing route; the world's decision is appealed already (409 once authorization has passed). The staff side
# (an appeal at the counter, bulk work) is in tests/authz/test_staff_matrix.py.
BODY_MATRIX = {
    ("POST", "/api/v1/appeals"): (lambda o: {"application_id": o["decided"], "reason_code": "facts_wrong"},
                                  {**CITIZEN_APP, "owner": 409, "proxy_in": 409}),
}


def id_routes(app) -> set[tuple[str, str]]:
    out = set()
    for rule in app.url_map.iter_rules():
        if rule.arguments and rule.rule.startswith("/api/"):
            for method in rule.methods - {"HEAD", "OPTIONS"}:
                out.add((method, rule.rule))
    return out


def test_every_id_route_is_in_the_matrix(app):
    routes = id_routes(app) - PUBLIC
    assert routes - set(MATRIX) == set(), "add these id-bearing routes to the authorization matrix"
    assert set(MATRIX) - routes == set(), "these matrix rows no longer exist"


@pytest.fixture
def world(session, cfg):
    owner, owner_acc, _ = h.person(session, cfg, "王大爷", sex="M")
    _, stranger_acc, _ = h.person(session, cfg, "陌生人")
    accounts = {"owner": owner_acc, "stranger": stranger_acc}
    grants = {}
    for role, kw in {"proxy_in": {}, "proxy_out": {"scopes": ("view",)}, "revoked": {"revoked": True},
                     "expired": {"expires_in": -timedelta(hours=1)}, "unbound": {}}.items():
        resident, account, _ = h.person(session, cfg, "王" + role[:2])
        grants[role] = h.grant(session, owner, account, resident, **kw)
        accounts[role] = account
    accounts["unbound"].resident_id = None  # DELETE /api/v1/me/identity (tests/api/test_proxy_person.py)
    app_row = h.application(session, owner)
    benefit = Benefit(program="elderly_allowance", resident_id=owner.id, application_id=app_row.id, tier="80",
                      monthly_amount_fen=5000, start_month="2026-12", state="active")
    session.add(benefit)
    ended = Benefit(program="elderly_allowance", resident_id=owner.id, tier="80", monthly_amount_fen=5000,
                    start_month="2026-01", end_month="2026-06", state="stopped")
    session.add(ended)
    session.flush()
    stop = BenefitChange(benefit_id=ended.id, change_key="stop", kind="stopped", effective_month="2026-07",
                         reason="moved_out", as_of=today_shanghai() - timedelta(days=2), trace=[])
    session.add(stop)
    task = h.task(session, owner, application_id=app_row.id)
    item = InboxItem(outbox_id="o" * 32, resident_id=owner.id, account_id=owner_acc.id, kind="proposal_ready",
                     title="t", body="b", recipient_key=f"account:{owner_acc.id}")
    session.add(item)
    today = today_shanghai()
    notice = PublicNotice(application_id=app_row.id, program="dibao", street_code=owner.street_code,
                          masked_name="王*爷", amount_fen=30000, starts_on=today - timedelta(days=1),
                          ends_on=today + timedelta(days=5))
    session.add(notice)
    session.flush()
    objection = Objection(notice_id=notice.id, account_id=stranger_acc.id, text="他家有收入未申报", state="open")
    session.add(objection)
    approval = Approval(kind="parameter_change", subject_ref="param:elderly_allowance:minimum_age", maker="staff:x",
                        payload={"program": "elderly_allowance", "key": "minimum_age", "value": 75, "raw": "75",
                                 "from": "2027-01"}, state="pending")
    session.add(approval)
    decided = Application(program="elderly_allowance", resident_id=owner.id, period="2026-10", state="rejected",
                          as_of=today - timedelta(days=40), prefill={}, trace=[], decided_at=utcnow())
    session.add(decided)
    session.flush()
    appeal = Appeal(decision_key=f"application:{decided.id}", application_id=decided.id, resident_id=owner.id,
                    program="elderly_allowance", decided_on=today, reason_code="facts_wrong", comment="",
                    filed_by=f"account:{owner_acc.id}", filed_via="owner", state="received",
                    due_on=today + timedelta(days=28))
    session.add(appeal)
    photo = visit_files.store(session, cfg.instance_path, app_row, "photo", image_bytes("JPEG"), "test")
    visit = CounterVisit(resident_id=owner.id, staff_id="x", office_code=owner.street_code,
                         district_code=owner.district_code, street_code=owner.street_code,
                         community_code=owner.community_code, source="typed", visited_on=today, actions=[])
    session.add(visit)
    asked = ProxyRequest(requester_account_id=owner_acc.id, requester_resident_id=owner.id, target_id_hash="a" * 64,
                         name_masked="李*", relation="child", scopes=["view"], programs=[], open_key=f"{owner.id}:a",
                         created_at=utcnow(), expires_at=utcnow() + timedelta(days=7))
    session.add(asked)
    session.commit()
    headers = {role: h.headers_for(session, cfg, acc) for role, acc in accounts.items()}
    _, headers["staff_here"] = h.staff(session, cfg, "reviewer", "140105")
    _, headers["staff_there"] = h.staff(session, cfg, "reviewer", "140106")
    headers["none"] = {}
    colleague, _ = h.staff(session, cfg, "clerk", "140105")
    objects = {"month": "2026-11", "staff": colleague.id, "application": app_row.id, "grant": grants["proxy_in"].id, "task": task.id, "inbox": item.id, "benefit": benefit.id,
               "objection": objection.id, "approval": approval.id, "appeal": appeal.id,
               "visit_file": photo.id, "visit": visit.id, "exchange": "ybj", "stop": stop.id, "letter": decided.id,
               "decided": decided.id, "proxy_request": asked.id}
    return headers, objects


def _path(rule: str, object_id: str) -> str:
    import re

    return re.sub(r"<[^>]+>", object_id, rule)


@pytest.mark.parametrize("route", sorted(MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_matrix(client, world, route):
    headers, objects = world
    method, rule = route
    key, body, expected = MATRIX[route]
    expected = {**expected, **{role: expected[like] for role, like in EXTRA_ROLES.items()}}
    failures = []
    # refusals first, then the allowed (possibly state-changing) callers; repeats are idempotent
    order = sorted((*ROLES, *EXTRA_ROLES), key=lambda r: expected[r] in (200, 201))
    for role in order:
        kwargs = {"headers": headers[role]}
        if body is not None:
            kwargs["json"] = body
        resp = client.open(_path(rule, objects[key]), method=method, **kwargs)
        if resp.status_code != expected[role]:
            failures.append(f"{role}: got {resp.status_code}, expected {expected[role]}: {resp.get_data(as_text=True)[:200]}")
        if resp.status_code in (401, 403, 404):
            assert resp.is_json and set(resp.json) <= {"code", "status", "message", "errors", "request_id",
                                                       "error_code"}
    assert not failures, "\n".join(failures)


@pytest.mark.parametrize("route", sorted(BODY_MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_body_matrix(client, world, route):
    headers, objects = world
    make_body, expected = BODY_MATRIX[route]
    expected = {**expected, **{role: expected[like] for role, like in EXTRA_ROLES.items()}}
    got = {role: client.open(route[1], method=route[0], headers=headers[role], json=make_body(objects)).status_code
           for role in expected}
    assert got == expected
