"""What a probe as an administrator and as a supervisor found: an admin approving her own change through an
account she created, sessions outliving a password change or reset, a community worker without a community, a
disabled account answered 429, and a reviewer holding (so blocking) the approval of her own review."""

from __future__ import annotations

from sqlalchemy import select

from app.models import ParameterValue
from tests.authz import helpers as h

STREET, COMMUNITY = "140105001", "140105001001"
PASSWORD = "correct horse battery"
TASK = "/api/v1/staff/tasks/{}"


def _sign_in(client, username: str, password: str = PASSWORD) -> dict:
    signed = client.post("/api/v1/staff/auth/login", json={"username": username, "password": password})
    assert signed.status_code == 200, signed.json
    return signed.json


def _bearer(tokens: dict) -> dict:
    return {"Authorization": f"Bearer {tokens['access_token']}"}


def test_an_admin_cannot_approve_her_own_change_through_an_account_she_created_or_reset(client, session, cfg):
    _, maker = h.staff(session, cfg, "admin", username="admin.d")
    colleague, _ = h.staff(session, cfg, "admin", username="admin.e")
    made = client.post("/api/v1/staff/params", headers=maker,
                       json={"program": "elderly_allowance", "key": "tiers.90-99", "value": "999.00", "from": "2027-05"})
    assert made.status_code == 201, made.json
    puppet = client.post("/api/v1/staff/accounts", headers=maker, json={
        "username": "sockpuppet", "display_name": "傀儡", "role": "admin", "district_code": "140105",
        "password": "a temporary secret"})
    assert puppet.status_code == 201, puppet.json
    first = _sign_in(client, "sockpuppet", "a temporary secret")
    assert client.post("/api/v1/staff/auth/password", headers=_bearer(first), json={
        "current_password": "a temporary secret", "new_password": "mine entirely now"}).status_code == 200
    own = client.post(f"/api/v1/staff/approvals/{made.json['id']}/approve", json={},
                      headers=_bearer(_sign_in(client, "sockpuppet", "mine entirely now")))
    assert own.status_code == 403 and own.json["error_code"] == "self_approval", own.json
    # a colleague's account whose password she reset: the same
    assert client.post(f"/api/v1/staff/accounts/{colleague.id}/reset-password", headers=maker,
                       json={"password": "another temp secret"}).status_code == 200
    taken = _sign_in(client, "admin.e", "another temp secret")
    assert client.post("/api/v1/staff/auth/password", headers=_bearer(taken), json={
        "current_password": "another temp secret", "new_password": "taken over as well"}).status_code == 200
    reset = client.post(f"/api/v1/staff/approvals/{made.json['id']}/approve", json={},
                        headers=_bearer(_sign_in(client, "admin.e", "taken over as well")))
    assert reset.status_code == 403 and reset.json["error_code"] == "self_approval"
    assert session.scalars(select(ParameterValue)).all() == []
    _, checker = h.staff(session, cfg, "admin", username="admin.f")  # a real second person
    assert client.post(f"/api/v1/staff/approvals/{made.json['id']}/approve", json={},
                       headers=checker).status_code == 200


def test_a_password_change_ends_her_other_sessions_and_a_reset_ends_all(client, session, cfg):
    h.staff(session, cfg, "clerk", username="pw.change")
    _, admin = h.staff(session, cfg, "admin")
    one, two = _sign_in(client, "pw.change"), _sign_in(client, "pw.change")
    changed = client.post("/api/v1/staff/auth/password", headers=_bearer(one),
                          json={"current_password": PASSWORD, "new_password": "a brand new secret"})
    assert changed.status_code == 200
    assert client.get("/api/v1/staff/inbox", headers=_bearer(one)).status_code == 200  # the one asking goes on
    assert client.get("/api/v1/staff/inbox", headers=_bearer(two)).status_code == 401
    assert client.post("/api/v1/staff/auth/refresh", json={"refresh_token": two["refresh_token"]}).status_code == 401

    staff_id = one["staff"]["id"]
    assert client.post(f"/api/v1/staff/accounts/{staff_id}/reset-password", headers=admin,
                       json={"password": "an admin's temp"}).status_code == 200
    assert client.get("/api/v1/staff/inbox", headers=_bearer(one)).status_code == 401
    fresh = _sign_in(client, "pw.change", "an admin's temp")
    assert client.post("/api/v1/staff/auth/password", headers=_bearer(fresh), json={
        "current_password": "an admin's temp", "new_password": "hers again now"}).status_code == 200
    assert client.get("/api/v1/staff/inbox", headers=_bearer(one)).status_code == 401  # never comes back
    assert client.get("/api/v1/staff/inbox", headers=_bearer(fresh)).status_code == 200


def test_a_disabled_account_is_401_however_often_the_right_password_is_tried(client, session, cfg):
    gone, _ = h.staff(session, cfg, "clerk", username="gone.clerk")
    _, admin = h.staff(session, cfg, "admin")
    assert client.post(f"/api/v1/staff/accounts/{gone.id}/disable", headers=admin).status_code == 200
    for _ in range(8):
        r = client.post("/api/v1/staff/auth/login", json={"username": "gone.clerk", "password": PASSWORD})
        assert r.status_code == 401, r.json


