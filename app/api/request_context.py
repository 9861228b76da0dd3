"""Request ids, security headers and the JSON-only rules for request bodies.

Bodies: at most MAX_CONTENT_LENGTH (2 MiB) → else 413; a JSON body (a JSON media type, or a route that
parses its body as JSON whatever the header, like the WeChat event webhook) nested deeper than 32 levels or
holding more than 10,000 values → 400 `invalid_json`, checked over the bytes before the parser runs
(app/jsonscan.py). Both refusals write one security log line.
"""

from __future__ import annotations

import random
import re

from flask import Flask, current_app, g, request
from werkzeug.exceptions import NotFound, RequestEntityTooLarge, UnsupportedMediaType

from app import jsonscan
from app.errors import DomainError
from app.security_log import refused


def _client_address() -> str:
    """The client's address as the limits see it (a trusted proxy's X-Forwarded-For read), for a refusal's line."""
    from app.api.security import client_ip  # the request hooks load before the API's modules

    return client_ip()


# A caller's X-Request-ID is kept when it is a label: letters among its characters, no run of 11 digits (a phone,
# an ID number) and not a token — it is written into every log line of the request.
_SAFE_ID = re.compile(r"^(?=.*[A-Za-z])(?!.*[0-9]{11})(?!.*eyJ)[A-Za-z0-9._-]{8,64}\Z")
_BODY_METHODS = {"POST", "PUT", "PATCH"}
_NON_JSON_PREFIXES = ("/api/v1/wechat/",)
# Routes that parse any body as JSON (request.get_json(force=True)), whatever its media type.
_FORCED_JSON_PATHS = ("/api/v1/wechat/events",)
# Uploads of a home visit's photos and signatures: the image itself as the body (≤ 10 MiB, checked by content).
_UPLOAD_PATH = re.compile(r"^/api/v1/staff/applications/[^/]+/visit-files\Z")
UPLOAD_MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp")
UPLOAD_LIMIT = 10 * 1024 * 1024
# Routes that take an uploaded file (multipart/form-data): the counter's consent image with a confirmation or a
# started application or an appeal (issue 13).
_MULTIPART_PATHS = re.compile(r"^/api/v1/staff/counter/visits/[^/]{1,200}/(confirm|applications|appeals)\Z")


def init_app(flask_app: Flask) -> None:
    @flask_app.before_request
    def _assign_request_id():
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _SAFE_ID.match(incoming) else new_request_id()
        _refuse_nul_in_address()
        _require_json_body()
        _bound_json_body()
        _reject_unknown_query_parameters(flask_app)

    @flask_app.after_request
    def _headers(response):
        response.headers["X-Request-ID"] = getattr(g, "request_id", "")
        response.headers["X-Content-Type-Options"] = "nosniff"
        if request.path.startswith("/api/"):
            response.headers["Cache-Control"] = "no-store"
        return response


def new_request_id() -> str:
    """16 hex digits from the process's own generator: a request id is a label to find log lines by, not a
    secret, so it needs no system call (`secrets` reads the kernel's generator on every request, releasing the
    interpreter lock to other threads each time). `random` reseeds itself in a forked child, so gunicorn's
    workers do not repeat each other's ids."""
    return f"{random.getrandbits(64):016x}"


def _refuse_nul_in_address() -> None:
    """A NUL character (`%00`) can be in no id and no stored text (PostgreSQL refuses it): in the path, nothing
    is there (404); in a query parameter, the value is wrong (422)."""
    if "\x00" in request.path:
        raise NotFound("No such resource.")
    if "%00" in request.query_string.decode("latin-1"):
        bad = sorted({name[:64].replace("\x00", "") or "?" for name, value in request.args.items(multi=True)
                      if "\x00" in name or "\x00" in value})
        if bad:
            from app.errors import Unprocessable

            raise Unprocessable("A query parameter holds a NUL character.",
                                errors={"query": {name: ["NUL characters are not allowed."] for name in bad[:10]}})


def _require_json_body() -> None:
    """A body on a JSON endpoint must be JSON; an empty body is fine (e.g. one-tap confirm)."""
    if request.method not in _BODY_METHODS or not request.path.startswith("/api/"):
        return
    if request.path.startswith(_NON_JSON_PREFIXES):
        return
    if not request.content_length and not request.headers.get("Transfer-Encoding"):
        return
    mimetype = request.mimetype or ""
    if _UPLOAD_PATH.match(request.path):
        if mimetype not in UPLOAD_MEDIA_TYPES:
            raise UnsupportedMediaType("Send the image itself as the body (image/jpeg, image/png or image/webp).")
        return
    if mimetype == "multipart/form-data" and _MULTIPART_PATHS.match(request.path):
        return
    if mimetype and mimetype != "application/json" and not mimetype.endswith("+json"):
        if _MULTIPART_PATHS.match(request.path):  # a form with a file (the resident's consent)
            raise UnsupportedMediaType("Send the form as multipart/form-data, with the consent file in it.")
        raise UnsupportedMediaType("Send the request body as application/json.")


def _bound_json_body() -> None:
    """413 over the size limit; 400 `invalid_json` when a JSON body is too deep or has too many values."""
    if request.method not in _BODY_METHODS and request.method != "DELETE":
        return
    limit = request.max_content_length or current_app.config.get("MAX_CONTENT_LENGTH")
    if _UPLOAD_PATH.match(request.path):
        limit = request.max_content_length = UPLOAD_LIMIT
    if limit and request.content_length and request.content_length > limit:
        refused("body_size", address=_client_address(), path=request.path, limit=limit)
        raise RequestEntityTooLarge(f"The request body is larger than {limit} bytes.")
    mimetype = request.mimetype or ""
    if not (mimetype == "application/json" or mimetype.endswith("+json") or request.path in _FORCED_JSON_PATHS):
        return
    try:
        data = request.get_data(cache=True)
        if limit and request.content_length is None and len(data) >= limit and request.environ["wsgi.input"].read(1):
            # a chunked body (no Content-Length) is cut at the limit by Werkzeug, silently: more is still coming
            raise RequestEntityTooLarge(f"The request body is larger than {limit} bytes.")
    except RequestEntityTooLarge:
        refused("body_size", address=_client_address(), path=request.path, limit=limit)
        raise
    try:
        jsonscan.check(data)
    except jsonscan.JsonTooComplex as exc:
        refused("json_limits", address=_client_address(), path=request.path, why=str(exc).replace(" ", "_"))
        raise DomainError(f"The request body is not acceptable JSON: {exc}.", error_code="invalid_json") from None


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
