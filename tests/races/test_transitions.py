"""State changes that must happen once, under ≥ 20 parallel requests across two API processes on one
database: confirm vs decline, reopen, the second approval of a payout grant, staff task decisions,
objection decisions, the approval of a reviewed disability case — and `zerotrip payroll --close` run several
times at once."""

from __future__ import annotations

from collections import Counter
from datetime import date

import requests
from sqlalchemy import func, select

from app.crypto import cipher_for
from app.masking import mask_account
from app.models import Application, AuditEvent, Benefit, OutboxMessage, PayoutAccount, PayrollLine, PayrollRun
from flows.dates import today_shanghai
from tests.authz import helpers as h
from tests.races.conftest import QUIET


def _count(session, query) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(query.subquery()))


def test_24_parallel_confirms_and_declines_change_the_state_once(servers, session, cfg):
    resident, account, _ = h.person(session, cfg, "孙奶奶", birth=date(1940, 2, 2))
    headers = h.headers_for(session, cfg, account)
    application = h.application(session, resident)

    def act(i, base):
        if i % 4 < 2:
            return "confirm", requests.post(f"{base}/api/v1/applications/{application.id}/confirm", headers=headers,
                                            timeout=QUIET)
        return "decline", requests.post(f"{base}/api/v1/applications/{application.id}/decline", headers=headers,
                                        json={"reason": "not_needed"}, timeout=QUIET)

    answers = servers.burst(24, act)
    outcome = Counter((kind, r.status_code) for kind, r in answers)
    session.expire_all()
    state = session.get(Application, application.id).state
    if state == "approved":  # confirm won: every confirm answers the same, every decline is refused
        assert outcome == {("confirm", 200): 12, ("decline", 409): 12}
        assert _count(session, select(Benefit)) == 1
        assert _count(session, select(OutboxMessage).where(OutboxMessage.kind == "approved")) == 1
    else:
        assert state == "declined"
        assert outcome == {("confirm", 409): 12, ("decline", 200): 12}
        assert _count(session, select(Benefit)) == 0
        assert _count(session, select(OutboxMessage)) == 0
    assert all(r.json()["error_code"] == "application_state" for _, r in answers if r.status_code == 409)
    # the winner alone is audited (and shown in her feed): the other 11 repeats answered the same, did nothing
    assert _count(session, select(AuditEvent).where(
        AuditEvent.action.in_(("application.confirm", "application.decline")))) == 1


def test_24_parallel_reopens_and_confirms_of_a_declined_application(servers, session, cfg):
    """Reopen (declined → proposed) races confirm (proposed → approved): a late reopen must not turn an
    approved application back into a proposal (a benefit would then hang off a proposal)."""
    resident, account, _ = h.person(session, cfg, "周爷爷", birth=date(1940, 3, 3))
    headers = h.headers_for(session, cfg, account)
    application = h.application(session, resident)
    assert requests.post(f"{servers.apis[0]}/api/v1/applications/{application.id}/decline", headers=headers,
                         json={"reason": "not_needed"}, timeout=QUIET).status_code == 200

    def act(i, base):
        kind = "reopen" if i % 2 else "confirm"
        return kind, requests.post(f"{base}/api/v1/applications/{application.id}/{kind}", headers=headers,
                                   timeout=QUIET)

    answers = servers.burst(24, act)
    assert {r.status_code for _, r in answers} <= {200, 409}
    assert all(r.json()["error_code"] == "application_state" for _, r in answers if r.status_code == 409)
    confirmed = [r for kind, r in answers if kind == "confirm" and r.status_code == 200]
    session.expire_all()
    state = session.get(Application, application.id).state
    assert state == ("approved" if confirmed else "proposed")
    assert _count(session, select(Benefit)) == (1 if confirmed else 0)
    assert all(r.json()["state"] == "approved" for r in confirmed)


def test_24_parallel_second_approvals_activate_a_payout_grant_once(servers, session, cfg):
    principal, _, _ = h.person(session, cfg, "吴老太", birth=date(1938, 1, 1))
    proxy_resident, proxy_account, _ = h.person(session, cfg, "吴小妹")
    grant = h.grant(session, principal, proxy_account, proxy_resident, scopes=("view", "payout"),
                    status="pending_approval")
    approvers = [h.staff(session, cfg, role="approver")[1] for _ in range(2)]
    answers = servers.burst(24, lambda i, base: requests.post(
        f"{base}/api/v1/staff/proxy-grants/{grant.id}/approve", headers=approvers[i % 2], json={}, timeout=QUIET))
    assert Counter(r.status_code for r in answers) == {200: 1, 409: 23}
    assert {r.json()["error_code"] for r in answers if r.status_code == 409} == {"grant_not_pending"}
    assert _count(session, select(OutboxMessage).where(OutboxMessage.kind == "proxy_granted")) == 1


