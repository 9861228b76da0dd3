"""The staff half of the authorization matrix (issue 12 and 13 acceptance): every id-bearing staff route of
tests/authz/test_matrix.py × the staff callers that matrix's "reviewer of this / another district" columns do not
cover. The object (a 低保 case waiting for county approval, its task, notice, objection, visit photo, … in street
140105001, community 140105001001) is in district 140105. Columns:

- other_street: a member of staff WITH the role the route needs, in the same district but another street (140105002):
  404, she may not even know the object exists; routes of the city as a whole (parameter changes, the monthly
  roll) know no street, and an admin's account and exchange routes say so in their own words;
- worker_out: a community worker of the same street but another community (140105001002): 404 wherever the object
  is looked up in her jurisdiction (authz checks the place before the role), 403 where her role is refused first;
- supervisor, admin: of the district, on every route whose action decides or moves a case (authz.CASE_DECISIONS):
  403 `role_decides_no_case` (a test keeps this column equal to CASE_DECISIONS);
- household: a member of staff with the role the route needs, whose own registry household is the applicant's:
  403 `staff_self_involvement` on every route that decides something about the case or grant.

OWN_WORK adds the maker checking her own work: approving a case whose street review she did or whose home visit
she recorded, deciding the appeal of her own decision, approving her own parameter change, grant or roll sign-off.

Only refusals change nothing, so the world is built once for the module; the few allowed calls run last.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from app.authz import CASE_DECISIONS
from app.db import utcnow
from app.models import (
    Appeal,
    Application,
    Approval,
    Benefit,
    BenefitChange,
    CounterVisit,
    Objection,
    PayrollRun,
    PublicNotice,
)
from flows import payroll_gate, visit_files
from flows.dates import today_shanghai
from flows.programs.dibao.cases import HOME_VISIT_CHECKLIST
from tests.authz import helpers as h
from tests.authz.test_matrix import AP, CV, MATRIX, SA, SG, T
from tests.visits import image_bytes

DISTRICT, STREET, COMMUNITY = "140105", "140105001", "140105001001"
OTHER_STREET, OTHER_COMMUNITY = "140105002", "140105001002"
MONTH = "2026-11"
HOUSEHOLD = "HH-MATRIX"  # the applicant's registry household (户)

DECIDES = (403, "role_decides_no_case")
SELF = (403, "staff_self_involvement")
CITY = 200  # the city's as a whole: no street to be outside of
_ = None  # not this column's question (see the module's docstring)

DECIDE = {"decision": "approve", "reason": "核对无误"}
VISIT = {"client_id": "staff-matrix-visit", "checklist": dict.fromkeys(HOME_VISIT_CHECKLIST, True),
         "second_investigator": "x" * 32, "household_signer": "self",
         "signatures": {"investigator_1": "a" * 32, "investigator_2": "b" * 32, "household": "c" * 32}}
APPEAL_DECISION = {"outcome": "rejected", "reason": "经复核，原决定认定事实清楚。"}

COLUMNS = ("other_street", "worker_out", "supervisor", "admin", "household")
#                                              object, body, role the route needs,
#                                              other_street, worker_out, supervisor, admin, household
STAFF_MATRIX = {
    # maker-checker approvals of parameter changes are the city's (flows.approvals): no jurisdiction
    ("POST", AP + "/approve"): ("approval", None, "admin", CITY, 403, _, _, _),
    ("POST", AP + "/withdraw"): ("approval", None, "admin", 403, 403, _, _, _),  # only the maker withdraws
    ("GET", T): ("task", None, "reviewer", 404, 404, _, _, _),
    ("POST", T + "/decide"): ("task", {"decision": "done", "reason": "checked at home"}, "reviewer",
                              404, 404, DECIDES, DECIDES, SELF),
    ("POST", T + "/recheck"): ("task", {"outcome": "confirm", "reason": "收入核实无误"}, "reviewer",
                               404, 404, DECIDES, DECIDES, SELF),
    ("POST", T + "/claim"): ("task", None, "reviewer", 404, 404, _, _, _),
    ("POST", T + "/release"): ("task", None, "reviewer", 404, 404, _, _, _),
    ("POST", T + "/reassign"): ("task", {"staff_id": None, "reason": "休假"}, "supervisor", 404, 404, _, _, _),
    ("POST", T + "/home-help"): ("task", {"outcome": "confirmed"}, "community_worker", 404, 404, _, _, _),
    ("GET", SA): ("application", None, "reviewer", 404, 404, _, _, _),
    ("GET", SA + "/case"): ("application", None, "reviewer", 404, 404, _, _, _),
    ("POST", SA + "/reveal"): ("application", {"field": "id_number", "purpose": "application_review"}, "reviewer",
                               404, 404, _, _, _),
    ("GET", SA + "/decision-letter"): ("application", None, "reviewer", 404, 404, _, _, _),
    ("POST", SA + "/review"): ("application", DECIDE, "reviewer", 404, 404, DECIDES, DECIDES, SELF),
    ("POST", SA + "/home-visit"): ("application", VISIT, "community_worker", 404, 404, DECIDES, DECIDES, SELF),
    # a photo of the home visit is part of recording it (case:home_visit); recording the visit refuses (above)
    ("POST", SA + "/visit-files"): ("application", None, "community_worker", 404, 404, DECIDES, DECIDES, _),
    ("GET", "/api/v1/staff/visit-files/<string:file_id>"): ("visit_file", None, "reviewer", 404, 404, _, _, _),
    ("POST", SA + "/extend"): ("application", {"reason": "需补充核查收入"}, "reviewer", 404, 404, _, _, _),
    ("POST", SA + "/street-review"): ("application", DECIDE, "reviewer", 404, 404, DECIDES, DECIDES, SELF),
    ("POST", SA + "/county-decision"): ("application", DECIDE, "approver", 404, 404, DECIDES, DECIDES, SELF),
    # a reviewed disability case's approval (a program with a review then an approval step)
    ("POST", SA + "/approve"): ("reviewed", DECIDE, "approver", 404, 404, DECIDES, DECIDES, SELF),
    # a stopped benefit's letter, and recording a letter as sent (送达): not a decision, but the case's place
    ("GET", "/api/v1/staff/stops/<string:change_id>/letter"): ("stop", None, "reviewer", 404, 404, _, _, _),
    ("POST", "/api/v1/staff/letters/<string:letter_id>/sent"): ("decided", {"method": "post"}, "reviewer",
                                                                404, 404, 403, 403, _),
    ("GET", "/api/v1/staff/objections/<string:objection_id>"): ("objection", None, "reviewer", 404, 404, _, _, _),
    ("POST", "/api/v1/staff/objections/<string:objection_id>/decide"): (
        "objection", {"decision": "dismissed", "reason": "经核实不成立"}, "reviewer", 404, 404, DECIDES, DECIDES, SELF),
    ("GET", SG): ("grant", None, "reviewer", 404, 404, _, _, _),
    ("POST", SG + "/approve"): ("grant", None, "approver", 404, 404, _, _, SELF),
    ("POST", SG + "/revoke"): ("grant", None, "reviewer", 404, 404, _, _, _),
    ("POST", "/api/v1/staff/benefits/<string:benefit_id>/proof"): ("benefit", None, "reviewer", 404, 404, _, _, _),
    ("GET", CV): ("visit", None, "clerk", 404, 404, _, _, _),
    ("GET", CV + "/receipt"): ("visit", None, "clerk", 404, 404, _, _, _),
    ("POST", CV + "/confirm"): ("visit", None, "clerk", 404, 404, _, _, _),
    ("POST", CV + "/applications"): ("visit", None, "clerk", 404, 404, _, _, _),
    ("POST", CV + "/appeals"): ("visit", None, "clerk", 404, 404, _, _, _),
    ("GET", "/api/v1/staff/appeals/<string:appeal_id>"): ("appeal", None, "reviewer", 404, 404, _, _, _),
    ("POST", "/api/v1/staff/appeals/<string:appeal_id>/decision"): ("appeal", APPEAL_DECISION, "reviewer",
                                                                     404, 404, DECIDES, DECIDES, SELF),
    # the monthly roll is the city's: any member of staff reads it; a supervisor other than its closer signs it off
    ("GET", "/api/v1/staff/payroll/<string:month>"): ("month", None, "clerk", CITY, CITY, _, _, _),
    ("POST", "/api/v1/staff/payroll/<string:month>/sign-off"): ("month", {"note": "已核对"}, "supervisor",
                                                                 CITY, 403, _, _, _),
    # staff accounts: an admin of a street manages her street's (404 for another's); a worker is refused first
    ("PATCH", "/api/v1/staff/accounts/<string:staff_id>"): ("staff", {"role": "clerk"}, "admin", 404, 403, _, _, _),
    ("POST", "/api/v1/staff/accounts/<string:staff_id>/disable"): ("staff", None, "admin", 404, 403, _, _, _),
    ("POST", "/api/v1/staff/accounts/<string:staff_id>/reset-password"): (
        "staff", {"password": "a temporary secret"}, "admin", 404, 403, _, _, _),
    # exchange clients are the bureau's: a street's admin is refused in words (outside_jurisdiction)
    ("POST", "/api/v1/staff/exchange/clients/<string:client_id>/keys"): (
        "exchange", {"public_key": "AAAA"}, "admin", (403, "outside_jurisdiction"), 403, _, _, _),
    ("POST", "/api/v1/staff/exchange/clients/<string:client_id>/keys/<string:key_id>/revoke"): (
        "exchange", None, "admin", (403, "outside_jurisdiction"), 403, _, _, _),
}

# The maker checking her own work (四眼原则): route → (who, expected).
OWN_WORK = {
    ("POST", SA + "/county-decision"): [("street_reviewer", (403, "segregation_of_duties")),
                                        ("home_visitor", (403, "segregation_of_duties"))],
    ("POST", SA + "/approve"): [("case_reviewer", (403, "segregation_of_duties"))],
    ("POST", "/api/v1/staff/appeals/<string:appeal_id>/decision"): [("original_decider", (403, "original_decider"))],
    ("POST", AP + "/approve"): [("proposer", (403, "self_approval"))],
    ("POST", SG + "/approve"): [("grant_recorder", 403)],
    ("POST", "/api/v1/staff/payroll/<string:month>/sign-off"): [("roll_closer", (403, "self_approval"))],
}
# Other named callers: an approver of the case's own street (county approval is the district's, said in words).
ALSO = {("POST", SA + "/county-decision"): [("street_approver", (403, "district_level_only"))]}

# Routes naming their object in the body (issue 13: an appeal at the counter; bulk work): the same columns; bulk
# answers 200 with a result per item, whose status is what is checked.
#                                    body, per item, other_street, worker_out, supervisor, admin, household
BODY_MATRIX = {
    ("POST", "/api/v1/staff/appeals"): (lambda o: {"application_id": o["decided"], "reason_code": "facts_wrong",
                                                   "consent": "signature"}, False, 404, 404, _, _, _),
    ("POST", "/api/v1/staff/bulk-review"): (lambda o: {"ids": [o["application"]]}, True, 404, 404, DECIDES, DECIDES,
                                            SELF),
    ("POST", "/api/v1/staff/bulk-claim"): (lambda o: {"ids": [o["task"]]}, True, 404, 404, _, _, _),
}
BODY_ROLES = {"/api/v1/staff/appeals": "clerk", "/api/v1/staff/bulk-review": "reviewer",
              "/api/v1/staff/bulk-claim": "reviewer"}


def test_every_id_bearing_staff_route_has_its_staff_columns():
    staff_routes = {r for r in MATRIX if r[1].startswith("/api/v1/staff/")}
    assert set(STAFF_MATRIX) == staff_routes, "give these staff routes their row in STAFF_MATRIX"
    assert set(OWN_WORK) | set(ALSO) <= staff_routes


# The routes that authorize a deciding action, by action (app/api/*.py): the supervisor and admin columns say
# DECIDES on exactly these.
DECIDING = {
    "task:decide": [("POST", T + "/decide")],
    "casework:review": [("POST", SA + "/review"), ("POST", T + "/recheck")],
    "case:home_visit": [("POST", SA + "/home-visit"), ("POST", SA + "/visit-files")],
    "case:street_review": [("POST", SA + "/street-review")],
    "case:county_approve": [("POST", SA + "/county-decision")],
    "casework:approve": [("POST", SA + "/approve")],
    "objection:decide": [("POST", "/api/v1/staff/objections/<string:objection_id>/decide")],
    "appeal:decide": [("POST", "/api/v1/staff/appeals/<string:appeal_id>/decision")],
    "casework:bulk_review": [("POST", "/api/v1/staff/bulk-review")],
}


def test_supervisors_and_admins_are_refused_exactly_on_the_routes_that_decide_a_case():
    assert set(DECIDING) == set(CASE_DECISIONS), "a new deciding action: list its routes in DECIDING"
    rows = {**{r: row[3:] for r, row in STAFF_MATRIX.items()}, **{r: row[2:] for r, row in BODY_MATRIX.items()}}
    refused = {r for r, row in rows.items() if row[2] == DECIDES and row[3] == DECIDES}
    assert refused == {r for routes in DECIDING.values() for r in routes}


class World:
    def __init__(self, session, cfg, client):
        self.session, self.cfg, self.client = session, cfg, client
        self._headers: dict[tuple, dict] = {}
        self.objects: dict[str, str] = {}
        self.named: dict[str, dict] = {}

    def caller(self, column: str, role: str) -> dict:
        key = (column, role)
        if key not in self._headers:
            where = {"other_street": {"street": OTHER_STREET},
                     "worker_out": {"street": STREET, "community": OTHER_COMMUNITY}}.get(column, {})
            kw = {}
            if column == "household":  # one relative per role: a staff ID number is one person's
                _, _, kw["id_number"] = h.person(self.session, self.cfg, "张家人", household=HOUSEHOLD)
            role = {"worker_out": "community_worker", "supervisor": "supervisor", "admin": "admin"}.get(column, role)
            if role == "community_worker" and "community" not in where:  # her jurisdiction is a community:
                street = where.get("street", STREET)  # the case's, or one in the column's other street
                where = {"street": street, "community": COMMUNITY if street == STREET else street + "001"}
            self._headers[key] = h.staff(self.session, self.cfg, role, DISTRICT, **where, **kw)[1]
        return self._headers[key]


def _staff_ref(staff) -> str:
    return f"staff:{staff.id}"


@pytest.fixture(scope="module")
def world(db_url, session_dir):
    """Built once: the database emptied as the `cfg` fixture does, then the case and everything around it."""
    from app import create_app
    from app.config import load_config
    from app.db import session_factory
    from tests.conftest import empty_database, leaked_id_numbers

    empty_database(db_url)
    (session_dir / "anchors.jsonl").unlink(missing_ok=True)
    cfg = load_config({"database_url": db_url, "testing": True,
                       "audit_anchor_path": str(session_dir / "anchors.jsonl")})
    session = session_factory(cfg)()
    flask_app = create_app(cfg)

    @flask_app.after_request
    def _scan(response):  # as tests/conftest.py does for the in-process app: no full ID number ever
        if response.mimetype == "application/json":
            assert not leaked_id_numbers(response.get_data(as_text=True)), "full ID number in a response"
        return response

    w = World(session, cfg, flask_app.test_client())
    today = today_shanghai()
    owner, _, _ = h.person(session, cfg, "张小三", sex="M", household=HOUSEHOLD)
    proxy, proxy_account, _ = h.person(session, cfg, "张代办")

    street_reviewer, w.named["street_reviewer"] = h.staff(session, cfg, "approver")  # reviewed, now an approver
    home_visitor, w.named["home_visitor"] = h.staff(session, cfg, "approver")  # the visit's second investigator
    decider, w.named["original_decider"] = h.staff(session, cfg, "reviewer")
    proposer, w.named["proposer"] = h.staff(session, cfg, "admin")
    recorder, w.named["grant_recorder"] = h.staff(session, cfg, "approver")
    closer, w.named["roll_closer"] = h.staff(session, cfg, "supervisor")
    case_reviewer, w.named["case_reviewer"] = h.staff(session, cfg, "approver")  # reviewed the disability case
    colleague, _ = h.staff(session, cfg, "clerk", DISTRICT, street=STREET)
    w.named["street_approver"] = h.staff(session, cfg, "approver", DISTRICT, street=STREET)[1]

    case = Application(program="dibao", resident_id=owner.id, state="approving", as_of=today - timedelta(days=20),
                       prefill={}, trace=[
                           {"code": "home_visit", "passed": True, "source": "staff", "staff_id": "someone-else",
                            "second_staff_id": home_visitor.id, "source_date": today.isoformat(), "text": "入户调查"},
                           {"code": "street_review", "passed": True, "value": "approve", "source": "staff",
                            "staff_id": street_reviewer.id, "source_date": today.isoformat(), "text": "街道审核通过"}])
    decided = Application(program="elderly_allowance", resident_id=owner.id, period="2026-10", state="rejected",
                          decision="rule_not_met", as_of=today - timedelta(days=40), prefill={}, decided_at=utcnow(),
                          trace=[{"code": "staff_review", "passed": False, "source": "staff", "staff_id": decider.id,
                                  "source_date": today.isoformat(), "text": "工作人员审核未通过"}])
    reviewed = Application(program="disability_care_subsidy", resident_id=owner.id, state="approving",
                           as_of=today - timedelta(days=10), prefill={}, trace=[
                               {"code": "staff_review", "passed": True, "value": "approve", "source": "staff",
                                "staff_id": case_reviewer.id, "source_date": today.isoformat(), "text": "工作人员审核通过"}])
    session.add_all([case, decided, reviewed])
    session.flush()
    benefit = Benefit(program="elderly_allowance", resident_id=owner.id, application_id=decided.id, tier="80",
                      monthly_amount_fen=5000, start_month="2026-12", state="active")
    notice = PublicNotice(application_id=case.id, program="dibao", street_code=STREET, masked_name="张*三",
                          amount_fen=30000, starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=5))
    session.add_all([benefit, notice])
    session.flush()
    stop = BenefitChange(benefit_id=benefit.id, change_key="stop", kind="stopped", effective_month="2027-01",
                         old_tier="80", old_amount_fen=5000, tier="80", monthly_amount_fen=0, reason="moved_out",
                         as_of=today, trace=[{"code": "hukou_local", "passed": False, "value": "false",
                                              "source": "population_registry", "source_date": today.isoformat()}])
    session.add(stop)
    session.flush()
    objection = Objection(notice_id=notice.id, account_id="a" * 32, text="他家有收入未申报", state="open")
    approval = Approval(kind="parameter_change", subject_ref="param:elderly_allowance:minimum_age",
                        maker=_staff_ref(proposer), state="pending",
                        payload={"program": "elderly_allowance", "key": "minimum_age", "value": 75, "raw": "75",
                                 "from": "2027-01"})
    appeal = Appeal(decision_key=f"application:{decided.id}", application_id=decided.id, resident_id=owner.id,
                    program="elderly_allowance", decided_on=today, reason_code="facts_wrong", comment="",
                    filed_by="account:x", filed_via="owner", state="received", due_on=today + timedelta(days=28))
    visit = CounterVisit(resident_id=owner.id, staff_id=colleague.id, office_code=STREET, district_code=DISTRICT,
                         street_code=STREET, community_code=COMMUNITY, source="typed", visited_on=today, actions=[])
    roll = PayrollRun(month=MONTH, state="closed", closed_at=utcnow(), as_of=today)
    session.add_all([objection, approval, appeal, visit, roll])
    session.flush()
    payroll_gate.after_close(session, roll, _staff_ref(closer))
    session.commit()
    grant = h.grant(session, owner, proxy_account, proxy, scopes=("view", "payout"), status="pending_approval")
    grant.created_by = _staff_ref(recorder)
    task = h.task(session, owner, application_id=case.id)
    photo = visit_files.store(session, cfg.instance_path, case, "photo", image_bytes("JPEG"), "test")
    session.commit()
    w.objects = {"application": case.id, "decided": decided.id, "reviewed": reviewed.id, "stop": str(stop.id), "task": task.id, "grant": grant.id,
                 "benefit": benefit.id, "objection": objection.id, "approval": approval.id, "appeal": appeal.id,
                 "visit_file": photo.id, "visit": visit.id, "month": MONTH, "staff": colleague.id, "exchange": "ybj"}
    yield w
    session.close()
    from flows import parameters

    parameters.reset()  # the allowed approval above applied a parameter change in this process


def _path(rule: str, object_id: str) -> str:
    return re.sub(r"<[^>]+>", object_id, rule)


def _cells():
    """(route, who, role, expected) for every cell with a question; the allowed calls (2xx) last."""
    out = []
    for route, (_key, _body, role, *expected) in STAFF_MATRIX.items():
        out += [(route, column, role, e) for column, e in zip(COLUMNS, expected, strict=True) if e is not None]
        out += [(route, who, role, e) for who, e in OWN_WORK.get(route, []) + ALSO.get(route, [])]
    return sorted(out, key=lambda c: (c[3] == CITY, c[0], c[1]))


def _check(resp, expected, failures: list, label: str) -> None:
    status, code = expected if isinstance(expected, tuple) else (expected, None)
    body = resp.get_json(silent=True) or {}
    if resp.status_code != status or (code and body.get("error_code") != code):
        failures.append(f"{label}: got {resp.status_code} {body.get('error_code')}, expected {status} {code}: "
                        f"{resp.get_data(as_text=True)[:200]}")
    if resp.status_code in (403, 404):
        assert set(body) <= {"code", "status", "message", "errors", "request_id", "error_code"}
        assert body.get("message"), "a refusal is said in words"


@pytest.mark.parametrize("cell", _cells(), ids=lambda c: f"{c[0][0]} {c[0][1]} · {c[1]}")
def test_staff_matrix(world, cell):
    route, who, role, expected = cell
    method, rule = route
    key, body = STAFF_MATRIX[route][:2]
    headers = world.named[who] if who in world.named else world.caller(who, role)
    kwargs = {"headers": headers} if body is None else {"headers": headers, "json": body}
    resp = world.client.open(_path(rule, world.objects[key]), method=method, **kwargs)
    failures: list[str] = []
    _check(resp, expected, failures, f"{role} as {who}")
    assert not failures, failures[0]


@pytest.mark.parametrize("route", sorted(BODY_MATRIX), ids=lambda r: f"{r[0]} {r[1]}")
def test_staff_matrix_of_routes_naming_the_object_in_the_body(world, route):
    method, rule = route
    make_body, per_item, *expected = BODY_MATRIX[route]
    failures: list[str] = []
    for column, e in zip(COLUMNS, expected, strict=True):
        if e is None:
            continue
        resp = world.client.open(rule, method=method, headers=world.caller(column, BODY_ROLES[rule]),
                                 json=make_body(world.objects))
        if per_item:
            assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
            item = resp.json["results"][0]
            got_status, got_code = item["status"], item["error_code"]
            status, code = e if isinstance(e, tuple) else (e, None)
            if got_status != status or (code and got_code != code):
                failures.append(f"{column}: item {got_status} {got_code}, expected {status} {code}: {item}")
        else:
            _check(resp, e, failures, column)
    assert not failures, "\n".join(failures)
