"""Marshmallow schemas: the API contract. Unknown fields in requests are rejected."""

from __future__ import annotations

from datetime import UTC

import marshmallow as ma
from marshmallow import validate

from app import digits
from app.blank_text import BLANK_DRAWN

NO_NUL_PATTERN = r"^[^\x00]*$"
NO_NUL = validate.Regexp(NO_NUL_PATTERN, error="NUL characters are not allowed.")
# A reason someone must give (a reassignment, a decision): two visible characters at least — spaces and invisible
# characters (zero-width, BOM) alone say nothing — and no NUL. One pattern: the OpenAPI document shows one.
# The direction controls show nothing either, and the letters drawn blank are app.blank_text's (written as \u
# escapes, so that the OpenAPI document shows them).
_BLANK_DRAWN = r"\s" + "".join(f"\\u{ord(ch):04x}" for ch in sorted(BLANK_DRAWN))
_VISIBLE = rf"[^\x00\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff{_BLANK_DRAWN}]"
GIVEN_REASON = validate.Regexp(rf"^[^\x00]*{_VISIBLE}[^\x00]*{_VISIBLE}[^\x00]*$",
                               error="Give the reason in words (at least two visible characters).")
# A person's name: something visible, and no format character (zero-width, direction controls, BOM) or NUL.
_NOT_IN_NAME = r"\x00-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff"
SEEN_NAME = validate.Regexp(rf"^[{_BLANK_DRAWN}]*[^{_BLANK_DRAWN}{_NOT_IN_NAME}][^{_NOT_IN_NAME}]*$",
                            error="Write the name in visible characters, without zero-width or direction characters.")

DIGITS_ONLY = "Write numbers with the digits 0-9 (full-width ０-９ are accepted); {char} is not one of them."
# Marks every request field that holds a number (OpenAPI extension): the digit tests find them by it.
DIGITS_MARK = "x-ascii-digits"
# An ID number as typed: 17 digits and a check character, full-width accepted, spaces around ignored.
ID_INPUT = r"^\s*[0-9０-９]{17}[0-9０-９XxＸｘ]\s*$"
# The OpenAPI format of an ID number input (a custom one: fuzzers register a generator of valid numbers for it).
ID_FORMAT = "cn-resident-id"
ID_DESCRIPTION = ("A resident ID number (GB 11643): 6-digit area code, birth date YYYYMMDD (not in the future), 3-digit "
                  "sequence, ISO 7064 MOD 11-2 check character (0-9 or X). Full-width digits and Ｘ/ｘ/x are read. A "
                  "number of the right shape whose check character or birth date is wrong is 422 with its reason "
                  "(ID_CHECKSUM, ID_BIRTH_DATE_INVALID, ID_BIRTH_DATE_FUTURE).")


def reason_field(longest: int, **kwargs) -> ma.fields.String:
    """A required reason of 2 to `longest` characters, two of them visible (`GIVEN_REASON`)."""
    return ma.fields.String(required=True, validate=[validate.Length(2, longest), GIVEN_REASON], **kwargs)


def _refuse_digit(field_name: str, ch: str) -> None:
    """One security log line for a refused non-ASCII digit (the value itself is never logged)."""
    from flask import g, has_request_context, request

    from app.api.security import client_ip
    from app.security_log import refused

    account = getattr(g, "account", None) if has_request_context() else None
    refused("ascii_digits", actor=getattr(account, "id", None),
            address=client_ip() if has_request_context() else None, field=field_name,
            char=digits.describe(ch), path=request.path if has_request_context() else "-")


