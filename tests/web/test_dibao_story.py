"""Story (b) of issue 12 in Chromium against the real API process: 低保 end to end — the citizen applies in
/m/, two community workers record the home visit on a phone with a photo and signatures, the street reviewer
approves at her desk, the 公示 runs (an objection handled), days pass on the test clock, a county approver
approves at hers, and the citizen sees the decision and the remedies."""

from __future__ import annotations

from datetime import timedelta

import requests

from tests.web.conftest import check_screen, sign_in_and_bind
from tests.web.test_home_visit import apply_for_dibao, case_of, visit_on_a_phone
from tests.web.test_workbench import PASSWORD, Desk, _staff, check

TIMEOUT = 120


def _decide_at_desk(browser, stack, username: str, case_id: str, expect: str, shot: str) -> None:
    desk = Desk(browser, stack.api)
    try:
        desk.open("#/inbox")
        desk.sign_in(username, PASSWORD)
        desk.wait_screen("inbox")
        desk.open(f"#/case/{case_id}")
        desk.wait_screen("case")
        check(desk, shot)
        desk.page.fill("main form textarea", "材料齐全,入户调查与申报一致")
        desk.page.click("main form button.primary")
        desk.page.wait_for_selector(f"main .note:has-text('{expect}')")
    finally:
        desk.close()


def test_dibao_from_the_phone_to_the_county_decision(browser, phone, city):
    citizen = phone()
    sign_in_and_bind(citizen, city.li)
    case = apply_for_dibao(citizen)
    assert case["state"] == "home_visit"
    visit_on_a_phone(browser, city.stack)
    assert case_of(citizen)["state"] == "reviewing"

    _staff(city.stack, "qian.street", "reviewer", must_change=False, street="140105001")
    _decide_at_desk(browser, city.stack, "qian.street", case["id"], "公示中", "street-review")
    assert case_of(citizen)["state"] == "public_notice"

    # 公示: a neighbour objects; a reviewer dismisses it after checking (the objector is never named to the applicant)
    neighbour = phone()
    sign_in_and_bind(neighbour, city.wang)
    notices = requests.get(f"{city.stack.api}/api/v1/public-notices?street=140105001", timeout=TIMEOUT).json()
    assert [n["name"] for n in notices] == ["李*英"]
    token = neighbour.page.evaluate("JSON.parse(localStorage.getItem('zt.tokens')).access")
    objected = requests.post(f"{city.stack.api}/api/v1/public-notices/{notices[0]['id']}/objections",
                             headers={"Authorization": f"Bearer {token}"}, json={"text": "她家好像有别的收入"},
                             timeout=TIMEOUT)
    assert objected.status_code == 201, objected.text
    # she claims the objection task and decides it on its page (the outcome said in words before she submits)
    desk = Desk(browser, city.stack.api)
    try:
        desk.open("#/inbox")
        desk.sign_in("qian.street", PASSWORD)
        desk.wait_screen("inbox")
        with desk.page.expect_response(lambda r: r.url.endswith("/claim")):  # claimed, and the
            desk.page.click("main tr:has-text('公示异议') button:has-text('认领')")  # pool re-drawn, before going on (one screen at a time)
        desk.page.wait_for_load_state("networkidle")
        desk.open("#/mine")
        desk.page.click("main a:has-text('处理异议')")
        desk.wait_screen("objection")
        assert "她家好像有别的收入" in desk.page.inner_text("main")
        assert "重新公示" in desk.page.inner_text("#decision-explained")
        desk.page.fill("#objection-reason", "经核实无其他收入")
        desk.page.click("main button:has-text('提交处理决定')")
        desk.page.wait_for_selector("main .note:has-text('公示已重新开始')")
    finally:
        desk.close()

    # the notice period passes on the test clock: the case goes to the county
    city.stack.cli("scheduler", "run-once", "--as-of", (city.today + timedelta(days=8)).isoformat())
    assert case_of(citizen)["state"] == "approving"
    _staff(city.stack, "sun.county", "approver", must_change=False)
    _decide_at_desk(browser, city.stack, "sun.county", case["id"], "已办结", "county-decision")

    citizen.go(f"#/app/{case['id']}")
    citizen.page.wait_for_selector("main p.state-approved")
    text = citizen.page.inner_text("main")
    assert "申请已通过" in text and "行政复议" in text and "行政诉讼" in text, text
    check_screen(citizen, "dibao-approved")
