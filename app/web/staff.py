"""The workbench (办理平台) at /staff/ (issue 12): static files (plain JavaScript modules and CSS, no build step)
under the same strict CSP as /m/. The pages call only the documented staff API (/api/v1/staff/…)."""

from __future__ import annotations

from flask import Blueprint, current_app, send_from_directory

from app.web import STATIC, _secure

STAFF_STATIC = STATIC / "staff"


def create_staff_blueprint() -> Blueprint:
    bp = Blueprint("staff_web", __name__, url_prefix="/staff")
    page = (STAFF_STATIC / "index.html").read_text(encoding="utf-8")

    @bp.get("/")
    def index():
        response = current_app.response_class(page, mimetype="text/html")
        response.headers["Cache-Control"] = "no-cache"
        return _secure(response)

    @bp.get("/static/<path:name>")
    def static(name: str):
        response = send_from_directory(STAFF_STATIC, name, max_age=0)
        response.headers["Cache-Control"] = "no-cache"
        return _secure(response)

    return bp
