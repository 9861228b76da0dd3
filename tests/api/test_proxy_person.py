"""Issue 9 item 2: a grant belongs to the proxy person. Unbinding suspends her grants as a proxy at once (for
authorization and for message routing alike); binding the same person again, on any account, restores them
and tells the principal; grants where she is the principal are unaffected; the feed names who acted as then
bound; binding and unbinding are audited."""

from __future__ import annotations

import logging
from datetime import date, timedelta

from sqlalchemy import select

from app import audit
from app.models import Account, AuditEvent, Benefit, OutboxMessage
from tests.authz import helpers as h
from tests.builders import make_resident

SCOPES = ("view", "confirm", "receive_messages", "payout")


def _account(session, citizen_) -> Account:
    session.expire_all()
    return session.execute(select(Account).where(Account.openid == citizen_.openid)).scalar_one()


def _world(session, cfg, citizen):
    mother, mother_acc, _ = h.person(session, cfg, "刘桂兰", birth=date(1940, 1, 1), household="H-M")
    daughter, daughter_id = make_resident(session, cfg, name="张丽", birth_date=date(1970, 1, 1), phone="13911112222",
                                          household_id="H-D")
    son, son_acc, _ = h.person(session, cfg, "张强", birth=date(1972, 1, 1), household="H-S")
    d = citizen()
    assert d.bind("张丽", daughter_id, "13911112222").status_code == 200
    grant = h.grant(session, mother, _account(session, d), daughter, scopes=SCOPES)
    own_grant = h.grant(session, daughter, son_acc, son, scopes=("view",))  # she is the principal here
    app_row = h.application(session, mother)
    her_app = h.application(session, daughter)
    benefit = Benefit(program="elderly_allowance", resident_id=mother.id, application_id=app_row.id, tier="80",
                      monthly_amount_fen=5000, start_month="2026-12", state="active")
    session.add(benefit)
    session.commit()
    return {"mother": mother, "mh": h.headers_for(session, cfg, mother_acc), "daughter": daughter,
            "daughter_id": daughter_id, "d": d, "grant": grant, "own_grant": own_grant, "app": app_row,
            "her_app": her_app, "sh": h.headers_for(session, cfg, son_acc), "benefit": benefit}


def test_unbinding_suspends_her_grants_as_a_proxy_at_once_and_her_own_grants_stay(client, session, cfg, citizen,
                                                                                   caplog):
    w = _world(session, cfg, citizen)
    d, app_id, grant = w["d"], w["app"].id, w["grant"]
    assert d.get(f"/api/v1/applications/{app_id}").status_code == 200
    assert client.get("/api/v1/me/notification-preferences", headers=w["mh"]).json["proxies_receiving"] == 1

    unbound = client.delete("/api/v1/me/identity", headers=d.headers)
    assert unbound.status_code == 200 and unbound.json["account"]["bound"] is False

    caplog.set_level(logging.WARNING, logger="zerotrip.security")
    caplog.clear()
    assert d.get(f"/api/v1/applications/{app_id}").status_code == 403
    assert d.get(f"/api/v1/applications?subject={grant.id}").status_code == 403
    assert d.get(f"/api/v1/benefits/{w['benefit'].id}/payout-account").status_code == 403
    changed = client.put(f"/api/v1/benefits/{w['benefit'].id}/payout-account", headers=d.headers,
                         json={"kind": "bank_account", "bank_name": "中国工商银行",
                               "account_number": "6222020200112233446", "holder_name": "刘桂兰"})
    assert changed.status_code == 403
    assert d.post(f"/api/v1/applications/{app_id}/confirm").status_code == 403
    lines = [r.getMessage() for r in caplog.records if "rule=proxy_grant_suspended" in r.getMessage()]
    assert len(lines) == 5 and all(f"actor=account:{d.tokens and _account(session, d).id}" in x for x in lines)
    # Message routing obeys the same rule: no proxy receives the mother's messages any more.
    assert client.get("/api/v1/me/notification-preferences", headers=w["mh"]).json["proxies_receiving"] == 0

    # Grants where she is the principal are unaffected: her son still reads her application.
    assert client.get(f"/api/v1/applications/{w['her_app'].id}", headers=w["sh"]).status_code == 200

    unbind = session.execute(select(AuditEvent).where(AuditEvent.action == "identity.unbind")).scalar_one()
    assert unbind.object_ref == f"resident:{w['daughter'].id}" and unbind.details["grants_suspended_as_proxy"] == 1


