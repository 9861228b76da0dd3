"""What WeChat refuses at sign-in and binding, said so that the person knows what to do (probe of 7 Dec 2026):
a user WeChat's risk control blocked (40226) was told to call wx.login again, which cannot help; WeChat's
minute limit on phone confirmations (45011) was a 503 without Retry-After, where sign-in gives 429 and a minute."""

from __future__ import annotations

import requests

from tests.api.conftest import Citizen
from tests.waiting import HTTP_TIMEOUT


def _faults(wechat: str, errcode: int, path: str) -> None:
    requests.post(f"{wechat}/__mock__/faults", json={"errors": {str(errcode): 1.0}, "only_paths": [path]},
                  timeout=HTTP_TIMEOUT)


def test_a_blocked_wechat_user_is_told_a_new_login_will_not_help(client, wechat):
    login = requests.post(f"{wechat}/__mock__/login-code", json={}, timeout=HTTP_TIMEOUT).json()
    _faults(wechat, 40226, "/sns/jscode2session")
    resp = client.post("/api/v1/auth/wechat-login", json={"code": login["code"]})
    assert resp.status_code == 401 and resp.json["error_code"] == "wechat_user_blocked", resp.json
    assert "wx.login again" not in resp.json["message"]


def test_wechats_minute_limit_on_phone_confirmations_is_a_429_with_retry_after(client, wechat, session, cfg):
    from datetime import date

    from tests.builders import make_resident

    _, id_number = make_resident(session, cfg, name="李秀英", birth_date=date(1946, 11, 20), phone="13800138000")
    session.commit()
    citizen = Citizen(client, wechat)
    code = citizen.phone_code("13800138000")
    _faults(wechat, 45011, "/wxa/business/getuserphonenumber")
    resp = client.post("/api/v1/me/identity", headers=citizen.headers,
                       json={"name": "李秀英", "id_number": id_number, "phone_code": code})
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "60", (resp.status_code, resp.json)
