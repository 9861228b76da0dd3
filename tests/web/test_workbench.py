"""The workbench at /staff/ in Debian's Chromium against the real API process (issue 12).

(a) a clerk's day: the first sign-in forces a password change, the pool shows a disability case the citizen
confirmed in /m/, the reviewer claims it and reviews it on the case page; a different person, the district's
approver, claims it from her pool and approves it; the citizen's /m/ shows it approved;
(d) refusals in words: a wrong password and the lock-out, a task someone else claimed a moment ago, the
reviewer approving her own review, a supervisor who may not decide a case (more segregation-of-duties refusals
in test_refusals.py); the admin's accounts screen. axe-core: no serious or critical
violation on any workbench screen; screenshots into docs/screenshots with ZEROTRIP_SCREENSHOTS=1."""

from __future__ import annotations

import csv
from datetime import date

from tests.builders import make_id_number
from tests.e2e.test_story_elderly_allowance import _person, _summary, _write
from tests.web.conftest import ROOT, SHOTS, Phone, axe, check_screen, sign_in_and_bind

DESKTOP = {"width": 1366, "height": 768}
PASSWORD = "temporary secret 1"
NEW_PASSWORD = "my own secret 2026"


def _staff(stack, username, role, must_change=True, **where):
    args = ["staff", "add", "--username", username, "--role", role, "--district", "140105",
            "--password", PASSWORD, "--id-number", make_id_number(date(1980, 1, 1 + len(username) % 27))]
    for key, value in where.items():
        args += [f"--{key}", value]
    if must_change:
        args.append("--must-change-password")
    stack.cli(*args)


class Desk(Phone):
    """A desktop browser on the workbench."""

    def __init__(self, browser, base):
        super().__init__(browser, base, viewport=DESKTOP)

    def open(self, hash_: str = "#/inbox"):
        self.visit(f"{self.base}/staff/{hash_}")

    def settle(self):
        self.page.wait_for_function("document.body.dataset.hash !== undefined && "
                                    "document.body.dataset.hash === location.hash && "
                                    "!document.getElementById('main').hasAttribute('aria-busy')")
        self.page.wait_for_load_state("networkidle")

    def wait_screen(self, name: str):
        self.page.wait_for_function(f"document.body.dataset.screen === '{name}' && "
                                    "!document.getElementById('main').hasAttribute('aria-busy')")
        self.page.wait_for_load_state("networkidle")

    def sign_in(self, username: str, password: str):
        self.page.fill("#username", username)
        self.page.fill("#password", password)
        self.page.click("main button[type=submit]")


def check(desk: Desk, name: str) -> None:
    violations = axe(desk.page)
    assert violations == [], f"{name}: {violations}"
    text = desk.page.inner_text("main")
    assert "undefined" not in text and "null" not in text and "Error" not in text and "[object" not in text, text
    if SHOTS:
        target = ROOT / "docs" / "screenshots"
        target.mkdir(parents=True, exist_ok=True)
        desk.page.screenshot(path=str(target / f"staff-{name}.png"), full_page=True)


