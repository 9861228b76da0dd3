"""Request ids, security headers and the JSON-only rules for request bodies."""

from __future__ import annotations

import re
import secrets

from flask import Flask, g, request
from werkzeug.exceptions import UnsupportedMediaType

_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
_BODY_METHODS = {"POST", "PUT", "PATCH"}
_NON_JSON_PREFIXES = ("/api/v1/wechat/",)


def init_app(flask_app: Flask) -> None:
    @flask_app.before_request
    def _assign_request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _SAFE_ID.match(incoming) else secrets.token_hex(8)
        _require_json_body()

    @flask_app.after_request
    def _headers(response):
        response.headers["X-Request-ID"] = getattr(g, "request_id", "")
        response.headers["X-Content-Type-Options"] = "nosniff"
        if request.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response


def _require_json_body() -> None:
    """A body on a JSON endpoint must be JSON; an empty body is fine (e.g. one-tap confirm)."""
    if request.method not in _BODY_METHODS or not request.path.startswith("/api/"):
        return
    if request.path.startswith(_NON_JSON_PREFIXES):
        return
    if not request.content_length and not request.headers.get("Transfer-Encoding"):
        return
    mimetype = request.mimetype or ""
    if mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
        raise UnsupportedMediaType("Send the request body as application/json.")
