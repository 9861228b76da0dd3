"""Story (b) of issue 12 in Chromium against the real API process: 低保 end to end — the citizen applies in
/m/, two community workers record the home visit on a phone with a photo and signatures, the street reviewer
approves at her desk, the 公示 runs (an objection handled), days pass on the test clock, a county approver
approves at hers, and the citizen sees the decision and the remedies. On the way the case page says everything
in words: the economic-check report per member (each income and asset with its amount and source), every
deadline's step, the timeline (who, what, on whose behalf); the reviewer extends the time limit once, with a
reason, and a second extension is refused in words."""

from __future__ import annotations

from datetime import timedelta

import requests

from flows.programs import dibao
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


def _economic_records(city, tmp_path) -> None:
    """A pension last month, savings and a home for the applicant, as the partners' import brings them."""
    last = dibao.window(city.today)[-1]
    path = tmp_path / "economic.csv"
    path.write_text("id_number,kind,period,amount,quantity,ref,source\n"
                    f"{city.li['id_number']},income_pension,{last},500,,PEN-1,social_security\n"
                    f"{city.li['id_number']},deposit,,10000,,ACC-1,bank\n"
                    f"{city.li['id_number']},real_estate,,0,1,HOME-1,real_estate\n", encoding="utf-8")
    city.stack.cli("import", "economic", str(path))


def _open_case(browser, stack, case_id: str) -> Desk:
    desk = Desk(browser, stack.api)
    desk.open("#/inbox")
    desk.sign_in("qian.street", PASSWORD)
    desk.wait_screen("inbox")
    desk.open(f"#/case/{case_id}")
    desk.wait_screen("case")
    return desk


def _case_page_in_words_and_extend(browser, stack, case_id: str) -> None:
    """The street reviewer reads the case page in words and extends the time limit once, with a reason; a
    colleague who had the page open too is refused in words."""
    desk, colleague = _open_case(browser, stack, case_id), _open_case(browser, stack, case_id)
    try:
        text = desk.page.inner_text("main")
        assert "[object Object]" not in text, text
        for words in ("养老金:500.00 元", "存款及金融资产:10000.00 元", "房产:1 套", "人社部门", "银行存款核对",
                      "不动产登记", "全案办理时限:", "家庭经济状况核对:", "入户调查:", "低保政策规则"):
            assert words in text, (words, text)
        desk.page.fill("#extend-reason", "短")
        desk.page.click("#extend button")
        desk.page.wait_for_selector("#extend .note.error:has-text('至少4个字')")
        desk.page.fill("#extend-reason", "需补充核查家庭收入")
        desk.page.click("#extend button")
        desk.page.wait_for_selector("main .note:has-text('已延长办理时限')")
        desk.page.wait_for_load_state("networkidle")
        assert "已延长:需补充核查家庭收入" in desk.page.inner_text("main")
        assert desk.page.locator("#extend").count() == 0  # once only: not offered again
        timeline = desk.page.inner_text("main section:has(h2:text('办理记录'))")
        assert "staff:" not in timeline and "staff." not in timeline and "resident:" not in timeline, timeline
        assert "钱审核(审核人员) 查看了案件,涉及 李*英" in timeline, timeline
        assert "钱审核(审核人员) 延长了办理时限" in timeline, timeline
        check(desk, "case-extended")
        colleague.page.fill("#extend-reason", "还要再延长一些")
        colleague.page.click("#extend button")
        colleague.page.wait_for_selector("#extend .note.error:has-text('已经延长过一次')")
    finally:
        desk.close()
        colleague.close()


def test_dibao_from_the_phone_to_the_county_decision(browser, phone, city, tmp_path):
    _economic_records(city, tmp_path)
    citizen = phone()
    sign_in_and_bind(citizen, city.li)
    case = apply_for_dibao(citizen)
    assert case["state"] == "home_visit"
    visit_on_a_phone(browser, city.stack)
    assert case_of(citizen)["state"] == "reviewing"

    _staff(city.stack, "qian.street", "reviewer", must_change=False, street="140105001", name="钱审核")
    _case_page_in_words_and_extend(browser, city.stack, case["id"])
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
