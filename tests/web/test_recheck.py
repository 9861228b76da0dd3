"""A benefit's re-check after new income data on the workbench, in Chromium against the real API process
(flows/lifecycle/income.py, docs/programs.md "Income changes"): a household receiving 低保 gets a higher wage in the
partners' import; the street reviewer finds the re-check in her pool with its words, claims it, reads the proposal
and its grounds on the case page, is asked for a reason, and confirms it; the screen says a second person must
approve it, and her own approvals screen offers her only the withdrawal; the district's approver sees it in words
on the approvals screen and approves it; the benefit is re-priced from next month. axe-core on every screen."""

from __future__ import annotations

import csv
from datetime import date, timedelta

from app.models import Benefit
from tests.lifecycle.helpers import dibao_household
from tests.web.test_workbench import PASSWORD, Desk, _staff, check


def _month(d: date, back: int) -> str:
    n = d.year * 12 + d.month - 1 - back
    return f"{n // 12:04d}-{n % 12 + 1:02d}"


def _household(session, cfg, today: date):
    """The head's wage 600 yuan a month for the six months before last (tests.lifecycle.helpers.dibao_household)."""
    _, number, application, benefit = dibao_household(
        session, cfg, "HR1", [_month(today, back) for back in range(7, 1, -1)], today - timedelta(days=20),
        as_of=today - timedelta(days=15), start_month=_month(today, 0))
    return number, application, benefit


def _import_wage(stack, tmp_path, number: str, month: str, yuan: str) -> None:
    """One month's wage of a member through `zerotrip import economic`, as the tax bureau's file brings it."""
    path = tmp_path / "economic.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(("id_number", "kind", "period", "amount", "quantity", "ref", "source"))
        w.writerow((number, "income_wage", month, yuan, "", "", "tax"))
    stack.cli("import", "economic", str(path))


def _sign_in(browser, stack, username: str) -> Desk:
    desk = Desk(browser, stack.api)
    desk.open("#/inbox")
    desk.sign_in(username, PASSWORD)
    desk.wait_screen("inbox")
    return desk