def test_24_parallel_decisions_on_one_task_one_stands(servers, session, cfg):
    resident, _, _ = h.person(session, cfg, "郑阿姨")
    task = h.task(session, resident)
    reviewers = [h.staff(session, cfg, role="reviewer")[1] for _ in range(2)]
    answers = servers.burst(24, lambda i, base: requests.post(
        f"{base}/api/v1/staff/tasks/{task.id}/decide", headers=reviewers[i % 2], timeout=QUIET,
        json={"decision": "approve" if i % 3 else "reject", "reason": f"核实 {i}"}))
    assert Counter(r.status_code for r in answers) == {200: 1, 409: 23}
    assert {r.json()["error_code"] for r in answers if r.status_code == 409} == {"task_decided"}
    winner = next(r.json() for r in answers if r.status_code == 200)
    session.expire_all()
    stored = session.get(type(task), task.id)
    assert (stored.state, stored.details["decision"]) == ("closed", winner["decision"])


def test_4_parallel_payroll_closes_close_the_month_once(servers, session, cfg, tmp_path):
    from tests.builders import make_resident
    from tests.lifecycle.helpers import benefit

    people = [make_resident(session, cfg, name=f"老人{i}", birth_date=date(1940, 1, 1 + i), household_id=f"P{i}")[0]
              for i in range(3)]
    cipher = cipher_for(cfg)
    for i, person in enumerate(people):
        number = f"62220202001122{i:05d}"
        session.add(PayoutAccount(resident_id=person.id, kind="bank", bank_name="工商银行",
                                  number_enc=cipher.encrypt(number), number_mask=mask_account(number),
                                  number_hash=cipher.lookup_hash(number, "account"), source_date=date(2026, 1, 1)))
        session.commit()
        benefit(session, person, start="2026-01")
    runs = [servers.cli("payroll", "--month", "2026-03", "--close", "--as-of", "2026-03-05",
                        "--out", str(tmp_path / f"out{i}")) for i in range(4)]
    results = [(p.wait(), *p.communicate()) for p in runs]
    assert [code for code, _, _ in results] == [0, 0, 0, 0], [err[-2000:] for _, _, err in results]
    summaries = [out.strip().splitlines()[-1] for _, out, _ in results]
    assert sum("recomputed=true" in s for s in summaries) == 1, summaries
    assert all("state=closed" in s and "lines=3" in s for s in summaries), summaries
    assert _count(session, select(PayrollRun)) == 1
    assert _count(session, select(PayrollLine)) == 3
    assert _count(session, select(OutboxMessage).where(OutboxMessage.kind == "payment_started")) == 3


def test_24_parallel_confirms_and_declines_of_a_proxy_grant_change_it_once(servers, session, cfg):
    principal, principal_account, _ = h.person(session, cfg, "冯奶奶", birth=date(1939, 9, 9))
    proxy_resident, proxy_account, _ = h.person(session, cfg, "冯小妹")
    grant = h.grant(session, principal, proxy_account, proxy_resident, status="pending_principal")
    headers = h.headers_for(session, cfg, principal_account)

    def act(i, base):
        kind = "confirm" if i % 2 else "decline"
        return kind, requests.post(f"{base}/api/v1/proxies/grants/{grant.id}/{kind}", headers=headers, json={},
                                   timeout=QUIET)

    answers = servers.burst(24, act)
    outcome = Counter((kind, r.status_code) for kind, r in answers)
    session.expire_all()
    status = session.get(type(grant), grant.id).status
    granted = select(OutboxMessage).where(OutboxMessage.kind == "proxy_granted")
    if status == "active":  # a repeated confirm answers the same; every decline is refused
        assert outcome == {("confirm", 200): 12, ("decline", 409): 12}
        assert _count(session, granted) == 1
    else:
        assert status == "declined"
        assert outcome == {("decline", 200): 1, ("decline", 409): 11, ("confirm", 409): 12}
        assert _count(session, granted) == 0
    assert all(r.json()["error_code"] == "grant_not_pending" for _, r in answers if r.status_code == 409)


