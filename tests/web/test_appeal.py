"""Story (b) of issue 13 in a real browser: a 低保 applicant refused at the home visit asks for a second look
from /m/; the reviewer who refused cannot decide it; a different reviewer upholds it; she sees the decision and
the case back at the home visit."""

from __future__ import annotations

import requests

from flows.programs.dibao.cases import HOME_VISIT_CHECKLIST
from tests.authz import helpers as h
from tests.visits import visit_body
from tests.web.conftest import axe, check_screen, sign_in_and_bind
from tests.web.test_workbench import PASSWORD, Desk, _staff, check

TIMEOUT = 120


def test_a_refused_dibao_applicant_appeals_from_her_phone_and_sees_the_decision(phone, city, session, cfg, browser):
    p = phone()
    sign_in_and_bind(p, city.li)
    p.go("#/dibao")
    p.page.fill("input[name=monthly_income]", "300")
    p.page.click("main button[type=submit]")
    p.page.wait_for_selector("text=已提交")
    p.settle()
    apps = p.page.evaluate("fetch('/api/v1/applications', {headers: {Authorization: 'Bearer ' + "
                           "JSON.parse(localStorage.getItem('zt.tokens')).access}}).then(r => r.json())")
    case = next(a for a in apps if a["program"] == "dibao")
    assert case["state"] == "home_visit"

    _, first = h.staff(session, cfg, "reviewer")
    colleague, _ = h.staff(session, cfg, "clerk")
    checklist = {**dict.fromkeys(HOME_VISIT_CHECKLIST, True), HOME_VISIT_CHECKLIST[0]: False}

    def post(path, **kw):
        return requests.post(city.stack.api + path, timeout=TIMEOUT, **kw)

    body = visit_body(post, case["id"], first, colleague.id, checklist, "居住情况与申报不一致")
    refused = post(f"/api/v1/staff/applications/{case['id']}/home-visit", headers=first, json=body)
    assert refused.status_code == 200, refused.text

    p.go(f"#/app/{case['id']}")
    seen = p.page.evaluate("id => fetch('/api/v1/applications/' + id, {headers: {Authorization: 'Bearer ' + "
                           "JSON.parse(localStorage.getItem('zt.tokens')).access}}).then(r => r.json())", case["id"])
    assert seen["state"] == "rejected", (seen["state"], refused.json()["state"])
    p.page.wait_for_selector("main p.state-rejected")
    assert "未通过" in p.page.inner_text("main")
    p.page.click("text=对结果有异议?申请复核")
    p.settle()
    check_screen(p, "appeal")
    p.page.click("main button[type=submit]")  # no reason chosen: said in words
    assert "请选择一个复核理由" in p.page.inner_text("main")
    p.page.check("#ap-facts_wrong")
    p.page.fill("#f-apcomment", "我一直住在登记的地址,入户那天我去医院了")
    p.page.click("main button[type=submit]")
    p.page.wait_for_selector("text=复核申请已受理")
    assert "行政复议" in p.page.inner_text("main")

    body = {"outcome": "upheld", "reason": "经复核,入户当日申请人就医不在家,不能据此认定居住情况不符,应重新入户调查。"}
    appeal_id = p.page.evaluate("fetch('/api/v1/appeals', {headers: {Authorization: 'Bearer ' + "
                                "JSON.parse(localStorage.getItem('zt.tokens')).access}}).then(r => r.json())")[0]["id"]
    own = requests.post(f"{city.stack.api}/api/v1/staff/appeals/{appeal_id}/decision", headers=first, json=body,
                        timeout=TIMEOUT)
    assert own.status_code == 403 and own.json()["error_code"] == "original_decider"

    # A different reviewer, at her desk: the appeal is in the pool; she claims it and decides on its page.
    _staff(city.stack, "zhou.review", "reviewer", must_change=False)
    desk = Desk(browser, city.stack.api)
    try:
        desk.open("#/inbox")
        desk.sign_in("zhou.review", PASSWORD)
        desk.wait_screen("inbox")
        assert "复核申请" in desk.page.inner_text("main")
        with desk.page.expect_response(lambda r: r.url.endswith("/claim")):  # claimed, and the
            desk.page.click("main tbody button:has-text('认领')")  # pool re-drawn, before going on (one screen at a time)
        desk.page.wait_for_load_state("networkidle")
        desk.open("#/mine")
        desk.page.click("text=办理复核")
        desk.wait_screen("appeal")
        check(desk, "appeal")
        desk.page.select_option("#appeal-outcome", "upheld")
        desk.page.fill("#appeal-reason", body["reason"])
        desk.page.click("main button[type=submit]")
        desk.page.wait_for_selector("text=复核决定已作出")
    finally:
        desk.close()

    p.go(f"#/app/{case['id']}")
    text = p.page.inner_text("main")
    assert "复核决定" in text and "原决定已撤销" in text and "重新入户调查" in text, text
    check_screen(p, "appeal-decided")
    again = requests.get(f"{city.stack.api}/api/v1/staff/applications/{case['id']}", headers=first,
                         timeout=TIMEOUT).json()
    assert again["state"] == "home_visit"


