"""Sign-in, identity binding rules, and the application endpoints through HTTP."""

from datetime import date, timedelta

from app.api.base import MAX_PAGE
from app.models import Application, StaffTask
from flows.programs.elderly_allowance.scan import scan_turning_80
from tests.builders import make_resident

NO_MATCH = "The name, ID number and phone number do not match our records."


def test_wechat_login_with_a_used_code_gets_401(client, wechat):
    import requests

    code = requests.post(f"{wechat}/__mock__/login-code", json={}).json()["code"]
    assert client.post("/api/v1/auth/wechat-login", json={"code": code}).status_code == 200
    again = client.post("/api/v1/auth/wechat-login", json={"code": code})
    assert again.status_code == 401 and "session_key" not in again.get_data(as_text=True)


def test_binding_needs_name_id_and_the_phone_on_file(session, cfg, citizen):
    resident, id_number = make_resident(session, cfg, name="李秀英", phone="13912345678")
    c = citizen()
    unknown = c.bind("李秀英", "11010519491231002X", "13912345678")
    wrong_name = c.bind("李秀华", id_number, "13912345678")
    wrong_phone = c.bind("李秀英", id_number, "13900000000")
    assert unknown.status_code == wrong_name.status_code == wrong_phone.status_code == 409
    bodies = [{k: v for k, v in r.json.items() if k != "request_id"} for r in (unknown, wrong_name, wrong_phone)]
    assert bodies[0] == bodies[1] == bodies[2] and bodies[0]["message"] == NO_MATCH
    ok = c.bind("李秀英", id_number, "13912345678")
    assert ok.status_code == 200 and ok.json["account"]["identity_status"] == "bound"
    assert ok.json["resident"]["id_number_masked"] == id_number[0] + "*" * 16 + id_number[-1]
    assert id_number not in ok.get_data(as_text=True)


def test_malformed_input_is_422(session, cfg, citizen):
    c = citizen()
    bad_check = c.bind("李秀英", "110105194912310021", "13912345678")
    assert bad_check.status_code == 422
    missing = c.post("/api/v1/me/identity", json={"name": "x"})
    assert missing.status_code == 422
    extra = c.post("/api/v1/me/identity", json={"name": "x", "id_number": "1" * 18, "phone_code": "c", "admin": True})
    assert extra.status_code == 422


def test_five_failures_then_429_with_retry_after(session, cfg, citizen):
    _, id_number = make_resident(session, cfg, phone="13912345678")
    c = citizen()
    for _ in range(5):
        assert c.bind("王五", id_number, "13912345678").status_code == 409
    blocked = c.bind("李秀英", id_number, "13912345678")
    assert blocked.status_code == 429 and int(blocked.headers["Retry-After"]) > 0


def test_a_shared_family_phone_goes_to_staff_verification(session, cfg, citizen):
    _, id_number = make_resident(session, cfg, name="李秀英", phone="13912345678")
    make_resident(session, cfg, name="王老伴", phone="13912345678", sex="M", birth_date=date(1944, 1, 1))
    resp = citizen().bind("李秀英", id_number, "13912345678")
    assert resp.status_code == 200
    assert resp.json["account"]["identity_status"] == "pending_staff_verification"
    assert resp.json["resident"] is None
    assert session.query(StaffTask).filter_by(kind="identity_verification").count() == 1


def test_a_resident_bound_elsewhere_is_refused_and_that_account_told(session, cfg, citizen):
    from app.models import OutboxMessage

    _, id_number = make_resident(session, cfg, phone="13912345678")
    assert citizen().bind("李秀英", id_number, "13912345678").status_code == 200
    second = citizen().bind("李秀英", id_number, "13912345678")
    assert second.status_code == 409
    assert session.query(OutboxMessage).filter_by(kind="identity_bind_attempt").count() == 1


def test_someone_elses_application_is_404_and_confirm_is_idempotent(session, cfg, citizen):
    li, li_id = make_resident(session, cfg, name="李秀英", phone="13912345678", birth_date=date(1946, 11, 20))
    wang, wang_id = make_resident(session, cfg, name="王大爷", phone="13700000000", sex="M",
                                  birth_date=date(1940, 1, 1), household_id="H2")
    scan_turning_80(cfg, date(2026, 11, 25))
    li_app = session.query(Application).filter_by(resident_id=li.id).one()
    wang_app = session.query(Application).filter_by(resident_id=wang.id).one()

    c = citizen()
    assert c.get("/api/v1/applications").json == []
    c.bind("李秀英", li_id, "13912345678")
    listed = c.get("/api/v1/applications")
    assert [a["id"] for a in listed.json] == [li_app.id] and "X-Pagination" in listed.headers
    assert c.get(f"/api/v1/applications/{wang_app.id}").status_code == 404
    assert c.post(f"/api/v1/applications/{wang_app.id}/confirm").status_code == 404
    assert c.get("/api/v1/applications/" + "0" * 32).status_code == 404

    first = c.post(f"/api/v1/applications/{li_app.id}/confirm")
    assert first.status_code == 200 and first.json["state"] == "approved"
    assert first.json["benefit"]["monthly_amount"] == "50.00" and first.json["benefit"]["start_month"] == "2026-12"
    again = c.post(f"/api/v1/applications/{li_app.id}/confirm")
    assert again.status_code == 200 and again.json == first.json
    assert c.post(f"/api/v1/applications/{li_app.id}/decline", json={"reason": "not_needed"}).status_code == 409


