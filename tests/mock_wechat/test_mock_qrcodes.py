import io

from PIL import Image

URL = "/wxa/getwxacodeunlimit"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _qr(wx, body, token=None):
    return wx.client.post(f"{URL}?access_token={token or wx.token()}", json=body)


def _errcode(response):
    assert response.headers["Content-Type"].startswith("application/json")
    return response.get_json()["errcode"]


def test_returns_png_bytes_of_requested_width(wx):
    response = _qr(wx, {"scene": "inv=AB12&x=1", "page": "pages/proxy/accept", "width": 300})
    assert response.status_code == 200
    assert response.headers["Content-Type"] in ("image/jpeg", "image/png")
    assert response.data.startswith(PNG_MAGIC)
    assert Image.open(io.BytesIO(response.data)).size == (300, 300)


def test_width_is_clamped(wx):
    small = _qr(wx, {"scene": "a", "width": 10}).data
    large = _qr(wx, {"scene": "a", "width": 5000}).data
    assert Image.open(io.BytesIO(small)).size == (280, 280)
    assert Image.open(io.BytesIO(large)).size == (1280, 1280)
    assert Image.open(io.BytesIO(_qr(wx, {"scene": "a"}).data)).size == (430, 430)


def test_scene_rules(wx):
    token = wx.token()
    assert _errcode(_qr(wx, {"scene": ""}, token)) == 40169
    assert _errcode(_qr(wx, {}, token)) == 40169
    assert _errcode(_qr(wx, {"scene": "a" * 33}, token)) == 40169
    assert _qr(wx, {"scene": "a" * 32}, token).data.startswith(PNG_MAGIC)
    assert _errcode(_qr(wx, {"scene": "a%20b"}, token)) == 40129
    assert _errcode(_qr(wx, {"scene": "中文"}, token)) == 40129
    assert _errcode(_qr(wx, {"scene": "a b"}, token)) == 40129
    assert _qr(wx, {"scene": "!#$&'()*+,/:;=?@-._~"}, token).data.startswith(PNG_MAGIC)


def test_page_rules(wx):
    token = wx.token()
    assert _errcode(_qr(wx, {"scene": "a", "page": "/pages/index/index"}, token)) == 41030
    assert _errcode(_qr(wx, {"scene": "a", "page": "pages/index/index?x=1"}, token)) == 41030
    assert _errcode(_qr(wx, {"scene": "a", "page": "pages/unpublished/x"}, token)) == 41030
    ok = _qr(wx, {"scene": "a", "page": "pages/unpublished/x", "check_path": False}, token)
    assert ok.data.startswith(PNG_MAGIC)
    assert _qr(wx, {"scene": "a", "page": ""}, token).data.startswith(PNG_MAGIC)


def test_published_pages_are_configurable(wx):
    wx.client.post("/__mock__/config", json={"published_pages": ["pages/x/y"]})
    assert _qr(wx, {"scene": "a", "page": "pages/x/y"}).data.startswith(PNG_MAGIC)


def test_bad_args_and_body(wx):
    token = wx.token()
    assert _errcode(_qr(wx, {"scene": "a", "env_version": "beta"}, token)) == 40097
    assert _errcode(_qr(wx, {"scene": "a", "width": "wide"}, token)) == 40097
    response = wx.client.post(f"{URL}?access_token={token}", data="scene=a")
    assert _errcode(response) == 40169
    assert _errcode(_qr(wx, {"scene": "a"}, "stale")) == 40001
    assert _errcode(wx.client.get(f"{URL}?access_token={token}")) == 43002
