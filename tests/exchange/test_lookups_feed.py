"""Issue 14 item 4: a proxy with `view` sees the department look-ups of the person she helps
(`GET /api/v1/me/department-lookups?subject=<grant>`); without `view`, or with a grant that ended, she does not;
her read is itself audited into the principal's feed."""

from __future__ import annotations

from datetime import date

from app.models import Benefit
from tests.authz import helpers as h
from tests.exchange.helpers import Department
from tests.exchange.test_exchange_search import PURPOSES


def test_a_proxy_with_view_sees_department_lookups(client, session, cfg, cli):
    father, father_acc, father_number = h.person(session, cfg, "王建国", birth=date(1946, 2, 2), sex="M")
    daughter, daughter_acc, _ = h.person(session, cfg, "王丽", birth=date(1976, 3, 3))
    neighbour, neighbour_acc, _ = h.person(session, cfg, "张强", birth=date(1970, 4, 4), sex="M")
    session.add(Benefit(program="dibao", resident_id=father.id, tier="", monthly_amount_fen=60000,
                        start_month="2025-03", state="active"))
    session.commit()
    viewing = h.grant(session, father, daughter_acc, daughter, scopes=("view",))
    blind = h.grant(session, father, neighbour_acc, neighbour, scopes=("confirm",))
    insurance = Department(cli, "ybj-f", "search", PURPOSES)
    assert insurance.search(client, "dibao_household", "medical_aid", [father_number],
                            ["receiving", "since"]).status_code == 200

    own = client.get("/api/v1/me/department-lookups", headers=h.headers_for(session, cfg, father_acc)).json
    assert [(e["actor_name"], e["purpose_text"]) for e in own] == [("测试部门ybj-f", "医疗救助资格核验")]
    seen = client.get("/api/v1/me/department-lookups", query_string={"subject": viewing.id},
                      headers=h.headers_for(session, cfg, daughter_acc))
    assert seen.status_code == 200 and [e["what"] for e in seen.json] == [e["what"] for e in own]
    assert "享受" in seen.json[0]["what"]
    refused = client.get("/api/v1/me/department-lookups", query_string={"subject": blind.id},
                         headers=h.headers_for(session, cfg, neighbour_acc))
    assert refused.status_code == 404  # without `view` the record is not hers to see (authz hides it)
    # the daughter's read shows in her father's feed as a proxy's
    feed = client.get("/api/v1/me/activity", headers=h.headers_for(session, cfg, father_acc)).json
    assert [e["actor_kind"] for e in feed if e["action"] == "resident.department_lookups"] == ["proxy"]
