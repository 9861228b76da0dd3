import pytest

from mock_wechat.value_rules import check_value, key_type

CASES = [
    # (key, value, expected problem or None)
    ("thing1", "高龄津贴申请", None),
    ("thing1", "一" * 20, None),
    ("thing1", "一" * 21, "invalid"),
    ("thing1", "line\nbreak", "invalid"),
    ("thing1", "", "is empty"),
    ("thing1", "   ", "is empty"),
    ("number2", "12", None),
    ("number2", "3.50", None),
    ("number2", "1" * 32, None),
    ("number2", "1" * 33, "invalid"),
    ("number2", "12a", "invalid"),
    ("number2", "1.2.3", "invalid"),
    ("number01", "7", None),
    ("letter3", "abcXYZ", None),
    ("letter3", "abc1", "invalid"),
    ("letter3", "a" * 33, "invalid"),
    ("symbol4", "#%", None),
    ("symbol4", "!!!!!!", "invalid"),
    ("symbol4", "a#", "invalid"),
    ("character_string5", "ZT-2025/0001", None),
    ("character_string5", "A" * 33, "invalid"),
    ("character_string5", "编号1", "invalid"),
    ("time6", "15:01", None),
    ("time6", "15:01:30", None),
    ("time6", "2019年10月1日 15:01", None),
    ("time6", "2025-01-09 10:00", None),
    ("time6", "09:00~11:30", None),
    ("time6", "25:00", "invalid"),
    ("time6", "2025-01-09", "invalid"),
    ("date7", "2019年10月1日", None),
    ("date7", "2019年10月", None),
    ("date7", "10月1日", None),
    ("date7", "2018-01-01", None),
    ("date7", "2018/01/01", None),
    ("date7", "2018.01.01", None),
    ("date7", "2018-01", None),
    ("date7", "01-01", None),
    ("date7", "2019年10月1日 15:01", None),
    ("date7", "2025-01-01 ~ 2025-01-31", None),
    ("date7", "2018-13-01", "invalid"),
    ("date7", "2018-01/01", "invalid"),
    ("date7", "明天", "invalid"),
    ("amount8", "50.00元", None),
    ("amount8", "¥50.00", None),
    ("amount8", "￥50", None),
    ("amount8", "50.00", None),
    ("amount8", "1234567890", None),
    ("amount8", "12345678901", "invalid"),
    ("amount8", "50.001", "invalid"),
    ("amount8", "五十元", "invalid"),
    ("amount8", "¥¥50", "invalid"),
    ("phone_number9", "+86-0766-66888866", None),
    ("phone_number9", "13800138000", None),
    ("phone_number9", "1" * 18, "invalid"),
    ("phone_number9", "call 110", "invalid"),
    ("car_number10", "粤A8Z888挂", None),
    ("car_number10", "晋A12345", None),
    ("car_number10", "粤A8Z8888挂", "invalid"),
    ("car_number10", "A-1234", "invalid"),
    ("name11", "张三", None),
    ("name11", "买买提·艾力", None),
    ("name11", "欧" * 10, None),
    ("name11", "欧" * 11, "invalid"),
    ("name11", "Zhang San", None),
    ("name11", "a" * 20, None),
    ("name11", "a" * 21, "invalid"),
    ("name11", "张Alexander", None),
    ("name11", "张Alexanders", "invalid"),
    ("name11", "Agent007", "invalid"),
    ("phrase12", "已通过", None),
    ("phrase12", "配送中啊啊", None),
    ("phrase12", "配送中啊啊啊", "invalid"),
    ("phrase12", "OK", "invalid"),
    ("phrase12", " 正常", "invalid"),
    ("unknownkind13", "anything", None),
]


@pytest.mark.parametrize(("key", "value", "expected"), CASES)
def test_value_rule(key, value, expected):
    assert check_value(key, {"value": value}) == expected


@pytest.mark.parametrize("item", [None, {}, {"value": None}, "text", {"color": "#000"}])
def test_missing_value_is_empty(item):
    assert check_value("thing1", item) == "is empty"


def test_non_string_value_is_invalid():
    assert check_value("number1", {"value": 12}) == "invalid"


def test_enum_values():
    assert check_value("enum1", {"value": "甲"}, ["甲", "乙"]) is None
    assert check_value("enum1", {"value": "丙"}, ["甲", "乙"]) == "invalid"


def test_key_type():
    assert key_type("character_string12") == "character_string"
    assert key_type("number01") == "number"
    assert key_type("thing") == "thing"


@pytest.mark.parametrize(("key", "value"), [(k, v) for k, v, e in CASES if e == "invalid"][:12])
def test_send_reports_invalid_key(wx, key, value):
    """End to end: a template keyword breaking its rule gives 47003 naming it."""
    from mock_wechat.templates import Template

    template = Template(id="T_RULE", kind="rule", title="规则", type=3,
                        keywords=({"key": key, "name": "项"},))
    wx.client.application.extensions["mock_wechat_templates"]["T_RULE"] = template
    body = wx.send(wx.token(), wx.user(), "T_RULE", {key: {"value": value}}).get_json()
    assert body["errcode"] == 47003
    assert body["errmsg"].startswith(f"argument invalid! data.{key}.value invalid rid: ")
