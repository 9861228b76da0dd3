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


def test_a_parameter_change_needs_a_second_admin_and_accounts_are_changed_in_the_ui(browser, stack):
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
