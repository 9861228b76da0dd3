"""Citizen-started applications (the citizen asks; nothing was proposed), for every program that declares one
(Program.apply): `POST /api/v1/programs/{code}/applications` with the fields of the program's form, as
`GET /api/v1/programs/{code}` lists them; and a program's own older route, `POST /api/v1/<alias>/applications`
(Program.api_alias), with the body names it always had."""

from __future__ import annotations

import functools

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from app import digits
from app.api.application_views import payload
from app.api.applications import ApplicationSchema
from app.api.base import ErrorSchema
from app.api.schemas import NO_NUL, Digits, StrictSchema
from app.api.security import auth_required, current_account
from app.db import SessionLocal
from app.errors import Forbidden, NotFound, Unprocessable
from app.models import Resident
from flows import programs
from flows.money import fen

blp = Blueprint("program_applications", __name__, url_prefix="/api/v1/programs",
                description="Citizen-started applications (generic)")
aliases = Blueprint("program_application_aliases", __name__, url_prefix="/api/v1",
                    description="Citizen-started applications (programs' own routes)")
blueprints = (blp, aliases)


def form_field(item, data_key: str | None = None) -> ma.fields.Field:
    """The marshmallow field of one declared FormField (the citizen's route and the counter's)."""
    if item.kind == "amount":
        return Digits(load_default=item.default or "0.00", pattern=digits.AMOUNT.pattern, data_key=data_key,
                      pattern_error="an amount like 300.00", metadata={"description": item.label})
    return ma.fields.String(load_default=item.default, data_key=data_key,
                            validate=[ma.validate.Length(max=item.max_length), NO_NUL],
                            metadata={"description": item.label})


@functools.cache
def form_schema(code: str, alias: bool = False) -> type[ma.Schema]:
    """The program's form as a strict schema (under its old body names for the alias route)."""
    program = programs.get(code)
    old = {form: old for old, form in program.api_alias_fields.items()} if alias else {}
    fields = {f.name: form_field(f, old.get(f.name)) for f in program.apply_form if not alias or f.name in old}
    name = "".join(w.title() for w in code.split("_")) + ("AliasApplyArgs" if alias else "ApplyArgs")
    return StrictSchema.from_dict(fields, name=name)


class FormBody(ma.Schema):
    """The program's form fields (see `form` in GET /api/v1/programs/{code}); amounts like 300.00."""

    class Meta:
        unknown = ma.INCLUDE


def _apply(program, body: dict | None):
    """Validate `body` against the program's form, then start the application."""
    if program is None or not program.apply:
        raise NotFound("No such program to apply for.")
    try:
        values = form_schema(program.code)().load(body or {})
    except ma.ValidationError as err:
        raise Unprocessable("The form has errors.", errors={"json": err.messages}) from None
    return _start(program, values)


def _start(program, values: dict):
    kinds = {f.name: f.kind for f in program.apply_form}
    values = {k: fen(v) if kinds.get(k) == "amount" else v for k, v in values.items()}
    session = SessionLocal()
    account = current_account()
    if account.resident_id is None:
        raise Forbidden("Bind your identity first.")
    applicant = session.get(Resident, account.resident_id)
    application = program.hook("apply")(session, applicant, account.id, values)
    session.commit()
    return payload(session, application)


@blp.route("/<string:code>/applications")
class ProgramApplications(MethodView):
    @auth_required(blp)
    @blp.arguments(FormBody, required=False)
    @blp.response(201, ApplicationSchema)
    @blp.alt_response(403, schema=ErrorSchema, description="Identity not bound")
    @blp.alt_response(404, schema=ErrorSchema, description="No such program, or not one the citizen applies for")
    @blp.alt_response(409, schema=ErrorSchema, description="The program's own refusal (e.g. an application "
                      "already in progress), with its `error_code`")
    @blp.alt_response(422, schema=ErrorSchema, description="A field of the form is wrong or unknown")
    def post(self, args, code):
        """Apply for a program (signed-in, identity bound); the program's checks run at once and their result
        is in `trace`."""
        return _apply(programs.get(code), args)


def _alias_view(program) -> type[MethodView]:
    schema = form_schema(program.code, alias=True)

    class AliasApplications(MethodView):
        @auth_required(aliases)
        @aliases.arguments(schema, required=False)
        @aliases.response(201, ApplicationSchema)
        @aliases.alt_response(403, schema=ErrorSchema, description="Identity not bound")
        @aliases.alt_response(409, schema=ErrorSchema, description="The program's own refusal, with its "
                              "`error_code`")
        def post(self, args):
            return _start(program, args or {})

    AliasApplications.__name__ = f"{schema.__name__}View"
    AliasApplications.post.__doc__ = f"Apply for {program.name} (the program's own route; same as POST " \
                                     f"/api/v1/programs/{program.code}/applications)."
    return AliasApplications


for _program in programs.PROGRAMS.values():
    if _program.apply and _program.api_alias:
        aliases.route(f"/{_program.api_alias}/applications", endpoint=f"{_program.code}_applications")(
            _alias_view(_program))
