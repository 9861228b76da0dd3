"""The workbench (办理平台) at /staff/ (issue 12): static files (plain JavaScript modules and CSS, no build step)
under the same strict CSP as /m/. The pages call only the documented staff API (/api/v1/staff/…)."""

from __future__ import annotations

from flask import Blueprint

from app.web import STATIC, serve_page_and_static

STAFF_STATIC = STATIC / "staff"


def create_staff_blueprint() -> Blueprint:
    bp = Blueprint("staff_web", __name__, url_prefix="/staff")
    page = (STAFF_STATIC / "index.html").read_text(encoding="utf-8")

    serve_page_and_static(bp, page, STAFF_STATIC)
    return bp
