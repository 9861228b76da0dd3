"""The counter (帮办) and supervision (监督制约) in Debian's Chromium against the real API (issue 13).

(a) a resident without a phone is confirmed at the counter from the ID-card reader's JSON — her signature drawn
on the tablet canvas is her recorded consent —, the clerk starts the application she asks for (代为申请, a
program the citizen applies for herself, asked of the registry) and she leaves with a printed receipt listing both
(the street office by name, its reception phone and 12345) and a printed proof of the allowance now in payment, which the public verification API accepts; a refused applicant
comes back and asks for a second look (复核) in the same visit, with her signature, and the receipt lists the appeal;
(c) weeks later (a second API process on the test clock, ZEROTRIP_FAKE_TODAY) a supervisor sees the overdue
review cases the counter started, with the person holding them, reassigns one with a reason and moves the
rest of an absent reviewer's tasks in bulk. axe-core: no serious or critical violation on the new screens;
screenshots into docs/screenshots with ZEROTRIP_SCREENSHOTS=1."""

from __future__ import annotations

import base64
import csv
import json
import re
import subprocess
import sys
from datetime import date, timedelta

import requests

from tests.e2e.conftest import free_port
from tests.e2e.test_story_elderly_allowance import _person, _summary, _write
from tests.waiting import stop, wait_http
from tests.web.test_workbench import PASSWORD, Desk, _staff, check

PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==")


def _card(person: dict) -> dict:
    return {"name": person["name"], "id_number": person["id_number"], "sex": "女" if person["sex"] == "F" else "男",
            "birth_date": person["birth_date"], "address": "山西省太原市小店区坞城路1号",
            "issuing_authority": "太原市公安局小店分局", "valid_until": None}  # 长期 (no end date)


def _sign(desk, nth=0):
    """Her signature drawn on the tablet canvas."""
    canvas = desk.page.locator("canvas.signature").nth(nth)
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    desk.page.mouse.move(box["x"] + 40, box["y"] + 100)
    desk.page.mouse.down()
    for i in range(1, 12):
        desk.page.mouse.move(box["x"] + 40 + i * 25, box["y"] + 100 - (i % 3) * 25)
    desk.page.mouse.up()