class Digits(ma.fields.String):
    """A string of digits: full-width ０-９ (and for ID numbers Ｘ/ｘ/x) mapped to ASCII, any other digit →
    422 (app/digits.py). `pattern` (e.g. digits.AMOUNT) is checked and published in the OpenAPI document
    with full-width digits allowed wherever it allows 0-9 (it describes what a client may send)."""

    def __init__(self, *args, pattern: str | None = None, pattern_error: str | None = None,
                 id_number: bool = False, **kwargs):
        validators = kwargs.pop("validate", None) or []
        validators = list(validators) if isinstance(validators, list | tuple) else [validators]
        if pattern:  # the one published pattern (it excludes NUL too, so other Regexp validators go)
            pattern = pattern.replace("[0-9]", "[0-9０-９]").replace("[0-9 ]", "[0-9０-９ ]")
            validators = [validate.Regexp(pattern, error=pattern_error or "Not in the expected form."),
                          *(v for v in validators if not isinstance(v, validate.Regexp))]
        kwargs["metadata"] = {**kwargs.get("metadata", {}), DIGITS_MARK: True}
        if id_number:  # what no pattern can say: the check character and the birth date (ID_FORMAT ... → 422)
            kwargs["metadata"] = {"format": ID_FORMAT, "description": ID_DESCRIPTION, **kwargs["metadata"]}
        super().__init__(*args, validate=validators, **kwargs)
        self.id_number = id_number

    def _deserialize(self, value, attr, data, **kwargs):
        text = super()._deserialize(value, attr, data, **kwargs)
        text = digits.id_to_ascii(text) if self.id_number else digits.to_ascii(text)
        bad = digits.foreign_digit(text)
        if bad is not None:
            _refuse_digit(self.data_key or self.name or attr or "?", bad)
            raise ma.ValidationError(DIGITS_ONLY.format(char=digits.describe(bad)))
        return text


class AsciiInteger(ma.fields.Integer):
    """An integer; given as a string (query parameters), only ASCII digits (after the full-width mapping):
    `int()` alone would take "٣" or "３" and, through `Decimal`, exponents. A JSON number with a fraction
    (7.5) is refused, not cut to 7 as marshmallow's Integer does; 7.0 is 7."""

    def _validated(self, value):
        if isinstance(value, float) and not value.is_integer():
            raise self.make_error("invalid")
        if isinstance(value, str):
            text = digits.to_ascii(value)
            bad = digits.foreign_digit(text)
            if bad is not None:
                _refuse_digit(self.data_key or self.name or "?", bad)
                raise ma.ValidationError(DIGITS_ONLY.format(char=digits.describe(bad)))
            if not digits.is_ascii_digits(text.removeprefix("-")):
                raise self.make_error("invalid")
            value = text
        return super()._validated(value)


class JsonBoolean(ma.fields.Boolean):
    """true or false, as JSON writes them: not "yes", "no", 1, 0 or "0" (marshmallow's Boolean takes all of
    these, so that "no" for a checklist item read false, and an unticked item decides a case)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


class UtcDateTime(ma.fields.DateTime):
    """Timestamps are stored as naive UTC; they go out as RFC 3339 with an offset."""

    def _serialize(self, value, attr, obj, **kwargs):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return super()._serialize(value, attr, obj, **kwargs)


class StrictSchema(ma.Schema):
    class Meta:
        unknown = ma.RAISE

    @ma.pre_load
    def _json_types(self, data, **_kwargs):
        """In a JSON body a number is a JSON number and a boolean a JSON boolean, as the OpenAPI document says:
        marshmallow alone would read `"39.9"` or `"yes"` too. (Query parameters arrive as text and are read as
        such: webargs hands them over as a MultiDictProxy, a JSON object arrives as a dict. An `AsciiInteger` is
        a count typed into a form and also reads its digits as text, full-width ones included.)"""
        if type(data) is not dict:
            return data
        errors = {}
        for name, field in self.load_fields.items():
            key = field.data_key or name
            value = data.get(key)
            if value is None:
                continue
            if isinstance(field, ma.fields.Boolean) and not isinstance(value, bool):
                errors[key] = ["Not a valid boolean: give true or false."]
            elif (isinstance(field, ma.fields.Number) and not isinstance(field, AsciiInteger)
                  and (isinstance(value, bool) or not isinstance(value, int | float))):
                errors[key] = ["Not a valid number: give a JSON number."]
        if errors:
            raise ma.ValidationError(errors)
        return data


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
    district_name = ma.fields.String(allow_none=True, metadata={"description": "null when no name is known"})
    street_name = ma.fields.String(allow_none=True)
    community_name = ma.fields.String(allow_none=True)
    phone_masked = ma.fields.String(allow_none=True)


class MeSchema(ma.Schema):
    account = ma.fields.Nested(AccountSchema, required=True)
    resident = ma.fields.Nested(ResidentSummarySchema, allow_none=True, required=True)
