"""The whole story in a real browser: sign in, bind, see the proposal, confirm, see the approval in the inbox."""

from __future__ import annotations

from tests.web.conftest import check_screen, sign_in_and_bind


def test_li_xiuying_confirms_on_her_phone_and_sees_the_approval(phone, city):
    assert city.scan()["proposed"] == "2"
    city.stack.cli("import", "areas", "--synthetic")  # names, not codes, on her proposal
    assert city.dispatch()["no_channel"] == "2"
    p = phone()
    sign_in_and_bind(p, city.li, check=check_screen)

    # Home: the one thing waiting for her, in elderly mode because she is 80.
    assert p.screen() == "home"
    assert p.page.evaluate("document.documentElement.classList.contains('elder')")
    main = p.page.inner_text("main")
    assert "李秀英,您好" in main and "高龄津贴" in main and "每月 50.00 元" in main
    assert city.li["id_number"] not in p.page.content()
    check_screen(p, "home")

    # The proposal: every pre-filled field with its source, and why she qualifies, in plain words.
    p.page.click("text=查看并确认")
    p.settle()
    assert p.screen() == "app"
    main = p.page.inner_text("main")
    assert "您为什么符合条件" in main and "年满80周岁" in main
    assert "来源:公安人口库" in main and "李秀英" in main
    assert "小店区" in main and "140105" not in main, main  # the district, street and community by name
    check_screen(p, "proposal")
    p.page.click("text=信息不对,或者不需要")
    p.settle()
    check_screen(p, "decline")
    p.page.go_back()
    p.settle()

    # One tap.
    p.page.click("main .btn.primary")
    p.page.wait_for_selector("text=申请已通过!")
    p.settle()
    assert "已通过" in p.page.inner_text("main")
    check_screen(p, "approved")

    # The dispatcher turns the approval into a message; her inbox shows it.
    assert city.dispatch()["no_channel"] + "" in ("0", "1")
    p.go("#/inbox")
    main = p.page.inner_text("main")
    assert "通过" in main, main
    check_screen(p, "inbox")
    assert p.page.locator("[data-kind=approved]").count() == 1

    # My applications (status timeline), benefits, the service guide.
    p.go("#/apps")
    assert "审核完成:已通过" in p.page.inner_text("main")
    check_screen(p, "applications")
    p.go("#/benefits")
    assert "每月 50.00 元" in p.page.inner_text("main")
    check_screen(p, "benefits")
    p.go("#/guide")
    check_screen(p, "guide")
    p.page.click("text=高龄津贴")
    p.settle()
    assert "谁可以申请" in p.page.inner_text("main")
    check_screen(p, "guide-detail")
    p.go("#/dibao")
    check_screen(p, "dibao")

    # 好差评 after the case ended: "dissatisfied" tells her staff will follow up by a date.
    app_id = p.page.evaluate("fetch('/api/v1/applications', {headers: {Authorization: 'Bearer ' + "
                             "JSON.parse(localStorage.getItem('zt.tokens')).access}}).then(r => r.json())"
                             ".then(a => a[0].id)")
    p.go(f"#/app/{app_id}/rate")
    check_screen(p, "rating")
    p.page.click("label[for=lv-2]")
    p.page.fill("textarea[name=comment]", "字太小,看不清")
    p.page.click("main button[type=submit]")
    p.page.wait_for_selector("text=谢谢您的评价!")
    assert "工作人员会在" in p.page.inner_text("main")
    p.go(f"#/app/{app_id}")
    assert "您的评价:不满意" in p.page.inner_text("main")
