"""The admin's screens of the workbench in Debian's Chromium (issue 12 item 9): a parameter change proposed by one
admin, her own approval refused in words, approved by a second admin and then announced in the guide; an
account's role and jurisdiction changed and its password reset (changed at the next sign-in). axe-core: no
serious or critical violation; screenshots with ZEROTRIP_SCREENSHOTS=1."""

from __future__ import annotations

import json

from tests.web.test_workbench import PASSWORD, Desk, _staff, check


def _get(desk: Desk, path: str):
    return desk.page.evaluate("(p) => fetch(p, {headers: {Authorization: 'Bearer ' + "
                              "JSON.parse(sessionStorage.getItem('zt.staff') || localStorage.getItem('zt.staff') "
                              "|| '{}').access}}).then(r => r.json())", path)


def test_a_parameter_change_needs_a_second_admin_and_accounts_are_changed_in_the_ui(browser, own_stack):
    stack = own_stack  # its own API process: the approved amount lives in that process's memory
    _staff(stack, "admin.wang", "admin", must_change=False)
    _staff(stack, "admin.li", "admin", must_change=False)
    _staff(stack, "zhao.clerk", "clerk", must_change=False, street="140105001")
    desk = Desk(browser, stack.api)
    try:
        desk.open("#/inbox")
        desk.sign_in("admin.wang", PASSWORD)
        desk.wait_screen("inbox")
        desk.page.click("a[href='#/params']")
        desk.wait_screen("params")
        check(desk, "params")
        desk.page.select_option("#param-program", "elderly_allowance")
        desk.page.select_option("#param-key", "tiers.80-89")
        assert "元" in desk.page.inner_text("#param-range")
        desk.page.fill("#param-value", "abc")
        desk.page.click("main button:has-text('提交,等待复核')")
        desk.page.wait_for_selector("main .note.error")
        assert "类型或范围" in desk.page.inner_text("main")
        desk.page.fill("#param-value", "60.00")
        start = desk.page.input_value("#param-from")
        desk.page.click("main button:has-text('提交,等待复核')")
        desk.page.wait_for_selector("text=已提交,等待另一位管理员复核")
        assert "本人提出" in desk.page.inner_text("main")
        desk.page.click("main button:has-text('复核同意')")
        desk.page.wait_for_selector("main .note.error")
        assert "须由另一位管理员复核" in desk.page.inner_text("main")
        check(desk, "params-pending")
        desk.page.click("#signout")
        desk.wait_screen("login")

        desk.sign_in("admin.li", PASSWORD)
        desk.wait_screen("inbox")
        desk.open("#/params")
        desk.wait_screen("params")
        assert "其他管理员提出" in desk.page.inner_text("main")
        desk.page.click("main button:has-text('复核同意')")
        desk.page.wait_for_selector("text=已复核同意")
        assert "没有等待复核的调整" in desk.page.inner_text("main") and "已生效" in desk.page.inner_text("main")
        guide = json.loads(desk.page.evaluate("fetch('/api/v1/programs/elderly_allowance').then(r => r.text())"))
        assert [(a["from_month"], a["amounts"]["80-89"]) for a in guide["guide"]["announced"]] == [(start, "60.00")]

        # accounts: a clerk becomes a reviewer of the same street; her password is reset
        desk.open("#/accounts")
        desk.wait_screen("accounts")
        row = desk.page.locator("tr", has_text="zhao.clerk")
        row.locator("summary").click()
        row.locator("select").select_option("reviewer")
        row.locator("button:has-text('保存')").click()
        desk.page.wait_for_selector("text=已修改")
        assert "审核" in desk.page.locator("tr", has_text="zhao.clerk").inner_text()
        row = desk.page.locator("tr", has_text="zhao.clerk")
        row.locator("summary").click()
        row.locator("input[type=password]").fill("a new temporary one 7")
        row.locator("button:has-text('重置密码')").click()
        desk.page.wait_for_selector("text=密码已重置")
        row = desk.page.locator("tr", has_text="zhao.clerk")
        row.locator("summary").click()
        check(desk, "accounts-change")
        desk.page.click("#signout")
        desk.wait_screen("login")
        desk.sign_in("zhao.clerk", "a new temporary one 7")
        desk.wait_screen("password")  # a reset password is changed at the next sign-in
    finally:
        desk.close()


def test_an_admin_registers_a_department_and_changes_its_keys_on_the_exchange_screen(browser, stack):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from flows.exchange import signing

    _staff(stack, "admin.zhou", "admin", must_change=False)
    desk = Desk(browser, stack.api)
    try:
        desk.open("#/inbox")
        desk.sign_in("admin.zhou", PASSWORD)
        desk.wait_screen("inbox")
        desk.page.click("a[href='#/exchange']")
        desk.wait_screen("exchange")
        assert "还没有登记的单位" in desk.page.inner_text("main")
        fill = {"#xr-id": "ybj", "#xr-name": "太原市医疗保障局",
                "#xr-public_key": signing.public_key_text(Ed25519PrivateKey.generate()), "#xr-key_id": "ybj-k1",
                "#xr-purpose": "medical_aid", "#xr-legal_basis": "《社会救助暂行办法》第二十八条",
                "#xr-purpose_text": "医疗救助资格核验", "#xr-agreement_ref": "AGR-2026-007",
                "#xr-agreement_expires": "2030-12-31", "#xr-contact": "0351-1234567"}
        for selector, value in fill.items():
            desk.page.fill(selector, value)
        desk.page.check("input[name=action][value=search]")
        desk.page.check("input[name=field][value='dibao_household.receiving']")
        desk.page.click("main button:has-text('登记')")  # no PIA: the browser keeps it (required), so does the API
        assert desk.page.locator("#xr-pia_ref:invalid").count() == 1
        desk.page.fill("#xr-pia_ref", "PIA-2026-007")
        desk.page.click("main button[type=submit]:has-text('登记')")
        desk.page.wait_for_selector("text=已登记:太原市医疗保障局")
        row = desk.page.locator("tr", has_text="ybj")
        assert "medical_aid" in row.inner_text() and "协议有效" in row.inner_text()
        check(desk, "exchange")

        row.locator("summary:has-text('新增密钥')").click()
        row.locator("textarea").fill(signing.public_key_text(Ed25519PrivateKey.generate()))
        row.locator("input").last.fill("ybj-k2")
        row.locator("button:has-text('新增密钥')").click()
        desk.page.wait_for_selector("text=密钥已新增")
        row = desk.page.locator("tr", has_text="ybj")
        row.locator("summary:has-text('吊销')").first.click()
        row.locator("button:has-text('确认立即吊销 ybj-k1')").click()
        desk.page.wait_for_selector("text=密钥 ybj-k1 已吊销")
        keys = desk.page.locator("tr", has_text="ybj").inner_text()
        assert "ybj-k1:已于" in keys and "ybj-k2(" in keys
        check(desk, "exchange-keys")
        listed = _get(desk, "/api/v1/staff/exchange/clients")
        assert [[k["id"], bool(k["revoked_at"])] for k in listed[0]["keys"]] == [["ybj-k1", True], ["ybj-k2", False]]
    finally:
        desk.close()
