"""The daughter's flow: her father invites her by QR code, she accepts from the link, and confirms for him."""

from __future__ import annotations

from tests.web.conftest import check_screen, sign_in_and_bind


def test_wang_li_confirms_her_fathers_allowance(phone, city):
    assert city.scan()["proposed"] == "2"
    father, daughter = phone(), phone()

    # The father creates an invitation; the QR code encodes a link into this front end.
    sign_in_and_bind(father, city.wang)
    father.go("#/family")
    check_screen(father, "family")
    father.page.click("main .btn.primary")  # 邀请家人替我办理
    father.settle()
    assert father.screen() == "invite"
    qr = father.page.locator("img.qr")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 100")
    link = father.page.input_value("#invite-link")
    assert link.startswith(f"{city.stack.api}/m/#/accept?t=")
    check_screen(father, "invite")

    # The daughter opens the link on her phone: sign in, bind, and she is back at the invitation.
    sign_in_and_bind(daughter, city.wang_daughter, start=link.split("/m/", 1)[1])
    assert daughter.screen() == "accept"
    check_screen(daughter, "accept")
    daughter.page.click("main .btn.primary")
    daughter.page.wait_for_selector("text=已接受")
    assert "等待对方在手机上同意" in daughter.page.inner_text("main")  # another household: he says yes first

    # The father agrees on his family screen.
    father.go("#/family")
    assert "王*" in father.page.inner_text("main") or "王" in father.page.inner_text("main")
    father.page.click("main .btn.primary")  # 同意
    father.page.wait_for_selector("text=已生效")

    # Her home shows what waits for her father; she confirms for him.
    daughter.go("#/home")
    main = daughter.page.inner_text("main")
    assert "替王" in main and "高龄津贴" in main, main
    daughter.page.click("main .btn.primary")
    daughter.settle()
    assert daughter.page.inner_text("main .btn.primary").startswith("信息无误,替王")
    assert "为什么符合条件" in daughter.page.inner_text("main")
    daughter.page.click("main .btn.primary")
    daughter.page.wait_for_selector("text=申请已通过!")

    # He sees the approval in his inbox, confirmed by his daughter.
    city.dispatch()
    father.go("#/inbox")
    assert father.page.locator("[data-kind=approved]").count() == 1
    father.go("#/apps")
    father.page.click("main h2 a")
    father.settle()
    assert "代为确认" in father.page.inner_text("main")
    daughter.go("#/family")
    check_screen(daughter, "family-helper")
    # His applications are in her list too, under his masked name, opened for him (within the grant)
    daughter.go("#/apps")
    assert "替王" in daughter.page.inner_text("main") and "高龄津贴" in daughter.page.inner_text("main")
    daughter.page.click("main li:has-text('替王') h2 a")
    daughter.settle()
    assert "已通过" in daughter.page.inner_text("main")

    # She shows proof of his allowance for him (a proxy with `view`): his benefit, under his masked name.
    daughter.go("#/benefits")
    assert "替王" in daughter.page.inner_text("main")
    daughter.page.click("text=出示电子证明")
    daughter.settle()
    assert daughter.screen() == "proof"
    main = daughter.page.inner_text("main")
    assert "高龄津贴" in main and "王*国" in main and city.wang["id_number"][-4:] in main, main
    assert daughter.page.input_value("#proof-code").startswith("ZT1:")

    # He changes his mind: the new-proxy message's one tap (撤销授权) ends her grant at once.
    father.go("#/inbox")
    granted = father.page.locator("[data-kind=proxy_granted]")
    assert granted.count() == 1
    granted.locator("button", has_text="撤销授权").click()
    father.page.wait_for_selector("text=已撤销,立即生效。")
    daughter.go("#/apps")
    assert "替王" not in daughter.page.inner_text("main")


def test_a_daughter_asks_to_help_and_her_father_agrees_on_his_phone(phone, city):
    """The other way round: she asks with his name and ID number (#/ask); the answer says nothing of whether they
    matched; he sees the request on his family screen and agrees; she then helps him."""
    father, daughter = phone(), phone()
    sign_in_and_bind(father, city.wang)
    sign_in_and_bind(daughter, city.wang_daughter)
    daughter.go("#/family")
    daughter.page.click("text=申请替家人办理")
    daughter.settle()
    assert daughter.screen() == "ask"
    check_screen(daughter, "ask")
    daughter.page.fill("input[name=name]", city.wang["name"])
    daughter.page.fill("input[name=id_number]", city.wang["id_number"])
    daughter.page.select_option("select[name=relation]", "child")
    daughter.page.click("main button[type=submit]")
    daughter.page.wait_for_selector("text=申请已发出")
    daughter.go("#/family")
    assert "等待对方同意" in daughter.page.inner_text("main")

    father.go("#/family")
    father.page.click("main .card .btn.primary")  # 同意
    father.page.wait_for_selector("text=已生效")
    daughter.go("#/home")
    daughter.go("#/family")
    assert "已生效" in daughter.page.inner_text("main")
