"""The signed webhook for WeChat's subscribe-message events, driven directly and by the mock."""

from __future__ import annotations

import threading
import time
import uuid

import pytest
import requests
from sqlalchemy import select
from werkzeug.serving import make_server

from app.api.wechat_events import signature
from app.models import OutboxMessage, Subscription
from notifications.templates import template_for
from tests.waiting import HTTP_TIMEOUT

URL = "/api/v1/wechat/events"


def _query(cfg, ts=None, nonce=None, bad=False):
    """A push's signed query; each push its own nonce, as WeChat sends them (the same one twice is a replay)."""
    ts = str(int(time.time()) if ts is None else ts)
    nonce = nonce or uuid.uuid4().hex[:10]
    sig = signature(cfg.wechat_push_token, ts, nonce)
    return {"signature": ("0" * 40) if bad else sig, "timestamp": ts, "nonce": nonce}


def _event(openid, event, items, as_list=None):
    body = {"ToUserName": "gh_x", "FromUserName": openid, "CreateTime": int(time.time()), "MsgType": "event",
            "Event": event}
    body["List"] = items if as_list or len(items) != 1 else items[0]
    return body


def _remaining(session, acc, template):
    session.expire_all()
    row = session.execute(select(Subscription).where(Subscription.account_id == acc.id,
                                                     Subscription.template_id == template.id)).scalar_one()
    return row.status, row.remaining


def test_echostr_verification_and_bad_signature(client, cfg):
    ok = client.get(URL, query_string={**_query(cfg), "echostr": "hello123"})
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "hello123"
    bad = client.get(URL, query_string={**_query(cfg, bad=True), "echostr": "x"})
    assert bad.status_code == 401 and bad.json["code"] == 401
    stale = client.get(URL, query_string={**_query(cfg, ts=int(time.time()) - 3600), "echostr": "x"})
    assert stale.status_code == 401
    assert client.post(URL, json={}).status_code == 401


def test_popup_change_and_sent_events(client, cfg, session, account):
    acc = account()
    one, other = template_for("proposal_ready"), template_for("approved")
    items = [{"TemplateId": one.id, "SubscribeStatusString": "accept", "PopupScene": "0"},
             {"TemplateId": other.id, "SubscribeStatusString": "accept", "PopupScene": "0"},
             {"TemplateId": "UNKNOWN", "SubscribeStatusString": "accept", "PopupScene": "0"}]
    resp = client.post(URL, query_string=_query(cfg), json=_event(acc.openid, "subscribe_msg_popup_event", items))
    assert resp.status_code == 200 and resp.get_data(as_text=True) == "success"
    single = _event(acc.openid, "subscribe_msg_popup_event",
                    [{"TemplateId": one.id, "SubscribeStatusString": "accept"}])
    assert isinstance(single["List"], dict)
    client.post(URL, query_string=_query(cfg), json=single)
    assert _remaining(session, acc, one) == ("accept", 2)
    assert _remaining(session, acc, other) == ("accept", 1)
    change = _event(acc.openid, "subscribe_msg_change_event", [{"TemplateId": one.id, "SubscribeStatusString": "reject"}])
    client.post(URL, query_string=_query(cfg), data=__import__("json").dumps(change),
                headers={"Content-Type": "text/plain"})
    assert _remaining(session, acc, one) == ("reject", 0)

    row = OutboxMessage(idempotency_key="k", kind="approved", account_id=acc.id, state="sent", provider_msgid="777")
    session.add(row)
    session.commit()
    sent = _event(acc.openid, "subscribe_msg_sent_event",
                  [{"TemplateId": other.id, "MsgID": "777", "ErrorCode": "10002", "ErrorStatus": "fail"}])
    client.post(URL, query_string=_query(cfg), json=sent)
    session.expire_all()
    assert "10002" in session.get(OutboxMessage, row.id).last_error


def test_a_push_sent_again_is_answered_but_applied_once(client, cfg, session, account):
    """A captured push sent again (or WeChat's own retry) added a grant each time: three sends, three grants."""
    acc = account()
    one = template_for("proposal_ready")
    query = _query(cfg)
    body = _event(acc.openid, "subscribe_msg_popup_event", [{"TemplateId": one.id, "SubscribeStatusString": "accept"}])
    for _ in range(3):
        resp = client.post(URL, query_string=query, json=body)
        assert resp.status_code == 200 and resp.get_data(as_text=True) == "success"
    assert _remaining(session, acc, one) == ("accept", 1)
    client.post(URL, query_string=_query(cfg), json=body)  # a new push (its own nonce) of another pop-up
    assert _remaining(session, acc, one) == ("accept", 2)


@pytest.fixture
def backend_url(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


def test_the_mock_pushes_popup_events_to_the_backend(wechat, backend_url, session, account):
    acc = account()
    template = template_for("proposal_ready")
    wechat.post("/__mock__/config", webhook_url=backend_url + URL, push_async=False, push_timeout_s=HTTP_TIMEOUT)
    pushed = wechat.grant(acc.openid, template.id, "accept")
    assert pushed["push"]["status"].startswith("delivered 200"), pushed["push"]
    assert _remaining(session, acc, template) == ("accept", 1)
    wechat.grant(acc.openid, template.id, "ban")
    assert _remaining(session, acc, template) == ("reject", 0)
    requests.post(wechat.url("/__mock__/config"), json={"webhook_url": None}, timeout=HTTP_TIMEOUT)