def test_an_appeal_left_alone_is_reminded_then_escalated_to_the_supervisor(phone, city, session, browser):
    """The second half of story (b): nobody takes the appeal; the daily runs on the test clock remind, urge and
    escalate; a supervisor sees it in her pool; the resident is told it is late and escalated."""
    from datetime import timedelta

    from sqlalchemy import select

    from app.db import utcnow
    from app.models import Application, Resident
    from flows import workdays

    p = phone()
    sign_in_and_bind(p, city.li)
    li = session.scalars(select(Resident).where(Resident.name == city.li["name"])).one()
    refused = Application(program="elderly_allowance", resident_id=li.id, state="rejected", decision="rule_not_met",
                          as_of=city.today, prefill={}, trace=[], decided_at=utcnow() - timedelta(days=2))
    session.add(refused)
    session.commit()
    p.go(f"#/app/{refused.id}")
    p.page.click("text=对结果有异议?申请复核")
    p.settle()
    p.page.check("#ap-procedure")
    p.page.click("main button[type=submit]")
    p.page.wait_for_selector("text=复核申请已受理")

    due = workdays.add_working_days(city.today, 20)
    reminded, urged = workdays.add_working_days(city.today, 18), due + timedelta(days=1)

    def zh(day):
        return f"{day.year}年{day.month}月{day.day}日"

    # the reminder, three working days before the limit: seen on the task in the reviewers' pool, and by her
    city.stack.cli("scheduler", "run-once", "--as-of", reminded.isoformat())
    _staff(city.stack, "zhou.review2", "reviewer", must_change=False)
    desk = Desk(browser, city.stack.api)
    try:
        desk.open("#/inbox")
        desk.sign_in("zhou.review2", PASSWORD)
        desk.wait_screen("inbox")
        text = desk.page.inner_text("main")
        assert f"已提醒 {reminded.isoformat()}" in text and "已催办" not in text, text
        assert "临近或超过办理时限" in text
        p.go(f"#/app/{refused.id}")
        assert f"已于 {zh(reminded)} 提醒工作人员" in p.page.inner_text("main")

        # the 催办, the day after the limit: on the task (with the reminder), on the appeal's page, and on /m/
        city.stack.cli("scheduler", "run-once", "--as-of", urged.isoformat())
        desk.page.reload()  # the same #/inbox: drawn afresh
        desk.wait_screen("inbox")
        text = desk.page.inner_text("main")
        assert f"已提醒 {reminded.isoformat()}" in text and f"已催办 {urged.isoformat()}" in text, text
        check(desk, "appeal-urged-pool")
        with desk.page.expect_response(lambda r: r.url.endswith("/claim")):
            desk.page.click("main tbody button:has-text('认领')")
        desk.page.wait_for_load_state("networkidle")
        desk.open("#/mine")
        assert f"已催办 {urged.isoformat()}" in desk.page.inner_text("main")  # the holder sees it too
        desk.page.click("text=办理复核")
        desk.wait_screen("appeal")
        assert f"已催办:{urged.isoformat()} 已超过办理时限" in desk.page.inner_text("main")
        p.page.reload()  # the same #/app/…: drawn afresh
        p.settle()
        assert f"已于 {zh(urged)} 催办" in p.page.inner_text("main")
    finally:
        desk.close()

    city.stack.cli("scheduler", "run-once", "--as-of", workdays.add_working_days(due, 3).isoformat())
    _staff(city.stack, "zhou.super", "supervisor", must_change=False)
    desk = Desk(browser, city.stack.api)
    try:
        desk.open("#/inbox")
        desk.sign_in("zhou.super", PASSWORD)
        desk.wait_screen("inbox")
        assert "复核超期督办" in desk.page.inner_text("main")
        check(desk, "appeal-overdue-pool")
    finally:
        desk.close()
    city.dispatch()
    p.go("#/inbox")
    text = p.page.inner_text("main")
    assert "已报请上级督办" in text and "已受理" in text, text


