"""Every outbox kind the flows enqueue renders as a valid WeChat subscribe message (when the kind has a
template) and as plain Chinese inbox / SMS text without codes, IDs or bank numbers."""

from __future__ import annotations

import json
import re
from datetime import date, timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from app.db import utcnow
from app.models import InboxItem, OutboxMessage, ProxyGrant, StaffTask
from mock_wechat.value_rules import check_value
from notifications.outbox import enqueue
from notifications.templates import HOME_HELP_DAY, KIND_TITLES, registry, render
from tests.notifications.helpers import grant, outbox_row

ROOT = Path(__file__).resolve().parents[2]
MOCK_TEMPLATES = {t["kind"]: t for t in json.loads((ROOT / "mock_wechat" / "templates.json").read_text("utf-8"))
                  ["templates"]}
CARD = "6228480402564890018"
ID_NUMBER = "11010519491231002X"
PHONE = "13912345678"

# kind → realistic data, shaped like what the flows write (SQL json_object values are strings).
CASES = {
    "proposal_ready": {"program": "disability_care_subsidy"},
    "proposal_ready/elderly": {},
    "reminder/3": {"program": "elderly_allowance", "day": "3"},
    "reminder/10": {"program": "elderly_allowance", "day": "10"},
    "approved": {"program": "elderly_allowance", "monthly_amount": "50.00", "start_month": "2026-12",
                 "tier": "80-89"},
    "rejected": {"program": "dibao", "reason_code": "income_above_standard",
                 "reason": "家庭月人均收入高于本地城乡低保标准，经核对不符合条件"},
    "rejected/no_text": {"program": "disability_living_subsidy", "reason_code": "rule_not_met"},
    "tier_raised": {"program": "elderly_allowance", "tier": "90-99", "monthly_amount": "100.00",
                    "effective_month": "2036-12"},
    "tier_raised/100": {"program": "elderly_allowance", "tier": "100+", "monthly_amount": "300.00",
                        "effective_month": "2046-12"},
    "benefit_stopped/death": {"program": "elderly_allowance", "reason": "death", "last_month": "2026-11"},
    "benefit_stopped/moved_out": {"program": "elderly_allowance", "reason": "moved_out",
                                  "effective_month": "2026-12", "last_month": "2026-11"},
    "benefit_stopped/certificate_expired": {"program": "disability_care_subsidy", "reason": "certificate_expired",
                                            "last_month": "2026-10"},
    "benefit_stopped/dibao_ended": {"program": "disability_living_subsidy", "reason": "dibao_ended",
                                    "last_month": "2026-11"},
    "home_visit_scheduled/home_help": {"program": "elderly_allowance", "community_code": "140105001001"},
    "home_visit_scheduled/dibao": {"program": "dibao"},
    "payment_started": {"program": "elderly_allowance", "monthly_amount": "50.00", "paid_on": "2026-12-10"},
    "proxy_invitation": {"inviter_name": "张秀英", "expires_on": "2026-12-04"},
    "proxy_granted": {"grant_id": "g1", "proxy_name": "王*明", "scopes": ["view", "confirm", "receive_messages"],
                      "text": "您已新增一位亲情代办人,如非本人意愿可一键撤销",
                      "revoke_path": "/api/v1/proxies/grants/g1/revoke"},
    "proxy_request": {"grant_id": "g2", "proxy_name": "王*明", "scopes": ["view", "payout"],
                      "text": "有人申请成为您的亲情代办人,请在小程序中确认或拒绝"},
    "proxy_request/invited": {"grant_id": "g4", "proxy_name": "王*明", "scopes": ["view", "confirm"],
                              "invited": True, "text": "您邀请的家人已接受亲情代办邀请,请在小程序中确认后生效"},
    "identity_bind_attempt": {},
    "proxy_restored": {"grant_id": "g3", "proxy_name": "王*明", "scopes": ["view", "confirm"],
                       "revoke_path": "/api/v1/proxies/grants/g3/revoke"},
    "benefit_resumed": {"program": "elderly_allowance", "reason": "moved_in", "effective_month": "2027-02",
                        "monthly_amount_fen": 5000},
    "payout_account_changed": {"kind": "bank_account", "bank_name": "中国农业银行", "account_masked": "6228********0018",
                               "changed_at": "2026-11-27T02:30:00Z", "by": "proxy", "proxy_name": "王*明",
                               "account": CARD},
    "payout_account_changed/self": {"kind": "social_security_card", "bank_name": None,
                                    "account_masked": "**************0018", "changed_at": "2026-11-27T02:30:00Z",
                                    "by": "self", "proxy_name": None},
    "payout_account_changed/bare": {"id_number": ID_NUMBER},
    "case_extended": {"program": "dibao", "due_on": "2027-02-05", "base_days": 30,
                      "text": "因需补充核查家庭收入，您的城乡低保申请办理时限延长至2027年2月5日（45个工作日）。"},
    "objection_handled": {"program": "dibao", "text": "您对城乡低保公示提出的异议，我们已调查核实并处理完毕。感谢您的监督。"},
    "certificate_expiring": {"program": "disability_care_subsidy", "programs": ["disability_care_subsidy"],
                             "expiry_date": "2027-03-01"},
    "appeal_update": {"program": "dibao", "appeal_id": "a1", "event": "received",
                      "text": "您对城乡最低生活保障决定提出的复核申请已受理，将在2026年12月31日前作出复核决定。"},
}
RAW = re.compile(r"[A-Za-z_]{2,}")
TEMPLATE_LESS = {"proxy_granted", "proxy_request", "proxy_restored", "benefit_resumed", "payout_account_changed",
                 "appeal_update", "case_extended", "objection_handled", "certificate_expiring"}