def test_a_resident_without_a_phone_is_confirmed_at_the_counter(browser, stack, tmp_path):
    from flows.dates import today_shanghai

    today = today_shanghai()
    li = _person("李秀英", (today - timedelta(days=3)).replace(year=today.year - 80))  # no phone
    son = _person("王建国", today.replace(year=today.year - 50), sex="M", phone="13912340001", household="H1")
    _write(tmp_path / "population.csv", [li, son])
    assert _summary(stack.cli("import", "population", str(tmp_path / "population.csv")))["rejected"] == "0"
    assert _summary(stack.cli("scan", "elderly-allowance", "--as-of", today.isoformat()))["proposed"] == "1"
    _staff(stack, "zhang.clerk", "clerk", must_change=False, street="140105001")
    # the synthetic city's area names, with the street office's reception phone (接待电话) for the receipt
    assert _summary(stack.cli("import", "areas", "--synthetic"))["rejected"] == "0"
    from flows.areas import synthetic_rows

    office = next(r for r in synthetic_rows() if r["code"] == "140105001")

    desk = Desk(browser, stack.api)
    try:
        desk.open("#/counter")
        desk.sign_in("zhang.clerk", PASSWORD)
        desk.wait_screen("inbox")
        desk.page.click("a[href='#/counter']")
        desk.wait_screen("counter")
        check(desk, "counter")
        # a card that disagrees with the registry is refused in words
        desk.page.fill("#c-card", json.dumps({**_card(li), "name": "李秀兰"}, ensure_ascii=False))
        desk.page.click("main button[type=submit]")
        desk.page.wait_for_selector("main .note.error")
        assert "读卡信息与户籍登记不一致" in desk.page.inner_text("main")
        desk.page.fill("#c-card", json.dumps(_card(li), ensure_ascii=False))
        desk.page.click("main button[type=submit]")
        desk.wait_screen("visit")
        main = desk.page.inner_text("main")
        assert "高龄津贴" in main and "李秀英" not in main and li["id_number"] not in main, main
        check(desk, "counter-visit")
        desk.page.click("main button:has-text('代为确认')")
        desk.page.wait_for_selector("canvas.signature")
        # without a signature nothing is confirmed: reading the card is not consent
        desk.page.click("main button:has-text('确认并记录同意')")
        desk.page.wait_for_selector("main .note.error")
        assert "请先请居民签名" in desk.page.inner_text("main")
        _sign(desk)
        check(desk, "counter-consent")
        desk.page.click("main button:has-text('确认并记录同意')")
        desk.page.wait_for_selector("text=已代为确认")
        # her son has no account of his own yet: a proxy grant needs one (the existing rule), said in words
        desk.page.fill("#p-id", son["id_number"])
        desk.page.fill("#p-doc", "授权委托书 2026-118")
        desk.page.select_option("#p-basis", "written_authorisation")
        desk.page.click("main button:has-text('登记代办人')")
        desk.page.wait_for_selector("text=代办人要先用自己的手机登录民政小程序")
        # she also asks for a program she applies for herself: the clerk fills in what only she can say
        from flows.programs import PROGRAMS

        program = next(p for p in PROGRAMS.values() if p.citizen_started)
        desk.page.click("main button:has-text('代为申请')")
        desk.page.wait_for_selector("#a-program")
        desk.page.select_option("#a-program", program.code)
        for f in program.apply_form:
            desk.page.fill(f"#a-{f.name}", "12,5" if f.kind == "amount" else "偶尔帮人看孩子")
        _sign(desk)
        check(desk, "counter-apply")
        desk.page.click("main button:has-text('提交申请并记录同意')")
        # 12,5 is not an amount: said in words, nothing started
        refused = desk.page.wait_for_selector("main form[aria-labelledby=apply-h] .note.error")
        assert "300.00" in refused.inner_text()
        for f in program.apply_form:
            if f.kind == "amount":
                desk.page.fill(f"#a-{f.name}", "200")
        desk.page.click("main button:has-text('提交申请并记录同意')")
        desk.page.wait_for_selector("text=已代为提交")
        case_no = re.search(r"案件编号 (\S+?),", desk.page.inner_text("main")).group(1)
        assert program.name in desk.page.inner_text("main table")
        desk.page.click("main a:has-text('打印回执')")
        desk.wait_screen("receipt")
        desk.page.wait_for_function("document.querySelector('img.qr') && document.querySelector('img.qr').complete "
                                    "&& document.querySelector('img.qr').naturalWidth > 0")
        receipt = desk.page.inner_text("main")
        assert "办理回执" in receipt and "12345" in receipt and li["id_number"] not in receipt, receipt
        # the office by name (never its bare code) and its phone, beside 12345
        assert f"在{office['name']}办事处窗口办理" in receipt and "140105001" not in receipt, receipt
        assert f"接待电话:{office['office_phone']}" in receipt and office["office_address"] in receipt, receipt
        assert f"{program.name} {case_no}" in receipt and "入户调查" in receipt, receipt
        assert desk.page.locator("main tbody tr").count() == 2  # the confirmed proposal and the new application
        check(desk, "counter-receipt")
        desk.page.emulate_media(media="print")
        assert not desk.page.is_visible("main .actions") and desk.page.is_visible("img.qr")
        desk.page.emulate_media(media="screen")
        # the allowance she confirmed is in payment: the clerk prints her a proof any counter can check (issue 15)
        desk.page.click("main a:has-text('返回')")
        desk.wait_screen("visit")
        held = desk.page.inner_text("main table:has(caption:has-text('在享待遇'))")
        assert "高龄津贴" in held and "发放中" in held, held
        desk.page.click("main a:has-text('打印待遇证明')")
        desk.wait_screen("proof")
        proof = desk.page.inner_text("main")
        assert f"身份证号码后四位 {li['id_number'][-4:]}" in proof and li["id_number"] not in proof, proof
        assert "李秀英" not in proof and "高龄津贴" in proof, proof
        check(desk, "counter-proof")
        code = desk.page.get_attribute("main article.proof", "data-code")
        verdict = requests.post(f"{stack.api}/api/v1/proofs/verify", json={"code": code}, timeout=30).json()
        assert verdict["valid"] and verdict["status"] == "valid", verdict
        desk.page.emulate_media(media="print")
        assert not desk.page.is_visible("main .actions") and desk.page.is_visible("img.qr")
        desk.page.emulate_media(media="screen")
    finally:
        desk.close()