def test_a_reviewers_day_and_refusals_in_words(browser, stack, tmp_path, phone):
    from flows.dates import today_shanghai

    today = today_shanghai()
    zhao = _person("赵残", today.replace(year=today.year - 40), sex="M", phone="13912340000", household="H9")
    _write(tmp_path / "population.csv", [zhao])
    assert _summary(stack.cli("import", "population", str(tmp_path / "population.csv")))["rejected"] == "0"
    with open(tmp_path / "disability.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id_number", "certificate_number", "category", "grade", "issue_date", "expiry_date"])
        writer.writerow([zhao["id_number"], zhao["id_number"] + "41", "4", "1",
                         today.replace(year=today.year - 1).isoformat(), today.replace(year=today.year + 4).isoformat()])
    assert _summary(stack.cli("import", "disability", str(tmp_path / "disability.csv")))["rejected"] == "0"
    stack.cli("scheduler", "run-once", "--as-of", today.isoformat())
    stack.cli("import", "areas", "--synthetic")  # the areas by name on the case page and the accounts screen
    from flows.areas import synthetic_rows

    street_name = next(r["name"] for r in synthetic_rows() if r["code"] == "140105001")

    # The citizen confirms the proposal on her phone: the case goes to the street's review pool.
    citizen = phone()
    sign_in_and_bind(citizen, zhao)
    citizen.page.click("text=查看并确认")
    citizen.settle()
    citizen.page.click("main .btn.primary")
    citizen.page.wait_for_load_state("networkidle")

    _staff(stack, "li.review", "reviewer", street="140105001")
    _staff(stack, "wang.review", "reviewer", must_change=False, street="140105001")
    _staff(stack, "zhou.approve", "approver", must_change=False)  # the district's (county) approver
    _staff(stack, "sun.super", "supervisor", must_change=False)
    _staff(stack, "admin.zhou", "admin", must_change=False)

    desk = Desk(browser, stack.api)
    try:
        desk.open("#/inbox")
        assert desk.screen() == "login"
        check(desk, "login")
        desk.sign_in("li.review", "not the password")
        desk.page.wait_for_selector("main .note.error")
        assert "用户名或密码不对" in desk.page.inner_text("main")
        check(desk, "login-wrong")

        desk.sign_in("li.review", PASSWORD)
        desk.wait_screen("password")
        assert "请先修改密码" in desk.page.inner_text("main")
        check(desk, "password")
        desk.page.fill("#current", PASSWORD)
        desk.page.fill("#next", NEW_PASSWORD)
        desk.page.click("main button[type=submit]")
        desk.wait_screen("inbox")
        main = desk.page.inner_text("main")
        assert "赵*" in main and "赵残" not in main, main
        assert "审核" in main and "个工作日" in main
        check(desk, "inbox")

        # Another reviewer claims first: ours is refused in words.
        other = Desk(browser, stack.api)
        try:
            other.open("#/inbox")
            other.sign_in("wang.review", PASSWORD)
            other.wait_screen("inbox")
            other.page.click("main table button:has-text('认领')")
            other.wait_screen("inbox")
            other.page.wait_for_function("!document.querySelector('main table')")
            desk.page.click("main table button:has-text('认领')")
            desk.page.wait_for_selector("main .note.error")
            assert "刚被别人认领了" in desk.page.inner_text("main")
            other.page.click("a[href='#/mine']")
            other.wait_screen("mine")
            other.page.click("main button:has-text('退回任务池')")
            other.wait_screen("mine")
            # released once her list is redrawn without it (a fetch: "networkidle" does not wait for it)
            other.page.wait_for_function("!document.querySelector('main table')")
        finally:
            other.close()

        desk.open("#/inbox")  # the pool as it is now
        desk.wait_screen("inbox")
        desk.page.click("main table button:has-text('认领')")
        desk.wait_screen("inbox")
        desk.page.wait_for_function("!document.querySelector('main table')")  # claimed: gone from the pool
        desk.page.click("a[href='#/mine']")
        desk.wait_screen("mine")
        check(desk, "mine")
        desk.page.click("main a:has-text('审核')")
        desk.wait_screen("case")
        main = desk.page.inner_text("main")
        assert "规则核对" in main and "赵*" in main and "赵残" not in main and zhao["id_number"] not in main
        assert "办理期限" in main and "办理记录" in main
        # the timeline and deadlines in words: who did what, never a raw code (issue 12 item 4)
        assert "审核:" in main and "申请人本人(赵*) 确认了申请" in main, main
        assert "staff:" not in main and "resident:" not in main and "[object Object]" not in main, main
        assert f"{street_name}(140105001)" in desk.page.inner_text("main table:has(caption:has-text('预填信息'))")
        check(desk, "case")
        desk.page.select_option("#reveal-purpose", "application_review")
        desk.page.click("main button:has-text('查看')")
        desk.page.wait_for_selector("text=本次查看已记录")
        assert zhao["id_number"] in desk.page.inner_text("main")
        desk.page.fill("#reason", "证件在有效期内,核对无误")
        desk.page.click("main button:has-text('审核通过')")
        # her review is not the decision: the case goes to the approvers' pool
        desk.page.wait_for_selector("text=案件进入下一步:待审批")
        check(desk, "case-reviewed")
        case_hash = desk.page.evaluate("location.hash")
        # approving her own review is refused in words (segregation of duties)
        desk.page.reload()
        desk.wait_screen("case")
        assert "审批申请" in desk.page.inner_text("main")
        desk.page.fill("#reason", "同意")
        desk.page.click("main button:has-text('审核通过')")
        desk.page.wait_for_selector("main .note.error")
        assert "按规定审批须由另一位工作人员办理" in desk.page.inner_text("main")
        check(desk, "case-own-review-refused")
        # The registry is search-first: a name alone is refused in words; name + birth year finds her, masked.
        desk.page.click("a[href='#/search']")
        desk.wait_screen("search")
        check(desk, "search")
        desk.page.fill("#s-name", "赵残")
        desk.page.click("main button:has-text('查找')")
        desk.page.wait_for_selector("main .note.error")
        assert "姓名加出生年份或社区" in desk.page.inner_text("main")
        desk.page.fill("#s-year", str(today.year - 40))
        desk.page.click("main button:has-text('查找')")
        desk.page.wait_for_selector("main table")
        found = desk.page.inner_text("main table")
        assert "赵*" in found and "赵残" not in found and zhao["id_number"] not in found
        check(desk, "search-found")
        desk.page.click("#signout")
        desk.wait_screen("login")

        # A different person, the district's approver, claims it from her pool and approves it at her desk.
        desk.sign_in("zhou.approve", PASSWORD)
        desk.wait_screen("inbox")
        assert "审批" in desk.page.inner_text("main table")
        check(desk, "inbox-approver")
        desk.page.click("main table button:has-text('认领')")
        desk.wait_screen("inbox")
        desk.page.click("a[href='#/mine']")
        desk.wait_screen("mine")
        desk.page.click("main a:has-text('审批')")
        desk.wait_screen("case")
        assert desk.page.evaluate("location.hash") == case_hash
        main = desk.page.inner_text("main")
        assert "审批申请" in main and "工作人员审核通过" in main
        check(desk, "case-approve")
        desk.page.fill("#reason", "审核意见属实,同意发放")
        desk.page.click("main button:has-text('审核通过')")
        desk.page.wait_for_selector("text=已办结。")
        check(desk, "case-done")
        desk.page.click("main a:has-text('打印决定书')")
        desk.wait_screen("letter")
        letter = desk.page.inner_text("main")
        assert "决定书" in letter and "予以批准" in letter
        check(desk, "decision-letter")
        desk.page.emulate_media(media="print")
        assert not desk.page.is_visible("main .actions")
        if SHOTS:
            desk.page.screenshot(path=str(ROOT / "docs" / "screenshots" / "staff-decision-letter-print.png"))
        desk.page.emulate_media(media="screen")
        desk.page.click("#signout")
        desk.wait_screen("login")

        # A supervisor decides no case: the refusal is in words.
        desk.sign_in("sun.super", PASSWORD)
        desk.wait_screen("inbox")
        assert "现在没有待办任务" in desk.page.inner_text("main")
        desk.page.click("#signout")
        desk.wait_screen("login")

        # The admin's accounts screen: a new account, which must change its password at first sign-in.
        desk.sign_in("admin.zhou", PASSWORD)
        desk.wait_screen("inbox")
        desk.page.click("a[href='#/accounts']")
        desk.wait_screen("accounts")
        assert f"{street_name}办事处" in desk.page.inner_text("main table"), desk.page.inner_text("main table")
        check(desk, "accounts")
        desk.page.fill("#acc-username", "chen.worker")
        desk.page.fill("#acc-display_name", "陈社工")
        desk.page.select_option("#acc-role", "community_worker")
        desk.page.fill("#acc-street_code", "140105001")
        desk.page.fill("#acc-community_code", "140105001001")
        desk.page.fill("#acc-password", PASSWORD)
        desk.page.click("main button:has-text('新建账号')")
        desk.page.wait_for_selector("text=账号已建好")
        assert "陈社工" in desk.page.inner_text("main")

        # Five wrong passwords lock the account: said in words.
        desk.page.click("#signout")
        desk.wait_screen("login")
        for _ in range(6):
            desk.sign_in("chen.worker", "wrong password!")
            desk.page.wait_for_selector("main .note.error")
        assert "已被锁定" in desk.page.inner_text("main")
        check(desk, "locked")
    finally:
        desk.close()

    # The citizen's /m/ shows the case approved.
    citizen.go("#/apps")
    assert "已通过" in citizen.page.inner_text("main")
    check_screen(citizen, "disability-approved")


