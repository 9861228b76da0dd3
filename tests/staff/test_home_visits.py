"""Home visits on a phone (issue 12 item 6) over HTTP: two investigators, signatures, photos checked by content
(EXIF stripped, downscaled, bombs refused in words), served only to staff who may see the case with no-store;
a resend with the same client id records the visit once; what differs from the registry opens a change request."""

from __future__ import annotations

import io
from datetime import date

from sqlalchemy import func, select

from app.models import AuditEvent, HomeVisit, StaffTask
from flows.programs.dibao import cases
from tests.authz import helpers as h
from tests.builders import make_resident
from tests.visits import image_bytes, upload, visit_body

OK = dict.fromkeys(cases.HOME_VISIT_CHECKLIST, True)
STREET = "140105001"


def _case(session, cfg, name="张小三", household="HV1"):
    head, _ = make_resident(session, cfg, name=name, birth_date=date(1975, 3, 3), household_id=household, sex="M",
                            phone="13911112222")
    application = cases.apply(session, head, "acct-1", declared_monthly_income_fen=20_000)
    session.commit()
    assert application.state == "home_visit"
    return application


def test_a_visit_needs_two_investigators_and_their_signatures(cfg, session, client):
    application = _case(session, cfg)
    me, mine = h.staff(session, cfg, "community_worker", street=STREET, community="140105001001")
    colleague, _ = h.staff(session, cfg, "clerk", street=STREET)
    elsewhere, _ = h.staff(session, cfg, "clerk", district="140106")
    base = f"/api/v1/staff/applications/{application.id}"
    body = visit_body(client.post, application.id, mine, colleague.id, OK, "已入户")

    alone = client.post(base + "/home-visit", headers=mine, json={**body, "second_investigator": me.id})
    assert alone.status_code == 422 and alone.json["error_code"] == "one_person_visit"
    far = client.post(base + "/home-visit", headers=mine, json={**body, "second_investigator": elsewhere.id})
    assert far.status_code == 422 and far.json["error_code"] == "second_investigator_invalid"
    other_case = _case(session, cfg, "李四", "HV2")
    foreign = upload(client.post, other_case.id, "signature", mine).json["id"]
    swapped = client.post(base + "/home-visit", headers=mine,
                          json={**body, "signatures": {**body["signatures"], "household": foreign}})
    assert swapped.status_code == 422 and swapped.json["error_code"] == "visit_file_invalid"
    photo_as_signature = client.post(base + "/home-visit", headers=mine,
                                     json={**body, "signatures": {**body["signatures"], "household": body["photos"][0]}})
    assert photo_as_signature.status_code == 422
    missing = {k: v for k, v in body.items() if k != "signatures"}
    assert client.post(base + "/home-visit", headers=mine, json=missing).status_code == 422
    # three people sign: one drawing cannot stand for all three (nor for the two investigators)
    one = body["signatures"]["investigator_1"]
    for same in ({"investigator_1": one, "investigator_2": one, "household": one},
                 {**body["signatures"], "investigator_2": one}, {**body["signatures"], "household": one}):
        shared = client.post(base + "/home-visit", headers=mine, json={**body, "signatures": same})
        assert shared.status_code == 422 and shared.json["error_code"] == "visit_signatures_same", shared.json
    # nor one drawing uploaded three times (three file ids, one signature: the ids alone were compared)
    copies = [upload(client.post, application.id, "signature", mine).json["id"] for _ in range(3)]
    copied = client.post(base + "/home-visit", headers=mine, json={**body, "signatures": dict(
        zip(("investigator_1", "investigator_2", "household"), copies, strict=True))})
    assert copied.status_code == 422 and copied.json["error_code"] == "visit_signatures_same", copied.json
    twice = client.post(base + "/home-visit", headers=mine, json={**body, "photos": body["photos"] * 2})
    assert twice.status_code == 422 and twice.json["error_code"] == "visit_file_invalid"
    # found by a probe: "yes", "no", 1 and 0 for a checklist item, and a visit dated 2099, were taken
    item = next(iter(OK))
    for loose in ("yes", "no", 1, 0, "true"):
        sloppy = client.post(base + "/home-visit", headers=mine, json={**body, "checklist": {**OK, item: loose}})
        assert sloppy.status_code == 422, (loose, sloppy.json)
    for when, why in (("2099-01-01T00:00:00Z", "in_the_future"), ("2001-01-01T00:00:00Z", "before_the_case")):
        dated = client.post(base + "/home-visit", headers=mine, json={**body, "visited_at": when})
        assert dated.status_code == 422 and dated.json["errors"] == {"visited_at": [why]}, dated.json
    assert session.scalar(select(func.count()).select_from(HomeVisit)) == 0

    done = client.post(base + "/home-visit", headers=mine, json=body)
    assert done.status_code == 200 and done.json["state"] == "reviewing", done.json
    again = client.post(base + "/home-visit", headers=mine, json=body)  # the phone resends after losing the network
    assert again.status_code == 200 and again.json["state"] == "reviewing"
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(HomeVisit)) == 1
    assert session.scalar(select(func.count()).select_from(AuditEvent)
                          .where(AuditEvent.action == "staff.home_visit")) == 1
    visit = session.scalars(select(HomeVisit)).one()
    assert (visit.investigator_1, visit.investigator_2) == (me.id, colleague.id)
    entry = next(e for e in session.get(type(application), application.id).trace if e["code"] == "home_visit")
    assert entry["staff_id"] == me.id and entry["second_staff_id"] == colleague.id
    reused = client.post(f"/api/v1/staff/applications/{other_case.id}/home-visit", headers=mine, json=body)
    assert reused.status_code == 409 and reused.json["error_code"] == "client_id_reused"


