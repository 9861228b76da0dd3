"""The admin's side of the data exchange (issue 14 item 1): partner clients (departments) registered, their keys
added for a changeover and revoked at once, from the workbench instead of the CLI only. The same rules as
`zerotrip exchange client add` (flows.exchange.clients): no registration without a PIA reference, allowlists
checked against the datasets. Exchange clients are the bureau's, not a street's: a district-level admin (no
street) manages them. Every change is audited."""

from __future__ import annotations

from contextlib import contextmanager

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from app.api.base import ErrorSchema
from app.api.schemas import NO_NUL, AsciiInteger, Digits, StrictSchema, UtcDateTime
from app.api.security import audit_event
from app.api.staff_security import current_staff, staff_required
from app.authz import role_allows
from app.db import SessionLocal
from app.errors import Conflict, Forbidden, NotFound, Unprocessable
from app.models import ExchangeClient, ExchangeKey
from flows.dates import today_shanghai
from flows.exchange import clients as flow
from flows.exchange.datasets import ANSWERS, PUSH

blp = Blueprint("staff_exchange", __name__, url_prefix="/api/v1/staff/exchange",
                description="Partner clients of the data exchange (admin)")

CODE_PATTERN, CODE_ERROR = r"^[A-Za-z0-9._:-]{1,64}$", "Letters, digits and . _ : - only (1–64)."
CODE = ma.validate.Regexp(CODE_PATTERN, error=CODE_ERROR)
DEATH_SOURCES = ("public_security", "health", "funeral", "civil_affairs")


class AdminPurposeArgs(StrictSchema):
    legal_basis = ma.fields.String(required=True, validate=[ma.validate.Length(1, 200), NO_NUL])
    text = ma.fields.String(load_default="", validate=[ma.validate.Length(0, 200), NO_NUL])
    delay_days = AsciiInteger(load_default=0, validate=ma.validate.Range(0, flow.MAX_DELAY_DAYS))
    fields = ma.fields.Dict(keys=ma.fields.String(validate=CODE),
                            values=ma.fields.List(ma.fields.String(validate=CODE), validate=ma.validate.Length(max=40)),
                            load_default=dict, validate=ma.validate.Length(max=20))
    push = ma.fields.List(ma.fields.String(validate=CODE), load_default=list, validate=ma.validate.Length(max=20))
    programs = ma.fields.List(ma.fields.String(validate=CODE), load_default=list, validate=ma.validate.Length(max=20),
                              metadata={"description": "programs whose stops a subscription may follow as a "
                                                       "whole under this purpose (docs/exchange.md)"})


class AdminClientArgs(StrictSchema):
    id = Digits(required=True, pattern=CODE_PATTERN, pattern_error=CODE_ERROR, validate=ma.validate.Length(1, 40))
    name = ma.fields.String(required=True, validate=[ma.validate.Length(1, 64), NO_NUL])
    public_key = ma.fields.String(required=True, validate=[ma.validate.Length(1, 2000), NO_NUL],
                                  metadata={"description": "Ed25519 public key: base64 of the raw 32 bytes, or PEM"})
    key_id = Digits(pattern=CODE_PATTERN, pattern_error=CODE_ERROR)
    actions = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(flow.ACTIONS)), required=True,
                             validate=ma.validate.Length(1, len(flow.ACTIONS)))
    purposes = ma.fields.Dict(keys=ma.fields.String(validate=CODE), values=ma.fields.Nested(AdminPurposeArgs),
                              required=True, validate=ma.validate.Length(max=20))
    pia_ref = ma.fields.String(required=True, validate=[ma.validate.Length(1, 64), NO_NUL],
                               metadata={"description": "个人信息保护影响评估 reference (PIPL art. 55–56)"})
    agreement_ref = ma.fields.String(required=True, validate=[ma.validate.Length(1, 64), NO_NUL])
    agreement_expires = ma.fields.Date(required=True)
    contact = ma.fields.String(required=True, validate=[ma.validate.Length(1, 128), NO_NUL])
    per_minute = AsciiInteger(load_default=600, validate=ma.validate.Range(1, 1_000_000))
    per_day = AsciiInteger(load_default=200_000, validate=ma.validate.Range(1, 100_000_000))
    death_source = ma.fields.String(load_default=None, allow_none=True, validate=ma.validate.OneOf(DEATH_SOURCES))