def test_the_roll_is_released_only_after_another_supervisor_signed_it_off(browser, stack, tmp_path):
    from flows.dates import today_shanghai

    today = today_shanghai()
    month = today.strftime("%Y-%m")
    old = _person("钱老人", today.replace(year=today.year - 85), phone="13912340001", household="H5")
    _write(tmp_path / "population.csv", [old])
    stack.cli("import", "population", str(tmp_path / "population.csv"))
    _staff(stack, "qian.sup", "supervisor", must_change=False)
    _staff(stack, "sun.sup", "supervisor", must_change=False)
    env = {**stack.env, "ZEROTRIP_PASSWORD": PASSWORD}
    import subprocess
    import sys

    def zerotrip(*args):
        return subprocess.run([sys.executable, "-m", "app.cli", *args], env=env, capture_output=True, text=True)

    closed = zerotrip("payroll", "--month", month, "--close", "--by", "qian.sup")
    assert closed.returncode == 0, closed.stderr
    assert "csv=none" in closed.stdout and "signoff=pending" in closed.stdout
    out = tmp_path / "bank"
    early = zerotrip("payroll", "release", "--month", month, "--by", "qian.sup", "--out", str(out))
    assert early.returncode == 2 and "roll_not_signed_off" in early.stderr and not out.exists()

    desk = Desk(browser, stack.api)
    try:
        desk.open("#/inbox")
        desk.sign_in("qian.sup", PASSWORD)
        desk.wait_screen("inbox")
        desk.page.click("a[href='#/roll']")
        desk.wait_screen("roll")
        assert "等待监督人员签核异常报告" in desk.page.inner_text("main")
        check(desk, "roll")
        desk.page.fill("#signoff-note", "我自己结的账")
        desk.page.click("main button:has-text('签核异常报告')")
        desk.page.wait_for_selector("main .note.error")
        assert "须由另一位监督人员签核" in desk.page.inner_text("main")
        check(desk, "roll-refused")
        desk.page.click("#signout")
        desk.wait_screen("login")

        desk.sign_in("sun.sup", PASSWORD)
        desk.wait_screen("inbox")
        desk.page.click("a[href='#/roll']")
        desk.wait_screen("roll")
        desk.page.fill("#signoff-note", "异常报告已逐条核对,无异常")
        desk.page.click("main button:has-text('签核异常报告')")
        desk.page.wait_for_selector("text=已签核。")
        main = desk.page.inner_text("main")
        assert "已签核,可以发放" in main and "异常报告已逐条核对" in main
        check(desk, "roll-signed")
    finally:
        desk.close()
    released = zerotrip("payroll", "release", "--month", month, "--by", "qian.sup", "--out", str(out))
    assert released.returncode == 0, released.stderr
    assert "released=" in released.stdout


