"""The workbench's staff API (issue 12): roles as permission sets, the forced password change, the inbox's pool,
the atomic claim, bulk claim and bulk review with a result per item, segregation of duties, staff accounts."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from app.authz import ROLES
from app.models import StaffMember
from tests.authz import helpers as h

PASSWORD = "correct horse battery"
STREET, COMMUNITY = "140105001", "140105001001"
TASK = "/api/v1/staff/tasks/{}"


def _zerotrip(cfg, *args):
    from app.cli import cli as zerotrip

    return CliRunner().invoke(zerotrip, list(args), input="\n", env={"DATABASE_URL": cfg.database_url},
                              catch_exceptions=False)


@pytest.mark.parametrize("role", ROLES)
def test_staff_add_accepts_every_role(cfg, session, client, role):
    place = ("--street", STREET, "--community", COMMUNITY) if role == "community_worker" else ()
    if place:  # her jurisdiction is her community: without one she is refused
        bare = _zerotrip(cfg, "staff", "add", "--username", f"u_{role}", "--role", role, "--district", "140105",
                         "--password", PASSWORD)
        assert bare.exit_code == 2 and "community" in bare.output, bare.output
    made = _zerotrip(cfg, "staff", "add", "--username", f"u_{role}", "--role", role, "--district", "140105",
                     *place, "--password", PASSWORD, "--must-change-password")
    assert made.exit_code == 0, made.output
    signed = client.post("/api/v1/staff/auth/login", json={"username": f"u_{role}", "password": PASSWORD})
    assert signed.status_code == 200 and signed.json["staff"]["role"] == role
    assert signed.json["staff"]["must_change_password"] is True


def test_first_sign_in_must_change_the_password(cfg, session, client):
    assert _zerotrip(cfg, "staff", "add", "--username", "newbie", "--role", "clerk", "--district", "140105",
                     "--password", PASSWORD, "--must-change-password").exit_code == 0
    token = client.post("/api/v1/staff/auth/login", json={"username": "newbie", "password": PASSWORD}).json
    headers = {"Authorization": f"Bearer {token['access_token']}"}
    refused = client.get("/api/v1/staff/inbox", headers=headers)
    assert refused.status_code == 403 and refused.json["error_code"] == "password_change_required"
    assert client.get("/api/v1/staff/me", headers=headers).json["must_change_password"] is True
    short = client.post("/api/v1/staff/auth/password", headers=headers,
                        json={"current_password": PASSWORD, "new_password": "short"})
    assert short.status_code == 422 and short.json["error_code"] == "password_too_short"
    wrong = client.post("/api/v1/staff/auth/password", headers=headers,
                        json={"current_password": "not the password", "new_password": "a brand new secret"})
    assert wrong.status_code == 401
    changed = client.post("/api/v1/staff/auth/password", headers=headers,
                          json={"current_password": PASSWORD, "new_password": "a brand new secret"})
    assert changed.status_code == 200 and changed.json["must_change_password"] is False
    assert client.get("/api/v1/staff/inbox", headers=headers).status_code == 200
    assert client.post("/api/v1/staff/auth/login", json={"username": "newbie", "password": PASSWORD}).status_code == 401


def test_the_pool_is_per_role_and_jurisdiction_and_a_claim_has_one_winner(cfg, session, client):
    here, _, _ = h.person(session, cfg, street=STREET, community=COMMUNITY)
    other, _, _ = h.person(session, cfg, street="140105002", community="140105002001")
    review = h.task(session, here, kind="review")
    visit = h.task(session, here, kind="home_visit")
    elsewhere = h.task(session, other, kind="review")
    _, alice = h.staff(session, cfg, "reviewer", street=STREET)
    _, bob = h.staff(session, cfg, "reviewer", street=STREET)
    _, worker = h.staff(session, cfg, "community_worker", street=STREET, community=COMMUNITY)
    _, admin = h.staff(session, cfg, "admin")

    pool = client.get("/api/v1/staff/inbox", headers=alice)
    assert pool.status_code == 200
    assert {t["id"] for t in pool.json} == {review.id, visit.id}
    row = next(t for t in pool.json if t["id"] == review.id)
    assert row["badge"] in ("on_track", "at_risk") and row["waiting_working_days"] == 0
    # a community worker's pool: home visits of her community, no reviews
    assert [t["id"] for t in client.get("/api/v1/staff/inbox", headers=worker).json] == [visit.id]
    assert client.get("/api/v1/staff/inbox", headers=admin).json == []

    first = client.post(TASK.format(review.id) + "/claim", headers=alice)
    second = client.post(TASK.format(review.id) + "/claim", headers=bob)
    assert first.status_code == 200 and first.json["claimed_by"]
    assert second.status_code == 409 and second.json["error_code"] == "task_claimed"
    assert {t["id"] for t in client.get("/api/v1/staff/inbox?scope=mine", headers=alice).json} == {review.id}
    assert review.id not in {t["id"] for t in client.get("/api/v1/staff/inbox", headers=bob).json}
    counts = client.get("/api/v1/staff/inbox/counts", headers=alice).json
    assert counts == {"pool": 1, "mine": 1, "overdue": 0}
    assert client.post(TASK.format(review.id) + "/release", headers=bob).json["error_code"] == "task_not_yours"
    assert client.post(TASK.format(review.id) + "/release", headers=alice).status_code == 200
    # another street → 404; a community worker's role does not review → 403; admin decides no case → 403
    assert client.post(TASK.format(elsewhere.id) + "/claim", headers=alice).status_code == 404
    assert client.post(TASK.format(review.id) + "/claim", headers=worker).status_code == 403

    bulk = client.post("/api/v1/staff/bulk-claim", headers=bob,
                       json={"ids": [review.id, visit.id, elsewhere.id, "nope"]})
    assert bulk.status_code == 200 and bulk.json["done"] == 2 and bulk.json["refused"] == 2
    assert [r["status"] for r in bulk.json["results"]] == [200, 200, 404, 404]
    assert client.post("/api/v1/staff/bulk-claim", headers=bob,
                       json={"ids": [f"t{i}" for i in range(51)]}).status_code == 422


def test_supervisor_and_admin_decide_no_case_and_a_worker_stays_in_her_community(cfg, session, client):
    here, _, _ = h.person(session, cfg, street=STREET, community=COMMUNITY)
    neighbour, _, _ = h.person(session, cfg, street=STREET, community="140105001002")
    task = h.task(session, here)
    theirs = h.task(session, neighbour, kind="home_visit")
    app = h.application(session, here, program="dibao", state="approving")
    for role in ("supervisor", "admin"):
        _, headers = h.staff(session, cfg, role)
        decided = client.post(TASK.format(task.id) + "/decide", headers=headers,
                              json={"decision": "done", "reason": "checked"})
        assert decided.status_code == 403 and decided.json["error_code"] == "role_decides_no_case"
        county = client.post(f"/api/v1/staff/applications/{app.id}/county-decision", headers=headers,
                             json={"decision": "approve", "reason": "核对无误"})
        assert county.status_code == 403 and county.json["error_code"] == "role_decides_no_case"
    _, worker = h.staff(session, cfg, "community_worker", street=STREET, community=COMMUNITY)
    assert client.post(TASK.format(theirs.id) + "/claim", headers=worker).status_code == 404
    _, supervisor = h.staff(session, cfg, "supervisor")
    boss, _ = h.staff(session, cfg, "reviewer", street=STREET)
    moved = client.post(TASK.format(task.id) + "/reassign", headers=supervisor, json={"staff_id": boss.id, "reason": "王工休假"})
    assert moved.status_code == 200 and moved.json["claimed_by"] == boss.id
    _, reviewer = h.staff(session, cfg, "reviewer")
    assert client.post(TASK.format(task.id) + "/reassign", headers=reviewer,
                       json={"staff_id": None, "reason": "休假"}).status_code == 403


def test_segregation_of_duties_refusals_are_in_words(cfg, session, client):
    applicant, _, applicant_id = h.person(session, cfg, street=STREET, community=COMMUNITY, household="H-SOD")
    approver, headers = h.staff(session, cfg, "approver")
    app = h.application(session, applicant, program="dibao", state="approving")
    app.trace = [{"code": "street_review", "passed": True, "value": "approve", "source": "staff",
                  "source_date": "2026-11-30", "staff_id": approver.id, "text": "街道审核通过"}]
    session.commit()
    refused = client.post(f"/api/v1/staff/applications/{app.id}/county-decision", headers=headers,
                          json={"decision": "approve", "reason": "核对无误"})
    assert refused.status_code == 403 and refused.json["error_code"] == "segregation_of_duties"
    assert "different person" in refused.json["message"]
    # the applicant's own household member on the staff: no decision about her own household
    _, relative_headers = h.staff(session, cfg, "approver", id_number=applicant_id)
    own = client.post(f"/api/v1/staff/applications/{app.id}/county-decision", headers=relative_headers,
                      json={"decision": "approve", "reason": "核对无误"})
    assert own.status_code == 403 and own.json["error_code"] == "staff_self_involvement"


def test_bulk_review_gives_a_result_per_item_and_never_decides_dibao(cfg, session, client):
    here, _, _ = h.person(session, cfg, street=STREET, community=COMMUNITY)
    dibao = h.application(session, here, program="dibao", state="reviewing")
    no_certificate = h.application(session, here, program="disability_living_subsidy", state="reviewing")
    _, headers = h.staff(session, cfg, "reviewer", street=STREET)
    out = client.post("/api/v1/staff/bulk-review", headers=headers,
                      json={"ids": [dibao.id, no_certificate.id, "unknown"]})
    assert out.status_code == 200 and out.json["done"] == 0 and out.json["refused"] == 3
    codes = [r["error_code"] for r in out.json["results"]]
    assert codes[:2] == ["bulk_not_allowed", "recheck_failed"] and out.json["results"][2]["status"] == 404
    _, clerk = h.staff(session, cfg, "clerk", street=STREET)
    assert client.post("/api/v1/staff/bulk-review", headers=clerk,
                       json={"ids": [no_certificate.id]}).json["results"][0]["status"] == 403


def test_admin_manages_accounts_audited(cfg, session, client):
    admin, headers = h.staff(session, cfg, "admin")
    _, clerk = h.staff(session, cfg, "clerk")
    body = {"username": "wang.fang", "display_name": "王芳", "role": "community_worker", "district_code": "140105",
            "street_code": STREET, "community_code": COMMUNITY, "password": PASSWORD}
    assert client.post("/api/v1/staff/accounts", headers=clerk, json=body).status_code == 403
    made = client.post("/api/v1/staff/accounts", headers=headers, json=body)
    assert made.status_code == 201 and made.json["role"] == "community_worker"
    new_id = made.json["id"]
    changed = client.patch(f"/api/v1/staff/accounts/{new_id}", headers=headers, json={"role": "reviewer"})
    assert changed.status_code == 200 and changed.json["role"] == "reviewer"
    assert client.patch(f"/api/v1/staff/accounts/{admin.id}", headers=headers,
                        json={"role": "clerk"}).json["error_code"] == "own_account"
    reset = client.post(f"/api/v1/staff/accounts/{new_id}/reset-password", headers=headers,
                        json={"password": "a temporary secret"})
    assert reset.status_code == 200 and reset.json["must_change_password"] is True
    assert client.post(f"/api/v1/staff/accounts/{new_id}/disable", headers=headers).json["disabled"] is True
    assert client.post("/api/v1/staff/auth/login",
                       json={"username": "wang.fang", "password": "a temporary secret"}).status_code == 401
    _, other_admin = h.staff(session, cfg, "admin", district="140106")
    assert client.post(f"/api/v1/staff/accounts/{new_id}/disable", headers=other_admin).status_code == 404
    session.expire_all()
    assert session.get(StaffMember, new_id).role == "reviewer"


def test_the_registry_is_search_first_within_the_jurisdiction_and_masked(cfg, session, client):
    from datetime import date as _date

    wang, _, wang_id = h.person(session, cfg, "王芳", street=STREET, community=COMMUNITY, birth=_date(1960, 5, 1))
    h.person(session, cfg, "王芳", street=STREET, community="140105001002", birth=_date(1975, 2, 2))
    _, _, far_id = h.person(session, cfg, "王芳", district="140106", street="140106001",
                            community="140106001001", birth=_date(1960, 7, 7))
    _, headers = h.staff(session, cfg, "clerk", street=STREET)
    search = "/api/v1/staff/residents/search"
    broad = client.post(search, headers=headers, json={"name": "王芳", "purpose": "office_visit"})
    assert broad.status_code == 422 and broad.json["error_code"] == "search_too_broad"
    assert client.post(search, headers=headers, json={"name": "王芳", "birth_year": 1960}).status_code == 422
    by_year = client.post(search, headers=headers, json={"name": "王芳", "birth_year": 1960, "purpose": "office_visit"})
    assert by_year.status_code == 200 and [r["birth_year"] for r in by_year.json] == [1960]
    assert by_year.json[0]["name_masked"] == "王*" and "王芳" not in by_year.get_data(as_text=True)
    by_place = client.post(search, headers=headers, json={"name": "王芳", "community": "140105001002",
                                                           "purpose": "office_visit"})
    assert [r["birth_year"] for r in by_place.json] == [1975]
    by_id = client.post(search, headers=headers, json={"id_number": wang_id, "purpose": "home_visit"})
    assert [r["id_number_masked"] for r in by_id.json] == [wang.id_mask]
    assert client.post(search, headers=headers, json={"id_number": far_id, "purpose": "home_visit"}).json == []


def _deadline(session, app, step, started, due, done=None):
    from app.models import StepDeadline

    session.add(StepDeadline(application_id=app.id, step=step, started_on=started, due_on=due, working_days=30,
                             done_on=done))
    session.commit()


def test_the_inbox_filters_by_case_state_and_shows_the_whole_cases_deadline_badge(cfg, session, client):
    from datetime import timedelta

    from flows import workdays
    from flows.dates import today_shanghai

    today = today_shanghai()
    long_ago = today - timedelta(days=60)  # about 40 working days
    here, _, _ = h.person(session, cfg, street=STREET, community=COMMUNITY)
    there, _, _ = h.person(session, cfg, street=STREET, community="140105001002")
    # 低保 at the home visit: the case's own limit (30 working days from 受理) is close, the step's is not
    visiting = h.application(session, here, program="dibao", state="home_visit")
    _deadline(session, visiting, "case", long_ago, workdays.add_working_days(today, 2))
    _deadline(session, visiting, "home_visit", today, workdays.add_working_days(today, 10))
    # a disability case waits for review: no limit of its own, so the whole case is due when the review is
    reviewing = h.application(session, there, program="disability_living_subsidy", state="reviewing")
    _deadline(session, reviewing, "review", today, workdays.add_working_days(today, 20))
    # past the case's limit; a closed step no longer counts
    late = h.application(session, there, program="dibao", state="reviewing")
    three_ago = next(long_ago + timedelta(days=d) for d in range(60)
                     if workdays.working_days_between(long_ago + timedelta(days=d), today) == 3)
    _deadline(session, late, "case", long_ago, three_ago)
    _deadline(session, late, "home_visit", long_ago, today, done=today)
    visit = h.task(session, here, kind="home_visit", application_id=visiting.id)
    review = h.task(session, there, kind="review", application_id=reviewing.id)
    street = h.task(session, there, kind="review", application_id=late.id)
    loose = h.task(session, here)  # no case at all
    _, alice = h.staff(session, cfg, "reviewer", street=STREET)

    rows = {t["id"]: t for t in client.get("/api/v1/staff/inbox", headers=alice).json}
    assert set(rows) == {visit.id, review.id, street.id, loose.id}
    assert rows[visit.id]["case_badge"] == "at_risk" and rows[visit.id]["case_working_days_left"] == 2
    assert rows[visit.id]["case_due_on"] == workdays.add_working_days(today, 2).isoformat()
    assert rows[visit.id]["badge"] in ("on_track", "at_risk") and rows[visit.id]["application_state"] == "home_visit"
    assert rows[review.id]["case_badge"] == "on_track"
    assert rows[review.id]["case_due_on"] == workdays.add_working_days(today, 20).isoformat()
    assert rows[street.id]["case_badge"] == "overdue" and rows[street.id]["case_working_days_left"] == -3
    assert rows[loose.id]["case_badge"] == "none" and rows[loose.id]["case_due_on"] is None

    def ids(query):
        got = client.get(f"/api/v1/staff/inbox?{query}", headers=alice)
        assert got.status_code == 200, got.json
        return {t["id"] for t in got.json}

    assert ids("state=reviewing") == {review.id, street.id}
    assert ids("state=home_visit") == {visit.id}
    assert ids("state=reviewing&program=dibao") == {street.id}
    assert ids("state=reviewing&community=140105001002&kind=review") == {review.id, street.id}
    assert ids("state=approved") == set()
    odd = client.get("/api/v1/staff/inbox?state=lost", headers=alice)
    assert odd.status_code == 422 and "Not a state a case can be in" in str(odd.json)
    assert client.get("/api/v1/staff/inbox?community=14010500100x", headers=alice).status_code == 422
    params = {p["name"] for p in client.get("/openapi.json").json["paths"]["/api/v1/staff/inbox"]["get"]["parameters"]}
    assert {"state", "kind", "program", "community", "overdue"} <= params


def test_bulk_review_refuses_a_case_claimed_by_someone_else_and_names_the_failed_condition(cfg, session, client):
    here, _, _ = h.person(session, cfg, street=STREET, community=COMMUNITY)
    theirs = h.application(session, here, program="disability_living_subsidy", state="reviewing")
    task = h.task(session, here, kind="review", application_id=theirs.id)
    other, other_headers = h.staff(session, cfg, "reviewer", street=STREET)
    _, headers = h.staff(session, cfg, "reviewer", street=STREET)
    assert client.post(TASK.format(task.id) + "/claim", headers=other_headers).status_code == 200
    out = client.post("/api/v1/staff/bulk-review", headers=headers, json={"ids": [theirs.id]}).json
    assert out["refused"] == 1 and out["results"][0]["error_code"] == "task_not_yours"
    # the one who claimed it: the rule re-check fails (no certificate), and the failing condition is named
    mine = client.post("/api/v1/staff/bulk-review", headers=other_headers, json={"ids": [theirs.id]}).json
    assert mine["results"][0]["error_code"] == "recheck_failed" and mine["results"][0]["detail"]


def test_the_communities_of_my_jurisdiction_have_names(cfg, session, client):
    from flows import areas

    areas.upsert(session, areas.synthetic_rows(), areas.Result())
    session.commit()
    _, street_staff = h.staff(session, cfg, "reviewer", street=STREET)
    got = client.get("/api/v1/staff/communities", headers=street_staff)
    assert got.status_code == 200 and got.json
    assert all(c["code"].startswith(STREET) and len(c["code"]) == 12 and c["name"] for c in got.json)
    _, worker = h.staff(session, cfg, "community_worker", street=STREET, community=COMMUNITY)
    assert [c["code"] for c in client.get("/api/v1/staff/communities", headers=worker).json] == [COMMUNITY]
    assert client.get("/api/v1/staff/communities").status_code == 401
