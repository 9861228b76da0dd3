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


def test_overlapping_bulk_and_single_claims_never_deadlock(servers, session, cfg):
    """Four rounds of two bulk claims over overlapping tasks, in opposite orders, beside single claims of the same
    tasks: every request is answered (a bulk 200 with a result per task, a single 200 or 409), each task has one
    holder, and one audit event per claim won. Each item's audit event used to take the audit chain's head row
    before the next task's row: on PostgreSQL two such requests deadlocked (500)."""
    from sqlalchemy import func, select

    from app.models import AuditEvent

    resident, _, _ = h.person(session, cfg, street="140105001", community="140105001001")
    reviewers = [h.staff(session, cfg, "reviewer", street="140105001") for _ in range(4)]
    for _ in range(4):
        ids = [h.task(session, resident, kind="review").id for _ in range(12)]
        calls = [("bulk", reviewers[0], ids[:9]), ("bulk", reviewers[1], list(reversed(ids[3:])))]
        calls += [("one", reviewers[2 + i % 2], [ids[i]]) for i in range(1, 11)]

        def act(i, base, calls=calls):
            kind, (_, headers), chosen = calls[i]
            if kind == "bulk":
                return kind, requests.post(f"{base}/api/v1/staff/bulk-claim", headers=headers, json={"ids": chosen},
                                           timeout=QUIET)
            return kind, requests.post(f"{base}/api/v1/staff/tasks/{chosen[0]}/claim", headers=headers, json={},
                                       timeout=QUIET)

        answers = servers.burst(len(calls), act)
        assert {(kind, r.status_code) for kind, r in answers} <= {("bulk", 200), ("one", 200), ("one", 409)}, \
            [r.text for _, r in answers if r.status_code >= 500]
        won = sum(item["ok"] for kind, r in answers if kind == "bulk" for item in r.json()["results"])
        won += sum(r.status_code == 200 for kind, r in answers if kind == "one")
        session.expire_all()
        held = session.scalars(select(StaffTask.claimed_by).where(StaffTask.id.in_(ids))).all()
        assert won == len(ids) and None not in held
        assert session.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "staff.task_claim", AuditEvent.object_ref.in_([f"task:{t}" for t in ids]))) == len(ids)