def test_24_parallel_decisions_on_one_objection_one_stands(servers, session, cfg):
    from app.models import Objection, PublicNotice

    subject, _, _ = h.person(session, cfg, "陈三")
    _, objector, _ = h.person(session, cfg, "陈四")
    application = h.application(session, subject, program="dibao", state="public_notice")
    today = today_shanghai()
    notice = PublicNotice(application_id=application.id, program="dibao", street_code="140105001",
                          masked_name="陈*", amount_fen=35000, starts_on=today, ends_on=today.replace(year=today.year + 1),
                          state="open")
    session.add(notice)
    session.flush()
    objection = Objection(notice_id=notice.id, account_id=objector.id, text="他家有车", state="open")
    session.add(objection)
    session.commit()
    reviewers = [h.staff(session, cfg, role="reviewer")[1] for _ in range(2)]
    answers = servers.burst(24, lambda i, base: requests.post(
        f"{base}/api/v1/staff/objections/{objection.id}/decide", headers=reviewers[i % 2], timeout=QUIET,
        json={"decision": "upheld" if i % 2 else "dismissed", "reason": f"入户核实 {i}"}))
    assert Counter(r.status_code for r in answers) == {200: 1, 409: 23}, [r.text for r in answers][:2]
    assert {r.json()["error_code"] for r in answers if r.status_code == 409} == {"objection_decided"}
    session.expire_all()
    trace = session.get(Application, application.id).trace
    assert [t["code"] for t in trace].count("objection") == 1


def test_24_parallel_approvals_of_one_reviewed_disability_case_one_stands(servers, session, cfg):
    resident, _, _ = h.person(session, cfg, "钱残")
    application = h.application(session, resident, program="disability_care_subsidy", state="approving")
    application.trace = [{"code": "staff_review", "passed": True, "value": "approve", "source": "staff",
                          "source_date": "2026-11-30", "staff_id": "a-reviewer", "text": "工作人员审核通过"}]
    session.commit()
    approvers = [h.staff(session, cfg, role="approver")[1] for _ in range(2)]
    answers = servers.burst(24, lambda i, base: requests.post(
        f"{base}/api/v1/staff/applications/{application.id}/approve", headers=approvers[i % 2], timeout=QUIET,
        json={"decision": "approve", "reason": f"同意 {i}"}))
    assert Counter(r.status_code for r in answers) == {200: 1, 409: 23}
    assert {r.json()["error_code"] for r in answers if r.status_code == 409} == {"application_state"}
    session.expire_all()
    # no certificate on file: the rule re-check fails and the one decision that stands is a rejection
    assert session.get(Application, application.id).state == "rejected"
    assert _count(session, select(OutboxMessage).where(OutboxMessage.kind == "rejected")) == 1


def test_a_revoke_racing_24_confirms_of_a_pending_grant_ends_it(servers, session, cfg):
    """The revoke wrote `declined` over a confirmation that had landed meanwhile (announced as a new proxy);
    now it is a conditional UPDATE: the grant ends revoked (or declined, had it come first), never active."""
    principal, principal_account, _ = h.person(session, cfg, "冯爷爷", birth=date(1938, 8, 8))
    proxy_resident, proxy_account, _ = h.person(session, cfg, "冯小弟")
    grant = h.grant(session, principal, proxy_account, proxy_resident, status="pending_principal")
    headers = h.headers_for(session, cfg, principal_account)

    def act(i, base):
        kind = "revoke" if i == 12 else "confirm"
        return kind, requests.post(f"{base}/api/v1/proxies/grants/{grant.id}/{kind}", headers=headers, json={},
                                   timeout=QUIET)

    answers = servers.burst(24, act)
    assert not [r.text for _, r in answers if r.status_code >= 500]
    revoked = next(r for kind, r in answers if kind == "revoke")
    assert revoked.status_code == 200 and revoked.json()["status"] in ("revoked", "declined"), revoked.text
    session.expire_all()
    ended = session.get(type(grant), grant.id)
    assert ended.status == revoked.json()["status"]
    granted = _count(session, select(OutboxMessage).where(OutboxMessage.kind == "proxy_granted"))
    assert (ended.status, granted) in (("revoked", 1), ("declined", 0))  # announced only if it was active
    audits = _count(session, select(AuditEvent).where(AuditEvent.action == "proxy.grant_confirm"))
    assert audits == granted  # one confirmation recorded, not one per repeat
