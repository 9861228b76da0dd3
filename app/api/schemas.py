"""Marshmallow schemas: the API contract. Unknown fields in requests are rejected."""

from __future__ import annotations

from datetime import UTC

import marshmallow as ma
from marshmallow import validate

NO_NUL = validate.Regexp(r"^[^\x00]*$", error="NUL characters are not allowed.")


class UtcDateTime(ma.fields.DateTime):
    """Timestamps are stored as naive UTC; they go out as RFC 3339 with an offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE


class AccountSchema(ma.Schema):
    id = ma.fields.String(required=True)
    bound = ma.fields.Boolean(required=True)
    identity_status = ma.fields.String(required=True, metadata={"enum": ["unbound", "bound", "pending_staff_verification"]})
    created_at = UtcDateTime(required=True)


class ResidentSummarySchema(ma.Schema):
    name = ma.fields.String(required=True)
    id_number_masked = ma.fields.String(required=True)
    sex = ma.fields.String(required=True)
    birth_date = ma.fields.Date(required=True)
    age = ma.fields.Integer(required=True)
    district_code = ma.fields.String(required=True)
    street_code = ma.fields.String(required=True)
    community_code = ma.fields.String(required=True)
    phone_masked = ma.fields.String(allow_none=True)


class MeSchema(ma.Schema):
    account = ma.fields.Nested(AccountSchema, required=True)
    resident = ma.fields.Nested(ResidentSummarySchema, allow_none=True, required=True)