def test_a_refused_applicant_appeals_at_the_counter_with_her_signature(browser, stack, tmp_path):
    """She applied for a program at the counter, the home visit refused it; she comes back to the counter (no
    phone) and asks for a second look (复核) in the same visit: the printed receipt lists the appeal, who looks
    again and by when."""
    from flows.dates import today_shanghai
    from flows.programs import PROGRAMS
    from tests.visits import visit_body

    today = today_shanghai()
    zhao = _person("赵桂兰", today.replace(year=today.year - 66), household="H7")  # no phone
    _write(tmp_path / "population.csv", [zhao])
    assert _summary(stack.cli("import", "population", str(tmp_path / "population.csv")))["rejected"] == "0"
    _staff(stack, "zhang.clerk", "clerk", must_change=False, street="140105001")
    _staff(stack, "wang.review", "reviewer", must_change=False, street="140105001")
    clerk, wang = _login(stack.api, "zhang.clerk"), _login(stack.api, "wang.review")

    # last month at the counter: the application she asked for, with her signed slip
    program = next(p for p in PROGRAMS.values() if p.citizen_started)
    visit = requests.post(f"{stack.api}/api/v1/staff/counter/identify", headers=clerk,
                          json={"id_number": zhao["id_number"]}).json()
    form = {f.name: "200" if f.kind == "amount" else "偶尔帮人看孩子" for f in program.apply_form}
    started = requests.post(f"{stack.api}/api/v1/staff/counter/visits/{visit['visit_id']}/applications",
                            headers=clerk, data={"program": program.code, "consent_kind": "slip_photo", **form},
                            files={"consent": ("slip.png", PNG, "image/png")})
    assert started.status_code == 201, started.text
    case = started.json()["actions"][-1]["application_id"]
    # the home visit refuses it (one point of the checklist does not hold)
    from flows.programs.dibao.cases import HOME_VISIT_CHECKLIST

    def post(path, **kw):
        return requests.post(stack.api + path, timeout=120, **kw)

    colleague = requests.get(f"{stack.api}/api/v1/staff/me", headers=clerk).json()["id"]
    checklist = {**dict.fromkeys(HOME_VISIT_CHECKLIST, True), HOME_VISIT_CHECKLIST[0]: False}
    body = visit_body(post, case, wang, colleague, checklist, "居住情况与申报不一致")
    refused = post(f"/api/v1/staff/applications/{case}/home-visit", headers=wang, json=body)
    assert refused.status_code == 200 and refused.json()["state"] == "rejected", refused.text

    desk = Desk(browser, stack.api)
    try:
        desk.open("#/counter")
        desk.sign_in("zhang.clerk", PASSWORD)
        desk.wait_screen("inbox")
        desk.page.click("a[href='#/counter']")
        desk.wait_screen("counter")
        desk.page.fill("#c-id", zhao["id_number"])
        desk.page.click("main button[type=submit]")
        desk.wait_screen("visit")
        decisions = desk.page.inner_text("main table.decisions")
        assert program.name in decisions and "未通过" in decisions, decisions
        desk.page.click(f"main button[aria-label='申请复核:{program.name}']")
        desk.page.wait_for_selector("#ap-reason")
        # no reason chosen, then no signature: said in words, nothing filed
        desk.page.click("main button:has-text('提交复核申请并记录同意')")
        desk.page.wait_for_selector("main form[aria-labelledby=appeal-h] .note.error")
        assert "请选择一项复核理由" in desk.page.inner_text("main form[aria-labelledby=appeal-h]")
        desk.page.select_option("#ap-reason", "facts_wrong")
        desk.page.fill("#ap-comment", "入户那天我去医院复查了,一直住在登记的地址")
        desk.page.click("main button:has-text('提交复核申请并记录同意')")
        desk.page.wait_for_selector("main form[aria-labelledby=appeal-h] .note.error:has-text('请先请居民签名')")
        assert requests.get(f"{stack.api}/api/v1/staff/counter/visits/{desk.page.url.split('/')[-1]}",
                            headers=clerk).json()["actions"] == []  # nothing filed
        # the form again from the start: her reason, her words, her signature
        desk.page.click(f"main button[aria-label='申请复核:{program.name}']")
        desk.page.select_option("#ap-reason", "facts_wrong")
        desk.page.fill("#ap-comment", "入户那天我去医院复查了,一直住在登记的地址")
        _sign(desk)
        check(desk, "counter-appeal")
        desk.page.click("main button:has-text('提交复核申请并记录同意')")
        desk.page.wait_for_selector("text=已代为提交")
        done = desk.page.inner_text("main")
        appeal_no = re.search(r"编号 (\S+?),", done).group(1)
        assert "复核期限" in done and not desk.page.is_visible("main table.decisions"), done  # nothing left to appeal
        desk.page.click("main a:has-text('打印回执')")
        desk.wait_screen("receipt")
        receipt = desk.page.inner_text("main")
        assert f"复核申请 {program.name} {appeal_no}" in receipt, receipt
        assert "由未参与原决定的工作人员办理" in receipt and "行政复议" in receipt, receipt
        appeal = requests.get(f"{stack.api}/api/v1/staff/appeals/{appeal_no}", headers=clerk).json()
        assert appeal["due_on"] in receipt and appeal["filed_via"] == "counter", (appeal, receipt)
        assert zhao["id_number"] not in receipt and "赵桂兰" not in receipt
        check(desk, "counter-appeal-receipt")
        desk.page.emulate_media(media="print")
        assert not desk.page.is_visible("main .actions")
        desk.page.emulate_media(media="screen")
    finally:
        desk.close()


