import hashlib

from tests.mock_wechat.helpers import LONG_TERM, ONE_TIME

HOOK = "http://127.0.0.1:9/wechat/push"


def _configure(wx, **extra):
    response = wx.client.post("/__mock__/config", json={"webhook_url": HOOK, **extra})
    assert response.status_code == 200


def _push(wx, **body):
    return wx.client.post("/__mock__/push-event", json=body)


def test_signature_is_sha1_of_sorted_token_timestamp_nonce(wx, clock):
    _configure(wx, webhook_token="tok")
    entry = _push(wx, openid="oA", event="subscribe_msg_popup_event",
                  items=[{"template_id": ONE_TIME, "status": "accept"}]).get_json()
    query = entry["query"]
    expected = hashlib.sha1("".join(sorted(["tok", query["timestamp"], query["nonce"]])).encode()).hexdigest()
    assert query["signature"] == expected and query["timestamp"] == str(int(clock.now))
    assert entry["url"] == HOOK and entry["status"].startswith("failed")


def test_single_item_list_is_an_object(wx, clock):
    _configure(wx)
    body = _push(wx, openid="oA", event="subscribe_msg_popup_event",
                 items=[{"template_id": ONE_TIME, "status": "accept"}]).get_json()["body"]
    assert body == {"ToUserName": "gh_mockzerotrip", "FromUserName": "oA", "CreateTime": int(clock.now),
                    "MsgType": "event", "Event": "subscribe_msg_popup_event",
                    "List": {"TemplateId": ONE_TIME, "SubscribeStatusString": "accept", "PopupScene": "0"}}


def test_several_items_or_as_array_give_an_array(wx):
    _configure(wx)
    items = [{"template_id": ONE_TIME, "status": "accept"}, {"template_id": LONG_TERM, "status": "reject"}]
    body = _push(wx, openid="oA", event="subscribe_msg_popup_event", items=items).get_json()["body"]
    assert [i["TemplateId"] for i in body["List"]] == [ONE_TIME, LONG_TERM]
    body = _push(wx, openid="oA", event="subscribe_msg_change_event", items=items[:1],
                 as_array=True).get_json()["body"]
    assert body["List"] == [{"TemplateId": ONE_TIME, "SubscribeStatusString": "accept"}]


def test_sent_event_items_use_strings(wx):
    _configure(wx)
    body = _push(wx, openid="oA", event="subscribe_msg_sent_event",
                 items=[{"template_id": ONE_TIME, "msgid": 2**61, "error_code": 10005}]).get_json()["body"]
    assert body["List"] == {"TemplateId": ONE_TIME, "MsgID": str(2**61), "ErrorCode": "10005",
                            "ErrorStatus": "failed"}


def test_push_event_validation(wx):
    items = [{"template_id": ONE_TIME}]
    assert _push(wx, openid="oA", event="subscribe_msg_popup_event", items=items).status_code == 409
    _configure(wx)
    assert _push(wx, openid="oA", event="other", items=items).status_code == 400
    assert _push(wx, openid="oA", event="subscribe_msg_popup_event", items=[]).status_code == 400
    assert _push(wx, event="subscribe_msg_popup_event", items=items).status_code == 400


def test_subscribe_console_pushes_popup_event(wx):
    _configure(wx)
    openid = wx.user()
    result = wx.subscribe(openid, ONE_TIME, "accept")
    assert result["push"]["body"]["List"]["SubscribeStatusString"] == "accept"
    assert wx.subscribe(openid, ONE_TIME, "ban")["push"]["body"]["Event"] == "subscribe_msg_change_event"
    assert wx.subscribe(openid, ONE_TIME, "filter")["push"] is None
    assert len(wx.client.get("/__mock__/events").get_json()) == 2


def test_successful_send_pushes_sent_event_when_enabled(wx):
    _configure(wx, send_sent_events=True)
    msgid = wx.send(wx.token(), wx.user(), LONG_TERM).get_json()["msgid"]
    [entry] = wx.client.get("/__mock__/events").get_json()
    assert entry["body"]["Event"] == "subscribe_msg_sent_event"
    assert entry["body"]["List"] == {"TemplateId": LONG_TERM, "MsgID": str(msgid), "ErrorCode": "0",
                                     "ErrorStatus": "success"}
