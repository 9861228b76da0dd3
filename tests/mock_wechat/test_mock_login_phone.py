import base64

from tests.mock_wechat.helpers import APPID, SECRET


def _session(wx, code: str, appid: str = APPID, secret: str = SECRET):
    url = f"/sns/jscode2session?appid={appid}&secret={secret}&js_code={code}&grant_type=authorization_code"
    return wx.client.get(url).get_json()


def test_code2session_returns_openid_session_key_unionid(wx):
    minted = wx.login_code()
    body = _session(wx, minted["code"])
    assert set(body) == {"openid", "session_key", "unionid"}
    assert body["openid"] == minted["openid"] and len(body["openid"]) == 28
    assert len(body["session_key"]) == 24 and len(base64.b64decode(body["session_key"])) == 16


def test_code_is_single_use(wx):
    code = wx.login_code()["code"]
    _session(wx, code)
    assert _session(wx, code)["errcode"] == 40163


def test_unknown_and_expired_codes_are_40029(wx, clock):
    assert _session(wx, "nosuchcode")["errcode"] == 40029
    code = wx.login_code()["code"]
    clock.advance(301)
    assert _session(wx, code)["errcode"] == 40029


def test_wrong_credentials_are_refused(wx):
    code = wx.login_code()["code"]
    assert _session(wx, code, secret="wrong")["errcode"] == 40125
    assert _session(wx, code, appid="wxother")["errcode"] == 40013
    assert "openid" in _session(wx, code)


def test_given_openid_is_kept_and_extra_params_ignored(wx):
    code = wx.login_code("oFixedOpenid000000000000000A")["code"]
    url = (f"/sns/jscode2session?appid={APPID}&secret={SECRET}&js_code={code}"
           "&grant_type=authorization_code&access_token=whatever")
    assert wx.client.get(url).get_json()["openid"] == "oFixedOpenid000000000000000A"


def test_missing_code_and_bad_grant_type(wx):
    assert _session(wx, "")["errcode"] == 41008
    url = f"/sns/jscode2session?appid={APPID}&secret={SECRET}&js_code=x&grant_type=client_credential"
    assert wx.client.get(url).get_json()["errcode"] == 40002


def _phone(wx, token: str, body: dict):
    return wx.client.post(f"/wxa/business/getuserphonenumber?access_token={token}", json=body).get_json()


def _phone_code(wx, **body) -> str:
    return wx.client.post("/__mock__/phone-code", json=body).get_json()["code"]


def test_phone_code_flow(wx, clock):
    token, openid = wx.token(), wx.user()
    code = _phone_code(wx, openid=openid, phone="13800138000")
    body = _phone(wx, token, {"code": code, "openid": openid})
    assert body["errcode"] == 0 and body["errmsg"] == "ok"
    info = body["phone_info"]
    assert info["phoneNumber"] == info["purePhoneNumber"] == "13800138000"
    assert info["countryCode"] == "86"
    assert info["watermark"] == {"timestamp": int(clock.now), "appid": APPID}


def test_phone_code_single_use_expiry_and_openid_binding(wx, clock):
    token, openid = wx.token(), wx.user()
    code = _phone_code(wx, openid=openid, phone="13800138000")
    assert _phone(wx, token, {"code": code, "openid": "oSomeoneElse"})["errcode"] == 40029
    assert _phone(wx, token, {"code": code})["errcode"] == 0
    assert _phone(wx, token, {"code": code})["errcode"] == 40029
    late = _phone_code(wx, phone="13900139000")
    clock.advance(301)
    assert _phone(wx, token, {"code": late})["errcode"] == 40029


def test_login_code_is_not_a_phone_code(wx):
    assert _phone(wx, wx.token(), {"code": wx.login_code()["code"]})["errcode"] == 40029


def test_phone_api_checks_token_and_body(wx):
    assert _phone(wx, "bad", {"code": "x"})["errcode"] == 40001
    token = wx.token()
    assert _phone(wx, token, {})["errcode"] == 47001
    response = wx.client.post(f"/wxa/business/getuserphonenumber?access_token={token}", data="")
    assert response.get_json()["errcode"] == 44002


def test_phone_console_validates_input(wx):
    assert wx.client.post("/__mock__/phone-code", json={"phone": "12345"}).status_code == 400
    assert wx.client.post("/__mock__/phone-code", json={}).status_code == 400
    assert wx.client.post("/__mock__/phone-code", data="{oops").status_code == 400
