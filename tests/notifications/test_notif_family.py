"""Death messages go to the family (proxies who receive messages, else household members with an account),
never to the deceased's own WeChat or phone; move-out suspensions go to the resident and her proxies."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from app.db import utcnow
from app.models import InboxItem, OutboxMessage, ProxyGrant, StaffTask
from notifications.outbox import enqueue
from tests.notifications.helpers import grant, outbox_row

DEAD_PHONE, MOVED_PHONE = "13911110000", "13922220000"


def _grant(session, principal, proxy_acc, proxy_resident, scopes=("view", "receive_messages")):
    session.add(ProxyGrant(resident_id=principal.id, proxy_account_id=proxy_acc.id,
                           proxy_resident_id=proxy_resident.id, status="active", scopes=list(scopes), programs=[],
                           relation="family", basis="invitation", evidence={}, created_by="x",
                           activated_at=utcnow(), expires_at=utcnow() + timedelta(days=30)))
    session.commit()


def _stopped(session, r, reason, key, **extra):
    row = enqueue(session, kind="benefit_stopped", idempotency_key=key, resident_id=r.id,
                  data={"program": "elderly_allowance", "reason": reason, "last_month": "2026-11", **extra})
    session.commit()
    return row


def _deceased(resident, household):
    return resident(name="张秀英", household_id=household, phone=DEAD_PHONE, birth_date=date(1930, 2, 2),
                    death_date=date(2026, 11, 20))


def test_death_goes_to_proxies_never_to_the_deceased(session, resident, account, dispatcher, wechat):
    dead = _deceased(resident, "HF-1")
    own = account(resident=dead)
    grant(session, wechat, own, "benefit_stopped")  # her own grant must not be used
    son_r = resident(name="张建国", household_id="HF-2", birth_date=date(1960, 1, 1))
    son = account(resident=son_r)
    grant(session, wechat, son, "benefit_stopped")
    _grant(session, dead, son, son_r)
    niece_r = resident(name="李梅", household_id="HF-1", birth_date=date(1990, 1, 1))  # household, not needed
    niece = account(resident=niece_r)
    row = _stopped(session, dead, "death", "benefit:d1:stopped")
    counts = dispatcher().run_once()
    assert counts["delegated"] == 1 and counts["sent"] == 1, counts
    assert (outbox_row(session, row.id).state, outbox_row(session, row.id).channel) == ("delegated", "family")
    assert wechat.messages(own.openid) == [] and wechat.sms(DEAD_PHONE) == []
    [msg] = wechat.messages(son.openid)
    assert msg["data"]["thing1"]["value"] == "张*英的高龄津贴" and "哀悼" in msg["data"]["thing2"]["value"]
    item = session.execute(select(InboxItem).where(InboxItem.account_id == son.id)).scalar_one()
    assert "您的家人张*英的高龄津贴自2026年12月起停发" in item.body and "深表哀悼" in item.body
    assert "代办人代收" not in item.body
    assert session.execute(select(InboxItem).where(InboxItem.account_id == niece.id)).first() is None


def test_death_without_proxies_goes_to_household_members_with_an_account(session, resident, account, dispatcher,
                                                                         wechat):
    dead = _deceased(resident, "HF-3")
    own = account(resident=dead)
    daughter_r = resident(name="王丽", household_id="HF-3", birth_date=date(1965, 1, 1), phone="13933330000")
    daughter = account(resident=daughter_r)
    resident(name="王强", household_id="HF-3", birth_date=date(1968, 1, 1))  # no account: not reachable
    stranger = account(resident=resident(name="赵六", household_id="HF-4", birth_date=date(1970, 1, 1)))
    row = _stopped(session, dead, "death", "benefit:d2:stopped")
    counts = dispatcher().run_once()
    assert counts["delegated"] == 1 and counts["sent"] == 1, counts  # by SMS: the daughter has no grant
    child = session.execute(select(OutboxMessage).where(OutboxMessage.account_id == daughter.id)).scalar_one()
    assert child.idempotency_key == f"{row.idempotency_key}>family:{daughter.id}"
    assert child.data["relation"] == "family" and child.state == "sent" and child.channel == "sms"
    [sms] = wechat.sms("13933330000")
    assert "您的家人张*英" in sms["params"]["text"] and "深表哀悼" in sms["params"]["text"]
    assert wechat.messages(own.openid) == [] and wechat.sms(DEAD_PHONE) == []
    assert session.execute(select(OutboxMessage).where(OutboxMessage.account_id == stranger.id)).first() is None


def test_death_with_nobody_to_tell_makes_a_community_task(session, resident, account, dispatcher, wechat):
    dead = _deceased(resident, "HF-5")
    own = account(resident=dead)
    row = _stopped(session, dead, "death", "benefit:d3:stopped")
    assert dispatcher().run_once()["no_channel"] == 1
    assert wechat.messages(own.openid) == []
    task = session.execute(select(StaffTask).where(StaffTask.resident_id == dead.id)).scalar_one()
    assert task.kind == "notify_resident" and task.details["message_kind"] == "benefit_stopped"
    assert outbox_row(session, row.id).state == "no_channel"


def test_any_message_about_a_deceased_resident_avoids_her_account(session, resident, account, dispatcher, wechat,
                                                                  application):
    dead = _deceased(resident, "HF-6")
    own = account(resident=dead)
    grant(session, wechat, own, "rejected")
    wife = account(resident=resident(name="刘芳", household_id="HF-6", birth_date=date(1935, 1, 1)))
    app_row = application(dead)
    enqueue(session, kind="rejected", idempotency_key="application:x:rejected", resident_id=dead.id,
            application_id=app_row.id, data={"program": "elderly_allowance", "reason": "人口库登记已去世"})
    session.commit()
    assert dispatcher().run_once()["delegated"] == 1
    assert wechat.messages(own.openid) == []
    item = session.execute(select(InboxItem).where(InboxItem.account_id == wife.id)).scalar_one()
    assert item.body.startswith("关于您的家人张*英的消息")


def test_move_out_suspension_goes_to_the_resident_and_her_proxies(session, resident, account, dispatcher, wechat):
    moved = resident(name="陈桂兰", household_id="HF-7", phone=MOVED_PHONE, birth_date=date(1940, 1, 1),
                     hukou_local=False)
    own = account(resident=moved)
    grant(session, wechat, own, "benefit_stopped")
    proxy_r = resident(name="陈伟", household_id="HF-8", birth_date=date(1970, 1, 1))
    proxy = account(resident=proxy_r)
    grant(session, wechat, proxy, "benefit_stopped")
    _grant(session, moved, proxy, proxy_r)
    row = _stopped(session, moved, "moved_out", "benefit:m1:suspended:2026-12", effective_month="2026-12")
    counts = dispatcher().run_once()
    assert counts["sent"] == 2, counts
    assert (outbox_row(session, row.id).state, outbox_row(session, row.id).channel) == ("sent", "wechat")
    [mine] = wechat.messages(own.openid)
    assert mine["data"]["thing2"]["value"].startswith("户籍迁出本市") and mine["data"]["date3"]["value"] == "2026年12月"
    assert len(wechat.messages(proxy.openid)) == 1
    own_item = session.execute(select(InboxItem).where(InboxItem.resident_id == moved.id)).scalar_one()
    assert "自2026年12月起暂停发放" in own_item.body
    proxy_item = session.execute(select(InboxItem).where(InboxItem.account_id == proxy.id)).scalar_one()
    assert proxy_item.body.startswith("您作为亲情代办人代收的消息（陈*兰）")
