"""Department look-ups in /m/ (issue 14 item 4): the resident sees which department asked about her, and a
daughter helping her father with `view` sees his; normal and elderly mode pass axe with no serious violation."""

from __future__ import annotations

from sqlalchemy import select

from app.models import Account, Benefit, Resident
from tests.authz import helpers as h
from tests.exchange.helpers import Department
from tests.exchange.test_exchange_search import PURPOSES
from tests.web.conftest import check_screen, sign_in_and_bind


def test_department_lookups_screen_for_self_and_for_a_proxy_with_view(phone, city, stack, session, cfg, cli,
                                                                       client):
    father, daughter = phone(), phone()
    sign_in_and_bind(father, city.wang)
    sign_in_and_bind(daughter, city.wang_daughter)
    wang = session.scalars(select(Resident).where(Resident.name == "王建国")).one()
    li = session.scalars(select(Resident).where(Resident.name == "王丽")).one()
    li_account = session.scalars(select(Account).where(Account.resident_id == li.id)).one()
    session.add(Benefit(program="dibao", resident_id=wang.id, tier="", monthly_amount_fen=60000,
                        start_month="2025-03", state="active"))
    session.commit()
    h.grant(session, wang, li_account, li, scopes=("view",))
    insurance = Department(cli, "ybj-w", "search", PURPOSES)
    resp = insurance.search(client, "dibao_household", "medical_aid", [city.wang["id_number"]],
                            ["receiving", "since"])
    assert resp.status_code == 200, resp.get_data(as_text=True)

    father.go("#/lookups")
    assert father.screen() == "lookups"
    main = father.page.inner_text("main")
    assert "测试部门ybj-w" in main and "医疗救助资格核验" in main and "享受" in main, main
    check_screen(father, "lookups")

    daughter.go("#/lookups")
    main = daughter.page.inner_text("main")
    assert "王*国的记录" in main, main
    assert "测试部门ybj-w" in main and "医疗救助资格核验" in main, main
    assert city.wang["id_number"] not in daughter.page.content()
    check_screen(daughter, "lookups-proxy")
