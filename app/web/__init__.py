"""The phone-first H5 front end at /m/: static files (plain JavaScript modules and CSS, no build step).

- `GET /m/` — the single page; the only server-side value put into it is `{"dev": true|false}`.
- `GET /m/static/<file>` — modules, CSS, strings; revalidated with ETags.
- `GET /verify` — the page that checks a proof-of-benefit code (verify.html, verify.js, proofcheck.js).
- `POST /m/qr {text}` — a PNG QR code of a link into this front end (the invitation link), nothing else.
- development only (absent in production): `POST /m/dev/login-code {openid?}` and
  `POST /m/dev/phone-code {openid, phone}` forward to the mock WeChat console, because a browser outside
  WeChat has no `wx.login` nor `getPhoneNumber`. The sign-in screen labels this "开发环境:模拟微信登录".
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import qrcode
import requests
from flask import Blueprint, Flask, abort, current_app, jsonify, request, send_from_directory

HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
       "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'")


def _cfg():
    return current_app.extensions["zerotrip_config"]


def _secure(response):
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def serve_page_and_static(bp: Blueprint, page: str, directory) -> None:
    """The app's one page at `/` and its files at `/static/…`, revalidated on every load, under the strict CSP."""

    @bp.get("/")
    def index():
        response = current_app.response_class(page, mimetype="text/html")
        response.headers["Cache-Control"] = "no-cache"
        return _secure(response)

    @bp.get("/static/<path:name>")
    def static(name: str):
        response = send_from_directory(directory, name, max_age=0)
        response.headers["Cache-Control"] = "no-cache"
        return _secure(response)


def create_blueprint(dev: bool) -> Blueprint:
    bp = Blueprint("web", __name__, url_prefix="/m")
    index_template = (STATIC / "index.html").read_text(encoding="utf-8")
    page = index_template.replace("{{CONFIG}}", json.dumps({"dev": dev}))

    serve_page_and_static(bp, page, STATIC)

    @bp.post("/qr")
    def qr():
        text = (request.get_json(silent=True) or {}).get("text")
        prefix = request.host_url.rstrip("/") + "/m/"
        if not isinstance(text, str) or not text.startswith(prefix) or len(text) > 300:
            abort(422)
        code = qrcode.QRCode(border=2, box_size=8)
        code.add_data(text)
        buffer = io.BytesIO()
        code.make_image().save(buffer)
        response = current_app.response_class(buffer.getvalue(), mimetype="image/png")
        response.headers["Cache-Control"] = "no-store"
        return response

    if dev:
        @bp.post("/dev/login-code")
        def dev_login_code():
            """Development only: what wx.login would give (a login code from the mock WeChat)."""
            openid = (request.get_json(silent=True) or {}).get("openid")
            body = {"openid": openid} if isinstance(openid, str) and 0 < len(openid) <= 64 else {}
            return _forward("/__mock__/login-code", body)

        @bp.post("/dev/phone-code")
        def dev_phone_code():
            """Development only: what getPhoneNumber would give (a phone code from the mock WeChat)."""
            data = request.get_json(silent=True) or {}
            body = {k: data[k] for k in ("openid", "phone") if isinstance(data.get(k), str) and len(data[k]) <= 64}
            return _forward("/__mock__/phone-code", body)

    return bp


def _forward(path: str, body: dict):
    if not request.is_json:  # a cross-site form post cannot mint codes
        return jsonify({"code": 415, "status": "Unsupported Media Type", "message": "send JSON"}), 415
    cfg = _cfg()
    try:
        upstream = requests.post(cfg.wechat_api_base.rstrip("/") + path, json=body, timeout=cfg.http_timeout)
    except requests.RequestException:
        return jsonify({"code": 503, "status": "Service Unavailable", "message": "mock WeChat unreachable"}), 503
    if upstream.status_code != 200:
        return jsonify({"code": 422, "status": "Unprocessable Entity", "message": "mock WeChat refused"}), 422
    return jsonify(upstream.json())


def create_verify_blueprint() -> Blueprint:
    """`GET /verify`: the page that checks a proof-of-benefit code (docs/proof.md), offline with the trust list.
    Its camera is for this origin only; the rest of the policy is the front end's."""
    bp = Blueprint("verify_page", __name__)
    page = (STATIC / "verify.html").read_text(encoding="utf-8")

    @bp.get("/verify")
    def verify():
        response = current_app.response_class(page, mimetype="text/html")
        response.headers["Cache-Control"] = "no-cache"
        response.headers["Permissions-Policy"] = "camera=(self)"
        return _secure(response)

    return bp


def init_web(flask_app: Flask, cfg) -> None:
    """Serve /m/ and /verify; the development sign-in helpers exist only outside production."""
    flask_app.register_blueprint(create_blueprint(dev=cfg.env != "production"))
    flask_app.register_blueprint(create_verify_blueprint())
    from app.web.staff import create_staff_blueprint  # the workbench at /staff/ (issue 12)

    flask_app.register_blueprint(create_staff_blueprint())
