import json

from tests.mock_wechat.helpers import LONG_TERM, ONE_TIME, example_data

SEND = "/cgi-bin/message/subscribe/send"


def test_send_happy_path_records_message(wx):
    token, openid = wx.token(), wx.user()
    wx.subscribe(openid, ONE_TIME)
    response = wx.send(token, openid, ONE_TIME)
    body = response.get_json()
    assert response.headers["Content-Type"] == "application/json; encoding=utf-8"
    assert body["errcode"] == 0 and body["errmsg"] == "ok"
    assert isinstance(body["msgid"], int) and body["msgid"] > 2**53
    assert str(body["msgid"]) in response.get_data(as_text=True)
    [message] = wx.client.get(f"/__mock__/messages?touser={openid}").get_json()
    assert message["msgid"] == str(body["msgid"])
    assert message["data"] == example_data(ONE_TIME) and message["template_id"] == ONE_TIME
    assert message["time"].startswith("2025-06-15T")


def test_messages_filter_by_touser(wx):
    token, alice, bob = wx.token(), wx.user(), wx.user()
    for openid in (alice, bob):
        wx.send(token, openid, LONG_TERM)
    assert len(wx.client.get("/__mock__/messages").get_json()) == 2
    assert [m["touser"] for m in wx.client.get(f"/__mock__/messages?touser={bob}").get_json()] == [bob]


def test_one_time_grants_accumulate_and_are_spent(wx):
    token, openid = wx.token(), wx.user()
    assert wx.send(token, openid, ONE_TIME).get_json()["errcode"] == 43101
    wx.subscribe(openid, ONE_TIME)
    assert wx.subscribe(openid, ONE_TIME)["remaining"] == 2
    assert wx.send(token, openid, ONE_TIME).get_json()["errcode"] == 0
    assert wx.send(token, openid, ONE_TIME).get_json()["errcode"] == 0
    assert wx.send(token, openid, ONE_TIME).get_json()["errcode"] == 43101
    quota = wx.client.get(f"/__mock__/quota?openid={openid}&template_id={ONE_TIME}").get_json()
    assert quota["remaining"] == 0


def test_reject_and_filter_grant_nothing(wx):
    token, openid = wx.token(), wx.user()
    assert wx.subscribe(openid, ONE_TIME, "reject")["remaining"] == 0
    assert wx.subscribe(openid, ONE_TIME, "filter")["remaining"] == 0
    assert wx.send(token, openid, ONE_TIME).get_json()["errcode"] == 43101


def test_ban_blocks_until_a_later_accept(wx):
    token, openid = wx.token(), wx.user()
    wx.subscribe(openid, ONE_TIME)
    assert wx.subscribe(openid, ONE_TIME, "ban")["remaining"] == 0
    assert wx.send(token, openid, ONE_TIME).get_json()["errcode"] == 43101
    assert wx.subscribe(openid, ONE_TIME)["remaining"] == 2
    assert wx.send(token, openid, ONE_TIME).get_json()["errcode"] == 0


def test_long_term_skips_counter_unless_rejected_or_banned(wx):
    token, openid = wx.token(), wx.user()
    for _ in range(3):
        assert wx.send(token, openid, LONG_TERM).get_json()["errcode"] == 0
    wx.subscribe(openid, LONG_TERM, "reject")
    assert wx.send(token, openid, LONG_TERM).get_json()["errcode"] == 43101
    wx.subscribe(openid, LONG_TERM, "accept")
    assert wx.send(token, openid, LONG_TERM).get_json()["errcode"] == 0
    assert wx.subscribe(openid, LONG_TERM, "ban")["allowed"] is False
    assert wx.send(token, openid, LONG_TERM).get_json()["errcode"] == 43101


def test_unknown_openid_and_template(wx):
    token, openid = wx.token(), wx.user()
    assert wx.send(token, "oNeverLoggedIn", LONG_TERM).get_json()["errcode"] == 40003
    assert wx.send(token, openid, "NO_SUCH_TEMPLATE", {}).get_json()["errcode"] == 40037


def test_missing_keyword_is_empty_and_bad_value_is_invalid(wx):
    token, openid = wx.token(), wx.user()
    data = example_data(LONG_TERM)
    del data["amount2"]
    body = wx.send(token, openid, LONG_TERM, data).get_json()
    assert body["errcode"] == 47003
    assert body["errmsg"].startswith("argument invalid! data.amount2.value is empty rid: ")
    data = dict(example_data(LONG_TERM), thing1={"value": "超" * 21})
    body = wx.send(token, openid, LONG_TERM, data).get_json()
    assert body["errmsg"].startswith("argument invalid! data.thing1.value invalid")


def test_validation_failure_spends_no_grant(wx):
    token, openid = wx.token(), wx.user()
    wx.subscribe(openid, ONE_TIME)
    assert wx.send(token, openid, ONE_TIME, {"thing1": {"value": ""}}).get_json()["errcode"] == 47003
    assert wx.send(token, openid, ONE_TIME).get_json()["errcode"] == 0


def test_optional_fields_as_empty_strings_and_extra_keys_are_ignored(wx):
    token, openid = wx.token(), wx.user()
    data = {k: dict(v, color="") for k, v in example_data(LONG_TERM).items()}
    body = {"touser": openid, "template_id": LONG_TERM, "page": "", "miniprogram_state": "",
            "lang": "", "data": data, "unknown": 1}
    raw = json.dumps(body, ensure_ascii=True)
    response = wx.client.post(f"{SEND}?access_token={token}", data=raw, content_type="text/plain")
    assert response.get_json()["errcode"] == 0


def test_send_wire_errors(wx):
    token = wx.token()
    assert wx.client.get(f"{SEND}?access_token={token}").get_json()["errcode"] == 43002
    assert wx.client.post(f"{SEND}?access_token={token}", data="").get_json()["errcode"] == 44002
    assert wx.client.post(f"{SEND}?access_token={token}", data="{bad").get_json()["errcode"] == 47001
    assert wx.client.post(SEND, json={}).get_json()["errcode"] == 41001


def test_gettemplate_lists_templates(wx):
    body = wx.client.get(f"/wxaapi/newtmpl/gettemplate?access_token={wx.token()}").get_json()
    assert body["errcode"] == 0 and body["errmsg"] == "ok"
    by_id = {t["priTmplId"]: t for t in body["data"]}
    assert by_id[ONE_TIME]["type"] == 2 and by_id[LONG_TERM]["type"] == 3
    assert by_id[ONE_TIME]["title"] == "审批通过通知"
    assert by_id[ONE_TIME]["content"].startswith("事项名称:{{thing1.DATA}}\n办理结果:{{phrase2.DATA}}\n")
    assert len(by_id) >= 10


def test_subscribe_console_validation(wx):
    openid = wx.user()
    post = wx.client.post
    assert post("/__mock__/subscribe", json={"openid": openid, "template_id": ONE_TIME,
                                            "status": "maybe"}).status_code == 400
    assert post("/__mock__/subscribe", json={"openid": openid, "template_id": "NOPE",
                                            "status": "accept"}).status_code == 400
    assert post("/__mock__/subscribe", json={"openid": "oUnknown", "template_id": ONE_TIME,
                                            "status": "accept"}).status_code == 400
