"""Fallback WeChat → SMS → inbox, proxies, community worker tasks, quiet hours."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select

from app.db import utcnow
from app.models import InboxItem, NotificationPref, OutboxMessage, StaffTask
from notifications import recipients
from notifications.outbox import enqueue
from tests.notifications.helpers import grant, outbox_row, proposal

PHONE = "13912345678"


def test_no_grant_falls_back_to_sms_to_the_phone_on_file(session, resident, application, account, dispatcher,
                                                         wechat):
    r = resident(phone=PHONE)
    account(resident=r)
    row = proposal(session, application(r))
    counts = dispatcher().run_once()
    assert counts["sent"] == 1, counts
    got = outbox_row(session, row.id)
    assert (got.state, got.channel) == ("sent", "sms") and got.provider_msgid
    [sms] = wechat.sms(PHONE)
    assert sms["template"] == "ZT_SMS_PROPOSAL_READY" and "高龄津贴" in sms["params"]["text"]


def test_43101_falls_back_to_sms_in_the_same_pass(session, resident, application, account, dispatcher, wechat):
    from notifications import subscriptions
    from notifications.templates import template_for

    r = resident(phone=PHONE)
    acc = account(resident=r)
    subscriptions.record_popup(session, acc.id, template_for("proposal_ready"), "accept")  # WeChat disagrees
    session.commit()
    row = proposal(session, application(r))
    counts = dispatcher().run_once()
    assert counts["fallback"] == 1 and counts["sent"] == 1
    got = outbox_row(session, row.id)
    assert (got.state, got.channel, got.attempts) == ("sent", "sms", 1)  # attempts count per channel
    assert len(wechat.sms(PHONE)) == 1 and wechat.messages(acc.openid) == []


def test_resident_without_account_but_with_phone_gets_sms(session, resident, application, dispatcher, wechat):
    r = resident(phone=PHONE)
    row = proposal(session, application(r))
    assert dispatcher().run_once()["sent"] == 1
    assert outbox_row(session, row.id).channel == "sms"
    assert len(session.execute(select(InboxItem).where(InboxItem.resident_id == r.id)).all()) == 1


def test_no_account_no_phone_no_proxy_makes_one_community_task(session, resident, application, dispatcher):
    r = resident()
    row = proposal(session, application(r))
    assert dispatcher().run_once()["no_channel"] == 1
    tasks = list(session.execute(select(StaffTask)).scalars())
    assert [(t.kind, t.resident_id, t.dedupe_key) for t in tasks] == [("notify_resident", r.id, f"notify:{row.id}")]


def test_sms_transient_failure_is_retried_on_sms(session, resident, application, dispatcher, wechat):
    r = resident(phone=PHONE)
    row = proposal(session, application(r))
    wechat.faults({"errors": {"-1": 1.0}})
    assert dispatcher().run_once()["retry"] == 1
    got = outbox_row(session, row.id)
    assert (got.state, got.channel) == ("pending", "sms")
    wechat.faults(None)
    assert dispatcher(clock=lambda: utcnow() + timedelta(hours=1)).run_once()["sent"] == 1
    assert len(wechat.sms(PHONE)) == 1


def test_proxies_with_receive_messages_get_a_copy_also_or_instead(session, resident, application, account,
                                                                  dispatcher, wechat, monkeypatch):
    r = resident()
    proxy = account()
    grant(session, wechat, proxy)
    monkeypatch.setattr(recipients, "proxy_accounts", lambda _s, rid: [proxy.id] if rid == r.id else [])
    row = proposal(session, application(r))
    counts = dispatcher().run_once()
    assert counts["no_channel"] == 1 and counts["sent"] == 1, counts
    child = session.execute(select(OutboxMessage).where(OutboxMessage.account_id == proxy.id)).scalar_one()
    assert child.state == "sent" and child.data["for_resident"] == r.id
    assert len(wechat.messages(proxy.openid)) == 1
    assert session.execute(select(StaffTask)).first() is None  # a proxy reaches her: no task
    proxy_item = session.execute(select(InboxItem).where(InboxItem.account_id == proxy.id)).scalar_one()
    assert proxy_item.body.startswith("您作为亲情代办人代收")

    r2 = resident(phone=PHONE)
    session.add(NotificationPref(resident_id=r2.id, proxy_mode="instead"))
    session.commit()
    monkeypatch.setattr(recipients, "proxy_accounts", lambda _s, rid: [proxy.id])
    row2 = proposal(session, application(r2))
    counts = dispatcher().run_once()
    assert counts["delegated"] == 1
    assert outbox_row(session, row2.id).state == "delegated"
    assert wechat.sms(PHONE) == []
    assert outbox_row(session, row.id).state == "no_channel"


def _next_utc_hour(hour: int) -> datetime:
    now = utcnow()
    at = now.replace(hour=hour, minute=30, second=0, microsecond=0)
    return at if at > now else at + timedelta(days=1)


def test_quiet_hours_defer_non_urgent_messages_to_the_elderly(session, cfg, wechat, resident, application,
                                                              account, dispatcher):
    from notifications.dispatcher import DispatchSettings

    night = _next_utc_hour(15)  # 23:30 in Shanghai
    quiet = DispatchSettings(quiet_hours=(22, 8))
    old = resident(phone=PHONE)
    row = proposal(session, application(old))
    young = resident(phone="13700000000", birth_date=date(1995, 1, 1))
    young_row = enqueue(session, kind="reminder", idempotency_key="young", resident_id=young.id,
                        data={"deadline": "2026-12-20", "program": "dibao"})
    acc = account()
    grant(session, wechat, acc, kind="identity_bind_attempt")
    urgent = enqueue(session, kind="identity_bind_attempt", idempotency_key="urgent", account_id=acc.id)
    session.commit()
    counts = dispatcher(settings=quiet, clock=lambda: night).run_once()
    assert counts["deferred"] == 1 and counts["sent"] == 2, counts
    deferred = outbox_row(session, row.id)
    assert deferred.state == "pending" and deferred.attempts == 0
    assert deferred.next_attempt_at == night.replace(minute=0) + timedelta(hours=9)  # 08:00 Shanghai
    assert outbox_row(session, young_row.id).state == "sent"
    assert outbox_row(session, urgent.id).state == "sent"
    morning = dispatcher(settings=quiet, clock=lambda: night + timedelta(hours=9))
    assert morning.run_once()["sent"] == 1
