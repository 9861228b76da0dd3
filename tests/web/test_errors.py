"""Errors in words a person understands; nothing typed is lost; offline is detected and said."""

from __future__ import annotations

import json
import re

from tests.web.conftest import sign_in_and_bind

TECHNICAL = re.compile(r"\b(4\d\d|5\d\d)\b|Traceback|Error|error|Conflict|Internal|request_id|undefined")


def test_a_wrong_identity_is_said_plainly_and_the_typed_data_stays(phone, city):
    p = phone()
    p.open("#/home")
    p.page.click("main .btn.primary")
    p.page.wait_for_function("document.body.dataset.screen === 'bind'")
    p.settle()
    p.page.fill("input[name=name]", "李秀华")  # a typo
    p.page.fill("input[name=id_number]", city.li["id_number"])
    p.page.fill("input[name=phone]", city.li["phone"])
    p.page.click("main button[type=submit]")
    alert = p.page.locator("main [role=alert]")
    alert.wait_for()
    assert alert.inner_text() == "姓名、身份证号和手机号与登记的信息对不上。请核对后再试。"
    assert not TECHNICAL.search(p.page.inner_text("main"))
    assert p.page.input_value("input[name=name]") == "李秀华"
    p.page.reload()
    p.settle()
    assert p.page.input_value("input[name=name]") == "李秀华", "the draft survives a reload"
    assert p.page.input_value("input[name=id_number]") == city.li["id_number"]
    # The ID number is kept for this tab only (sessionStorage), never in localStorage.
    assert city.li["id_number"] not in json.dumps(p.page.evaluate("({...localStorage})"))


def test_offline_is_detected_and_the_form_survives(phone, city):
    p = phone()
    sign_in_and_bind(p, city.young)
    p.go("#/dibao")
    p.page.fill("textarea[name=reason]", "老伴生病,家里没有收入")
    p.page.fill("input[name=monthly_income]", "300")
    p.context.set_offline(True)
    p.page.wait_for_selector("#net.offline")
    assert "网络已断开" in p.page.inner_text("#net")
    p.page.click("main button[type=submit]")
    alert = p.page.locator("main [role=alert]")
    alert.wait_for()
    assert "网络" in alert.inner_text() and "已保存" in alert.inner_text()
    assert p.page.input_value("textarea[name=reason]") == "老伴生病,家里没有收入"
    p.context.set_offline(False)
    p.page.wait_for_selector("#net:not(.offline)")
    p.page.reload()
    p.settle()
    assert p.page.input_value("textarea[name=reason]") == "老伴生病,家里没有收入"
    assert p.page.input_value("input[name=monthly_income]") == "300"


def test_a_server_failure_is_said_in_words_with_a_retry(phone, city):
    p = phone()
    sign_in_and_bind(p, city.young)
    body = json.dumps({"code": 500, "status": "Internal Server Error", "message": "Traceback …", "request_id": "x"})
    p.page.route("**/api/v1/inbox", lambda route: route.fulfill(status=500, body=body,
                                                                 content_type="application/json"))
    p.go("#/inbox")
    alert = p.page.locator("main [role=alert]")
    alert.wait_for()
    assert alert.inner_text() == "系统出了点问题,请稍后再试。我们已经记录下来。"
    assert not TECHNICAL.search(p.page.inner_text("main"))
    p.page.unroute("**/api/v1/inbox")
    p.page.click("main .btn.primary")  # 再试一次
    p.settle()
    assert p.page.locator("main h1").inner_text() == "消息"


def test_an_expired_access_token_is_refreshed_without_losing_the_screen(phone, city):
    p = phone()
    sign_in_and_bind(p, city.young)
    old = p.page.evaluate("JSON.parse(localStorage.getItem('zt.tokens'))")
    p.page.evaluate("t => localStorage.setItem('zt.tokens', JSON.stringify({...t, access: 'expired.jwt.x'}))", old)
    p.go("#/benefits")
    assert p.page.locator("main h1").inner_text() == "补贴和发放"
    new = p.page.evaluate("JSON.parse(localStorage.getItem('zt.tokens'))")
    assert new["refresh"] != old["refresh"], "the refresh token was rotated"


def test_an_identity_bound_on_another_wechat_is_said_as_such(phone, city):
    """Bound on one phone, the same person on another WeChat is told to go to the community office — not that her
    details do not match (which sent her into retries that count against her)."""
    first = phone()
    sign_in_and_bind(first, city.young)
    p = phone()
    p.open("#/home")
    p.page.click("main .btn.primary")
    p.page.wait_for_function("document.body.dataset.screen === 'bind'")
    p.settle()
    p.page.fill("input[name=name]", city.young["name"])
    p.page.fill("input[name=id_number]", city.young["id_number"])
    p.page.fill("input[name=phone]", city.young["phone"])
    p.page.click("main button[type=submit]")
    alert = p.page.locator("main [role=alert]")
    alert.wait_for()
    assert "已经在另一个微信上绑定" in alert.inner_text() and "社区" in alert.inner_text()
    assert not TECHNICAL.search(p.page.inner_text("main"))
