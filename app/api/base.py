"""Project subclasses of flask-smorest classes: one error body, `request_id`, `Allow` kept on 405."""

from __future__ import annotations

import logging

import marshmallow as ma
from flask import g, request
from flask_smorest import Api, Blueprint  # noqa: F401  (re-exported)
from flask_smorest import pagination as fs_pagination
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES

from app.api.schemas import AsciiInteger
from app.errors import DomainError

log = logging.getLogger("zerotrip.api")


class ErrorSchema(ma.Schema):
    """Every 4xx/5xx body."""

    code = ma.fields.Integer(required=True)
    status = ma.fields.String(required=True)
    message = ma.fields.String()
    error_code = ma.fields.String(metadata={"description": "A stable reason for refusals a client must tell apart, "
                                            "e.g. `objection_exists` on a 409 (see each operation's 409)"})
    errors = ma.fields.Dict()
    request_id = ma.fields.String()


MAX_PAGE = 100_000


def _bounded_pagination_schema(def_page, def_page_size, def_max_page_size):
    """flask-smorest leaves `page` unbounded: a huge page overflows the database's OFFSET. Cap it (documented)."""

    class PaginationParametersSchema(ma.Schema):
        class Meta:
            unknown = ma.EXCLUDE

        page = AsciiInteger(load_default=def_page, validate=ma.validate.Range(min=1, max=MAX_PAGE))
        page_size = AsciiInteger(load_default=def_page_size,
                                      validate=ma.validate.Range(min=1, max=def_max_page_size))

        @ma.post_load
        def make_paginator(self, data, **kwargs):
            return fs_pagination.PaginationParameters(**data)

    return PaginationParametersSchema


fs_pagination._pagination_parameters_schema_factory = _bounded_pagination_schema

PAGINATION_HEADER_DOC = {
    "description": "Pagination metadata as a JSON object: total, total_pages, first_page, last_page, page, "
    "previous_page, next_page",
    "schema": {"type": "string"},
}


class ZeroTripApi(Api):
    ERROR_SCHEMA = ErrorSchema

    def _register_pagination_header(self):
        self.spec.components.header("PAGINATION", PAGINATION_HEADER_DOC, lazy=True)

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
        if error.error_code:
            payload["error_code"] = error.error_code
        if error.errors:
            payload["errors"] = error.errors
        return payload, error.status, error.headers

    def handle_unexpected(self, error: Exception):
        if isinstance(error, HTTPException):
            return self.handle_http_exception(error)
        log.exception("unhandled error on %s %s", request.method, request.path)
        return self.handle_http_exception(InternalServerError())


def page_of(session, query, pagination_parameters, *, rows: bool = False) -> list:
    """One page of a SELECT for `@blp.paginate()`: counts the whole query (for `X-Pagination`), then limits.

    Returns ORM objects (scalars), or whole result rows when `rows=True` (a query over several entities).
    """
    pagination_parameters.item_count = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    page = query.limit(pagination_parameters.page_size).offset(pagination_parameters.first_item)
    return session.execute(page).all() if rows else session.scalars(page).all()
