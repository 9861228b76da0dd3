"""DISPATCH_MAX_ATTEMPTS is per channel; a permanent WeChat refusal moves to SMS at once (issue 9 item 8)."""

from __future__ import annotations

from datetime import timedelta

import pytest
import requests
from sqlalchemy import select

from app.db import utcnow
from app.models import InboxItem
from notifications.dispatcher import DispatchSettings
from tests.notifications.helpers import grant, outbox_row, proposal

PHONE = "13912345678"
SEND = "/cgi-bin/message/subscribe/send"


def calls(wechat) -> dict:
    return requests.get(wechat.url("/__mock__/faults"), timeout=5).json()["calls"]


def run_until_settled(dispatcher, session, row_id, *, passes: int = 20) -> None:
    """One pass per (simulated) hour, so every backoff has expired; stops once the row is terminal."""
    t = utcnow()
    for _ in range(passes):
        t += timedelta(hours=2)
        dispatcher(clock=lambda t=t: t).run_once()
        session.expire_all()
        if outbox_row(session, row_id).state not in ("pending", "sending", "inflight"):
            return


@pytest.fixture
def four_attempts(cfg, monkeypatch):
    monkeypatch.setenv("DISPATCH_MAX_ATTEMPTS", "4")
    monkeypatch.setenv("DISPATCH_QUIET_HOURS", "off")
    return DispatchSettings.from_config(cfg)


def test_three_transient_then_43101_gives_exactly_one_sms(session, wechat, resident, application, account,
                                                         dispatcher, four_attempts):
    r = resident(phone=PHONE)
    acc = account(resident=r)
    grant(session, wechat, acc)
    row = proposal(session, application(r))
    wechat.faults({"script": {SEND: [-1, -1, -1, 43101]}})
    run_until_settled(lambda **kw: dispatcher(settings=four_attempts, **kw), session, row.id)
    got = outbox_row(session, row.id)
    assert (got.state, got.channel, got.attempts) == ("sent", "sms", 1), got.last_error
    assert calls(wechat) == {SEND: 4, "/sms/v1/send": 1}
    assert len(wechat.sms(PHONE)) == 1 and wechat.messages(acc.openid) == []
    assert session.execute(select(InboxItem).where(InboxItem.resident_id == r.id)).scalars().all()


def test_wechat_attempts_spent_moves_to_sms_which_has_its_own_count(session, wechat, resident, application,
                                                                    account, dispatcher, four_attempts):
    r = resident(phone=PHONE)
    acc = account(resident=r)
    grant(session, wechat, acc)
    row = proposal(session, application(r))
    wechat.faults({"script": {SEND: [-1] * 4, "/sms/v1/send": [-1] * 3}})
    run_until_settled(lambda **kw: dispatcher(settings=four_attempts, **kw), session, row.id)
    got = outbox_row(session, row.id)
    assert (got.state, got.channel, got.attempts) == ("sent", "sms", 4), got.last_error
    assert calls(wechat) == {SEND: 4, "/sms/v1/send": 4}


def test_dead_only_when_the_last_channel_is_spent(session, wechat, resident, application, account, dispatcher,
                                                  four_attempts):
    r = resident(phone=PHONE)
    acc = account(resident=r)
    grant(session, wechat, acc)
    row = proposal(session, application(r))
    wechat.faults({"script": {SEND: [-1] * 4, "/sms/v1/send": [-1] * 4}})
    run_until_settled(lambda **kw: dispatcher(settings=four_attempts, **kw), session, row.id)
    got = outbox_row(session, row.id)
    assert (got.state, got.channel, got.attempts) == ("dead", "sms", 4), got.last_error
    assert calls(wechat) == {SEND: 4, "/sms/v1/send": 4}
    assert session.execute(select(InboxItem).where(InboxItem.resident_id == r.id)).scalars().all()


@pytest.mark.parametrize("errcode", [40003, 47003])
def test_permanent_wechat_refusal_moves_to_sms_at_once(errcode, session, wechat, resident, application, account,
                                                       dispatcher, four_attempts):
    r = resident(phone=PHONE)
    acc = account(resident=r)
    grant(session, wechat, acc)
    row = proposal(session, application(r))
    wechat.faults({"script": {SEND: [errcode]}})
    run_until_settled(lambda **kw: dispatcher(settings=four_attempts, **kw), session, row.id)
    got = outbox_row(session, row.id)
    assert (got.state, got.channel) == ("sent", "sms"), got.last_error
    assert calls(wechat) == {SEND: 1, "/sms/v1/send": 1}
