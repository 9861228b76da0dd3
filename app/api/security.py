"""Authentication for views: `@auth_required(blp)` documents bearer auth and 401, and loads the caller."""

from __future__ import annotations

import functools

from flask import current_app, g, request

from app.api import tokens
from app.api.base import ErrorSchema
from app.db import SessionLocal
from app.errors import Unauthorized


def config():
    return current_app.extensions["zerotrip_config"]


def current_account():
    return g.account


def current_auth_session():
    return g.auth_session


def client_ip() -> str:
    return request.remote_addr or "unknown"


def _bearer() -> str:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("Sign in first: send `Authorization: Bearer <access_token>`.")
    return value.strip()


def authenticate() -> None:
    account, auth = tokens.verify_access_token(SessionLocal(), config(), _bearer())
    g.account, g.auth_session = account, auth


def auth_required(blp):
    """Decorator factory: `@auth_required(blp)` on a MethodView method."""

    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            authenticate()
            return fn(*args, **kwargs)

        documented = blp.doc(security=[{"bearerAuth": []}])(wrapper)
        return blp.alt_response(401, schema=ErrorSchema, description="Missing, invalid or expired access token")(documented)

    return decorator
