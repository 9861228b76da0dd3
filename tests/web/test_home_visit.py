"""The 低保 home visit on a community worker's phone (issue 12 item 6) in Chromium at 390×844: she claims the
visit, picks the colleague at the door, both investigators and the household member sign on the screen, a photo
from the camera; the draft survives a reload; the case moves on to the street review."""

from __future__ import annotations

from tests.visits import image_bytes
from tests.web.conftest import Phone, sign_in_and_bind
from tests.web.test_workbench import PASSWORD, Desk, _staff, check

PHONE = {"width": 390, "height": 844}


class StaffPhone(Desk):
    def __init__(self, browser, base):
        Phone.__init__(self, browser, base, viewport=PHONE)


def _sign(page, selector: str) -> None:
    """A stroke across the pad; each pad (#sign-1, -2, -3) its own hand: three people do not draw the same."""
    hand = int(selector[-1])
    page.locator(selector).scroll_into_view_if_needed()
    box = page.locator(selector).bounding_box()
    x, y = box["x"] + 20, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for i in range(1, 12):
        page.mouse.move(x + i * (16 + hand * 2), y + ((5 + hand * 3) if i % 2 else -(5 + hand * 3)))
    page.mouse.up()


def visit_on_a_phone(browser, stack, *, reload: bool = False) -> None:
    """Two community workers of the street: the first claims the visit on her phone, picks the second, both
    and the household member sign on the screen, a photo; `reload` drops the page half-way (the draft stays)."""
    _staff(stack, "wang.worker", "community_worker", must_change=False, street="140105001",
           community="140105001001")
    _staff(stack, "zhao.worker", "community_worker", must_change=False, street="140105001",
           community="140105001001")
    worker = StaffPhone(browser, stack.api)
    try:
        worker.open("#/inbox")
        worker.sign_in("wang.worker", PASSWORD)
        worker.wait_screen("inbox")
        with worker.page.expect_response(lambda r: r.url.endswith("/claim")):  # claimed, and the
            worker.page.click("main button:has-text('认领')")  # pool re-drawn, before going on (one screen at a time)
        worker.page.wait_for_load_state("networkidle")
        worker.open("#/mine")
        worker.page.click("main a:has-text('入户调查')")
        worker.wait_screen("visit")
        check(worker, "home-visit-phone")
        assert worker.page.evaluate("document.documentElement.scrollWidth <= 390"), "no sideways scrolling"
        worker.page.select_option("#second", label="zhao.worker(社区工作人员)")
        _sign(worker.page, "#sign-1")
        _sign(worker.page, "#sign-2")
        if reload:  # the network drops, the page reloads: the draft is still there
            worker.page.reload()
            worker.wait_screen("visit")
            assert worker.page.input_value("#second") != ""
        _sign(worker.page, "#sign-3")
        worker.page.set_input_files("#photos", files=[{"name": "door.jpg", "mimeType": "image/jpeg",
                                                      "buffer": image_bytes("JPEG", (1200, 900))}])
        worker.page.click("main button[type=submit]")
        worker.page.wait_for_selector("main .note:not(:has-text('正在上传'))")
        assert "入户调查已提交" in worker.page.inner_text("main"), worker.page.inner_text("main")
    finally:
        worker.close()


def apply_for_dibao(citizen) -> dict:
    citizen.go("#/dibao")
    citizen.page.fill("input[name=monthly_income]", "300")
    citizen.page.click("main button[type=submit]")
    citizen.page.wait_for_selector("text=已提交")
    return case_of(citizen)


def case_of(citizen) -> dict:
    apps = citizen.page.evaluate("fetch('/api/v1/applications', {headers: {Authorization: 'Bearer ' + "
                                 "JSON.parse(localStorage.getItem('zt.tokens')).access}}).then(r => r.json())")
    return next(a for a in apps if a["program"] == "dibao")


def test_two_community_workers_record_the_home_visit_on_a_phone(browser, phone, city):
    citizen = phone()
    sign_in_and_bind(citizen, city.li)
    assert apply_for_dibao(citizen)["state"] == "home_visit"
    visit_on_a_phone(browser, city.stack, reload=True)
    assert case_of(citizen)["state"] == "reviewing"