class AdminKeyArgs(StrictSchema):
    public_key = ma.fields.String(required=True, validate=[ma.validate.Length(1, 2000), NO_NUL])
    key_id = Digits(pattern=CODE_PATTERN, pattern_error=CODE_ERROR)


class AdminNoBody(StrictSchema):
    """No body needed."""


class AdminKeySchema(ma.Schema):
    id = ma.fields.String(required=True)
    public_key = ma.fields.String(required=True, metadata={"description": "base64 of the raw Ed25519 key"})
    created_at = UtcDateTime(format="iso", required=True)
    revoked_at = UtcDateTime(format="iso", allow_none=True)


class AdminClientSchema(ma.Schema):
    id = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    actions = ma.fields.List(ma.fields.String(), required=True)
    purposes = ma.fields.Dict(required=True)
    per_minute = ma.fields.Integer(required=True)
    per_day = ma.fields.Integer(required=True)
    pia_ref = ma.fields.String(required=True)
    agreement_ref = ma.fields.String(required=True)
    agreement_expires = ma.fields.Date(required=True)
    agreement_in_force = ma.fields.Boolean(required=True)
    contact = ma.fields.String(required=True)
    death_source = ma.fields.String(allow_none=True)
    webhook = ma.fields.Boolean(required=True, metadata={"description": "a death-webhook secret is set (CLI)"})
    created_at = UtcDateTime(format="iso", required=True)
    keys = ma.fields.List(ma.fields.Nested(AdminKeySchema), required=True)


class AdminDatasetFieldSchema(ma.Schema):
    name = ma.fields.String(required=True)
    text = ma.fields.String(required=True)
    sensitivity = ma.fields.String(required=True)


class AdminDatasetSchema(ma.Schema):
    code = ma.fields.String(required=True)
    name = ma.fields.String(required=True)
    fields = ma.fields.List(ma.fields.Nested(AdminDatasetFieldSchema))


class AdminDatasetsSchema(ma.Schema):
    actions = ma.fields.List(ma.fields.String(), required=True)
    death_sources = ma.fields.List(ma.fields.String(), required=True)
    answers = ma.fields.List(ma.fields.Nested(AdminDatasetSchema), required=True)
    push = ma.fields.List(ma.fields.Nested(AdminDatasetSchema), required=True)


def _admin() -> None:
    staff = current_staff()
    if not role_allows(staff.role, "exchange:manage"):
        raise Forbidden("Exchange clients are managed by an admin.", error_code="role_not_allowed")
    if staff.street_code:
        raise Forbidden("Exchange clients are the bureau's: a district-level admin manages them.",
                        error_code="outside_jurisdiction")


def _payload(client: ExchangeClient, keys: list[ExchangeKey]) -> dict:
    return {"id": client.id, "name": client.name, "actions": client.actions, "purposes": client.purposes,
            "per_minute": client.per_minute, "per_day": client.per_day, "pia_ref": client.pia_ref,
            "agreement_ref": client.agreement_ref, "agreement_expires": client.agreement_expires,
            "agreement_in_force": client.agreement_expires >= today_shanghai(), "contact": client.contact,
            "death_source": client.death_source, "webhook": client.webhook_secret_enc is not None,
            "created_at": client.created_at, "keys": keys}


def _one(session, client_id: str) -> dict:
    client = session.get(ExchangeClient, client_id) if len(client_id) <= 40 else None
    if client is None:
        raise NotFound("No such exchange client.")
    return _payload(client, flow.keys_of(session, [client.id])[client.id])


def _commit(session, what: str) -> None:
    try:
        session.commit()
    except IntegrityError:  # a parallel request registered the same id first
        session.rollback()
        raise Conflict(f"{what} exists already.", error_code="exists") from None


@contextmanager
def _new_rows(session, what: str):
    """The rows the block adds, flushed at its end: a parallel request that stored the same id first makes this a
    409 whether its key meets ours in a read's autoflush inside the block or in the flush (not a 500 from the
    audit event's read after it); the paperwork's own refusals stay 422."""
    try:
        yield
        session.flush()
    except (IntegrityError, flow.ClientExists):
        session.rollback()
        raise Conflict(f"{what} exists already.", error_code="exists") from None
    except flow.BadRegistration as exc:
        raise Unprocessable(str(exc), error_code="bad_registration") from None


