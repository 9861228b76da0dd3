import pytest

from mock_wechat import create_app


def test_unknown_route_is_404_json(wx):
    response = wx.client.get("/nowhere")
    assert response.status_code == 404 and response.get_json()["error"] == "not_found"


def test_get_only_api_refuses_post(wx):
    assert wx.client.post("/cgi-bin/token").get_json()["errcode"] == 43001


def test_config_roundtrip_and_rejects_unknown_keys(wx):
    shown = wx.client.post("/__mock__/config", json={"webhook_url": "http://x/y"}).get_json()
    assert shown["webhook_url"] == "http://x/y"
    assert wx.client.post("/__mock__/config", json={"secret": "x"}).status_code == 400
    assert wx.client.post("/__mock__/config", data="[]").status_code == 400
    wx.client.post("/__mock__/reset")
    assert wx.client.get("/__mock__/config").get_json()["webhook_url"] is None


def test_login_code_mints_fresh_openids(wx):
    first, second = wx.login_code(), wx.login_code()
    assert first["openid"] != second["openid"] and len(first["openid"]) == 28


def test_templates_listing(wx):
    kinds = {t["kind"] for t in wx.client.get("/__mock__/templates").get_json()}
    assert {"proposal_ready", "reminder", "approved", "rejected", "tier_raised", "payment_started",
            "benefit_stopped", "proxy_invitation", "home_visit_scheduled", "identity_bind_attempt"} <= kinds


def test_environment_credentials(monkeypatch):
    monkeypatch.setenv("WECHAT_APPID", "wxenvapp")
    monkeypatch.setenv("WECHAT_SECRET", "envsecret")
    client = create_app().test_client()
    body = client.get("/cgi-bin/token?grant_type=client_credential&appid=wxenvapp&secret=envsecret").get_json()
    assert "access_token" in body


def test_unknown_config_key_is_an_error():
    with pytest.raises(ValueError):
        create_app({"apid": "typo"})
