from tests.mock_wechat.helpers import APPID, SECRET

TOKEN_URL = "/cgi-bin/token"


def _errcode(response) -> int | None:
    return response.get_json().get("errcode")


def _gettemplate(wx, token: str):
    return wx.client.get(f"/wxaapi/newtmpl/gettemplate?access_token={token}")


def test_token_response_shape(wx):
    response = wx.client.get(f"{TOKEN_URL}?grant_type=client_credential&appid={APPID}&secret={SECRET}")
    body = response.get_json()
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json; encoding=utf-8"
    assert set(body) == {"access_token", "expires_in"}
    assert body["expires_in"] == 7200 and len(body["access_token"]) >= 100


def test_each_call_rotates_and_previous_token_lives_300_seconds(wx, clock):
    first = wx.token()
    second = wx.token()
    assert first != second
    clock.advance(299)
    assert _errcode(_gettemplate(wx, first)) == 0
    clock.advance(2)
    assert _errcode(_gettemplate(wx, first)) == 40001
    assert _errcode(_gettemplate(wx, second)) == 0


def test_only_the_previous_token_survives_a_rotation(wx):
    first, second = wx.token(), wx.token()
    wx.token()
    assert _errcode(_gettemplate(wx, first)) == 40001
    assert _errcode(_gettemplate(wx, second)) == 0


def test_token_past_lifetime_is_42001(wx, clock):
    token = wx.token()
    clock.advance(7200)
    assert _errcode(_gettemplate(wx, token)) == 42001


def test_missing_and_unknown_tokens(wx):
    assert _errcode(wx.client.get("/wxaapi/newtmpl/gettemplate")) == 41001
    assert _errcode(wx.client.get("/wxaapi/newtmpl/gettemplate?access_token=")) == 41001
    assert _errcode(_gettemplate(wx, "garbage")) == 40001


def test_credential_errors(wx):
    cases = [
        ("grant_type=client_credential&secret=" + SECRET, 41002),
        ("grant_type=client_credential&appid=" + APPID, 41004),
        (f"grant_type=bogus&appid={APPID}&secret={SECRET}", 40002),
        (f"grant_type=client_credential&appid=wxother&secret={SECRET}", 40013),
        (f"grant_type=client_credential&appid={APPID}&secret=wrong", 40125),
        (f"grant_type=client_credential&appid=&secret={SECRET}", 41002),
    ]
    for query, errcode in cases:
        response = wx.client.get(f"{TOKEN_URL}?{query}")
        assert _errcode(response) == errcode, query
        assert response.status_code == 200
        assert " rid: " in response.get_json()["errmsg"]


def test_configurable_lifetime(clock):
    from mock_wechat import create_app
    from tests.mock_wechat.helpers import Wx

    wx = Wx(create_app({"clock": clock, "token_lifetime_s": 60}).test_client())
    token = wx.token()
    clock.advance(61)
    assert _errcode(_gettemplate(wx, token)) == 42001


def test_token_expiry_console_shortens_live_tokens(wx, clock):
    token = wx.token()
    assert wx.client.post("/__mock__/token-expiry", json={"seconds": 5}).status_code == 200
    clock.advance(6)
    assert _errcode(_gettemplate(wx, token)) == 42001
    url = f"{TOKEN_URL}?grant_type=client_credential&appid={APPID}&secret={SECRET}"
    assert wx.client.get(url).get_json()["expires_in"] == 5
    assert wx.client.post("/__mock__/token-expiry", json={"seconds": 0}).status_code == 400


def _stable(wx, **extra):
    body = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET, **extra}
    return wx.client.post("/cgi-bin/stable_token", json=body)


def test_stable_token_is_idempotent_within_validity(wx, clock):
    first = _stable(wx).get_json()
    clock.advance(1000)
    second = _stable(wx).get_json()
    assert first["access_token"] == second["access_token"]
    assert second["expires_in"] == 6200


def test_stable_token_rotates_in_last_five_minutes_with_overlap(wx, clock):
    first = _stable(wx).get_json()["access_token"]
    clock.advance(7000)
    second = _stable(wx).get_json()["access_token"]
    assert second != first
    assert _errcode(_gettemplate(wx, first)) == 0
    clock.advance(200)
    assert _errcode(_gettemplate(wx, first)) == 42001


def test_stable_force_refresh_rotates_and_revokes(wx):
    first = _stable(wx).get_json()["access_token"]
    second = _stable(wx, force_refresh=True).get_json()["access_token"]
    assert first != second
    assert _errcode(_gettemplate(wx, first)) == 40001
    assert _errcode(_gettemplate(wx, second)) == 0


def test_stable_token_is_independent_from_basic_token(wx):
    stable = _stable(wx).get_json()["access_token"]
    wx.token(), wx.token(), wx.token()
    assert _errcode(_gettemplate(wx, stable)) == 0


def test_stable_token_requires_post_and_json(wx):
    assert _errcode(wx.client.get("/cgi-bin/stable_token")) == 43002
    assert _errcode(wx.client.post("/cgi-bin/stable_token", data="")) == 44002
    assert _errcode(wx.client.post("/cgi-bin/stable_token", data="not json")) == 47001
    assert _errcode(wx.client.post("/cgi-bin/stable_token", data="[1]")) == 47001
    assert _errcode(_stable(wx, secret="nope")) == 40125


def test_stable_token_parses_json_sent_as_form_content_type(wx):
    body = f'{{"grant_type":"client_credential","appid":"{APPID}","secret":"{SECRET}"}}'
    response = wx.client.post("/cgi-bin/stable_token", data=body,
                              content_type="application/x-www-form-urlencoded")
    assert "access_token" in response.get_json()
