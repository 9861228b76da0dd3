"""Authentication for staff views: `@staff_required(blp, roles=…)`. Staff tokens carry the audience
"zerotrip-staff"; citizen tokens are refused here, and staff tokens on citizen routes."""

from __future__ import annotations

import functools

from flask import g
from sqlalchemy import select

from app.api import tokens
from app.api.base import ErrorSchema
from app.api.security import _bearer, config
from app.db import SessionLocal
from app.errors import Forbidden, Unauthorized
from app.models import StaffMember


def authenticate_staff() -> StaffMember:
    session = SessionLocal()
    principal = tokens.verify_access(session, config(), _bearer(), audience=tokens.STAFF_AUDIENCE)
    staff = session.execute(select(StaffMember).where(StaffMember.account_id == principal.account_id)).scalar()
    if staff is None:
        raise Unauthorized("The access token is not valid.")
    g.principal, g.staff = principal, staff
    return staff


def current_staff() -> StaffMember:
    return g.staff


def staff_required(blp, roles: tuple[str, ...] | None = None, before_password_change: bool = False):
    """Decorator factory: staff bearer auth, optionally restricted to some roles (403 otherwise). A staff member
    who must change her password (first sign-in, or reset by an admin) is refused everywhere but the routes
    marked `before_password_change` (403 `password_change_required`)."""

    def decorator(fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            staff = authenticate_staff()
            if roles and staff.role not in roles:
                raise Forbidden("Your role does not allow this.")
            if staff.must_change_password and not before_password_change:
                raise Forbidden("Change your password first (first sign-in or a reset by an administrator).",
                                error_code="password_change_required")
            return fn(*args, **kwargs)

        documented = blp.doc(security=[{"bearerAuth": []}])(wrapper)
        documented = blp.alt_response(403, schema=ErrorSchema, description="Role not allowed")(documented)
        return blp.alt_response(401, schema=ErrorSchema, description="Missing, invalid or expired staff token")(
            documented)

    return decorator
