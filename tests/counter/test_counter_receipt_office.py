"""The counter receipt names the office visited and gives its reception phone (接待电话) beside 12345 — or only
12345 when no phone is recorded, never an invented one; the resident's feed names the office too (issue 13 item 1,
issue 12 item 10)."""

from __future__ import annotations

from datetime import date

from click.testing import CliRunner

from tests.authz import helpers as h

STREET, COMMUNITY = "140105001", "140105001001"


def _import(cfg, tmp_path, text: str) -> None:
    from app.cli import cli as zerotrip

    path = tmp_path / "areas.csv"
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(zerotrip, ["import", "areas", str(path)], env={"DATABASE_URL": cfg.database_url},
                                catch_exceptions=False)
    assert result.exit_code == 0 and "rejected=0" in result.stdout, result.output


def _visit(session, cfg, client):
    resident, account, id_number = h.person(session, cfg, "李秀英", birth=date(1940, 5, 6), street=STREET,
                                            community=COMMUNITY)
    _, clerk = h.staff(session, cfg, "clerk", street=STREET)
    found = client.post("/api/v1/staff/counter/identify", headers=clerk, json={"id_number": id_number})
    assert found.status_code == 201, found.json
    return found.json["visit_id"], clerk, h.headers_for(session, cfg, account), id_number


def test_the_receipt_names_the_office_and_its_phone(cfg, session, client, tmp_path):
    visit, clerk, resident, id_number = _visit(session, cfg, client)
    before = client.get(f"/api/v1/staff/counter/visits/{visit}/receipt", headers=clerk).json
    # no name known yet: the office by kind and code, and no phone — 12345 only, nothing invented
    assert before["office"] == f"街道办事处 {STREET}" and before["office_code"] == STREET
    assert before["office_name"] is None and before["office_phone"] is None and before["hotline"] == "12345"
    feed = client.get("/api/v1/me/activity", headers=resident).json
    staff_entries = [e for e in (feed["items"] if isinstance(feed, dict) else feed) if e["actor_kind"] == "staff"]
    assert staff_entries and staff_entries[0]["office"] == f"街道办事处 {STREET}"

    _import(cfg, tmp_path, "code,name,valid_from,valid_to,office_phone,office_address\n"
                           f"{STREET},坞城街道,,,０３５１-７６５４３２１,太原市小店区坞城路1号\n"
                           f"{COMMUNITY},双塔社区,,,,\n")
    receipt = client.get(f"/api/v1/staff/counter/visits/{visit}/receipt", headers=clerk)
    assert receipt.status_code == 200
    got = receipt.json
    assert got["office"] == "坞城街道办事处" and got["office_name"] == "坞城街道" and got["office_code"] == STREET
    assert got["office_phone"] == "0351-7654321" and got["office_address"] == "太原市小店区坞城路1号"
    assert got["hotline"] == "12345"

    # the feed names the office now, for the events written before the name was known and after
    client.get(f"/api/v1/staff/counter/visits/{visit}/receipt", headers=clerk)
    client.post("/api/v1/staff/counter/identify", headers=clerk, json={"id_number": id_number})
    feed = client.get("/api/v1/me/activity", headers=resident).json
    staff_entries = [e for e in (feed["items"] if isinstance(feed, dict) else feed) if e["actor_kind"] == "staff"]
    assert len(staff_entries) >= 2
    assert {e["office"] for e in staff_entries} == {"坞城街道办事处"}
    assert {e["actor_name"] for e in staff_entries} == {"坞城街道办事处"}
    assert {e["office_code"] for e in staff_entries} == {STREET}


def test_a_community_office_without_a_phone_says_so(cfg, session, client, tmp_path):
    resident, _, id_number = h.person(session, cfg, "王芳", birth=date(1950, 1, 2), street=STREET,
                                      community=COMMUNITY)
    _, worker = h.staff(session, cfg, "clerk", street=STREET, community=COMMUNITY)
    _import(cfg, tmp_path, "code,name,valid_from,valid_to,office_phone\n"
                           f"{STREET},坞城街道,,,0351-7654321\n{COMMUNITY},双塔社区,,,\n")
    found = client.post("/api/v1/staff/counter/identify", headers=worker, json={"id_number": id_number})
    assert found.status_code == 201, found.json
    got = client.get(f"/api/v1/staff/counter/visits/{found.json['visit_id']}/receipt", headers=worker).json
    assert got["office"] == "双塔社区居委会" and got["office_phone"] is None and got["hotline"] == "12345"