def _later_api(stack, tmp_path, day: date):
    """A second API process on the test clock (ZEROTRIP_FAKE_TODAY), same database: weeks have passed."""
    port = free_port()
    env = {**stack.env, "ZEROTRIP_FAKE_TODAY": day.isoformat()}
    logs = open(tmp_path / "later.log", "w")  # noqa: SIM115
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "serve", "--port", str(port), "--workers", "1"],
                            env=env, stdout=logs, stderr=logs)
    wait_http(f"http://127.0.0.1:{port}/healthz", proc)
    return proc, logs, f"http://127.0.0.1:{port}"


def _login(base, username):
    token = requests.post(f"{base}/api/v1/staff/auth/login", json={"username": username, "password": PASSWORD})
    assert token.status_code == 200, token.text
    return {"Authorization": f"Bearer {token.json()['access_token']}"}


def test_c_a_supervisor_reassigns_overdue_work(browser, stack, tmp_path):
    from flows.dates import today_shanghai

    today = today_shanghai()
    people = [_person(n, today.replace(year=today.year - 40), sex="M", household=f"HC{i}")
              for i, n in enumerate(("赵残", "钱残", "孙残"))]
    _write(tmp_path / "population.csv", people)
    assert _summary(stack.cli("import", "population", str(tmp_path / "population.csv")))["rejected"] == "0"
    with open(tmp_path / "disability.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id_number", "certificate_number", "category", "grade", "issue_date", "expiry_date"])
        for p in people:
            writer.writerow([p["id_number"], p["id_number"] + "41", "4", "1",
                             today.replace(year=today.year - 1).isoformat(),
                             today.replace(year=today.year + 4).isoformat()])
    assert _summary(stack.cli("import", "disability", str(tmp_path / "disability.csv")))["rejected"] == "0"
    stack.cli("scheduler", "run-once", "--as-of", today.isoformat())
    _staff(stack, "zhang.clerk", "clerk", must_change=False, street="140105001")
    _staff(stack, "wang.review", "reviewer", must_change=False, street="140105001")
    _staff(stack, "li.review", "reviewer", must_change=False, street="140105001")
    _staff(stack, "sun.super", "supervisor", must_change=False)

    # each comes to the counter; the clerk confirms with the signed slip; wang claims the three reviews
    clerk = _login(stack.api, "zhang.clerk")
    for p in people:
        visit = requests.post(f"{stack.api}/api/v1/staff/counter/identify", headers=clerk,
                              json={"id_number": p["id_number"]}).json()
        proposal = next(i for i in visit["items"] if i["state"] == "proposed")
        done = requests.post(f"{stack.api}/api/v1/staff/counter/visits/{visit['visit_id']}/confirm", headers=clerk,
                             data={"application_id": proposal["application_id"], "consent_kind": "slip_photo"},
                             files={"consent": ("slip.png", PNG, "image/png")})
        assert done.status_code == 200, done.text
    wang = _login(stack.api, "wang.review")
    pool = requests.get(f"{stack.api}/api/v1/staff/inbox", headers=wang).json()
    assert len(pool) == 3
    for task in pool:
        assert requests.post(f"{stack.api}/api/v1/staff/tasks/{task['id']}/claim", headers=wang).status_code == 200

    proc, logs, later = _later_api(stack, tmp_path, today + timedelta(days=60))
    desk = Desk(browser, later)
    try:
        desk.open("#/supervision")
        desk.sign_in("sun.super", PASSWORD)
        desk.wait_screen("inbox")
        desk.page.click("a[href='#/supervision']")
        desk.wait_screen("supervision")
        main = desk.page.inner_text("main")
        who = desk.page.locator("main tr[data-task] td.who")
        assert "超期任务" in main and who.all_inner_texts() == ["wang.review"] * 3, main
        check(desk, "supervision")
        first = desk.page.locator("main tr[data-task]").first
        first.locator("select").select_option(label="li.review(审核人员)")
        first.locator("input").fill("逾期未办,改由李工办理")
        first.locator("button").click()
        desk.page.wait_for_selector("text=已改派")
        rows = desk.page.locator("main tr[data-task]")
        assert rows.count() == 3
        assert sorted(who.all_inner_texts()) == ["li.review", "wang.review", "wang.review"]
        # wang is on leave: the rest of his tasks go back to the pool in one move
        desk.page.select_option("#bulk-from", label="wang.review(审核人员)")
        desk.page.select_option("#bulk-to", label="li.review(审核人员)")
        desk.page.fill("#bulk-reason", "王工病假两周")
        desk.page.click("main form.card button[type=submit]")
        desk.page.wait_for_selector("text=已改派 2 件")
        assert who.all_inner_texts() == ["li.review"] * 3
        # li decides one: the chart of median working days per step has a bar
        li = _login(later, "li.review")
        case = requests.get(f"{later}/api/v1/staff/inbox?scope=mine", headers=li).json()[0]["application_id"]
        reviewed = requests.post(f"{later}/api/v1/staff/applications/{case}/review", headers=li,
                                 json={"decision": "approve", "reason": "证件核对无误"})
        assert reviewed.status_code == 200, reviewed.text
        desk.page.reload()
        desk.wait_screen("supervision")
        assert desk.page.locator("svg.chart rect").count() == 1
        assert who.all_inner_texts() == ["li.review"] * 2
        check(desk, "supervision-reassigned")
    finally:
        desk.close()
        stop(proc)
        logs.close()
