"""The maker-checker approvals list (`GET /api/v1/staff/approvals`) filters by jurisdiction and pages in SQL.

It used to read the newest 200 approvals of the whole city and drop those about households outside the
reader's jurisdiction afterwards: with 200 newer ones pending elsewhere, a street's approver saw none of her own,
and nothing could be paged. Migration 0185 fills the resident an approval is about for the rows already stored."""

from __future__ import annotations

import json
from datetime import date

from sqlalchemy import insert, select

from app.models import Approval
from flows.exchange import corrections
from tests.authz import helpers as h
from tests.builders import make_resident

MINE, ELSEWHERE = "140105001", "140105002"


def _dead(session, cfg, street: str, n: int) -> list:
    return [make_resident(session, cfg, name=f"居民{street[-1]}{i}", birth_date=date(1940, 1, 1 + i % 28),
                          household_id=f"H{street}{i}", street=street, community=f"{street}001",
                          death_date=date(2026, 10, 1))[0] for i in range(n)]


def _page(client, headers, query: str):
    resp = client.get(f"/api/v1/staff/approvals?{query}", headers=headers)
    assert resp.status_code == 200, resp.json
    return [a["subject_ref"] for a in resp.json], json.loads(resp.headers["X-Pagination"])


def test_a_streets_approver_sees_her_own_behind_200_newer_elsewhere_and_pages_through(client, session, cfg):
    maker, _ = h.staff(session, cfg, "clerk", street=MINE, username="maker-clerk")
    mine = _dead(session, cfg, MINE, 3)
    elsewhere = _dead(session, cfg, ELSEWHERE, 205)
    for resident in mine + elsewhere:  # the street's own are the oldest
        corrections.propose(session, resident_id=resident.id, reason="户籍注销系误录，经派出所核实", maker=maker)
    session.commit()

    _, street_approver = h.staff(session, cfg, "approver", street=MINE, username="street-approver")
    refs, meta = _page(client, street_approver, "kind=death_correction")
    assert sorted(refs) == sorted(f"resident:{r.id}" for r in mine) and meta["total"] == 3

    _, district_approver = h.staff(session, cfg, "approver", username="district-approver")
    first, meta = _page(client, district_approver, "kind=death_correction&page_size=200")
    assert len(first) == 200 and meta == {"total": 208, "total_pages": 2, "first_page": 1, "last_page": 2,
                                          "page": 1, "next_page": 2}
    second, _ = _page(client, district_approver, "kind=death_correction&page_size=200&page=2")
    assert sorted(first + second) == sorted(f"resident:{r.id}" for r in mine + elsewhere)
    assert second[-3:] == [f"resident:{r.id}" for r in reversed(mine)]  # newest first
    assert _page(client, district_approver, "")[1]["total"] == 208  # pending of every kind, 50 a page
    assert len(_page(client, district_approver, "")[0]) == 50

    # another district sees none of them; an unknown kind is a mistake, not an empty list
    _, far = h.staff(session, cfg, "approver", district="140106", username="far-approver")
    assert _page(client, far, "kind=death_correction") == ([], {"total": 0, "total_pages": 0})
    bogus = client.get("/api/v1/staff/approvals?kind=bogus", headers=street_approver)
    assert bogus.status_code == 422 and "kind" in bogus.json["errors"]["query"]
    assert client.get("/api/v1/staff/approvals?page_size=201", headers=street_approver).status_code == 422


def test_the_cli_refuses_an_unknown_kind(cli):
    result = cli("approvals", "list", "--kind", "bogus")
    assert result.exit_code == 2 and "No approval kind" in result.output


def test_migration_0185_fills_the_resident_of_stored_approvals(cfg, session, db_url):
    from alembic import command

    from app.migrate import alembic_config

    dead = _dead(session, cfg, MINE, 1)[0]
    session.commit()
    command.downgrade(alembic_config(db_url), "0184")
    try:
        for kind, ref in (("death_correction", f"resident:{dead.id}"), ("parameter_change", "param:x:y")):
            session.execute(insert(Approval.__table__).values(kind=kind, subject_ref=ref, payload={},
                                                              maker="staff:test", state="pending"))
        session.commit()
    finally:
        session.rollback()
        command.upgrade(alembic_config(db_url), "heads")
    session.expire_all()
    filled = dict(session.execute(select(Approval.kind, Approval.resident_id)).all())
    assert filled == {"death_correction": dead.id, "parameter_change": None}
    session.commit()