def test_a_reviewer_confirms_a_re_check_and_a_second_person_approves_it(browser, stack, session, cfg, tmp_path):
    from flows.dates import today_shanghai

    today = today_shanghai()
    number, application, benefit = _household(session, cfg, today)
    _staff(stack, "qian.street", "reviewer", must_change=False, street="140105001", name="钱审核")
    _staff(stack, "sun.county", "approver", must_change=False, name="孙审批")
    # last month's wage 3000: (5 × 600 + 3000) / 6 = 1000 a month → 3 × 800 − 1000 = 1400 yuan
    _import_wage(stack, tmp_path, number, _month(today, 1), "3000.00")
    session.expire_all()
    assert session.get(Benefit, benefit.id).monthly_amount_fen == 180_000  # never changed silently

    desk = _sign_in(browser, stack, "qian.street")
    try:
        row = desk.page.locator("main tr:has-text('待遇复核')")
        said = row.inner_text()
        assert "拟自" in said and "由每月1800.00元调整为每月" in said, said
        check(desk, "recheck-pool")
        with desk.page.expect_response(lambda r: r.url.endswith("/claim")):
            row.locator("button:has-text('认领')").click()
        desk.page.wait_for_load_state("networkidle")
        desk.open("#/mine")
        desk.page.click("main a:has-text('处理复核')")
        desk.wait_screen("case")
        section = desk.page.locator("#rechecks")
        text = section.inner_text()
        assert "由每月1800.00元调整为每月" in text and "核算依据" in text and "待处理" in text, text
        assert "家庭月人均收入" in text, text
        check(desk, "recheck-case")
        # a reason is needed, said in words before anything is sent
        section.locator("button:has-text('确认调整')").click()
        desk.page.wait_for_selector("#rechecks .note.error:has-text('至少2个字')")
        desk.page.fill("#recheck-reason-0", "入户核实收入属实")
        with desk.page.expect_response(lambda r: r.url.endswith("/recheck")) as answered:
            section.locator("button:has-text('确认调整')").click()
        assert answered.value.status == 200
        desk.page.wait_for_selector("main .note:has-text('须由另一位有审批权限的工作人员')")
        desk.wait_screen("case")
        text = desk.page.inner_text("#rechecks")
        assert "等待另一位工作人员审批" in text and desk.page.locator("#rechecks button").count() == 0, text
        check(desk, "recheck-confirmed")
        # her own proposal: the approvals screen offers her the withdrawal, not the approval
        desk.page.click("#nav a:has-text('待审批调整')")
        desk.wait_screen("approvals")
        mine = desk.page.locator("main tr[data-approval]")
        assert "本人提出" in mine.inner_text() and mine.locator("button:has-text('审批同意')").count() == 0
        check(desk, "approvals-own")
    finally:
        desk.close()
    session.expire_all()
    assert session.get(Benefit, benefit.id).monthly_amount_fen == 180_000  # not before the second person

    approver = _sign_in(browser, stack, "sun.county")
    try:
        approver.page.click("#nav a:has-text('待审批调整')")
        approver.wait_screen("approvals")
        row = approver.page.locator("main tr[data-approval]")
        said = row.inner_text()
        assert "由每月1800.00元调整为每月" in said and "入户核实收入属实" in said and "其他工作人员提出" in said, said
        check(approver, "approvals")
        with approver.page.expect_response(lambda r: r.url.endswith("/approve")) as approved:
            row.locator("button:has-text('审批同意')").click()
        assert approved.value.status == 200
        approver.page.wait_for_selector("main .note:has-text('已审批同意,调整已生效')")
        approver.wait_screen("approvals")
        assert "没有等待审批的调整" in approver.page.inner_text("main")
        assert "已审批同意" in approver.page.inner_text("main section:has(h2:text('最近处理的调整'))")
        check(approver, "approvals-done")
        approver.open(f"#/case/{application.id}")
        approver.wait_screen("case")
        assert "已审批通过并生效" in approver.page.inner_text("#rechecks")
    finally:
        approver.close()

    session.expire_all()
    case = session.get(Benefit, benefit.id)
    assert (case.state, case.monthly_amount_fen) == ("active", 140_000)


def test_a_dismissed_re_check_keeps_the_payment_and_a_late_answer_is_refused_in_words(browser, stack, session, cfg,
                                                                                     tmp_path):
    from flows.dates import today_shanghai

    today = today_shanghai()
    number, application, benefit = _household(session, cfg, today)
    _staff(stack, "qian.street", "reviewer", must_change=False, street="140105001", name="钱审核")
    _staff(stack, "wang.street", "reviewer", must_change=False, street="140105001", name="王审核")
    _import_wage(stack, tmp_path, number, _month(today, 1), "3000.00")

    desk, colleague = _sign_in(browser, stack, "qian.street"), _sign_in(browser, stack, "wang.street")
    try:
        for d in (desk, colleague):  # both have the case page open
            d.open(f"#/case/{application.id}")
            d.wait_screen("case")
        desk.page.fill("#recheck-reason-0", "一次性劳务收入,入户核实不计入")
        desk.page.click("#rechecks button:has-text('不予调整')")
        desk.page.wait_for_selector("main .note:has-text('已决定不予调整')")
        desk.wait_screen("case")
        assert "已决定不予调整,待遇照常发放" in desk.page.inner_text("#rechecks")
        check(desk, "recheck-dismissed")
        colleague.page.fill("#recheck-reason-0", "收入属实")
        colleague.page.click("#rechecks button:has-text('确认调整')")
        colleague.page.wait_for_selector("#rechecks .note.error:has-text('这项复核已经处理过了')")
        # a reviewer's approvals screen: nothing waits
        colleague.page.click("#nav a:has-text('待审批调整')")
        colleague.wait_screen("approvals")
        assert "没有等待审批的调整" in colleague.page.inner_text("main")
    finally:
        desk.close()
        colleague.close()
    session.expire_all()
    assert session.get(Benefit, benefit.id).monthly_amount_fen == 180_000
