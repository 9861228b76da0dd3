"""The case page says things in words (issue 12 item 4): the economic-check report per member with each kind's
amount and source, the timeline's who / what / when / on whose behalf, the "extend the time limit" action only
when authz and the case allow it; and the resident's feed says a staff reveal or search in words with the
purpose the staff member stated."""

from __future__ import annotations

from datetime import date

from app.models import EconomicRecord, StaffMember
from flows.dates import today_shanghai
from flows.programs import dibao
from flows.programs.dibao import cases
from tests.authz import helpers as h

STREET = "140105001"


def _dibao_case(session, cfg):
    head, account, number = h.person(session, cfg, "张小三", household="HW1", birth=date(1975, 3, 3), sex="M")
    months = dibao.window(today_shanghai())
    session.add(EconomicRecord(resident_id=head.id, kind="income_pension", period=months[-1], amount_fen=50_000,
                               source="social_security", source_date=date(2026, 11, 20)))
    session.add(EconomicRecord(resident_id=head.id, kind="deposit", amount_fen=1_000_000, source="bank",
                               source_date=date(2026, 11, 21)))
    session.add(EconomicRecord(resident_id=head.id, kind="real_estate", quantity=1, source="real_estate",
                               source_date=date(2026, 11, 22)))
    session.commit()
    application = cases.apply(session, head, account.id, declared_monthly_income_fen=20_000)
    session.commit()
    assert application.state == "home_visit"
    return head, account, number, application


def _named(session, cfg, role, name, **where):
    staff, headers = h.staff(session, cfg, role, **where)
    session.get(StaffMember, staff.id).display_name = name
    session.commit()
    return staff, headers


def test_the_economic_check_is_reported_per_member_kind_by_kind_with_sources(session, cfg, client):
    _, _, _, application = _dibao_case(session, cfg)
    _, reviewer = _named(session, cfg, "reviewer", "钱审核", street=STREET)
    page = client.get(f"/api/v1/staff/applications/{application.id}/case", headers=reviewer).json
    (report,) = page["economic_check"]
    assert report["member"] == "张*三" and len(report["months"]) == 2
    items = {i["kind"]: i for i in report["items"]}
    assert items["income_pension"] == {"group": "income", "kind": "income_pension", "name": "养老金",
                                       "amount": "500.00", "quantity": None,
                                       "sources": [{"name": "人社部门", "date": "2026-11-20"}]}
    assert items["deposit"]["amount"] == "10000.00" and items["deposit"]["sources"][0]["name"] == "银行存款核对"
    assert items["real_estate"]["quantity"] == 1 and items["real_estate"]["amount"] is None
    assert items["real_estate"]["group"] == "asset"


def test_extend_is_offered_only_to_a_role_that_may_and_only_once(session, cfg, client):
    head, _, _, application = _dibao_case(session, cfg)
    _, reviewer = _named(session, cfg, "reviewer", "钱审核", street=STREET)
    _, clerk = _named(session, cfg, "clerk", "赵受理", street=STREET)
    _, supervisor = _named(session, cfg, "supervisor", "孙监督", street=STREET)
    path = f"/api/v1/staff/applications/{application.id}"
    assert client.get(f"{path}/case", headers=reviewer).json["actions"] == ["extend"]
    assert client.get(f"{path}/case", headers=clerk).json["actions"] == []
    assert client.get(f"{path}/case", headers=supervisor).json["actions"] == []
    assert client.post(f"{path}/extend", headers=reviewer, json={"reason": "需补充核查家庭收入"}).status_code == 200
    page = client.get(f"{path}/case", headers=reviewer).json
    assert page["actions"] == []  # extended once: not offered again
    case_limit = next(d for d in page["deadlines"] if d["step"] == "case")
    assert case_limit["working_days"] == 45 and case_limit["calendar_note"].startswith("延长")

    # the timeline in words: who (name and role), when (Beijing time), on whose behalf (masked), why
    extended = next(e for e in page["timeline"] if e["action"] == "staff.case_extend")
    assert extended["actor_kind"] == "staff" and extended["actor_name"] == "钱审核"
    assert extended["actor_role"] == "reviewer" and extended["on_behalf_of_name"] == "张*三"
    assert len(extended["when"]) == 16 and extended["when"][4] == "-"
    client.post(f"{path}/reveal", headers=clerk, json={"field": "phone", "purpose": "home_visit"})
    revealed = next(e for e in client.get(f"{path}/case", headers=reviewer).json["timeline"]
                    if e["action"] == "staff.resident_reveal")
    assert revealed["actor_name"] == "赵受理" and revealed["purpose"] == "home_visit"
    assert f"resident:{head.id}" == revealed["on_behalf_of"]


