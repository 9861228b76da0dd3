"""公示 and objections on the workbench (issue 12 item 7) in Chromium against the real API process: a street
reviewer claims the objection task from her pool, opens the objection (its words, never who wrote it), sees her
street's notices masked as the public list masks them, dismisses the objection (重新公示 for a full period) and
prints the community's 公示 sheet for the notice board. axe-core on every screen; screenshots with
ZEROTRIP_SCREENSHOTS=1 (docs/screenshots/staff-notices.png, staff-objection*.png, staff-notice-sheet*.png)."""

from __future__ import annotations

from datetime import timedelta

from app.models import PublicNotice
from flows import areas
from flows.dates import today_shanghai
from flows.programs.dibao import cases
from tests.authz import helpers as h
from tests.web.conftest import ROOT, SHOTS
from tests.web.test_workbench import Desk, check

STREET, COMMUNITY = "140105001", "140105001001"
PASSWORD = "correct horse battery"


def _notice(session, cfg, name, street, community, amount_fen=35000):
    resident, _, id_number = h.person(session, cfg, name, street=street, community=community)
    application = h.application(session, resident, program="dibao", state="public_notice")
    today = today_shanghai()
    notice = PublicNotice(application_id=application.id, program="dibao", street_code=street,
                          masked_name=name[0] + "*" + name[-1], amount_fen=amount_fen,
                          starts_on=today - timedelta(days=1), ends_on=today + timedelta(days=5), state="open")
    session.add(notice)
    session.commit()
    return notice, id_number


def test_notices_an_objection_decided_and_the_printed_sheet(browser, stack, session, cfg):
    areas.upsert(session, areas.synthetic_rows(), areas.Result())  # names of the synthetic city
    session.commit()
    here, here_id = _notice(session, cfg, "李秀英", STREET, COMMUNITY)
    _notice(session, cfg, "赵大山", STREET, COMMUNITY, amount_fen=52000)
    elsewhere, _ = _notice(session, cfg, "周其他", "140105002", "140105002001")
    _, neighbour, _ = h.person(session, cfg, "吴邻居", street=STREET, community=COMMUNITY)
    cases.object_to(session, here, neighbour.id, "她家开了小卖部,收入没有申报")
    session.commit()
    h.staff(session, cfg, "reviewer", "140105", street=STREET, username="qian.notice", password=PASSWORD)

    desk = Desk(browser, stack.api)
    try:
        desk.open("#/inbox")
        desk.sign_in("qian.notice", PASSWORD)
        desk.wait_screen("inbox")
        assert "公示异议" in desk.page.inner_text("main")
        with desk.page.expect_response(lambda r: r.url.endswith("/claim")):  # claimed, and the
            desk.page.click("main tr:has-text('公示异议') button:has-text('认领')")  # pool re-drawn, before going on (one screen at a time)
        desk.page.wait_for_load_state("networkidle")
        desk.open("#/mine")
        desk.page.click("main a:has-text('处理异议')")
        desk.wait_screen("objection")
        text = desk.page.inner_text("main")
        assert "她家开了小卖部" in text and "李*英" in text and "李秀英" not in text, text
        assert "吴" not in text and here_id not in text, text
        check(desk, "objection")

        # the notices of her street: masked as published, objections counted, another street's not shown
        desk.page.click("#nav a[href='#/notices']")
        desk.wait_screen("notices")
        text = desk.page.inner_text("main")
        assert "乐业社区" in text and "李*英" in text and "赵*山" in text and "520.00" in text and "1 件(1 件待处理)" in text, text
        assert "周*他" not in text and "李秀英" not in text and "吴" not in text, text
        assert not desk.page.locator(f"[data-notice='{elsewhere.id}']").count()
        check(desk, "notices")

        # from the notice to its objection; the outcome is explained in words before deciding
        desk.page.click("main a:has-text('异议1')")
        desk.wait_screen("objection")
        assert "重新公示 7 天" in desk.page.inner_text("#decision-explained")
        desk.page.select_option("#objection-decision", "upheld")
        assert "重新调查核实" in desk.page.inner_text("#decision-explained")
        desk.page.select_option("#objection-decision", "dismissed")
        desk.page.fill("#objection-reason", "经入户核实,小卖部已于去年关闭,无经营收入")
        desk.page.click("main button:has-text('提交处理决定')")
        desk.page.wait_for_selector("main .note:has-text('公示已重新开始')")
        today = today_shanghai()
        text = desk.page.inner_text("main")
        assert f"{today.isoformat()} 至 {(today + timedelta(days=6)).isoformat()}" in text, text
        assert "异议不成立" in text
        check(desk, "objection-decided")

        # the printable sheet of the community: what the public list shows, the period, how to object
        desk.open("#/notices")
        desk.page.click("main a:has-text('打印公示单')")
        desk.wait_screen("notice-sheet")
        sheet = desk.page.inner_text("main")
        assert "太和街道办事处关于" in sheet and "乐业社区" in sheet, sheet
        assert "公示" in sheet and "李*英" in sheet and "赵*山" in sheet and "李秀英" not in sheet, sheet
        assert "12345" in sheet and "/m/" in sheet and "公示期" in sheet and "周*他" not in sheet, sheet
        check(desk, "notice-sheet")
        desk.page.emulate_media(media="print")
        assert not desk.page.is_visible("header.top") and not desk.page.is_visible("main .actions")
        if SHOTS:
            desk.page.screenshot(path=str(ROOT / "docs" / "screenshots" / "staff-notice-sheet-print.png"))
        desk.page.emulate_media(media="screen")
    finally:
        desk.close()