def test_binding_the_same_person_again_on_another_account_restores_and_tells_the_principal(client, session, cfg,
                                                                                           citizen):
    w = _world(session, cfg, citizen)
    d, app_id = w["d"], w["app"].id
    assert d.get(f"/api/v1/applications/{app_id}").status_code == 200  # viewed while bound: "张*"
    session.delete(session.get(Benefit, w["benefit"].id))  # (the confirmation starts this benefit)
    session.commit()
    assert d.post(f"/api/v1/applications/{app_id}/confirm").status_code == 200
    assert client.delete("/api/v1/me/identity", headers=d.headers).status_code == 200
    assert d.get(f"/api/v1/applications/{app_id}").status_code == 403
    # Who confirmed is the proxy as bound then, though she has unbound since.
    assert client.get(f"/api/v1/applications/{app_id}", headers=w["mh"]).json["confirmed_by_proxy"] == "张*"

    phone = citizen()  # a new phone, a new WeChat account: the same person binds again
    assert phone.bind("张丽", w["daughter_id"], "13911112222").status_code == 200
    assert phone.get(f"/api/v1/applications/{app_id}").status_code == 200
    assert phone.get(f"/api/v1/applications?subject={w['grant'].id}").status_code == 200
    assert d.get(f"/api/v1/applications/{app_id}").status_code == 404  # the old account is nobody now
    assert client.get("/api/v1/me/notification-preferences", headers=w["mh"]).json["proxies_receiving"] == 1
    told = session.execute(select(OutboxMessage).where(OutboxMessage.kind == "proxy_restored")).scalars().all()
    assert [(m.resident_id, m.data["grant_id"], m.data["proxy_name"]) for m in told] == [
        (w["mother"].id, w["grant"].id, "张*")]

    # Binding and unbinding are audited, and her own feed shows them.
    actions = [e["action"] for e in phone.get("/api/v1/me/activity").json]
    assert actions[:3] == ["identity.bind", "identity.unbind", "identity.bind"]
    # The mother's feed names the proxy (masked, as then bound) for both views.
    feed = client.get("/api/v1/me/activity", headers=w["mh"]).json
    views = [e for e in feed if e["action"] in ("application.view", "application.confirm")]
    assert len(views) == 3 and {e["actor_name"] for e in views} == {"张*"}


def test_earlier_events_name_the_proxy_from_the_binding_history_or_as_unbound(client, session, cfg, citizen):
    w = _world(session, cfg, citizen)
    d, mother = w["d"], w["mother"]
    d_account = _account(session, d)
    # Two events written before names were stored with them (as the old code did): no actor_name.
    for _ in range(2):
        audit.record(session, actor=f"account:{d_account.id}", action="application.view",
                     on_behalf_of=f"resident:{mother.id}", object_ref=f"application:{w['app'].id}")
    ghost, ghost_acc, _ = h.person(session, cfg, "王芳")
    audit.record(session, actor=f"account:{ghost_acc.id}", action="application.view",
                 on_behalf_of=f"resident:{mother.id}", object_ref=f"application:{w['app'].id}")
    session.commit()
    ghost_acc = session.get(Account, ghost_acc.id)
    ghost_acc.resident_id = None  # unbound, with no binding history
    session.commit()
    assert client.delete("/api/v1/me/identity", headers=d.headers).status_code == 200

    feed = client.get("/api/v1/proxies/activity", headers=w["mh"]).json
    assert [e["actor_name"] for e in feed] == ["已解除绑定的代办人", "张*", "张*"]
    assert all(e["actor_kind"] == "proxy" for e in feed)


def test_a_grant_past_its_expiry_is_not_restored(client, session, cfg, citizen):
    w = _world(session, cfg, citizen)
    assert client.delete("/api/v1/me/identity", headers=w["d"].headers).status_code == 200
    grant = session.get(type(w["grant"]), w["grant"].id)
    grant.expires_at = grant.created_at + timedelta(hours=1)
    session.commit()
    again = citizen()
    assert again.bind("张丽", w["daughter_id"], "13911112222").status_code == 200
    assert again.get(f"/api/v1/applications/{w['app'].id}").status_code == 403
    assert not session.execute(select(OutboxMessage).where(OutboxMessage.kind == "proxy_restored")).first()
