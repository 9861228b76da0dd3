"""Story (d) of issue 12 in Chromium against the real API process: segregation-of-duties refusals said in words on
the case page. A 低保 case is visited by two investigators and reviewed by the street; while it waits for county
approval,
- the street reviewer, since moved to the county office as an approver, tries to approve it: she did its review
  (`segregation_of_duties`);
- an approver whose own registry household is the applicant's tries to approve it (`staff_self_involvement`);
- a supervisor opens it — the workbench shows every role the step's buttons, the API decides — and tries to approve
  it (`role_decides_no_case`);
then an approver with none of these ties approves it. axe-core on each refusal; screenshots
docs/screenshots/staff-refusal-*.png with ZEROTRIP_SCREENSHOTS=1.

The case is brought to county approval through the staff API in-process (the same database as the server); the
phone part of the visit and the street review at a desk are stories (b) and (a) in test_dibao_story.py."""

from __future__ import annotations

from datetime import date, timedelta

from app.models import StaffMember
from flows.dates import today_shanghai
from flows.programs.dibao import cases
from tests.authz import helpers as h
from tests.builders import make_id_number
from tests.visits import visit_body
from tests.web.test_workbench import PASSWORD, Desk, check

STREET, COMMUNITY = "140105001", "140105001001"
WORDS = {  # app/web/static/staff/strings.js, S.err.codes
    "segregation_of_duties": "您做过这件案子的入户调查或审核,按规定审批须由另一位工作人员办理。",
    "staff_self_involvement": "这件案子涉及您本人或您的家庭,按规定须回避,由其他工作人员办理。",
    "role_decides_no_case": "监督人员和系统管理员不办理具体案件,请交给审核或审批人员。",
}


def _add(stack, username, role, id_number=None, **where):
    args = ["staff", "add", "--username", username, "--role", role, "--district", "140105", "--password", PASSWORD,
            "--id-number", id_number or make_id_number(date(1981, 2, 1 + len(username) % 27))]
    for key, value in where.items():
        args += [f"--{key}", value]
    stack.cli(*args)


def _sign_in(client, username) -> dict:
    token = client.post("/api/v1/staff/auth/login", json={"username": username, "password": PASSWORD}).json
    return {"Authorization": f"Bearer {token['access_token']}"}


def _approving_case(stack, session, cfg, client) -> tuple[str, str]:
    """A 低保 case waiting for county approval; (its id, the ID number of the applicant's wife)."""
    head, _, _ = h.person(session, cfg, "张小三", sex="M", birth=date(1975, 3, 3), household="HH-SOD")
    _, _, wife_id = h.person(session, cfg, "王芳", birth=date(1977, 4, 4), household="HH-SOD")
    case = cases.apply(session, head, "acct-1", declared_monthly_income_fen=20_000)
    session.commit()
    assert case.state == "home_visit"
    _add(stack, "zhou.worker", "community_worker", street=STREET, community=COMMUNITY)
    _add(stack, "wu.clerk", "clerk", street=STREET)
    _add(stack, "qian.street", "reviewer", street=STREET)
    worker = _sign_in(client, "zhou.worker")
    second = session.query(StaffMember).filter_by(username="wu.clerk").one()
    base = f"/api/v1/staff/applications/{case.id}"
    body = visit_body(client.post, case.id, worker, second.id, dict.fromkeys(cases.HOME_VISIT_CHECKLIST, True), "已入户")
    visited = client.post(base + "/home-visit", headers=worker, json=body)
    assert visited.status_code == 200 and visited.json["state"] == "reviewing", visited.json
    reviewed = client.post(base + "/street-review", headers=_sign_in(client, "qian.street"),
                           json={"decision": "approve", "reason": "入户调查与申报一致"})
    assert reviewed.status_code == 200 and reviewed.json["state"] == "public_notice", reviewed.json
    stack.cli("scheduler", "run-once", "--as-of", (today_shanghai() + timedelta(days=8)).isoformat())
    return case.id, wife_id


def _refused_at_desk(browser, stack, username: str, case_id: str, code: str, shot: str) -> None:
    desk = Desk(browser, stack.api)
    try:
        desk.open("#/inbox")
        desk.sign_in(username, PASSWORD)
        desk.wait_screen("inbox")
        desk.open(f"#/case/{case_id}")
        desk.wait_screen("case")
        assert "区县审批" in desk.page.inner_text("main")
        desk.page.fill("main form textarea", "核对无误,同意")
        desk.page.click("main form button.primary")
        desk.page.wait_for_selector("main form .note.error")
        said = desk.page.inner_text("main form .note.error")
        assert said == WORDS[code], said
        assert desk.page.get_attribute("main form .note.error", "role") == "alert"
        assert desk.page.is_enabled("main form button.primary")  # nothing was decided: another person may
        check(desk, shot)
    finally:
        desk.close()


def test_segregation_of_duties_refusals_are_said_in_words_on_the_case_page(browser, stack, session, cfg, client):
    case_id, wife_id = _approving_case(stack, session, cfg, client)
    _add(stack, "admin.zhou", "admin")
    _add(stack, "wang.county", "approver", id_number=wife_id)  # the applicant's wife works at the county office
    _add(stack, "sun.super", "supervisor")
    _add(stack, "zhao.county", "approver")
    # the street reviewer is moved to the county office as an approver (the admin's accounts screen, over its API)
    qian = session.query(StaffMember).filter_by(username="qian.street").one()
    moved = client.patch(f"/api/v1/staff/accounts/{qian.id}", headers=_sign_in(client, "admin.zhou"),
                         json={"role": "approver", "street_code": None, "community_code": None})
    assert moved.status_code == 200 and moved.json["role"] == "approver", moved.json

    _refused_at_desk(browser, stack, "qian.street", case_id, "segregation_of_duties", "refusal-segregation")
    _refused_at_desk(browser, stack, "wang.county", case_id, "staff_self_involvement", "refusal-own-household")
    _refused_at_desk(browser, stack, "sun.super", case_id, "role_decides_no_case", "refusal-supervisor")

    desk = Desk(browser, stack.api)
    try:
        desk.open("#/inbox")
        desk.sign_in("zhao.county", PASSWORD)
        desk.wait_screen("inbox")
        desk.open(f"#/case/{case_id}")
        desk.wait_screen("case")
        desk.page.fill("main form textarea", "核对无误,同意")
        desk.page.click("main form button.primary")
        desk.page.wait_for_selector("main .note:has-text('已办结')")
    finally:
        desk.close()
