"""The mock on a real loopback port, called with requests (as the backend's client will)."""

import threading
import time

import pytest
import requests
from flask import Flask, request
from werkzeug.serving import make_server

from mock_wechat import create_app
from tests.mock_wechat.helpers import APPID, LONG_TERM, SECRET, example_data


def _serve(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_port}"


@pytest.fixture
def base_url():
    server, url = _serve(create_app())
    yield url
    server.shutdown()
    server.server_close()


@pytest.fixture
def receiver():
    received = []
    hook = Flask("receiver")

    @hook.post("/push")
    def push():
        received.append({"args": dict(request.args), "json": request.get_json(force=True)})
        return "success"

    server, url = _serve(hook)
    yield f"{url}/push", received
    server.shutdown()
    server.server_close()


def _token(session, base_url):
    params = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
    return session.get(f"{base_url}/cgi-bin/token", params=params, timeout=5).json()["access_token"]


def test_full_flow_over_http(base_url):
    with requests.Session() as session:
        minted = session.post(f"{base_url}/__mock__/login-code", json={}, timeout=5).json()
        params = {"appid": APPID, "secret": SECRET, "js_code": minted["code"], "grant_type": "authorization_code"}
        login = session.get(f"{base_url}/sns/jscode2session", params=params, timeout=5).json()
        assert login["openid"] == minted["openid"]
        token = _token(session, base_url)
        body = {"touser": login["openid"], "template_id": LONG_TERM, "data": example_data(LONG_TERM)}
        sent = session.post(f"{base_url}/cgi-bin/message/subscribe/send", params={"access_token": token},
                            json=body, timeout=5)
        assert sent.headers["Content-Type"] == "application/json; encoding=utf-8"
        assert sent.json()["errcode"] == 0
        qr = session.post(f"{base_url}/wxa/getwxacodeunlimit", params={"access_token": token},
                          json={"scene": "a=1"}, timeout=5)
        assert qr.content.startswith(b"\x89PNG")


def test_drop_closes_the_connection_without_response(base_url):
    with requests.Session() as session:
        session.post(f"{base_url}/__mock__/faults", json={"drop_rate": 1.0}, timeout=5)
        with pytest.raises(requests.ConnectionError):
            session.post(f"{base_url}/cgi-bin/message/subscribe/send", json={}, timeout=5)
        session.delete(f"{base_url}/__mock__/faults", timeout=5)
        assert session.get(f"{base_url}/__mock__/faults", timeout=5).json() is None


def test_timeout_fault_outlasts_client_timeout(base_url):
    with requests.Session() as session:
        session.post(f"{base_url}/__mock__/faults", json={"timeout_rate": 1.0, "timeout_sleep_s": 1}, timeout=5)
        with pytest.raises(requests.Timeout):
            session.post(f"{base_url}/wxa/getwxacodeunlimit", json={}, timeout=0.2)


def test_events_reach_a_real_webhook(base_url, receiver):
    hook_url, received = receiver
    with requests.Session() as session:
        session.post(f"{base_url}/__mock__/config", json={"webhook_url": hook_url}, timeout=5)
        openid = session.post(f"{base_url}/__mock__/login-code", json={}, timeout=5).json()["openid"]
        session.post(f"{base_url}/__mock__/subscribe", timeout=5,
                     json={"openid": openid, "template_id": LONG_TERM, "status": "accept"})
        deadline = time.monotonic() + 5
        while not received and time.monotonic() < deadline:
            time.sleep(0.02)
        [push] = received
        assert push["json"]["FromUserName"] == openid
        assert set(push["args"]) == {"signature", "timestamp", "nonce"}
        while time.monotonic() < deadline:
            [entry] = session.get(f"{base_url}/__mock__/events", timeout=5).json()
            if entry["status"] != "pending":
                break
            time.sleep(0.02)
        assert entry["status"] == "delivered 200"
