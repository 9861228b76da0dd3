"""Dispatch: no account → no_channel; quota → sent once; no quota → no_quota; transient → retried once."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from app.db import utcnow
from app.models import InboxItem, Subscription
from notifications import inbox
from notifications.templates import template_for
from tests.notifications.helpers import grant, outbox_row, proposal


def _items(session, **where):
    session.expire_all()
    q = select(InboxItem)
    for key, value in where.items():
        q = q.where(getattr(InboxItem, key) == value)
    return list(session.execute(q).scalars())


def _remaining(session, acc, template) -> int:
    session.expire_all()
    return session.execute(select(Subscription.remaining).where(
        Subscription.account_id == acc.id, Subscription.template_id == template.id)).scalar_one()


def test_resident_without_account_gets_a_resident_inbox_item_and_no_channel(session, resident, application,
                                                                           dispatcher, account):
    r = resident()
    row = proposal(session, application(r))
    counts = dispatcher().run_once()
    assert counts["claimed"] == 1 and counts["no_channel"] == 1
    assert outbox_row(session, row.id).state == "no_channel"
    items = _items(session, resident_id=r.id)
    assert len(items) == 1 and items[0].title == "待确认申请提醒" and "高龄津贴申请" in items[0].body
    assert items[0].account_id is None
    # not retried
    assert dispatcher().run_once(limit=None)["claimed"] == 0
    # she binds later and sees it
    acc = account(resident=r)
    assert [i.id for i in session.execute(inbox.items_for(session, acc)).scalars()] == [items[0].id]


def test_bound_account_with_a_grant_gets_one_valid_message_and_spends_one_grant(session, resident, application,
                                                                               dispatcher, account, wechat):
    r = resident()
    acc = account(resident=r)
    template = grant(session, wechat, acc)
    grant(session, wechat, acc)  # two grants: exactly one must be spent
    app_row = application(r)
    row = proposal(session, app_row)
    counts = dispatcher().run_once()
    assert counts["sent"] == 1, counts
    sent = outbox_row(session, row.id)
    assert sent.state == "sent" and sent.channel == "wechat" and sent.provider_msgid and sent.attempts == 1
    messages = wechat.messages(acc.openid)
    assert len(messages) == 1
    msg = messages[0]
    assert msg["template_id"] == template.id and msg["msgid"] == sent.provider_msgid
    assert msg["data"]["thing1"]["value"] == "高龄津贴申请"
    assert msg["data"]["amount2"]["value"] == "50.00元"
    assert msg["page"] == f"pages/applications/detail?id={app_row.id}"
    assert _remaining(session, acc, template) == 1
    assert wechat.quota(acc.openid, template.id)["remaining"] == 1
    assert len(_items(session, resident_id=r.id)) == 1
    # nothing left to do, nothing sent twice
    assert dispatcher().run_once()["claimed"] == 0
    assert len(wechat.messages(acc.openid)) == 1


def test_no_grant_means_no_quota_and_an_inbox_item(session, resident, application, dispatcher, account, wechat):
    r = resident()
    acc = account(resident=r)
    row = proposal(session, application(r))
    counts = dispatcher().run_once()
    assert counts["no_quota"] == 1
    assert outbox_row(session, row.id).state == "no_quota"
    assert wechat.messages(acc.openid) == []
    assert len(_items(session, resident_id=r.id)) == 1
    assert dispatcher().run_once()["claimed"] == 0


def test_refused_subscription_is_no_quota(session, resident, application, dispatcher, account, wechat):
    r = resident()
    acc = account(resident=r)
    grant(session, wechat, acc)
    grant(session, wechat, acc, status="reject")
    row = proposal(session, application(r))
    assert dispatcher().run_once()["no_quota"] == 1
    assert outbox_row(session, row.id).state == "no_quota"


def test_our_count_wrong_43101_zeroes_it(session, resident, application, dispatcher, account, wechat):
    from notifications import subscriptions

    r = resident()
    acc = account(resident=r)
    template = template_for("proposal_ready")
    subscriptions.record_popup(session, acc.id, template, "accept")  # we think there is one, WeChat not
    session.commit()
    row = proposal(session, application(r))
    assert dispatcher().run_once()["no_quota"] == 1
    got = outbox_row(session, row.id)
    assert got.state == "no_quota" and "43101" in got.last_error and got.attempts == 1
    assert _remaining(session, acc, template) == 0


def test_transient_failure_is_retried_later_and_sent_exactly_once(session, resident, application, dispatcher,
                                                                  account, wechat):
    r = resident()
    acc = account(resident=r)
    template = grant(session, wechat, acc)
    row = proposal(session, application(r))
    wechat.faults({"errors": {"-1": 1.0}})
    counts = dispatcher().run_once()
    assert counts["retry"] == 1 and counts["sent"] == 0
    got = outbox_row(session, row.id)
    assert got.state == "pending" and got.attempts == 1 and "-1" in got.last_error
    assert got.next_attempt_at > utcnow() + timedelta(seconds=10)
    assert _remaining(session, acc, template) == 1  # refunded
    # not due yet
    assert dispatcher().run_once()["claimed"] == 0
    wechat.faults({"errors": {"45011": 1.0}})
    later = dispatcher(clock=lambda: utcnow() + timedelta(hours=2))
    assert later.run_once()["retry"] == 1
    got = outbox_row(session, row.id)
    assert got.attempts == 2 and got.next_attempt_at >= utcnow() + timedelta(hours=2, seconds=59)
    wechat.faults(None)
    much_later = dispatcher(clock=lambda: utcnow() + timedelta(hours=4))
    assert much_later.run_once()["sent"] == 1
    assert much_later.run_once()["claimed"] == 0
    got = outbox_row(session, row.id)
    assert got.state == "sent" and got.attempts == 3
    assert len(wechat.messages(acc.openid)) == 1
    assert _remaining(session, acc, template) == 0
    assert wechat.quota(acc.openid, template.id)["remaining"] == 0


def test_account_message_goes_to_the_account(session, dispatcher, account, wechat):
    from notifications.outbox import enqueue

    acc = account()
    template = grant(session, wechat, acc, kind="identity_bind_attempt")
    row = enqueue(session, kind="identity_bind_attempt", idempotency_key="bind:1", account_id=acc.id)
    session.commit()
    assert dispatcher().run_once()["sent"] == 1
    [msg] = wechat.messages(acc.openid)
    assert msg["template_id"] == template.id
    items = _items(session, account_id=acc.id)
    assert len(items) == 1 and items[0].outbox_id == row.id and items[0].resident_id is None


def test_a_terminal_row_is_never_claimed_again(session, resident, application, dispatcher, account, wechat):
    r = resident()
    acc = account(resident=r)
    grant(session, wechat, acc)
    row = proposal(session, application(r))
    assert dispatcher().run_once()["sent"] == 1
    assert dispatcher(clock=lambda: utcnow() + timedelta(days=30)).run_once()["claimed"] == 0
    assert outbox_row(session, row.id).state == "sent"
