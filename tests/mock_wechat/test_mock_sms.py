AUTH = {"Authorization": "Bearer dev-sms-key"}
SMS = {"phone": "13800138000", "sign": "零跑民政", "template": "SMS_0001", "params": {"name": "张三"}}


def test_send_and_inspect(wx):
    response = wx.client.post("/sms/v1/send", json=SMS, headers=AUTH)
    body = response.get_json()
    assert response.status_code == 200 and body["code"] == "OK" and body["message_id"]
    [sent] = wx.client.get("/__mock__/sms?phone=13800138000").get_json()
    assert sent["message_id"] == body["message_id"] and sent["params"] == {"name": "张三"}
    assert wx.client.get("/__mock__/sms?phone=13900000000").get_json() == []


def test_auth_required(wx):
    assert wx.client.post("/sms/v1/send", json=SMS).status_code == 401
    bad = {"Authorization": "Bearer nope"}
    assert wx.client.post("/sms/v1/send", json=SMS, headers=bad).get_json() == {"code": "UNAUTHORIZED"}


def test_validation(wx):
    for phone in ("2380013800", "1380013800", "138001380000", "+8613800138000", 13800138000):
        response = wx.client.post("/sms/v1/send", json=dict(SMS, phone=phone), headers=AUTH)
        assert response.status_code == 400 and response.get_json()["code"] == "INVALID_PHONE"
    response = wx.client.post("/sms/v1/send", json=dict(SMS, sign=""), headers=AUTH)
    assert response.get_json() == {"code": "MISSING_PARAM", "field": "sign"}
    assert wx.client.post("/sms/v1/send", data="nope", headers=AUTH).get_json()["code"] == "INVALID_BODY"
    assert wx.client.get("/__mock__/sms").get_json() == []


def test_faults_apply_as_5xx(wx):
    wx.client.post("/__mock__/faults", json={"errors": {"-1": 1.0}})
    response = wx.client.post("/sms/v1/send", json=SMS, headers=AUTH)
    assert response.status_code == 500 and response.get_json()["code"] == "SYSTEM_ERROR"
    assert wx.client.get("/__mock__/sms").get_json() == []