def test_what_differs_from_the_registry_opens_a_change_request(cfg, session, client):
    application = _case(session, cfg)
    _, mine = h.staff(session, cfg, "clerk", street=STREET)
    colleague, _ = h.staff(session, cfg, "clerk", street=STREET)
    differs = {**OK, cases.HOME_VISIT_CHECKLIST[1]: False}
    body = visit_body(client.post, application.id, mine, colleague.id, differs, "户内实际住有3人",
                      signer="thumbprint_form")
    done = client.post(f"/api/v1/staff/applications/{application.id}/home-visit", headers=mine, json=body)
    assert done.status_code == 200 and done.json["state"] == "rejected"
    task = session.scalars(select(StaffTask).where(StaffTask.kind == "data_correction")).one()
    assert task.details["found_at_home_visit"] == [cases.HOME_VISIT_CHECKLIST[1]]


def test_uploads_are_checked_by_content_stripped_and_served_only_to_staff_who_may_see_the_case(cfg, session, client):
    from PIL import Image

    application = _case(session, cfg)
    _, mine = h.staff(session, cfg, "clerk", street=STREET)
    _, elsewhere = h.staff(session, cfg, "clerk", district="140106")
    base = f"/api/v1/staff/applications/{application.id}/visit-files"

    text = client.post(base + "?kind=photo", data=b"not an image at all", headers={**mine, "Content-Type": "image/png"})
    assert text.status_code == 422 and text.json["error_code"] == "not_an_image"
    empty = client.post(base + "?kind=photo", data=b"", headers={**mine, "Content-Type": "image/png"})
    assert empty.status_code == 422
    wrong_type = client.post(base + "?kind=photo", data=image_bytes(), headers={**mine, "Content-Type": "text/plain"})
    assert wrong_type.status_code == 415
    huge = client.post(base + "?kind=photo", data=b"\0" * (10 * 1024 * 1024 + 1),
                       headers={**mine, "Content-Type": "image/jpeg"})
    assert huge.status_code == 413
    bomb = io.BytesIO()
    Image.new("1", (9000, 9000)).save(bomb, "PNG")  # 81 megapixels in a few kilobytes
    refused = client.post(base + "?kind=photo", data=bomb.getvalue(), headers={**mine, "Content-Type": "image/png"})
    assert refused.status_code == 422 and refused.json["error_code"] == "image_too_large", refused.json
    assert "decompression bomb" in refused.json["message"]
    assert client.post(base + "?kind=photo", data=image_bytes(), headers={**elsewhere, "Content-Type": "image/png"}
                       ).status_code == 404

    tagged = image_bytes("JPEG", (3200, 2400), exif=True)
    assert Image.open(io.BytesIO(tagged)).getexif()
    made = client.post(base + "?kind=photo", data=tagged, headers={**mine, "Content-Type": "image/jpeg"})
    assert made.status_code == 201, made.json
    got = client.get(f"/api/v1/staff/visit-files/{made.json['id']}", headers=mine)
    assert got.status_code == 200 and got.headers["Cache-Control"] == "no-store" and got.mimetype == "image/jpeg"
    stored = Image.open(io.BytesIO(got.data))
    assert not stored.getexif() and max(stored.size) == 1600
    hidden = client.get(f"/api/v1/staff/visit-files/{made.json['id']}", headers=elsewhere)
    unknown = client.get("/api/v1/staff/visit-files/" + "0" * 32, headers=elsewhere)
    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json["message"] == unknown.json["message"]  # nothing says the file exists
    assert client.get(f"/api/v1/staff/visit-files/{made.json['id']}").status_code == 401


