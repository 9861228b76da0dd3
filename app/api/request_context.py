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
        _reject_unknown_query_parameters(flask_app)

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


_PATH_PARAM = re.compile(r"<(?:[^:<>]+:)?([^<>]+)>")


def _allowed_query(flask_app: Flask) -> dict[tuple[str, str], set[str]]:
    """(OpenAPI path, method) → the documented query parameter names, read once from the spec."""
    cached = flask_app.extensions.get("zerotrip_query_params")
    if cached is None:
        spec = flask_app.extensions["zerotrip_api"].spec.to_dict()
        cached = {}
        for path, item in spec.get("paths", {}).items():
            for method, op in item.items():
                if isinstance(op, dict) and method.isalpha():
                    names = {p.get("name") for p in op.get("parameters", []) if p.get("in") == "query"}
                    cached[(path, method.upper())] = names
        flask_app.extensions["zerotrip_query_params"] = cached
    return cached


def _reject_unknown_query_parameters(flask_app: Flask) -> None:
    """A query parameter the operation does not document is an error, not something to ignore."""
    if not request.args or request.url_rule is None or not request.path.startswith("/api/"):
        return
    path = _PATH_PARAM.sub(r"{\1}", request.url_rule.rule)
    allowed = _allowed_query(flask_app).get((path, request.method))
    if allowed is None:
        return
    unknown = sorted(set(request.args) - allowed)
    if unknown:
        from app.errors import Unprocessable

        raise Unprocessable("Unknown query parameters.", errors={"query": {name[:64]: ["Unknown field."] for name in unknown[:10]}})
