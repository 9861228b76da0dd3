"""Template data is fitted to WeChat's per-type limits and never carries an ID or bank number."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from notifications import templates
from notifications.templates import fit, registry, render

ID_NUMBER = "11010519491231002X"


@pytest.mark.parametrize("key,value,expected", [
    ("thing1", "高龄津贴申请", "高龄津贴申请"),
    ("thing1", "一" * 20, "一" * 20),
    ("thing1", "一" * 21, "一" * 19 + "…"),
    ("thing3", "line\nbreak", "line break"),
    ("amount2", "50.00元", "50.00元"),
    ("amount2", "fifty", None),
    ("date3", "2026年11月27日 09:30", "2026年11月27日 09:30"),
    ("date3", "tomorrow", None),
    ("time2", "2026年12月1日 10:00", "2026年12月1日 10:00"),
    ("phrase2", "已通过", "已通过"),
    ("phrase2", "approved", None),
    ("name1", "张*英", "张*英"),
    ("name1", "张三1", None),
    ("phone_number5", "0351-1234567", "0351-1234567"),
    ("thing1", f"身份证{ID_NUMBER}", None),
    ("thing1", "卡号6222020200112233445", None),
    ("thing1", "", None),
    ("thing1", None, None),
])
def test_fit(key, value, expected):
    assert fit(key, value) == expected


def _row(kind, data=None, application_id=None):
    return SimpleNamespace(kind=kind, data=data or {}, application_id=application_id, created_at=None,
                           resident_id=1, account_id=None, id="x")


@pytest.mark.parametrize("kind", sorted(registry()))
def test_every_kind_renders_valid_data_with_sample_data(session, kind):
    data = {"monthly_amount": "100.00", "start_month": "2026-12", "deadline": "2026-12-20",
            "reason": "户籍已迁出本市并且超过了二十个字符的限制需要截断", "program": "elderly_allowance",
            "inviter_name": "张秀英", "expires_on": "2026-12-04", "visit_at": "2026-12-01T10:00",
            "address": "小店区平阳路12号", "staff_name": "李四", "staff_phone": "0351-1234567"}
    message = render(session, _row(kind, data))
    assert message.wechat_ok, (kind, message.problems)
    keys = [k for k, _ in message.template.keywords]
    assert list(message.wechat_data) == keys
    for key, item in message.wechat_data.items():
        assert fit(key, item["value"]) == item["value"]
    assert message.title == message.template.title and message.body and message.sms_text


def test_sensitive_values_never_reach_any_channel(session):
    message = render(session, _row("rejected", {"reason": f"身份证号{ID_NUMBER}不符", "program": "dibao"}))
    assert message.problems == ["thing3"]
    assert ID_NUMBER not in message.body and ID_NUMBER not in message.sms_text
    assert not message.wechat_ok


def test_missing_amount_is_a_problem_not_a_made_up_value(session):
    message = render(session, _row("approved", {"program": "elderly_allowance"}))
    assert "amount3" in message.problems


def test_template_ids_can_be_overridden_by_environment(monkeypatch):
    monkeypatch.setenv("WECHAT_TEMPLATE_REMINDER", "REAL_ID_FROM_CONSOLE")
    assert templates.template_for("reminder").id == "REAL_ID_FROM_CONSOLE"
    monkeypatch.delenv("WECHAT_TEMPLATE_REMINDER")
    assert templates.template_for("reminder").id == "ZT_REMINDER_0001"


def test_registry_matches_the_mock_templates_file():
    """Shared values, not shared code: our copy must agree with what the mock serves."""
    import json
    from pathlib import Path

    mock = json.loads((Path(__file__).parents[2] / "mock_wechat" / "templates.json").read_text())
    ours = {t.kind: t for t in registry().values()}
    for t in mock["templates"]:
        mine = ours[t["kind"]]
        assert (mine.id, mine.type, [k for k, _ in mine.keywords]) == (t["id"], t["type"],
                                                                       [k["key"] for k in t["keywords"]])