def test_a_staff_reveal_and_search_read_in_words_with_the_stated_purpose_in_her_feed(session, cfg, client):
    _, account, number, application = _dibao_case(session, cfg)
    _, clerk = _named(session, cfg, "clerk", "赵受理", street=STREET)
    assert client.post(f"/api/v1/staff/applications/{application.id}/reveal", headers=clerk,
                       json={"field": "id_number", "purpose": "home_visit"}).status_code == 200
    assert client.post("/api/v1/staff/residents/search", headers=clerk,
                       json={"id_number": number, "purpose": "complaint"}).status_code == 200
    mine = h.headers_for(session, cfg, account)
    feed = client.get("/api/v1/me/activity", headers=mine, query_string={"page_size": 100}).json
    by_action = {e["action"]: e for e in feed}
    reveal, search = by_action["staff.resident_reveal"], by_action["staff.resident_search"]
    assert reveal["what"] == "查看了您的完整身份证号" and reveal["purpose_text"] == "入户调查"
    assert search["what"] == "在查找居民时查到了您" and search["purpose_text"] == "处理投诉"
    assert reveal["purpose"] == "home_visit" and search["purpose"] == "complaint"
    assert "赵受理" not in str(feed)  # staff by office, never by name
    assert all(not e["what"].startswith(("staff.", "resident_")) for e in feed), feed


def test_the_timeline_names_a_proxy_masked_and_on_whose_behalf_she_acted(session, cfg, client):
    mother, mother_acc, _ = h.person(session, cfg, "刘桂兰", birth=date(1940, 1, 1), household="HW-M")
    daughter, daughter_acc, _ = h.person(session, cfg, "张丽", birth=date(1970, 1, 1), household="HW-D")
    h.grant(session, mother, daughter_acc, daughter, scopes=("view", "confirm"))
    application = h.application(session, mother)
    assert client.get(f"/api/v1/applications/{application.id}",
                      headers=h.headers_for(session, cfg, daughter_acc)).status_code == 200
    assert client.get(f"/api/v1/applications/{application.id}",
                      headers=h.headers_for(session, cfg, mother_acc)).status_code == 200
    _, reviewer = _named(session, cfg, "reviewer", "钱审核", street=STREET)
    timeline = client.get(f"/api/v1/staff/applications/{application.id}/case", headers=reviewer).json["timeline"]
    proxy = next(e for e in timeline if e["actor_kind"] == "proxy")
    assert proxy["action"] == "application.view" and proxy["actor_name"] == "张*"
    assert proxy["on_behalf_of_name"] == "刘*兰" and proxy["actor_role"] is None


def test_coded_values_are_in_words_and_the_resident_never_sees_the_internal_check(session, cfg, client):
    """A pre-filled code reads in words beside it (女 for F, 是 for a true flag, 肢体残疾 for category 4); the
    household's economic check is the case page's own table, never a pre-filled field dumped on /m/."""
    from tests.staff.test_workbench_case import _reviewing

    _, _, disability = _reviewing(session, cfg, name="钱小残")
    _, reviewer = h.staff(session, cfg, "reviewer", street=STREET)
    page = client.get(f"/api/v1/staff/applications/{disability.id}/case", headers=reviewer).json
    words = {f["field"]: f["value_name"] for f in page["prefill"]}
    assert (words.get("sex"), words.get("hukou_local"), words.get("disability_category"), words.get("tier")) == (
        "女", "是", "肢体残疾", "一级"), words
    assert words.get("name") is None
    head, account, _, application = _dibao_case(session, cfg)
    mine = client.get(f"/api/v1/applications/{application.id}", headers=h.headers_for(session, cfg, account)).json
    assert "economic_check" not in {f["field"] for f in mine["fields"]}
    from flows.sources import value_words

    assert value_words("tier", "80-89") is None  # words already
