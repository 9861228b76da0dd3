"""Service ratings (好差评): after the case ends, once per rater, 1–2 open a follow-up task due in 15 working days."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import chinese_calendar

from app.models import Application, ServiceRating, StaffTask
from flows import ratings
from flows.programs.elderly_allowance.scan import scan_turning_80
from tests.builders import make_resident

SHANGHAI = timezone(timedelta(hours=8))


def _proposed(session, cfg, citizen, **kw):
    li, li_id = make_resident(session, cfg, name="李秀英", birth_date=date(1946, 11, 20), phone="13912345678", **kw)
    scan_turning_80(cfg, date(2026, 11, 25))
    app_id = session.query(Application).filter_by(resident_id=li.id).one().id
    c = citizen()
    assert c.bind("李秀英", li_id, "13912345678").status_code == 200
    return c, app_id, li


def test_rating_only_after_the_case_ends_and_only_once(session, cfg, citizen):
    c, app_id, _ = _proposed(session, cfg, citizen)
    early = c.post(f"/api/v1/applications/{app_id}/rating", json={"level": 5})
    assert early.status_code == 409
    assert c.get(f"/api/v1/applications/{app_id}/rating").status_code == 404
    assert c.post(f"/api/v1/applications/{app_id}/confirm").json["state"] == "approved"

    rated = c.post(f"/api/v1/applications/{app_id}/rating", json={"level": 5, "comment": "  很方便  "})
    assert rated.status_code == 201, rated.get_data(as_text=True)
    assert rated.json["level"] == 5 and rated.json["level_text"] == "非常满意" and rated.json["comment"] == "很方便"
    assert rated.json["follow_up_due_at"] is None
    assert c.get(f"/api/v1/applications/{app_id}/rating").json == rated.json
    again = c.post(f"/api/v1/applications/{app_id}/rating", json={"level": 1})
    assert again.status_code == 409
    session.expire_all()
    assert session.query(ServiceRating).count() == 1
    assert session.query(StaffTask).filter_by(kind="rating_follow_up").count() == 0


def test_a_declined_case_can_be_rated_and_dissatisfied_opens_a_follow_up_task(session, cfg, citizen):
    c, app_id, li = _proposed(session, cfg, citizen, district="140106", street="140106002",
                              community="140106002003")
    assert c.post(f"/api/v1/applications/{app_id}/decline", json={"reason": "not_needed"}).status_code == 200
    rated = c.post(f"/api/v1/applications/{app_id}/rating", json={"level": 2, "comment": "说明看不懂"})
    assert rated.status_code == 201
    session.expire_all()
    task = session.query(StaffTask).filter_by(kind="rating_follow_up").one()
    assert (task.district_code, task.street_code, task.community_code) == ("140106", "140106002", "140106002003")
    assert task.resident_id == li.id and task.application_id == app_id and task.state == "open"
    assert task.details["level"] == 2 and task.details["comment"] == "说明看不懂"
    assert task.due_at == ratings.follow_up_due(datetime.now(SHANGHAI).date())
    due = datetime.fromisoformat(rated.json["follow_up_due_at"])
    assert due.replace(tzinfo=None) == task.due_at and due.tzinfo is not None


def test_someone_elses_case_is_404_and_bad_levels_are_422(session, cfg, citizen):
    c, app_id, _ = _proposed(session, cfg, citizen)
    c.post(f"/api/v1/applications/{app_id}/confirm")
    other_resident, other_id = make_resident(session, cfg, name="王五", phone="13700000009", household_id="H2",
                                             birth_date=date(1960, 1, 1))
    other = citizen()
    assert other.bind("王五", other_id, "13700000009").status_code == 200
    assert other.post(f"/api/v1/applications/{app_id}/rating", json={"level": 4}).status_code == 404
    assert other.post("/api/v1/applications/nope/rating", json={"level": 4}).status_code == 404
    for body in ({"level": 0}, {"level": 6}, {"level": "5"}, {"level": 3.5}, {}, {"level": 3, "extra": 1},
                 {"level": 3, "comment": "x" * 501}):
        assert c.post(f"/api/v1/applications/{app_id}/rating", json=body).status_code == 422, body
    anonymous = c.client.post(f"/api/v1/applications/{app_id}/rating", json={"level": 3})
    assert anonymous.status_code == 401


def _expected_due(start: date, n: int) -> date:
    day = start
    while n:
        day += timedelta(days=1)
        n -= chinese_calendar.is_workday(day)
    return day


def test_due_date_counts_chinese_working_days():
    # Across National Day 2026 (国庆节 and its 调休): chinese_calendar decides, not weekdays.
    start = date(2026, 9, 28)
    due = ratings.follow_up_due(start)
    expected = _expected_due(start, 15)
    assert due == datetime.combine(expected, datetime.max.time().replace(microsecond=0), tzinfo=SHANGHAI) \
        .astimezone(UTC).replace(tzinfo=None)
    assert (expected - start).days > 21  # more than three plain weeks because of the holiday


def test_due_date_past_the_library_data_falls_back_to_weekends():
    # 2 January 2030 is a Wednesday; 15 weekdays later (no lunar holidays known) is Wednesday 23 January.
    due = ratings.follow_up_due(date(2030, 1, 2))
    assert due == datetime(2030, 1, 23, 15, 59, 59)


def test_the_follow_up_is_in_the_staff_queue_of_that_community_only(session, cfg, citizen, client):
    from flows.staff import create_staff

    c, app_id, _ = _proposed(session, cfg, citizen)
    c.post(f"/api/v1/applications/{app_id}/confirm")
    assert c.post(f"/api/v1/applications/{app_id}/rating", json={"level": 1, "comment": "没人回电话"}).status_code == 201
    create_staff(session, username="clerk_here", password="correct horse battery", role="clerk",
                 district="140105", street="140105001", community="140105001001")
    create_staff(session, username="clerk_there", password="correct horse battery", role="clerk",
                 district="140106")
    session.commit()

    def queue(username):
        login = client.post("/api/v1/staff/auth/login", json={"username": username, "password": "correct horse battery"})
        assert login.status_code == 200, login.get_data(as_text=True)
        headers = {"Authorization": f"Bearer {login.json['access_token']}"}
        return client.get("/api/v1/staff/tasks", headers=headers).json

    here = [t for t in queue("clerk_here") if t["kind"] == "rating_follow_up"]
    assert len(here) == 1 and here[0]["application_id"] == app_id and here[0]["due_at"]
    assert [t for t in queue("clerk_there") if t["kind"] == "rating_follow_up"] == []
