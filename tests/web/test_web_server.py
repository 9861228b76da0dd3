"""The /m/ blueprint without a browser: headers, the development-only sign-in, the QR endpoint, strings, weight."""

from __future__ import annotations

import json
import re
from pathlib import Path

STATIC = Path(__file__).resolve().parents[2] / "app" / "web" / "static"
CJK = re.compile(r"[\u4e00-\u9fff]")


def _config(html: str) -> dict:
    return json.loads(re.search(r'id="zt-config">(.*?)</script>', html).group(1))


def test_the_page_is_served_with_a_strict_policy(client):
    page = client.get("/m/")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert _config(page.get_data(as_text=True)) == {"dev": True}
    js = client.get("/m/static/app.js")
    assert js.status_code == 200 and "javascript" in js.mimetype
    assert client.get("/m/static/../__init__.py").status_code == 404


def test_development_sign_in_forwards_to_the_mock(client, wechat):
    code = client.post("/m/dev/login-code", json={})
    assert code.status_code == 200 and code.json["code"] and code.json["openid"]
    tokens = client.post("/api/v1/auth/wechat-login", json={"code": code.json["code"]})
    assert tokens.status_code == 200
    phone = client.post("/m/dev/phone-code", json={"openid": code.json["openid"], "phone": "13912345678"})
    assert phone.status_code == 200 and phone.json["code"]
    assert client.post("/m/dev/phone-code", json={"phone": "12"}).status_code == 422


def test_production_has_no_development_sign_in(cfg):
    from app import create_app
    from app.config import load_config

    prod = load_config({"env": "production", "database_url": cfg.database_url, "signing_key": "k" * 40,
                        "data_key": "dGVzdC1kYXRhLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE", "testing": True,
                        "instance_path": cfg.instance_path, "proof_key": cfg.proof_key})
    client = create_app(prod).test_client()
    assert _config(client.get("/m/").get_data(as_text=True)) == {"dev": False}
    assert client.post("/m/dev/login-code", json={}).status_code in (404, 405)
    assert client.post("/m/dev/phone-code", json={}).status_code in (404, 405)


def test_the_qr_endpoint_draws_only_links_into_this_front_end(client):
    png = client.post("/m/qr", json={"text": "http://localhost/m/#/accept?t=abcdefgh"})
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")
    for text in ("https://evil.example/m/", "http://localhost/api/v1/me", 5, "http://localhost/m/" + "x" * 400):
        assert client.post("/m/qr", json={"text": text}).status_code == 422


def test_every_ui_string_lives_in_strings_js():
    strings = (STATIC / "strings.js").read_text(encoding="utf-8")
    for name in ("app.js", "api.js"):
        code = re.sub(r"//.*", "", (STATIC / name).read_text(encoding="utf-8"))
        assert not CJK.search(code), f"{name} has its own text: {CJK.search(code)}"
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    for text in re.findall(r">([^<>]*[\u4e00-\u9fff][^<>]*)<", html):
        assert text.strip() in strings, f"index.html text not in strings.js: {text}"


def test_the_home_screen_weighs_less_than_150_kb():
    total = sum(p.stat().st_size for p in STATIC.iterdir() if p.suffix in (".html", ".js", ".css"))
    assert total <= 150 * 1024, total


def test_the_dev_helpers_want_json_so_a_cross_site_form_cannot_use_them(client, wechat):
    resp = client.post("/m/dev/login-code", data="openid=x", content_type="application/x-www-form-urlencoded")
    assert resp.status_code == 415


def test_the_verify_page_is_served_with_the_strict_policy_and_its_words_in_strings_js(client):
    page = client.get("/verify")
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert page.headers["Permissions-Policy"] == "camera=(self)"
    assert '<script type="module" src="/m/static/verify.js">' in page.get_data(as_text=True)
    strings = (STATIC / "strings.js").read_text(encoding="utf-8")
    for name in ("verify.js", "proofcheck.js"):
        code = re.sub(r"//.*", "", (STATIC / name).read_text(encoding="utf-8"))
        assert not CJK.search(code), f"{name} has its own text: {CJK.search(code)}"
    html = (STATIC / "verify.html").read_text(encoding="utf-8")
    for text in re.findall(r">([^<>]*[\u4e00-\u9fff][^<>]*)<", html):
        assert text.strip() in strings, f"verify.html text not in strings.js: {text}"
