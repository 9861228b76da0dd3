"""API tests: the app in-process, mock WeChat on a real loopback port in a thread."""

from __future__ import annotations

import threading

import pytest
import requests
from werkzeug.serving import make_server

from tests.waiting import HTTP_TIMEOUT


@pytest.fixture(scope="session")
def wechat_server():
    """Mock WeChat on a real loopback port, shared by the session; reset before each test that uses it."""
    from mock_wechat import create_app as create_mock

    server = make_server("127.0.0.1", 0, create_mock(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture
def wechat(cfg, wechat_server):
    requests.post(f"{wechat_server}/__mock__/reset", timeout=HTTP_TIMEOUT)
    cfg.wechat_api_base = wechat_server
    return wechat_server


class Citizen:
    def __init__(self, client, wechat_base: str):
        self.client, self.wechat = client, wechat_base
        login = requests.post(f"{wechat_base}/__mock__/login-code", json={}, timeout=HTTP_TIMEOUT).json()
        self.openid = login["openid"]
        resp = client.post("/api/v1/auth/wechat-login", json={"code": login["code"]})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        self.tokens = resp.json
        self.headers = {"Authorization": f"Bearer {self.tokens['access_token']}"}

    def phone_code(self, phone: str) -> str:
        return requests.post(f"{self.wechat}/__mock__/phone-code", json={"openid": self.openid, "phone": phone},
                             timeout=HTTP_TIMEOUT).json()["code"]

    def bind(self, name: str, id_number: str, phone: str):
        return self.client.post("/api/v1/me/identity", headers=self.headers,
                                json={"name": name, "id_number": id_number, "phone_code": self.phone_code(phone)})

    def get(self, path, **kw):
        return self.client.get(path, headers=self.headers, **kw)

    def post(self, path, **kw):
        return self.client.post(path, headers=self.headers, **kw)


@pytest.fixture
def citizen(client, wechat):
    return lambda: Citizen(client, wechat)
