"""Project subclasses of flask-smorest classes: one error body, `request_id`, `Allow` kept on 405."""

from __future__ import annotations

import logging

import marshmallow as ma
from flask import g, request
from flask_smorest import Api, Blueprint  # noqa: F401  (re-exported)
from werkzeug.http import HTTP_STATUS_CODES
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed

from app.errors import DomainError

log = logging.getLogger("zerotrip.api")


class ErrorSchema(ma.Schema):
    """Every 4xx/5xx body."""

    code = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True)
    message = ma.fields.String()
    errors = ma.fields.Dict()
    request_id = ma.fields.String()


class ZeroTripApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_error_handlers(self):
        super()._register_error_handlers()
        self._app.register_error_handler(DomainError, self.handle_domain_error)
        self._app.register_error_handler(Exception, self.handle_unexpected)

    def handle_http_exception(self, error: HTTPException):
        payload, code, headers = super().handle_http_exception(error)
        headers = dict(headers or {})
        if isinstance(error, MethodNotAllowed) and error.valid_methods:
            headers["Allow"] = ", ".join(sorted(error.valid_methods))
        if code == 400 and "message" not in payload:
            payload["message"] = "The request body is not valid JSON."
        if "message" not in payload:
            payload["message"] = error.description or error.name
        payload["request_id"] = getattr(g, "request_id", "")
        return payload, code, headers

    def handle_domain_error(self, error: DomainError):
        payload = {
            "code": error.status,
            "status": HTTP_STATUS_CODES.get(error.status, error.code_name),
            "message": error.message,
            "request_id": getattr(g, "request_id", ""),
        }
        if error.errors:
            payload["errors"] = error.errors
        return payload, error.status, error.headers

    def handle_unexpected(self, error: Exception):
        if isinstance(error, HTTPException):
            return self.handle_http_exception(error)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return self.handle_http_exception(InternalServerError())
