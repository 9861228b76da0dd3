"""Project subclasses of flask-smorest classes: one error body, `request_id`, `Allow` kept on 405."""

from __future__ import annotations

import json
import logging

import marshmallow as ma
from apispec import BasePlugin
from flask import g, request
from flask_smorest import Api, Blueprint  # noqa: F401  (re-exported)
from flask_smorest import pagination as fs_pagination
from sqlalchemy import bindparam, func, select
from webargs import core
from webargs.flaskparser import FlaskParser, is_json_request
from werkzeug.exceptions import HTTPException, InternalServerError, MethodNotAllowed
from werkzeug.http import HTTP_STATUS_CODES

from app.api.json_provider import one_value_a_key
from app.api.schemas import NO_NUL_PATTERN, AsciiInteger
from app.db import select_first, select_rows
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
    """The query schema of `@blp.paginate()` as the API reads it: ASCII digits only (after the full-width mapping),
    and `page` bounded (flask-smorest leaves it unbounded: a huge page overflows the database's OFFSET)."""

    class PaginationParametersSchema(ma.Schema):
        class Meta:
            unknown = ma.EXCLUDE

        page = AsciiInteger(load_default=def_page, validate=ma.validate.Range(min=1, max=MAX_PAGE))
        page_size = AsciiInteger(load_default=def_page_size,
                                      validate=ma.validate.Range(min=1, max=def_max_page_size))

        @ma.post_load
        def make_paginator(self, data, **kwargs):
            return fs_pagination.PaginationParameters(**data)

        def load_empty(self):
            """What `load({})` gives (SchemaReusingParser: a request without a query string)."""
            return fs_pagination.PaginationParameters(page=def_page, page_size=def_page_size)

    return PaginationParametersSchema


def _is_pagination_schema(argmap) -> bool:
    """The schema class `Blueprint.paginate()` passes to its parser (`PAGINATION_ARGUMENTS_PARSER`)."""
    return (isinstance(argmap, type) and issubclass(argmap, ma.Schema)
            and argmap.__module__ == fs_pagination.__name__ and {"page", "page_size"} <= set(argmap._declared_fields))


def _pagination_settings(argmap) -> tuple[int, int, int]:
    """(default page, default page size, largest page size) of flask-smorest's pagination schema class."""
    fields = argmap._declared_fields
    largest = next(v.max for v in fields["page_size"].validators if isinstance(v, ma.validate.Range))
    return fields["page"].load_default, fields["page_size"].load_default, largest


_SCALARS = (str, int, float, bool, type(None))


class SchemaReusingParser(FlaskParser):
    """webargs instantiates a Schema *class* on every request (marshmallow deep-copies every declared field
    for that); loading is stateless, so one instance per class serves every request and thread.

    A request without a query string gives a query schema nothing to load: what `load({})` returns is known in
    advance — a schema's own `load_empty()`, or, for a schema of optional fields with constant defaults and no
    hooks, those defaults — and is returned without marshmallow's walk over the fields."""

    _instances: dict[type, ma.Schema] = {}
    _empty_loaders: dict[object, object] = {}
    _paginations: dict[type, type] = {}

    def _raw_load_json(self, req):
        """webargs' reading of a JSON body, with one value a key (`json_provider.one_value_a_key`: a key named
        twice in one object is a 400 `invalid_json`)."""
        if not is_json_request(req):
            return core.missing
        data = req.get_data(cache=True)
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return core.parse_json(data)  # webargs' own error for bytes that are not UTF-8
        return json.loads(text, object_pairs_hook=one_value_a_key)

    def _own_pagination(self, argmap):
        """`Blueprint.paginate()` hands its parser a schema class of its own making: this parser reads the
        project's bounded one with the same defaults instead (`_bounded_pagination_schema`)."""
        own = self._paginations.get(argmap)
        if own is None:
            own = self._paginations.setdefault(argmap, _bounded_pagination_schema(*_pagination_settings(argmap)))
        return own

    def _get_schema(self, argmap, req):
        if isinstance(argmap, type) and issubclass(argmap, ma.Schema):
            schema = self._instances.get(argmap)
            if schema is None:
                schema = self._instances.setdefault(argmap, argmap())
            return schema
        return super()._get_schema(argmap, req)

    def parse(self, argmap, req=None, *, location=None, validate=None, **kwargs):
        req = req if req is not None else self.get_default_request()  # use_args (flask-smorest's arguments) passes None
        own = self._paginations.get(argmap) if isinstance(argmap, type) else None  # seen: one look-up
        if own is not None:
            argmap = own
        elif _is_pagination_schema(argmap):
            argmap = self._own_pagination(argmap)
        declared = isinstance(argmap, ma.Schema) or isinstance(argmap, type) and issubclass(argmap, ma.Schema)
        if declared and location == "query" and validate is None and not req.args:
            schema = self._get_schema(argmap, req)  # (a dict argmap would be a new class each time: not cached)
            load_empty = self._empty_loaders.get(argmap, False)  # per declared class or instance (its options)
            if load_empty is False:
                load_empty = self._empty_loaders.setdefault(argmap, _empty_loader(schema))
            if load_empty is not None:
                return load_empty()
        return super().parse(argmap, req, location=location, validate=validate, **kwargs)