def _kind(case: str) -> str:
    return case.split("/")[0]


def _enqueued_kinds() -> set[str]:
    """Kinds written by flows/ and app/: enqueue(...) calls and set-based INSERT … SELECT statements."""
    found = set()
    for path in [*ROOT.joinpath("flows").rglob("*.py"), *ROOT.joinpath("app").rglob("*.py")]:
        text = path.read_text("utf-8")
        found |= set(re.findall(r'enqueue\(\s*session,\s*kind="(\w+)"', text))
        found |= set(re.findall(r'outbox_from_changes\(\s*d,\s*"(\w+)"', text))
        found |= set(re.findall(r"""(?:\|\| '[^']*', |f")'(\w+)', [abt]\.resident_id""", text))
        found |= set(re.findall(r'literal\("(\w+)", String\),\s*\w+\.c\.resident_id', text))  # Core INSERT … SELECT
    return found


def test_every_enqueued_kind_has_a_case_and_a_title():
    kinds = _enqueued_kinds()
    assert {"proposal_ready", "reminder", "approved", "rejected", "tier_raised", "benefit_stopped",
            "home_visit_scheduled", "proxy_granted", "proxy_request", "identity_bind_attempt"} <= kinds
    covered = {_kind(c) for c in CASES}
    assert kinds <= covered, kinds - covered
    assert covered <= set(KIND_TITLES)
    assert set(registry()) | TEMPLATE_LESS == covered
    assert set(registry()) == set(MOCK_TEMPLATES)  # the backend's registry mirrors the mock's templates


def test_home_help_day_matches_the_lifecycle_job():
    from flows.lifecycle import jobs

    assert HOME_HELP_DAY == jobs.HOME_HELP_DAY


@pytest.fixture
def context(session, resident, application):
    """A resident (alive) with an application (as_of 2026-11-27) and, for the 低保 one, its home-visit task."""
    r = resident(phone=PHONE)
    apps = {p: application(r, program=p) for p in ("elderly_allowance", "dibao", "disability_care_subsidy",
                                                   "disability_living_subsidy")}
    session.add(StaffTask(kind="home_visit", resident_id=r.id, application_id=apps["dibao"].id,
                          due_at=utcnow() + timedelta(days=14), details={}))
    session.add(StaffTask(kind="home_help", resident_id=r.id, application_id=apps["elderly_allowance"].id,
                          due_at=utcnow() + timedelta(days=5), details={}))
    session.commit()
    return r, apps


def _row(case, r, apps):
    data = dict(CASES[case])
    kind = _kind(case)
    program = data.get("program") or "elderly_allowance"
    app_id = apps[program].id if kind in ("proposal_ready", "reminder", "approved", "rejected",
                                          "home_visit_scheduled") else None
    return SimpleNamespace(kind=kind, data=data, application_id=app_id, created_at=utcnow(),
                           resident_id=r.id, account_id=None, id="x")


def _assert_plain_chinese(text: str, data: dict):
    assert text and re.search(r"[\u4e00-\u9fff]{4,}", text), text
    assert not RAW.search(text), text
    assert not re.search(r"\d{15,}", text) and ID_NUMBER not in text and CARD not in text, text
    for key in ("reason_code", "community_code", "grant_id", "revoke_path"):
        if data.get(key):
            assert str(data[key]) not in text, (key, text)


