"""Public service guides (办事指南) per program."""

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from app.api.base import ErrorSchema
from app.db import SessionLocal
from app.errors import NotFound
from flows import parameters, programs

blp = Blueprint("programs", __name__, url_prefix="/api/v1/programs", description="Programs and service guides")


class GuideSchema(ma.Schema):
    name = ma.fields.String(required=True)
    summary = ma.fields.String(required=True)
    conditions = ma.fields.List(ma.fields.String(), required=True)
    materials = ma.fields.List(ma.fields.String(), required=True)
    process = ma.fields.List(ma.fields.String(), required=True)
    time_limit = ma.fields.String(required=True)
    amounts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String())
    legal_basis = ma.fields.String(required=True)
    trip_level = ma.fields.String(required=True)
    place = ma.fields.String()
    phone = ma.fields.String()
    announced = ma.fields.List(ma.fields.Dict(), metadata={
        "description": "approved changes still to come: parameter, from_month, value or the amounts then"})


class FormFieldSchema(ma.Schema):
    name = ma.fields.String(required=True, metadata={"description": "the body field of the apply route"})
    kind = ma.fields.String(required=True, metadata={"description": "amount (yuan like 300.00) | text"})
    label = ma.fields.String(required=True)
    max_length = ma.fields.Integer(required=True)
    rows = ma.fields.Integer(required=True, metadata={"description": "lines of a text field (0: one)"})
    default = ma.fields.String(required=True)


class ProgramApplyFormSchema(ma.Schema):
    path = ma.fields.String(required=True, metadata={"description": "POST here, signed in, identity bound"})
    fields = ma.fields.List(ma.fields.Nested(FormFieldSchema), required=True)
    texts = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(), required=True, metadata={
        "description": "title, lead, button, done (after sending), menu (the link to the form)"})


class ParameterSpecSchema(ma.Schema):
    key = ma.fields.String(required=True, metadata={"description": "a parameter, or name.label of a table entry"})
    kind = ma.fields.String(required=True, metadata={"description": "int | yuan (an amount like 60.00)"})
    minimum = ma.fields.Integer(required=True, metadata={"description": "in the stored unit (fen for yuan)"})
    maximum = ma.fields.Integer(required=True)
    text = ma.fields.String(required=True)


class ProgramSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    needs_review = ma.fields.Boolean(required=True)
    trip_level = ma.fields.String(required=True)
    start_date = ma.fields.Date(required=True)
    guide = ma.fields.Nested(GuideSchema, required=True)
    short_name = ma.fields.String(required=True)
    parameters = ma.fields.List(ma.fields.Nested(ParameterSpecSchema), required=True, metadata={
        "description": "what an admin may change (POST /api/v1/staff/params), with its type and range"})
    apply_form = ma.fields.Nested(ProgramApplyFormSchema, allow_none=True, metadata={
        "description": "the citizen-started application's form, for a program the citizen may apply for"})


@blp.route("")
class Programs(MethodView):
    @blp.response(200, ProgramSchema(many=True))
    def get(self):
        """All programs with their service guides (public)."""
        parameters.load(SessionLocal())
        return [_shown(p) for p in programs.PROGRAMS.values()]


@blp.route("/<string:code>")
class ProgramByCode(MethodView):
    @blp.response(200, ProgramSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such program")
    def get(self, code):
        """One program's service guide: conditions, materials (none), process, time limit, legal basis."""
        program = programs.get(code)
        if program is None:
            raise NotFound("No such program.")
        parameters.load(SessionLocal())
        return _shown(program)


def _shown(program) -> dict:
    """The program with its guide generated from the parameters in force today (and those announced)."""
    return {"code": program.code, "name": program.name, "needs_review": program.needs_review,
            "trip_level": program.trip_level, "start_date": program.start_date, "guide": parameters.guide(program),
            "short_name": program.short_name, "apply_form": _form(program),
            "parameters": [{"key": key, "kind": s.kind, "minimum": s.minimum, "maximum": s.maximum, "text": s.text}
                           for key, s in program.parameter_specs.items()]}


def _form(program) -> dict | None:
    if not program.apply:
        return None
    return {"path": f"/api/v1/programs/{program.code}/applications",
            "fields": [f.as_dict() for f in program.apply_form], "texts": dict(program.apply_texts)}
