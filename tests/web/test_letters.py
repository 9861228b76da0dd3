"""Decisions in writing (送达, issue 12 item 5) in Debian's Chromium against the real API process.

Two pensioners of the old process die and a third moves away; the nightly run stops two allowances and suspends
the third. A clerk finds the three letters on 待送达, prints a stop letter (print media: only the letter, checked
with axe-core) and records it as posted; the one who moved sees the remedies under his suspended allowance in /m/;
days later (a second API process on the test clock, ZEROTRIP_FAKE_TODAY) the supervisor's dashboard flags the
two unsent letters as overdue. Screenshots into docs/screenshots with ZEROTRIP_SCREENSHOTS=1 (staff-letter-stop.png …)."""

from __future__ import annotations

from datetime import timedelta

from tests.e2e.test_story_elderly_allowance import _person, _summary, _write
from tests.waiting import stop
from tests.web.conftest import ROOT, SHOTS, axe, check_screen, sign_in_and_bind
from tests.web.test_counter import _later_api
from tests.web.test_workbench import PASSWORD, Desk, _staff, check

BENEFICIARIES = ("id_number", "program", "start_month", "monthly_amount")


def test_a_stop_letter_is_printed_recorded_as_posted_and_an_unsent_one_is_flagged(browser, stack, tmp_path, phone):
    from flows import workdays
    from flows.dates import today_shanghai

    today = today_shanghai()
    zhou = _person("周老汉", today.replace(year=today.year - 86), sex="M", household="HL1")
    wu = _person("吴奶奶", today.replace(year=today.year - 88), household="HL2")
    zheng = _person("郑大爷", today.replace(year=today.year - 82), sex="M", phone="13912340077", household="HL3")
    _write(tmp_path / "population.csv", [zhou, wu, zheng])
    assert _summary(stack.cli("import", "population", str(tmp_path / "population.csv")))["rejected"] == "0"
    start = (today - timedelta(days=400)).strftime("%Y-%m")
    _write(tmp_path / "beneficiaries.csv", [{"id_number": p["id_number"], "program": "elderly_allowance",
                                             "start_month": start, "monthly_amount": "100.00"} for p in (zhou, wu, zheng)],
           header=BENEFICIARIES)
    assert _summary(stack.cli("import", "beneficiaries", str(tmp_path / "beneficiaries.csv")))["rejected"] == "0"
    died = (today - timedelta(days=3)).isoformat()
    _write(tmp_path / "deaths.csv", [{**zhou, "death_date": died}, {**wu, "death_date": died},
                                     {**zheng, "hukou_local": "false"}])
    stack.cli("import", "population", str(tmp_path / "deaths.csv"))
    stack.cli("scheduler", "run-once", "--as-of", today.isoformat())
    _staff(stack, "zhang.clerk", "clerk", must_change=False, street="140105001")
    _staff(stack, "sun.super", "supervisor", must_change=False)

    desk = Desk(browser, stack.api)
    try:
        desk.open("#/letters")
        desk.sign_in("zhang.clerk", PASSWORD)
        desk.wait_screen("inbox")
        desk.page.click("a[href='#/letters']")
        desk.wait_screen("letters")
        assert desk.page.locator("main tbody tr").count() == 3
        assert "停止发放" in desk.page.inner_text("main tbody") and "暂停发放" in desk.page.inner_text("main tbody")
        check(desk, "letters")

        desk.page.locator("main tbody tr:has-text('周*')").locator("a").click()
        desk.wait_screen("stop-letter")
        text = desk.page.inner_text("main article.letter")
        assert "停止发放决定书" in text and "的家属" in text and "享受人已去世" in text
        assert "60日内依法申请行政复议" in text and "6个月内依法向人民法院提起行政诉讼" in text
        assert "尚未送达" in desk.page.inner_text("main")
        check(desk, "letter-stop")

        # Printed: only the letter (no send-by line, no form, no buttons), and still accessible.
        desk.page.emulate_media(media="print")
        assert desk.page.is_visible("main article.letter")
        assert not desk.page.is_visible("main .actions") and not desk.page.is_visible("main form")
        assert not desk.page.is_visible("main .delivery")
        assert axe(desk.page) == []
        if SHOTS:
            desk.page.screenshot(path=str(ROOT / "docs" / "screenshots" / "staff-letter-stop-print.png"))
        desk.page.emulate_media(media="screen")

        # Posted today: recorded with its method and note; it leaves the list.
        desk.page.select_option("#sent-method", "post")
        desk.page.fill("#sent-note", "挂号信 XA20261205")
        desk.page.click("main button:has-text('登记已送达')")
        desk.page.wait_for_selector("text=已送达:邮寄送达")
        assert not desk.page.is_visible("main form")
        check(desk, "letter-stop-sent")
        desk.page.click("a[href='#/letters']")
        desk.wait_screen("letters")
        assert desk.page.locator("main tbody tr").count() == 2
    finally:
        desk.close()

    # The one who moved away sees, under his suspended allowance in /m/, the same remedies as the letter.
    citizen = phone()
    sign_in_and_bind(citizen, zheng)
    citizen.go("#/benefits")
    assert "暂停发放" in citizen.page.inner_text("main")
    assert "60日内依法申请行政复议" in citizen.page.inner_text("main")
    check_screen(citizen, "benefits-suspended")

    # Days later: the other letter is still unsent and past its 3 working days — the supervisor sees it.
    later = workdays.add_working_days(today, 5)
    proc, logs, base = _later_api(stack, tmp_path, later)
    desk = Desk(browser, base)
    try:
        desk.open("#/supervision")
        desk.sign_in("sun.super", PASSWORD)
        desk.wait_screen("inbox")
        desk.page.click("a[href='#/supervision']")
        desk.wait_screen("supervision")
        overdue = desk.page.locator("main section:has-text('超期未送达的决定书') tbody tr")
        assert overdue.count() == 2 and "超期" in overdue.first.inner_text()
        assert "吴*" in overdue.all_inner_texts()[0] + overdue.all_inner_texts()[1]
        assert "周*" not in desk.page.inner_text("main section:has-text('超期未送达的决定书')")
        check(desk, "supervision-letters")
    finally:
        desk.close()
        stop(proc)
        logs.close()