@pytest.mark.parametrize("case", sorted(CASES))
def test_kind_renders_for_wechat_inbox_and_sms(session, context, case):
    r, apps = context
    row = _row(case, r, apps)
    message = render(session, row)
    _assert_plain_chinese(message.body, row.data)
    _assert_plain_chinese(message.sms_text, row.data)
    assert message.title == KIND_TITLES[row.kind] or message.title == registry()[row.kind].title
    mock = MOCK_TEMPLATES.get(row.kind)
    if mock is None:
        assert message.template is None and row.kind in TEMPLATE_LESS
        return
    assert message.wechat_ok, (case, message.problems)
    assert message.template.id == mock["id"]
    assert [k["key"] for k in mock["keywords"]] == list(message.wechat_data)
    for keyword in mock["keywords"]:
        item = message.wechat_data[keyword["key"]]
        assert check_value(keyword["key"], item, keyword.get("enum_values")) is None, (case, keyword, item)
        assert not re.search(r"\d{15,}", item["value"])


def test_wording_of_key_kinds(session, context):
    r, apps = context

    def body(case):
        return render(session, _row(case, r, apps)).body

    assert "2026年12月20日前" not in body("reminder/3") and "2026年12月11日前" in body("reminder/3")
    assert "自2036年12月起每月100.00元" in body("tier_raised") and "90至99岁" in body("tier_raised")
    assert "暂停发放" in body("benefit_stopped/moved_out") and "2026年12月" in body("benefit_stopped/moved_out")
    assert "残疾人证" in body("benefit_stopped/certificate_expired")
    assert "王*明" in body("proxy_granted") and "撤销" in body("proxy_granted")
    assert "确认或拒绝" in body("proxy_request") and "变更收款账户" in body("proxy_request")
    invited = body("proxy_request/invited")  # her own QR code was scanned: not "someone asks, refuse a stranger"
    assert "已接受您的亲情代办邀请" in invited and "不认识此人" not in invited and "确认后生效" in invited
    assert "中国农业银行尾号0018的银行账户" in body("payout_account_changed")
    assert "2026年11月27日 10:30" in body("payout_account_changed") and "亲情代办人王*明" in body("payout_account_changed")
    assert "尾号0018的社会保障卡" in body("payout_account_changed/self")
    assert "自2027年2月起每月50.00元" in body("benefit_resumed")
    assert "入户调查" in body("home_visit_scheduled/dibao")
    death = render(session, _row("benefit_stopped/death", r, apps))
    assert death.wechat_data["date3"]["value"] == "2026年12月"  # stops the month after the death month


def test_a_rejection_and_every_stop_name_the_remedies_like_the_letter(session, context):
    """行政复议 within 60 days and 行政诉讼 within 6 months, in the one wording the decision letter uses too."""
    from notifications.templates import REMEDIES

    r, apps = context
    assert "60日内依法申请行政复议" in REMEDIES and "6个月内向人民法院提起行政诉讼" in REMEDIES
    for case in ("rejected", "rejected/no_text", "benefit_stopped/death", "benefit_stopped/moved_out",
                 "benefit_stopped/certificate_expired", "benefit_stopped/dibao_ended"):
        message = render(session, _row(case, r, apps))
        assert REMEDIES in message.body and REMEDIES in message.sms_text, case


def test_every_templated_kind_is_accepted_by_the_mock_over_http(session, context, account, dispatcher, wechat):
    """Send each templated kind through the dispatcher to the mock on a loopback port: all accepted."""
    r, apps = context
    acc = account(resident=r)
    cases = [c for c in sorted(CASES) if _kind(c) in MOCK_TEMPLATES]
    for kind in MOCK_TEMPLATES:
        for _ in range(sum(1 for c in cases if _kind(c) == kind)):
            grant(session, wechat, acc, kind)
    ids = []
    for i, case in enumerate(cases):
        row = _row(case, r, apps)
        addressed = {"account_id": acc.id} if row.kind == "identity_bind_attempt" else {"resident_id": r.id}
        ids.append(enqueue(session, kind=row.kind, idempotency_key=f"kinds:{i}", application_id=row.application_id,
                           data=row.data, **addressed).id)
    session.commit()
    counts = dispatcher().run_once()
    assert counts["sent"] == len(cases), counts
    assert {(outbox_row(session, i).state, outbox_row(session, i).channel) for i in ids} == {("sent", "wechat")}
    assert len(wechat.messages(acc.openid)) == len(cases)
    assert wechat.sms(PHONE) == []