def test_a_community_worker_needs_her_community(client, session, cfg):
    _, admin = h.staff(session, cfg, "admin")
    body = {"username": "worker.no.community", "display_name": "王", "role": "community_worker",
            "district_code": "140105", "password": "a temporary secret"}
    missing = client.post("/api/v1/staff/accounts", headers=admin, json=body)
    assert missing.status_code == 422 and missing.json["error_code"] == "community_required", missing.json
    clerk, _ = h.staff(session, cfg, "clerk", street=STREET)
    moved = client.patch(f"/api/v1/staff/accounts/{clerk.id}", headers=admin, json={"role": "community_worker"})
    assert moved.status_code == 422 and moved.json["error_code"] == "community_required"
    placed = client.patch(f"/api/v1/staff/accounts/{clerk.id}", headers=admin,
                          json={"role": "community_worker", "street_code": STREET, "community_code": COMMUNITY})
    assert placed.status_code == 200 and placed.json["community_code"] == COMMUNITY


def test_the_reviewer_of_a_case_neither_claims_nor_is_given_its_approval_task(client, session, cfg):
    applicant, _, _ = h.person(session, cfg, street=STREET, community=COMMUNITY)
    reviewer, reviewer_h = h.staff(session, cfg, "approver")
    other, other_h = h.staff(session, cfg, "approver")
    _, supervisor = h.staff(session, cfg, "supervisor")
    app = h.application(session, applicant, state="approving")
    app.trace = [{"code": "staff_review", "passed": True, "value": "approve", "source": "staff",
                  "source_date": "2026-11-30", "staff_id": reviewer.id, "text": "审核通过"}]
    task = h.task(session, applicant, kind="approve", application_id=app.id)
    session.commit()
    claimed = client.post(TASK.format(task.id) + "/claim", headers=reviewer_h)
    assert claimed.status_code == 403 and claimed.json["error_code"] == "segregation_of_duties", claimed.json
    given = client.post(TASK.format(task.id) + "/reassign", headers=supervisor,
                        json={"staff_id": reviewer.id, "reason": "她有空"})
    assert given.status_code in (403, 409), given.json
    assert client.post(TASK.format(task.id) + "/claim", headers=other_h).status_code == 200


def test_guessing_the_current_password_with_a_token_spends_the_sign_in_attempts_and_locks(client, session, cfg):
    """Found by a probe: with one access token, 30 wrong current passwords on the password change were 30 quiet
    401s. Each is now one of the sign-in's 5 attempts, audited; the fifth locks the account (429 after, and no
    sign-in either), and a right one puts the count back."""
    from app.models import AuditEvent

    h.staff(session, cfg, "clerk", username="pw.guess")
    tokens = _sign_in(client, "pw.guess")

    def change(current):
        return client.post("/api/v1/staff/auth/password", headers=_bearer(tokens),
                           json={"current_password": current, "new_password": "a brand new secret"})

    assert [change(f"guess number {n}").status_code for n in range(4)] == [401] * 4
    assert change(PASSWORD).status_code == 200  # the right one: the count starts again
    now_hers = "a brand new secret"
    answers = [change(f"guess again {n}").status_code for n in range(6)]
    assert answers == [401] * 5 + [429], answers
    locked = client.post("/api/v1/staff/auth/login", json={"username": "pw.guess", "password": now_hers})
    assert locked.status_code == 429
    results = [e.result for e in session.scalars(select(AuditEvent).where(
        AuditEvent.action.in_(("staff.password_change", "staff.lockout"))).order_by(AuditEvent.seq))]
    assert results == ["bad_password"] * 4 + ["ok"] + ["bad_password"] * 5 + ["locked"], results


def test_a_password_of_characters_nobody_can_type_is_too_short(client, session, cfg):
    """Found by a probe: twelve zero-width spaces were taken as a new password; it cannot be typed at sign-in."""
    h.staff(session, cfg, "clerk", username="pw.blank")
    tokens = _sign_in(client, "pw.blank")
    for blank in ("\u200b" * 12, "\u3164" * 12, "abc" + "\u200b" * 10):
        refused = client.post("/api/v1/staff/auth/password", headers=_bearer(tokens),
                              json={"current_password": PASSWORD, "new_password": blank})
        assert refused.status_code == 422 and refused.json["error_code"] == "password_too_short", refused.json
    spaced = client.post("/api/v1/staff/auth/password", headers=_bearer(tokens),
                         json={"current_password": PASSWORD, "new_password": "open sesame 1"})
    assert spaced.status_code == 200  # spaces are typed: they count


def test_a_new_password_refused_for_its_length_spends_no_sign_in_attempt(client, session, cfg):
    """Found on reading the change through: the right current password with a too-short new one rolled back the
    reset of the attempt it had spent, so five such tries locked her out."""
    h.staff(session, cfg, "clerk", username="pw.short")
    tokens = _sign_in(client, "pw.short")
    for _ in range(6):
        short = client.post("/api/v1/staff/auth/password", headers=_bearer(tokens),
                            json={"current_password": PASSWORD, "new_password": "short"})
        assert short.status_code == 422 and short.json["error_code"] == "password_too_short", short.json
    assert client.post("/api/v1/staff/auth/login", json={"username": "pw.short", "password": PASSWORD}).status_code == 200