@blp.route("/datasets")
class Datasets(MethodView):
    @staff_required(blp)
    @blp.response(200, AdminDatasetsSchema)
    def get(self):
        """What a client may be allowed: actions, answer datasets with their fields, push datasets (admin)."""
        _admin()
        return {"actions": list(flow.ACTIONS), "death_sources": list(DEATH_SOURCES),
                "answers": [{"code": a.code, "name": a.name, "fields": [
                    {"name": f.name, "text": f.text, "sensitivity": f.sensitivity} for f in a.fields.values()]}
                    for a in ANSWERS.values()],
                "push": [{"code": p.code, "name": p.name, "fields": []} for p in PUSH.values()]}


@blp.route("/clients")
class Clients(MethodView):
    @staff_required(blp)
    @blp.response(200, AdminClientSchema(many=True))
    def get(self):
        """Registered departments: allowlists, limits, paperwork, keys (admin)."""
        _admin()
        session = SessionLocal()
        rows = flow.clients(session)
        keys = flow.keys_of(session, [c.id for c in rows])
        return [_payload(c, keys[c.id]) for c in rows]

    @staff_required(blp)
    @blp.arguments(AdminClientArgs)
    @blp.response(201, AdminClientSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="The client id exists (`error_code`: exists)")
    @blp.alt_response(422, schema=ErrorSchema, description="The registration is refused (`error_code`: "
                      "bad_registration): no PIA, a bad key, an unknown dataset or field …")
    def post(self, args):
        """Register a department (admin; refused without a PIA reference). Audited."""
        _admin()
        session = SessionLocal()
        if session.get(ExchangeClient, args["id"]) is not None:
            raise Conflict(f"Client {args['id']} exists already.", error_code="exists")
        with _new_rows(session, f"Client {args['id']}"):
            flow.register(session, client_id=args["id"], name=args["name"], public_key=args["public_key"],
                          actions=args["actions"], purposes=args["purposes"], pia_ref=args["pia_ref"],
                          agreement_ref=args["agreement_ref"], agreement_expires=args["agreement_expires"],
                          contact=args["contact"], per_minute=args["per_minute"], per_day=args["per_day"],
                          death_source=args["death_source"], key_id=args.get("key_id"))
        audit_event(session, "exchange.client_register", object_ref=f"exchange:{args['id']}",
                    details={"actions": sorted(args["actions"]), "purposes": sorted(args["purposes"]),
                             "pia": args["pia_ref"], "agreement": args["agreement_ref"]})
        _commit(session, f"Client {args['id']}")
        return _one(session, args["id"])


@blp.route("/clients/<string:client_id>/keys")
class ClientKeys(MethodView):
    @staff_required(blp)
    @blp.arguments(AdminKeyArgs)
    @blp.response(201, AdminClientSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such client")
    @blp.alt_response(422, schema=ErrorSchema, description="Not an Ed25519 key, or the key id is taken")
    def post(self, args, client_id):
        """Add a key for a changeover (admin): the old one stays valid until revoked. Audited."""
        _admin()
        session = SessionLocal()
        _one(session, client_id)
        with _new_rows(session, f"Key {args.get('key_id') or ''}".strip()):
            key = flow.add_key(session, client_id, args["public_key"], args.get("key_id"))
        audit_event(session, "exchange.key_add", object_ref=f"exchange:{client_id}", details={"key": key.id})
        _commit(session, f"Key {key.id}")
        return _one(session, client_id)


@blp.route("/clients/<string:client_id>/keys/<string:key_id>/revoke")
class KeyRevoke(MethodView):
    @staff_required(blp)
    @blp.arguments(AdminNoBody, required=False)
    @blp.response(200, AdminClientSchema)
    @blp.alt_response(404, schema=ErrorSchema, description="No such key of this client")
    def post(self, _args, client_id, key_id):
        """Revoke a key at once (admin): its next request is refused `key_revoked`. Revoking again changes
        nothing. Audited."""
        _admin()
        session = SessionLocal()
        key = session.get(ExchangeKey, key_id) if len(key_id) <= 64 else None
        if key is None or key.client_id != client_id:
            raise NotFound("No such key of this client.")
        if flow.revoke_key(session, key_id):
            audit_event(session, "exchange.key_revoke", object_ref=f"exchange:{client_id}", details={"key": key_id})
        session.commit()
        return _one(session, client_id)