def test_a_staff_members_household_is_flagged_and_visited_by_the_district(cfg, session, client):
    head, _ = make_resident(session, cfg, name="周大山", birth_date=date(1960, 3, 3), household_id="HVR", sex="M",
                            phone="13911110000")
    daughter, _ = make_resident(session, cfg, name="周小丽", birth_date=date(1988, 4, 4), household_id="HVR",
                                relation="女", phone="13911110001")
    h.staff(session, cfg, "clerk", street=STREET, resident_id=daughter.id)  # she works for the bureau
    _, street_worker = h.staff(session, cfg, "community_worker", street=STREET, community="140105001001")
    _, county = h.staff(session, cfg, "reviewer")  # district level
    application = cases.apply(session, head, "acct-9", declared_monthly_income_fen=20_000)
    session.commit()
    task = session.scalars(select(StaffTask).where(StaffTask.kind == "home_visit",
                                                   StaffTask.application_id == application.id)).one()
    assert task.street_code is None and task.details["near_relative_of_staff"] is True
    assert task.id not in {t["id"] for t in client.get("/api/v1/staff/inbox", headers=street_worker).json}
    assert task.id in {t["id"] for t in client.get("/api/v1/staff/inbox", headers=county).json}
    page = client.get(f"/api/v1/staff/applications/{application.id}/case", headers=county)
    assert page.status_code == 200 and page.json["near_relative_of_staff"] is True
    plain = _case(session, cfg, "钱多多", "HV7")
    assert client.get(f"/api/v1/staff/applications/{plain.id}/case",
                      headers=county).json["near_relative_of_staff"] is False


def test_the_case_time_limit_is_extended_once_with_a_reason(cfg, session, client):
    from app.models import OutboxMessage, StepDeadline
    from flows import workdays

    application = _case(session, cfg)
    row = session.scalars(select(StepDeadline).where(StepDeadline.application_id == application.id,
                                                     StepDeadline.step == "case")).one()
    assert row.working_days == 30 and row.due_on == workdays.add_working_days(row.started_on, 30)
    _, reviewer = h.staff(session, cfg, "reviewer", street=STREET)
    _, clerk = h.staff(session, cfg, "clerk", street=STREET)
    path = f"/api/v1/staff/applications/{application.id}/extend"
    assert client.post(path, headers=clerk, json={"reason": "需补充核查收入"}).status_code == 403
    assert client.post(path, headers=reviewer, json={"reason": "x"}).status_code == 422
    done = client.post(path, headers=reviewer, json={"reason": "需补充核查家庭收入"})
    assert done.status_code == 200, done.json
    session.expire_all()
    row = session.get(StepDeadline, row.id)
    assert row.working_days == 45 and row.due_on == workdays.add_working_days(row.started_on, 45)
    told = session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "case_extended")).one()
    assert "45个工作日" in told.data["text"]
    again = client.post(path, headers=reviewer, json={"reason": "还要再延长"})
    assert again.status_code == 409 and again.json["error_code"] == "already_extended"
