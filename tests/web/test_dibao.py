"""The 低保 form in a real browser: only what the state cannot know, and the case starts."""

from __future__ import annotations

from tests.web.conftest import sign_in_and_bind


def test_a_resident_applies_for_dibao_with_only_what_the_state_cannot_know(phone, city):
    p = phone()
    sign_in_and_bind(p, city.li)
    p.go("#/dibao")
    p.page.fill("input[name=monthly_income]", "300")
    p.page.fill("textarea[name=income_note]", "偶尔帮邻居看孩子")
    p.page.click("main button[type=submit]")
    p.page.wait_for_selector("text=已提交")
    p.settle()
    apps = p.page.evaluate("fetch('/api/v1/applications', {headers: {Authorization: 'Bearer ' + "
                           "JSON.parse(localStorage.getItem('zt.tokens')).access}}).then(r => r.json())")
    dibao = [a for a in apps if a["program"] == "dibao"]
    assert len(dibao) == 1 and dibao[0]["origin"] == "citizen"
    assert city.li["id_number"] not in p.page.content()
