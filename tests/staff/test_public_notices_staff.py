"""公示 on the workbench (issue 12 item 7): the notices of my jurisdiction (masked as the public list masks them,
the objections counted, never who objected), one objection, the printable sheet of a community; another street
or another community → 404."""

from __future__ import annotations

from datetime import timedelta

from app.models import Objection, PublicNotice
from flows.dates import today_shanghai
from tests.authz import helpers as h

STREET, COMMUNITY, NEIGHBOUR = "140105001", "140105001001", "140105001002"
OTHER_STREET, OTHER_COMMUNITY = "140105002", "140105002001"
LIST, SHEET, OBJ = "/api/v1/staff/public-notices", "/api/v1/staff/public-notices/sheet", "/api/v1/staff/objections/{}"


def _notice(session, cfg, name, street, community, *, days_ago=1, state="open", length=7):
    resident, _, id_number = h.person(session, cfg, name, street=street, community=community)
    application = h.application(session, resident, program="dibao", state="public_notice")
    today = today_shanghai()
    starts = today - timedelta(days=days_ago)
    notice = PublicNotice(application_id=application.id, program="dibao", street_code=street,
                          masked_name=name[0] + "*" + name[-1], amount_fen=35000, starts_on=starts,
                          ends_on=starts + timedelta(days=length - 1), state=state)
    session.add(notice)
    session.commit()
    return notice, id_number


def _world(session, cfg):
    from flows import areas

    areas.upsert(session, areas.synthetic_rows(), areas.Result())
    here, here_id = _notice(session, cfg, "李秀英", STREET, COMMUNITY)
    neighbour, _ = _notice(session, cfg, "赵大山", STREET, NEIGHBOUR, days_ago=2)
    recent, _ = _notice(session, cfg, "钱小花", STREET, COMMUNITY, days_ago=20, state="closed")
    old, _ = _notice(session, cfg, "孙老汉", STREET, COMMUNITY, days_ago=90, state="closed")
    there, _ = _notice(session, cfg, "周其他", OTHER_STREET, OTHER_COMMUNITY)
    _, objector, _ = h.person(session, cfg, "吴邻居", street=STREET, community=COMMUNITY)
    objection = Objection(notice_id=here.id, account_id=objector.id, text="她家有经营收入未申报", state="open")
    session.add(objection)
    session.commit()
    return {"here": here, "here_id": here_id, "neighbour": neighbour, "recent": recent, "old": old,
            "there": there, "objection": objection, "objector": objector}


def test_the_list_is_my_jurisdiction_masked_as_published_without_the_objector(session, cfg, client):
    w = _world(session, cfg)
    _, street = h.staff(session, cfg, "reviewer", "140105", street=STREET)
    r = client.get(LIST, headers=street)
    assert r.status_code == 200, r.json
    ids = [n["id"] for n in r.json]
    assert ids[:2] == [w["here"].id, w["neighbour"].id] and ids[2:] == [w["recent"].id], ids  # open first
    first = r.json[0]
    assert first["name"] == "李*英" and first["monthly_amount"] == "350.00" and first["community_code"] == COMMUNITY
    assert first["objection_count"] == 1 and first["open_objections"] == 1
    assert first["objections"] == [{"id": w["objection"].id, "state": "open"}]
    text = r.get_data(as_text=True)
    assert w["here_id"] not in text and "李秀英" not in text and w["objector"].id not in text
    assert "吴" not in text
    assert [n["id"] for n in client.get(f"{LIST}?state=closed", headers=street).json] == [w["recent"].id]
    only = client.get(f"{LIST}?community={NEIGHBOUR}", headers=street).json
    assert [n["id"] for n in only] == [w["neighbour"].id]
    # paginated like the other staff lists
    paged = client.get(f"{LIST}?page_size=1", headers=street)
    assert len(paged.json) == 1 and '"total": 3' in paged.headers["X-Pagination"]
    # a community worker sees her own community only; staff of another district see nothing of it
    _, worker = h.staff(session, cfg, "community_worker", "140105", street=STREET, community=NEIGHBOUR)
    assert [n["id"] for n in client.get(LIST, headers=worker).json] == [w["neighbour"].id]
    _, far = h.staff(session, cfg, "reviewer", "140106")
    assert client.get(LIST, headers=far).json == []
    assert client.get(f"{LIST}?community=12345", headers=street).status_code == 422
    assert client.get(LIST).status_code == 401


def test_one_objection_and_its_decision_re_publishes_the_notice(session, cfg, client):
    w = _world(session, cfg)
    _, street = h.staff(session, cfg, "reviewer", "140105", street=STREET)
    path = OBJ.format(w["objection"].id)
    r = client.get(path, headers=street)
    assert r.status_code == 200, r.json
    o = r.json
    assert o["text"] == "她家有经营收入未申报" and o["state"] == "open" and o["notice_days"] == 7
    assert o["notice"]["name"] == "李*英" and o["application_id"] == w["here"].application_id
    text = r.get_data(as_text=True)
    assert w["objector"].id not in text and "吴" not in text and w["here_id"] not in text
    # another street, another community: 404, as if it did not exist
    _, other = h.staff(session, cfg, "reviewer", "140105", street=OTHER_STREET)
    assert client.get(path, headers=other).status_code == 404
    _, worker = h.staff(session, cfg, "community_worker", "140105", street=STREET, community=NEIGHBOUR)
    assert client.get(path, headers=worker).status_code == 404
    assert client.get(OBJ.format("nope"), headers=street).status_code == 404
    decided = client.post(f"{path}/decide", headers=street, json={"decision": "dismissed", "reason": "经核实无收入"})
    assert decided.status_code == 200, decided.json
    after = client.get(path, headers=street).json
    assert after["state"] == "dismissed"
    assert after["notice"]["starts_on"] == today_shanghai().isoformat()  # 重新公示 from today, a full period
    assert after["notice"]["ends_on"] == (today_shanghai() + timedelta(days=6)).isoformat()


def test_the_sheet_shows_what_the_public_list_shows(session, cfg, client):
    w = _world(session, cfg)
    _, street = h.staff(session, cfg, "reviewer", "140105", street=STREET)
    r = client.get(f"{SHEET}?community={COMMUNITY}", headers=street)
    assert r.status_code == 200, r.json
    sheet = r.json
    public = client.get(f"/api/v1/public-notices?street={STREET}").json
    assert sheet["entries"] == [n for n in public if n["id"] == w["here"].id]  # exactly the public entry
    assert sheet["hotline"] == "12345" and sheet["citizen_path"] == "/m/"
    assert sheet["office"] == "太和街道办事处" and sheet["community_name"] == "乐业社区"
    assert sheet["starts_on"] == w["here"].starts_on.isoformat() and sheet["ends_on"] == w["here"].ends_on.isoformat()
    assert w["here_id"] not in r.get_data(as_text=True)
    assert client.get(f"{SHEET}?community={OTHER_COMMUNITY}", headers=street).status_code == 404
    _, worker = h.staff(session, cfg, "community_worker", "140105", street=STREET, community=NEIGHBOUR)
    assert client.get(f"{SHEET}?community={COMMUNITY}", headers=worker).status_code == 404
    assert client.get(SHEET, headers=street).status_code == 422