def test_template_less_kinds_go_by_sms_and_inbox(session, resident, dispatcher, wechat):
    with_phone, without = resident(phone=PHONE), resident()
    rows = [enqueue(session, kind="benefit_resumed", idempotency_key="resumed:1", resident_id=with_phone.id,
                    data=CASES["benefit_resumed"]),
            enqueue(session, kind="benefit_resumed", idempotency_key="resumed:2", resident_id=without.id,
                    data=CASES["benefit_resumed"])]
    session.commit()
    counts = dispatcher().run_once()
    assert counts["sent"] == 1 and counts["inbox_only"] == 1, counts
    assert (outbox_row(session, rows[0].id).state, outbox_row(session, rows[0].id).channel) == ("sent", "sms")
    [sms] = wechat.sms(PHONE)
    assert sms["template"] == "ZT_SMS_BENEFIT_RESUMED" and "恢复发放" in sms["params"]["text"]
    assert outbox_row(session, rows[1].id).state == "inbox_only"
    assert session.execute(select(InboxItem).where(InboxItem.resident_id == without.id)).scalar_one()


def _live_grant(session, principal, proxy_acc, proxy_resident, scopes=("view", "receive_messages")):
    g = ProxyGrant(resident_id=principal.id, proxy_account_id=proxy_acc.id, proxy_resident_id=proxy_resident.id,
                   status="active", scopes=list(scopes), programs=[], relation="family", basis="invitation",
                   evidence={}, created_by=f"account:{proxy_acc.id}", activated_at=utcnow(),
                   expires_at=utcnow() + timedelta(days=30))
    session.add(g)
    session.commit()
    return g


def test_proxy_granted_reaches_the_resident_alone_with_a_one_tap_revoke(session, cfg, client, resident, account,
                                                                         dispatcher, wechat):
    from app.api.tokens import start_session
    from app.models import NotificationPref
    from flows import proxies

    principal = resident(name="张秀英", household_id="HK-PG-1", phone=PHONE)
    own = account(resident=principal)
    old_proxy_r = resident(name="李小红", household_id="HK-PG-2", birth_date=date(1980, 1, 1))
    old_proxy = account(resident=old_proxy_r)
    _live_grant(session, principal, old_proxy, old_proxy_r)
    session.add(NotificationPref(resident_id=principal.id, proxy_mode="instead"))  # not for proxy notices
    new_r = resident(name="王大明", household_id="HK-PG-3", birth_date=date(1975, 5, 5))
    new_acc = account(resident=new_r)
    g = ProxyGrant(resident_id=principal.id, proxy_account_id=new_acc.id, proxy_resident_id=new_r.id,
                   status="pending_principal", scopes=["view", "confirm"], programs=[], relation="family",
                   basis="invitation", evidence={}, created_by="x", expires_at=utcnow() + timedelta(days=30))
    session.add(g)
    session.flush()
    proxies.activate(session, g, new_r)
    session.commit()
    counts = dispatcher().run_once()
    assert counts["sent"] == 1 and not counts["delegated"], counts  # by SMS to her, no copy to any proxy
    assert session.execute(select(OutboxMessage).where(OutboxMessage.account_id.is_not(None))).first() is None
    [sms] = wechat.sms(PHONE)
    assert "王*明已成为您的亲情代办人" in sms["params"]["text"]
    headers = {"Authorization": f"Bearer {start_session(session, cfg, own)['access_token']}"}
    session.commit()
    [item] = client.get("/api/v1/inbox", headers=headers).json
    assert item["kind"] == "proxy_granted" and "撤销授权" in item["body"]
    assert item["action"] == {"label": "撤销授权", "method": "POST", "path": f"/api/v1/proxies/grants/{g.id}/revoke"}
    resp = client.post(item["action"]["path"], headers=headers)
    assert resp.status_code == 200 and resp.json["status"] == "revoked"


def test_proxy_request_goes_to_the_resident(session, resident, account, dispatcher, wechat):
    from flows import proxies

    principal = resident(name="张秀英", household_id="HK-PR-1")
    own = account(resident=principal)
    asker_r = resident(name="王大明", household_id="HK-PR-2", birth_date=date(1975, 5, 5))
    asker = account(resident=asker_r)
    g = ProxyGrant(resident_id=principal.id, proxy_account_id=asker.id, proxy_resident_id=asker_r.id,
                   status="pending_principal", scopes=["view"], programs=[], relation="child", basis="invitation",
                   evidence={}, created_by="x", expires_at=utcnow() + timedelta(days=30))
    session.add(g)
    session.flush()
    proxies._ask_principal(session, g, asker_r)
    session.commit()
    assert dispatcher().run_once()["inbox_only"] == 1  # no template, no phone on file: inbox
    item = session.execute(select(InboxItem).where(InboxItem.resident_id == principal.id)).scalar_one()
    assert item.kind == "proxy_request" and "王*明已接受您的亲情代办邀请" in item.body
    assert session.execute(select(InboxItem).where(InboxItem.account_id == asker.id)).first() is None
    assert own.resident_id == principal.id