def _disability_cases(session, cfg):
    """Four disability cases waiting for review (two communities), then one certificate gone: its re-check fails."""
    from sqlalchemy import delete, select

    from app.models import Application, DisabilityCertificate, StaffTask
    from flows import casework
    from flows.dates import today_shanghai
    from flows.programs.disability_care_subsidy.scan import scan_disability
    from tests.builders import make_resident
    from tests.lifecycle.helpers import certificate

    people = []
    for i, (name, community) in enumerate([("钱一残", "140105001001"), ("孙二残", "140105001001"),
                                           ("周三残", "140105001002"), ("吴四残", "140105001002")]):
        person, number = make_resident(session, cfg, name=name, birth_date=date(1970, 1, 1 + i),
                                       household_id=f"HB{i}", community=community)
        certificate(session, cfg, person, number, grade=1)
        people.append(person)
    scan_disability(cfg, "disability_care_subsidy", today_shanghai())
    tasks = []
    for person in people:
        app = session.scalars(select(Application).where(Application.resident_id == person.id)).one()
        casework.confirm(session, app, "acct-1")
        session.flush()
        tasks.append(session.scalars(select(StaffTask).where(StaffTask.application_id == app.id)).one())
    session.execute(delete(DisabilityCertificate).where(DisabilityCertificate.resident_id == people[2].id))
    session.commit()
    return tasks


