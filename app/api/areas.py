"""Area names (issue 12 item 10): `GET /api/v1/areas?codes=…` — code and name of districts, streets and
communities valid today, and the reception phone and address of their office where recorded (public reference data,
no personal data)."""

from __future__ import annotations

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from webargs.fields import DelimitedList

from app.api.schemas import Digits, StrictSchema
from app.db import SessionLocal

blp = Blueprint("areas", __name__, url_prefix="/api/v1/areas", description="Area names (区划名称)")


class AreaArgs(StrictSchema):
    codes = DelimitedList(Digits(validate=ma.validate.Length(6, 12), pattern=r"^[0-9]+\Z",
                                 pattern_error="an area code of 6, 9 or 12 digits"),
                          required=True, validate=ma.validate.Length(1, 100))


class AreaSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(allow_none=True, metadata={"description": "null when no name is known"})
    office_phone = ma.fields.String(allow_none=True, metadata={
        "description": "the office's reception phone (接待电话), null when none is recorded"})
    office_address = ma.fields.String(allow_none=True)


@blp.route("")
class Areas(MethodView):
    @blp.arguments(AreaArgs, location="query")
    @blp.response(200, AreaSchema(many=True))
    def get(self, args):
        """Names valid today of up to 100 codes (6, 9 or 12 ASCII digits), in the order asked, with their office's
        reception phone and address (null when not recorded)."""
        from flows import areas
        from flows.dates import today_shanghai

        found = areas.offices(SessionLocal(), args["codes"], today_shanghai())
        return [{"code": c, "name": found[c]["name"], "office_phone": found[c]["phone"],
                 "office_address": found[c]["address"]} for c in dict.fromkeys(args["codes"])]