def _empty_loader(schema: ma.Schema):
    """A callable giving `schema.load({})`, or None when that cannot be known without loading."""
    own = getattr(schema, "load_empty", None)
    if own is not None:
        return own
    if schema.many or any(schema._hooks.values()):
        return None
    defaults = {}
    for name, field in schema.load_fields.items():
        if field.required or type(field.load_default) not in _SCALARS and field.load_default is not ma.missing:
            return None
        if field.load_default is not ma.missing:
            defaults[field.attribute or name] = field.load_default
    return lambda: dict(defaults)


def _pagination_metadata(page, page_size, item_count):
    """flask-smorest's X-Pagination object, built directly (its PaginationMetadataSchema only copies ints)."""
    meta = {"total": item_count}
    if item_count == 0:
        meta["total_pages"] = 0
        return meta
    last_page = (item_count - 1) // page_size + 1
    meta.update(total_pages=last_page, first_page=1, last_page=last_page)
    if page <= last_page:
        meta["page"] = page
        if page > 1:
            meta["previous_page"] = page - 1
        if page < last_page:
            meta["next_page"] = page + 1
    return meta


Blueprint.ARGUMENTS_PARSER = SchemaReusingParser()
Blueprint.PAGINATION_ARGUMENTS_PARSER = SchemaReusingParser()
Blueprint._make_pagination_metadata = staticmethod(_pagination_metadata)

PAGINATION_HEADER_DOC = {
    "description": "Pagination metadata as a JSON object: total, total_pages, first_page, last_page, page, "
    "previous_page, next_page",
    "schema": {"type": "string"},
}


class SchemaExtrasPlugin(BasePlugin):
    """What marshmallow cannot say about a schema (e.g. "exactly one of these two fields", a `validates_schema`
    rule) joins its OpenAPI component from the schema's `Meta.openapi_extra` (apispec's public plugin hook), so
    that clients and fuzzers see the contract the API enforces."""

    def schema_helper(self, name, definition, **kwargs):
        schema = kwargs.get("schema")
        cls = schema if isinstance(schema, type) else type(schema)
        return dict(getattr(getattr(cls, "Meta", None), "openapi_extra", None) or {})

    def operation_helper(self, path=None, operations=None, **kwargs):
        """A free-text query parameter says that it holds no NUL character: every request is refused with one
        (app/api/request_context.py), since no stored text or id can hold it. A list's `page` says its bound."""
        for operation in (operations or {}).values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                schema = parameter.get("schema") if isinstance(parameter, dict) else None
                if (parameter.get("in") == "query" and parameter.get("name") == "page" and isinstance(schema, dict)
                        and schema.get("type") == "integer"):
                    schema["maximum"] = MAX_PAGE  # the bound the pagination parser holds (SchemaReusingParser)
                if (parameter.get("in") == "query" and isinstance(schema, dict) and schema.get("type") == "string"
                        and not {"pattern", "enum", "format"} & set(schema)):
                    schema["pattern"] = NO_NUL_PATTERN


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
        route = request.url_rule.rule if request.url_rule is not None else "<unmatched>"  # never the raw path
        log.exception("unhandled error on %s %s", request.method, route)
        return self.handle_http_exception(InternalServerError())


_PAGED: dict = {}  # a statement built once → (its paged form with LIMIT and OFFSET bound, its count, Core only?)


def page_of(session, query, pagination_parameters, *, rows: bool = False, params: dict | None = None) -> list:
    """One page of a SELECT for `@blp.paginate()`, with the total for `X-Pagination`.

    The page is read first; the total is counted by a second query only when the page cannot tell it (a
    full page, or an empty page past the first): a partial page ends the list, so total = offset + its rows.
    Returns ORM objects (scalars), or whole result rows when `rows=True` (a query over several entities, or Core).
    With `params`, `query` is a statement built once per process with bound parameters: its paged form and its
    count are kept too, so neither is rebuilt, and one over table columns only runs straight on the driver
    (`app.db.select_rows`).
    """
    size, offset = pagination_parameters.page_size, pagination_parameters.first_item
    core, counted = False, None  # core: plain table columns only, run without the ORM's dispatch
    if params is None:
        page, bind = query.limit(size).offset(offset), {}
    else:
        page, counted, core = _PAGED.get(query) or (None, None, False)
        if page is None:
            core = rows and all("entity" not in column for column in query.column_descriptions)
            page, counted, core = _PAGED.setdefault(query, (
                query.limit(bindparam("page_limit")).offset(bindparam("page_offset")), _count_of(query), core))
        bind = {**params, "page_limit": size, "page_offset": offset}
    if core:
        items = select_rows(session, page, bind)
    else:
        items = session.execute(page, bind).all() if rows else session.scalars(page, bind).all()
    if 0 < len(items) < size or (not items and offset == 0):
        pagination_parameters.item_count = offset + len(items)
    elif core:
        pagination_parameters.item_count = select_first(session, counted, params)[0]
    else:
        pagination_parameters.item_count = session.execute(counted if counted is not None else _count_of(query),
                                                           params or {}).scalar()
    return items


def _count_of(query):
    return select(func.count().label("total")).select_from(query.order_by(None).subquery())