def test_inbox_filters_bulk_claim_and_bulk_review_with_a_result_per_item(browser, stack, session, cfg):
    from flows import areas
    from tests.authz import helpers as h

    areas.upsert(session, areas.synthetic_rows(), areas.Result())  # the community filter shows names
    session.commit()
    first, raced, failing, fourth = _disability_cases(session, cfg)
    elsewhere, _, _ = h.person(session, cfg, "郑低保", community="140105001002")
    dibao = h.application(session, elsewhere, program="dibao", state="home_visit")
    visit = h.task(session, elsewhere, kind="home_visit", application_id=dibao.id)
    h.staff(session, cfg, "reviewer", street="140105001", username="feng.review", password=PASSWORD)
    colleague, _ = h.staff(session, cfg, "reviewer", street="140105001")

    desk = Desk(browser, stack.api)
    try:
        desk.open("#/inbox")
        desk.sign_in("feng.review", PASSWORD)
        desk.wait_screen("inbox")
        assert desk.page.locator("main tbody tr").count() == 5
        assert "案件总期限" in desk.page.inner_text("main thead")
        # by program: the disability cases only
        desk.page.select_option("#f-program", "disability_care_subsidy")
        desk.page.click("main form.filters button[type=submit]")
        desk.wait_screen("inbox")
        desk.page.wait_for_function("location.hash.includes('program=')")
        desk.settle()
        assert desk.page.locator("main tbody tr").count() == 4
        assert not desk.page.locator(f"[data-task='{visit.id}']").count()
        # and by community, chosen by name: 周* and 吴* live in the second one
        options = desk.page.locator("#f-community option").all_inner_texts()
        assert len(options) > 2 and all("14010500" not in o for o in options), options
        desk.page.select_option("#f-community", "140105001002")
        desk.page.select_option("#f-state", "reviewing")
        desk.page.click("main form.filters button[type=submit]")
        desk.page.wait_for_function("location.hash.includes('community=')")
        desk.settle()
        shown = {desk.page.get_attribute(f"main tbody tr:nth-child({i + 1})", "data-task") for i in range(2)}
        assert desk.page.locator("main tbody tr").count() == 2 and shown == {failing.id, fourth.id}
        check(desk, "inbox-filtered")

        # bulk claim: a colleague claims one a moment before; that one is refused with its reason
        desk.open("#/inbox?program=disability_care_subsidy")
        for task in (first, raced, failing, fourth):
            desk.page.check(f"[data-task='{task.id}'] input[type=checkbox]")
        session.execute(_claim_for(raced.id, colleague.id))
        session.commit()
        desk.page.click("main button:has-text('认领选中的任务')")
        desk.page.wait_for_selector("main .results li")
        desk.settle()
        text = desk.page.inner_text("main .results")
        assert "已认领 3 件,未能认领 1 件" in text and "孙*残(审核):已被别的同事认领" in text, text
        assert desk.page.locator("main .results li.refused").count() == 1
        check(desk, "inbox-bulk-claim")

        # bulk review of my three: two done, the one whose rule re-check fails refused with the reason
        desk.page.click("a[href='#/mine']")
        desk.wait_screen("mine")
        desk.page.check("main thead input[type=checkbox]")
        desk.page.click("main button:has-text('对选中的审核任务完成审核')")
        desk.page.wait_for_selector("main .results li")
        desk.settle()
        text = desk.page.inner_text("main .results")
        assert "已完成审核 2 件,未能完成 1 件" in text, text
        refused = desk.page.inner_text("main .results li.refused")
        assert "周*残" in refused and "重新核对规则,不符合条件" in refused, refused
        assert desk.page.locator("main .results li.ok").count() == 2
        assert desk.page.locator("main tbody tr").count() == 1  # the refused one stays mine, to open
        check(desk, "inbox-bulk")
    finally:
        desk.close()


def _claim_for(task_id, staff_id):
    from sqlalchemy import update

    from app.db import utcnow
    from app.models import StaffTask

    return update(StaffTask).where(StaffTask.id == task_id).values(claimed_by=staff_id, claimed_at=utcnow())
