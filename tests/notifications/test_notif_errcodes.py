"""Table-driven: every WeChat errcode (as the mock injects it) → final state, attempts, next attempt time."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from app.db import utcnow
from app.models import OutboxMessage, Subscription
from notifications.dispatcher import DispatchSettings
from notifications.errors import ERRCODES, Backoff, classify
from tests.notifications.helpers import grant, outbox_row, proposal

NO_JITTER = Backoff(base=30, cap=3600, jitter=0)

# errcode → (state, attempts, seconds until next attempt or None, one-time grant left at our side)
TABLE = {
    -1: ("pending", 1, 30, 1),
    40001: ("pending", 1, 30, 1),  # refreshed once, failed again → transient
    40014: ("pending", 1, 30, 1),
    42001: ("pending", 1, 30, 1),
    43108: ("pending", 1, 30, 1),
    45009: ("pending", 1, 3600, 1),
    45011: ("pending", 1, 60, 1),
    43101: ("no_quota", 1, None, 0),
    40003: ("failed", 1, None, 1),
    40037: ("failed", 1, None, 1),
    41030: ("failed", 1, None, 1),
    43107: ("failed", 1, None, 1),
    44002: ("failed", 1, None, 1),
    45168: ("failed", 1, None, 1),
    47001: ("failed", 1, None, 1),
    47003: ("failed", 1, None, 1),
    99999: ("failed", 1, None, 1),  # unknown errcode: permanent (never spend a grant blindly)
}


def test_table_covers_every_classified_errcode():
    assert set(ERRCODES) - {0} <= set(TABLE)


@pytest.mark.parametrize("errcode", sorted(TABLE))
def test_errcode_outcome(errcode, session, wechat, resident, application, account, dispatcher):
    state, attempts, delay, left = TABLE[errcode]
    r = resident()
    acc = account(resident=r)
    template = grant(session, wechat, acc)
    row = proposal(session, application(r))
    wechat.faults({"errors": {str(errcode): 1.0}})
    t0 = utcnow() + timedelta(seconds=1)
    d = dispatcher(clock=lambda: t0, settings=DispatchSettings(quiet_hours=None, backoff=NO_JITTER))
    d.run_once()
    got = outbox_row(session, row.id)
    assert (got.state, got.attempts) == (state, attempts), got.last_error
    assert str(errcode) in got.last_error
    if delay is not None:
        assert got.next_attempt_at == t0 + timedelta(seconds=delay)
    remaining = session.execute(select(Subscription.remaining).where(Subscription.account_id == acc.id,
                                                                     Subscription.template_id == template.id))
    assert remaining.scalar_one() == left
    if errcode in (40001, 40014, 42001):
        assert d.client.refreshes >= 2  # the first token, then exactly one forced refresh per call


def test_transport_errors_retry_and_max_attempts_dead_letter(session, wechat, resident, application, account,
                                                             dispatcher, caplog):
    r = resident()
    acc = account(resident=r)
    grant(session, wechat, acc)
    row = proposal(session, application(r))
    session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(attempts=7))
    session.commit()
    wechat.faults({"drop_rate": 1.0})
    counts = dispatcher(settings=DispatchSettings(quiet_hours=None, max_attempts=8)).run_once()
    assert counts["dead"] == 1
    got = outbox_row(session, row.id)
    assert got.state == "dead" and got.attempts == 8 and "transport" in got.last_error
    assert any("dead-lettered" in rec.getMessage() for rec in caplog.records)


def test_backoff_is_capped_exponential_with_jitter():
    b = Backoff(base=30, cap=3600, jitter=0.5)
    rng = random.Random(1)
    for n in range(1, 12):
        d = b.delay(n, rng=rng)
        assert min(3600, 30 * 2 ** (n - 1)) * 0.5 <= d <= min(3600, 30 * 2 ** (n - 1))
    assert b.delay(1, min_delay=60, rng=rng) >= 60
    assert classify("transport").kind == "retry"


def test_43101_after_a_timed_out_attempt_is_unknown_not_refused(session, wechat, resident, application, account,
                                                                dispatcher):
    r = resident()
    acc = account(resident=r)
    template = grant(session, wechat, acc)
    row = proposal(session, application(r))
    wechat.faults({"drop_rate": 1.0})
    assert dispatcher().run_once()["retry"] == 1
    wechat.faults(None)
    # the "timed-out" attempt had in fact reached WeChat and spent the grant
    wechat.app.extensions["mock_wechat"].state.grants[(acc.openid, template.id)] = 0
    counts = dispatcher(clock=lambda: utcnow() + timedelta(hours=1)).run_once()
    assert counts["unknown"] == 1
    got = outbox_row(session, row.id)
    assert got.state == "unknown" and "probably delivered" in got.last_error
    sub = session.execute(select(Subscription).where(Subscription.account_id == acc.id)).scalar_one()
    assert (sub.status, sub.remaining) == ("accept", 0)


def test_a_token_endpoint_that_refuses_makes_every_message_wait_not_fail(session, wechat, resident, application,
                                                                          account, dispatcher):
    """40164 (this server's IP is not on the mini-program's allow list) from the token endpoint was taken as the
    send's own answer: an unknown errcode, the message failed for good (or moved to SMS for good). Nothing was
    sent; the message waits for an operator to fix the allow list, its grant kept."""
    r = resident()
    template = grant(session, wechat, account(resident=r))
    row = proposal(session, application(r))
    wechat.faults({"script": {"/cgi-bin/stable_token": [40164] * 4}, "only_paths": ["/cgi-bin/stable_token"]})
    t0 = utcnow() + timedelta(seconds=1)
    dispatcher(clock=lambda: t0, settings=DispatchSettings(quiet_hours=None, backoff=NO_JITTER)).run_once()
    got = outbox_row(session, row.id)
    assert (got.state, got.attempts) == ("pending", 1), got.last_error
    assert "40164" in got.last_error and "access token" in got.last_error
    assert got.next_attempt_at >= t0 + timedelta(seconds=300)
    session.expire_all()
    assert session.scalar(select(Subscription.remaining).where(Subscription.template_id == template.id)) == 1
    assert wechat.messages() == []
