from tests.mock_wechat.helpers import ONE_TIME

SEND = "/cgi-bin/message/subscribe/send"


def _faults(wx, **config):
    response = wx.client.post("/__mock__/faults", json=config)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def _gettemplate(wx, token):
    return wx.client.get(f"/wxaapi/newtmpl/gettemplate?access_token={token}").get_json()


def test_rate_one_always_gives_that_errcode_and_spends_nothing(wx):
    token, openid = wx.token(), wx.user()
    wx.subscribe(openid, ONE_TIME)
    _faults(wx, errors={"45011": 1.0})
    for _ in range(3):
        body = wx.send(token, openid, ONE_TIME).get_json()
        assert body["errcode"] == 45011 and "minute-quota" in body["errmsg"]
    quota = wx.client.get(f"/__mock__/quota?openid={openid}&template_id={ONE_TIME}").get_json()
    assert quota["remaining"] == 1
    assert wx.client.get("/__mock__/messages").get_json() == []
    wx.client.delete("/__mock__/faults")
    assert wx.send(token, openid, ONE_TIME).get_json()["errcode"] == 0


def test_system_error_fault(wx):
    _faults(wx, errors={"-1": 1.0})
    body = wx.client.post(f"/wxa/getwxacodeunlimit?access_token={wx.token()}", json={"scene": "a"}).get_json()
    assert body["errcode"] == -1


def test_42001_fault_expires_tokens_until_refresh(wx):
    token, openid = wx.token(), wx.user()
    _faults(wx, errors={"42001": 1.0})
    assert wx.send(token, openid, ONE_TIME).get_json()["errcode"] == 42001
    wx.client.delete("/__mock__/faults")
    assert _gettemplate(wx, token)["errcode"] == 42001
    assert _gettemplate(wx, wx.token())["errcode"] == 0


def test_40001_fault_revokes_tokens(wx):
    token = wx.token()
    _faults(wx, errors={"40001": 1.0})
    assert wx.send(token, wx.user(), ONE_TIME).get_json()["errcode"] == 40001
    assert _gettemplate(wx, token)["errcode"] == 40001


def test_faults_skip_token_and_login_paths_by_default(wx):
    _faults(wx, errors={"-1": 1.0})
    assert _gettemplate(wx, wx.token())["errcode"] == 0


def test_only_paths_restricts_faults(wx):
    token, openid = wx.token(), wx.user()
    _faults(wx, errors={"-1": 1.0}, only_paths=["/wxa/getwxacodeunlimit"])
    assert wx.send(token, openid, "ZT_PAYMENT_STARTED_0001").get_json()["errcode"] == 0


def test_seeded_faults_are_deterministic(wx):
    token, openid = wx.token(), wx.user()

    def run():
        _faults(wx, errors={"-1": 0.5}, seed=42)
        return [wx.send(token, openid, "ZT_PAYMENT_STARTED_0001").get_json()["errcode"] for _ in range(20)]

    first = run()
    assert first == run()
    assert set(first) == {0, -1}


def test_drop_without_socket_falls_back_to_empty_503(wx):
    _faults(wx, drop_rate=1.0)
    response = wx.send(wx.token(), wx.user(), ONE_TIME)
    assert response.status_code == 503 and response.data == b""


def test_timeout_sleeps_then_fails_without_effect(wx):
    token, openid = wx.token(), wx.user()
    wx.subscribe(openid, ONE_TIME)
    _faults(wx, timeout_rate=1.0, timeout_sleep_s=0.01, latency_ms=1)
    assert wx.send(token, openid, ONE_TIME).get_json()["errcode"] == -1
    assert wx.client.get("/__mock__/messages").get_json() == []


def test_fault_config_roundtrip_and_validation(wx):
    shown = _faults(wx, errors={"-1": 0.1, "45011": 0.05}, latency_ms=5, seed=1)
    assert shown["errors"] == {"-1": 0.1, "45011": 0.05} and shown["latency_ms"] == 5
    assert wx.client.get("/__mock__/faults").get_json() == shown
    assert wx.client.post("/__mock__/faults", json={"errors": {"-1": 2}}).status_code == 400
    assert wx.client.post("/__mock__/faults", json={"errors": {"x": 0.1}}).status_code == 400
    assert wx.client.post("/__mock__/faults", json={"errors": {"-1": 0.6}, "drop_rate": 0.6}).status_code == 400
    assert wx.client.delete("/__mock__/faults").get_json() is None
    assert wx.client.get("/__mock__/faults").get_json() is None


def test_reset_clears_faults_and_state(wx):
    token, openid = wx.token(), wx.user()
    wx.send(token, openid, "ZT_PAYMENT_STARTED_0001")
    _faults(wx, errors={"-1": 1.0})
    assert wx.client.post("/__mock__/reset").status_code == 200
    assert wx.client.get("/__mock__/faults").get_json() is None
    assert wx.client.get("/__mock__/messages").get_json() == []
    assert _gettemplate(wx, token)["errcode"] == 40001
    assert wx.send(wx.token(), openid, "ZT_PAYMENT_STARTED_0001").get_json()["errcode"] == 40003
