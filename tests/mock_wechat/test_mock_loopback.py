"""The mock on a real loopback port, called with requests (as the backend's client will)."""

import threading

import pytest
import requests
from flask import Flask, request
from werkzeug.serving import make_server

from mock_wechat import create_app
from tests.mock_wechat.helpers import APPID, LONG_TERM, SECRET, example_data
from tests.waiting import HTTP_TIMEOUT, wait_until


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
    return session.get(f"{base_url}/cgi-bin/token", params=params, timeout=HTTP_TIMEOUT).json()["access_token"]


def test_full_flow_over_http(base_url):
    with requests.Session() as session:
        minted = session.post(f"{base_url}/__mock__/login-code", json={}, timeout=HTTP_TIMEOUT).json()
        params = {"appid": APPID, "secret": SECRET, "js_code": minted["code"], "grant_type": "authorization_code"}
        login = session.get(f"{base_url}/sns/jscode2session", params=params, timeout=HTTP_TIMEOUT).json()
        assert login["openid"] == minted["openid"]
        token = _token(session, base_url)
        body = {"touser": login["openid"], "template_id": LONG_TERM, "data": example_data(LONG_TERM)}
        sent = session.post(f"{base_url}/cgi-bin/message/subscribe/send", params={"access_token": token},
                            json=body, timeout=HTTP_TIMEOUT)
        assert sent.headers["Content-Type"] == "application/json; encoding=utf-8"
        assert sent.json()["errcode"] == 0
        qr = session.post(f"{base_url}/wxa/getwxacodeunlimit", params={"access_token": token},
                          json={"scene": "a=1"}, timeout=HTTP_TIMEOUT)
        assert qr.content.startswith(b"\x89PNG")


def test_drop_closes_the_connection_without_response(base_url):
    with requests.Session() as session:
        session.post(f"{base_url}/__mock__/faults", json={"drop_rate": 1.0}, timeout=HTTP_TIMEOUT)
        with pytest.raises(requests.ConnectionError):
            session.post(f"{base_url}/cgi-bin/message/subscribe/send", json={}, timeout=HTTP_TIMEOUT)
        session.delete(f"{base_url}/__mock__/faults", timeout=HTTP_TIMEOUT)
        assert session.get(f"{base_url}/__mock__/faults", timeout=HTTP_TIMEOUT).json() is None


def test_timeout_fault_outlasts_client_timeout(base_url):
    with requests.Session() as session:
        session.post(f"{base_url}/__mock__/faults", json={"timeout_rate": 1.0, "timeout_sleep_s": 1}, timeout=HTTP_TIMEOUT)
        with pytest.raises(requests.Timeout):
            session.post(f"{base_url}/wxa/getwxacodeunlimit", json={}, timeout=0.2)


def test_events_reach_a_real_webhook(base_url, receiver):
    hook_url, received = receiver
    with requests.Session() as session:
        session.post(f"{base_url}/__mock__/config", json={"webhook_url": hook_url, "push_timeout_s": HTTP_TIMEOUT},
                     timeout=HTTP_TIMEOUT)
        openid = session.post(f"{base_url}/__mock__/login-code", json={}, timeout=HTTP_TIMEOUT).json()["openid"]
        session.post(f"{base_url}/__mock__/subscribe", timeout=HTTP_TIMEOUT,
                     json={"openid": openid, "template_id": LONG_TERM, "status": "accept"})
        wait_until(lambda: len(received), what="the pushed event at the receiver (events received)")
        [push] = received
        assert push["json"]["FromUserName"] == openid
        assert set(push["args"]) == {"signature", "timestamp", "nonce"}

        def entries():
            return [e["status"] for e in session.get(f"{base_url}/__mock__/events", timeout=HTTP_TIMEOUT).json()]

        assert wait_until(entries, lambda seen: seen[0] != "pending",
                          what="the mock's event log (statuses)") == ["delivered 200"]
