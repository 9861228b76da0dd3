"""The inbox's claim is atomic across processes (issue 12 item 3): 12 reviewers claim one task at once through the
real servers — exactly one wins, the others get 409 task_claimed, and the task names the winner."""

from __future__ import annotations

from collections import Counter

import requests

from app.models import StaffTask
from tests.authz import helpers as h
from tests.races.conftest import QUIET


def test_12_parallel_claims_of_one_task_one_wins(servers, session, cfg):
    resident, _, _ = h.person(session, cfg, street="140105001", community="140105001001")
    task = h.task(session, resident, kind="review")
    staff = [h.staff(session, cfg, "reviewer", street="140105001") for _ in range(12)]

    def act(i, base):
        member, headers = staff[i]
        return member.id, requests.post(f"{base}/api/v1/staff/tasks/{task.id}/claim", headers=headers, json={},
                                        timeout=QUIET)

    answers = servers.burst(12, act)
    assert Counter(r.status_code for _, r in answers) == {200: 1, 409: 11}
    winner = next(who for who, r in answers if r.status_code == 200)
    assert all(r.json()["error_code"] == "task_claimed" for _, r in answers if r.status_code == 409)
    session.expire_all()
    assert session.get(StaffTask, task.id).claimed_by == winner