def test_a_stopped_benefit_is_appealed_from_the_phone(phone, city, session):
    """Item 1 of the follow-up: a benefit stopped within the filing period offers 申请复核 on /m/'s benefits
    screen; the same form; afterwards the appeal's state shows on that benefit."""
    from sqlalchemy import select

    from app.models import Resident

    p = phone()
    sign_in_and_bind(p, city.li)
    _stopped(session, city, session.scalars(select(Resident).where(Resident.name == city.li["name"])).one())

    p.go("#/benefits")
    assert "已停止" in p.page.inner_text("main")
    p.page.click("text=对停发或调整有异议?申请复核")
    p.settle()
    restore = p.keep_preference()
    for on in (False, True):  # the form (the same as for an application): axe-clean in both modes
        p.elder(on)
        assert axe(p.page) == [], on
    restore()
    assert "申请复核" in p.page.inner_text("main") and "前申请复核" in p.page.inner_text("main")
    p.page.click("main button[type=submit]")
    assert "请选择一个复核理由" in p.page.inner_text("main")
    p.page.check("#ap-facts_wrong")
    p.page.fill("#f-apcomment", "我没有迁出本市,户口还在原地址")
    p.page.click("main button[type=submit]")
    p.page.wait_for_selector("text=复核申请已受理")
    assert "行政复议" in p.page.inner_text("main")

    p.go("#/benefits")
    text = p.page.inner_text("main")
    assert "复核" in text and "已受理" in text and "撤回复核申请" in text, text
    assert "对停发或调整有异议?申请复核" not in text  # one open appeal per decision
    check_screen(p, "benefit-appeal")


def test_a_daughter_with_confirm_appeals_her_fathers_stopped_benefit(phone, city, session):
    """The proxy rule of the API on /m/: a grant with `confirm` offers 替…申请复核 on the benefits she sees for him."""
    from sqlalchemy import select

    from app.models import Account, Resident
    from tests.authz import helpers as h

    father, daughter = phone(), phone()
    sign_in_and_bind(father, city.wang)
    sign_in_and_bind(daughter, city.wang_daughter)
    wang, li = (session.scalars(select(Resident).where(Resident.name == who["name"])).one()
                for who in (city.wang, city.wang_daughter))
    h.grant(session, wang, session.scalars(select(Account).where(Account.resident_id == li.id)).one(), li,
            scopes=("view", "confirm"))
    stopped = _stopped(session, city, wang)

    daughter.go("#/benefits")
    assert daughter.page.inner_text("main a:has-text('申请复核')").startswith("替")  # for him, in words
    daughter.page.click("main a:has-text('申请复核')")
    daughter.settle()
    assert "前申请复核" in daughter.page.inner_text("main")
    daughter.page.check("#ap-circumstances_changed")
    daughter.page.click("main button[type=submit]")
    daughter.page.wait_for_selector("text=复核申请已受理")
    daughter.go("#/benefits")
    assert "已受理" in daughter.page.inner_text("main")
    father.go("#/benefits")  # he sees it on his own benefit: asked for him by his daughter
    text = father.page.inner_text("main")
    assert "已受理" in text and "撤回复核申请" in text, text
    mine = father.page.evaluate("fetch('/api/v1/appeals', {headers: {Authorization: 'Bearer ' + "
                                "JSON.parse(localStorage.getItem('zt.tokens')).access}}).then(r => r.json())")
    assert [(a["benefit_id"], a["filed_via"]) for a in mine] == [(stopped.id, "proxy")]


def _stopped(session, city, resident):
    """A benefit of `resident` stopped five days ago (this month): within the filing period."""
    from datetime import timedelta

    from app.models import Benefit, BenefitChange

    month = f"{city.today.year:04d}-{city.today.month:02d}"
    stopped = Benefit(program="elderly_allowance", resident_id=resident.id, tier="80-89", monthly_amount_fen=10000,
                      start_month=f"{city.today.year - 1:04d}-{city.today.month:02d}", end_month=month,
                      state="stopped")
    session.add(stopped)
    session.flush()
    session.add(BenefitChange(benefit_id=stopped.id, change_key="stop:moved_out", kind="stopped",
                              effective_month=month, reason="moved_out", as_of=city.today - timedelta(days=5),
                              trace=[]))
    session.commit()
    return stopped