def test_decline_data_wrong_opens_a_task_and_reopen_undoes_it(session, cfg, citizen):
    li, li_id = make_resident(session, cfg, phone="13912345678")
    scan_turning_80(cfg, date(2026, 11, 25))
    app_id = session.query(Application).one().id
    c = citizen()
    c.bind("李秀英", li_id, "13912345678")
    assert c.post(f"/api/v1/applications/{app_id}/decline", json={"reason": "bogus"}).status_code == 422
    declined = c.post(f"/api/v1/applications/{app_id}/decline", json={"reason": "data_wrong", "comment": "地址不对"})
    assert declined.status_code == 200 and declined.json["state"] == "declined"
    assert session.query(StaffTask).filter_by(kind="data_correction").count() == 1
    assert c.post(f"/api/v1/applications/{app_id}/confirm").status_code == 409
    assert c.post(f"/api/v1/applications/{app_id}/reopen").json["state"] == "proposed"
    session.expire_all()  # her undo takes back "the data are wrong": the correction task is closed, not left open
    task = session.query(StaffTask).filter_by(kind="data_correction").one()
    assert (task.state, task.details["decision"]) == ("closed", "withdrawn")
    assert c.post(f"/api/v1/applications/{app_id}/confirm").json["state"] == "approved"


def test_a_decline_is_undone_within_30_calendar_days_on_the_test_clock_too(session, cfg, citizen, monkeypatch):
    from flows.dates import today_shanghai

    li, li_id = make_resident(session, cfg, phone="13912345678")
    scan_turning_80(cfg, date(2026, 11, 25))
    app_id = session.query(Application).one().id
    c = citizen()
    c.bind("李秀英", li_id, "13912345678")
    declined_on = today_shanghai()
    assert c.post(f"/api/v1/applications/{app_id}/decline", json={"reason": "not_needed"}).status_code == 200
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", (declined_on + timedelta(days=31)).isoformat())
    late = c.post(f"/api/v1/applications/{app_id}/reopen")
    assert late.status_code == 409 and late.json["error_code"] == "reopen_too_late"
    monkeypatch.setenv("ZEROTRIP_FAKE_TODAY", (declined_on + timedelta(days=30)).isoformat())
    assert c.post(f"/api/v1/applications/{app_id}/reopen").json["state"] == "proposed"


def test_errors_share_one_json_shape(client):
    for resp in (client.get("/nope"), client.put("/api/v1/programs"),
                 client.post("/api/v1/auth/wechat-login", data="{", content_type="application/json"),
                 client.post("/api/v1/auth/wechat-login", data="x", content_type="text/plain"),
                 client.post("/api/v1/auth/wechat-login", json={})):
        body = resp.json
        assert set(body) >= {"code", "status", "message", "request_id"} and body["code"] == resp.status_code
    assert client.put("/api/v1/programs").headers["Allow"]


def test_confirming_while_a_benefit_period_is_still_open_is_409_and_changes_nothing(session, cfg, citizen):
    from app.models import Benefit, OutboxMessage

    li, li_id = make_resident(session, cfg, name="李秀英", phone="13912345678", birth_date=date(1946, 11, 20))
    scan_turning_80(cfg, date(2026, 11, 25))
    li_app = session.query(Application).filter_by(resident_id=li.id).one()
    session.add(Benefit(program=li_app.program, resident_id=li.id, tier="80-89", monthly_amount_fen=5000,
                        start_month="2026-01", state="active"))  # a period opened elsewhere (e.g. at the counter)
    session.commit()
    outbox_before = session.query(OutboxMessage).count()

    c = citizen()
    c.bind("李秀英", li_id, "13912345678")
    refused = c.post(f"/api/v1/applications/{li_app.id}/confirm")
    assert refused.status_code == 409 and refused.json["error_code"] == "benefit_already_open", refused.json
    session.expire_all()
    assert session.get(Application, li_app.id).state == "proposed"
    assert session.query(Benefit).filter_by(resident_id=li.id).count() == 1
    assert session.query(OutboxMessage).count() == outbox_before


def test_a_list_without_a_query_string_is_the_first_page_of_the_defaults(session, cfg, citizen):
    """No query string: the parser answers from the schemas' defaults without loading (app/api/base.py); the
    page, its X-Pagination and each refusal are those of the same defaults written out."""
    import json

    li, li_id = make_resident(session, cfg, name="李秀英", phone="13912345678", birth_date=date(1946, 11, 20))
    scan_turning_80(cfg, date(2026, 11, 25))
    c = citizen()
    c.bind("李秀英", li_id, "13912345678")
    bare, spelled = c.get("/api/v1/applications"), c.get("/api/v1/applications?page=1&page_size=10")
    assert bare.status_code == spelled.status_code == 200 and len(bare.json) == 1
    assert bare.json == spelled.json
    assert json.loads(bare.headers["X-Pagination"]) == json.loads(spelled.headers["X-Pagination"]) == {
        "total": 1, "total_pages": 1, "first_page": 1, "last_page": 1, "page": 1}
    second = c.get("/api/v1/applications?page=2&page_size=1")
    assert second.status_code == 200 and second.json == []
    assert json.loads(second.headers["X-Pagination"])["total"] == 1
    assert c.get("/api/v1/applications?page=0").status_code == 422
    assert c.get("/api/v1/applications?page_size=101").status_code == 422
    # the page is bounded (a huge OFFSET overflows the database) and read as ASCII digits after the full-width
    # mapping, as every integer in a query is
    assert c.get(f"/api/v1/applications?page={MAX_PAGE + 1}").status_code == 422
    assert c.get(f"/api/v1/applications?page={MAX_PAGE}").status_code == 200
    assert c.get("/api/v1/applications?page=\uff11&page_size=\uff11\uff10").json == bare.json
    assert c.get("/api/v1/applications?page=\u0661").status_code == 422
    assert c.get("/api/v1/applications?page=1e0").status_code == 422
    assert c.get("/api/v1/applications?subject=").status_code == 422  # a query string: loaded as ever
