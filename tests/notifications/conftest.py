"""Notification tests: mock WeChat on a real loopback port (in a thread), builders for residents,
accounts, applications and grants, and a dispatcher without quiet hours."""

from __future__ import annotations

import threading
from datetime import date

import pytest
import requests
from werkzeug.serving import make_server

from tests.builders import make_resident
from tests.waiting import HTTP_TIMEOUT

OPENIDS = iter(f"o_notif_{i:020d}" for i in range(1, 10**6))


class MockWechat:
    def __init__(self, base: str, app):
        self.base, self.app = base, app

    def url(self, path: str) -> str:
        return self.base + path

    def post(self, path: str, **body):
        resp = requests.post(self.url(path), json=body, timeout=HTTP_TIMEOUT)
        assert resp.status_code == 200, resp.text
        return resp.json()

    def user(self, openid: str | None = None) -> str:
        return self.post("/__mock__/login-code", **({"openid": openid} if openid else {}))["openid"]

    def grant(self, openid: str, template_id: str, status: str = "accept"):
        return self.post("/__mock__/subscribe", openid=openid, template_id=template_id, status=status)

    def messages(self, touser: str | None = None) -> list[dict]:
        params = {"touser": touser} if touser else {}
        return requests.get(self.url("/__mock__/messages"), params=params, timeout=HTTP_TIMEOUT).json()

    def quota(self, openid: str, template_id: str) -> dict:
        return requests.get(self.url("/__mock__/quota"), params={"openid": openid, "template_id": template_id},
                            timeout=HTTP_TIMEOUT).json()

    def faults(self, config: dict | None):
        if config is None:
            requests.delete(self.url("/__mock__/faults"), timeout=HTTP_TIMEOUT)
        else:
            self.post("/__mock__/faults", **config)

    def sms(self, phone: str | None = None) -> list[dict]:
        params = {"phone": phone} if phone else {}
        return requests.get(self.url("/__mock__/sms"), params=params, timeout=HTTP_TIMEOUT).json()


@pytest.fixture
def wechat(cfg):
    """The mock on 127.0.0.1:<free port>; cfg points the backend's WeChat and SMS clients at it."""
    from mock_wechat import create_app as create_mock

    mock_app = create_mock({"push_async": False})
    server = make_server("127.0.0.1", 0, mock_app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{server.server_port}"
    cfg.wechat_api_base = base
    cfg.sms_api_base = base
    cfg.http_timeout = HTTP_TIMEOUT  # no spurious timeout on a slow day; faults are injected, not timed
    yield MockWechat(base, mock_app)
    server.shutdown()
    thread.join(timeout=5)
    server.server_close()


@pytest.fixture
def settings():
    from notifications.dispatcher import DispatchSettings

    return DispatchSettings(quiet_hours=None, concurrency=4)


@pytest.fixture
def dispatcher(cfg, wechat, settings):
    """A factory: dispatcher(clock=…, worker_id=…) with a fresh WeChat client per test."""
    from notifications.dispatcher import Dispatcher
    from notifications.wechat_client import WeChatClient

    made = []

    def make(**kwargs):
        kwargs.setdefault("settings", settings)
        kwargs.setdefault("client", WeChatClient(cfg))
        d = Dispatcher(cfg, **kwargs)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


@pytest.fixture
def resident(session, cfg):
    def make(phone=None, birth_date=date(1940, 3, 1), **kw):
        return make_resident(session, cfg, phone=phone, birth_date=birth_date, **kw)[0]

    return make


@pytest.fixture
def account(session, wechat):
    from app.db import utcnow
    from app.models import Account

    def make(resident=None, openid=None):
        openid = wechat.user(openid or next(OPENIDS))
        acc = Account(openid=openid, resident_id=resident.id if resident else None,
                      bound_at=utcnow() if resident else None)
        session.add(acc)
        session.commit()
        return acc

    return make


@pytest.fixture
def application(session):
    from app.models import Application

    def make(resident, program="elderly_allowance", amount="50.00"):
        app_row = Application(program=program, resident_id=resident.id, as_of=date(2026, 11, 27),
                              prefill={"monthly_amount": {"value": amount, "source": "rule"}})
        session.add(app_row)
        session.commit()
        return app_row

    return make
