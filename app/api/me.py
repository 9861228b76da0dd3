"""The signed-in account and its identity binding."""

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from app.api.base import ErrorSchema
from app.api.schemas import NO_NUL, MeSchema, StrictSchema
from app.api.security import auth_required, client_ip, config, current_account
from app.crypto import cipher_for
from app.db import SessionLocal
from app.masking import mask_phone
from app.models import Resident
from flows import identity
from flows.dates import age_on, today_shanghai
from notifications.wechat_client import client_for

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The signed-in account")


class BindArgs(StrictSchema):
    name = ma.fields.String(required=True, validate=[ma.validate.Length(1, 64), NO_NUL])
    id_number = ma.fields.String(required=True, validate=[ma.validate.Length(15, 20), NO_NUL])
    phone_code = ma.fields.String(required=True, validate=[ma.validate.Length(1, 128), NO_NUL])


def me_payload(session, account) -> dict:
    resident = session.get(Resident, account.resident_id) if account.resident_id else None
    if resident is not None:
        status = "bound"
    elif identity.pending_verification(session, account):
        status = "pending_staff_verification"
    else:
        status = "unbound"
    return {
        "account": {"id": account.id, "bound": resident is not None, "identity_status": status,
                    "created_at": account.created_at},
        "resident": resident_summary(resident) if resident else None,
    }


def resident_summary(resident: Resident) -> dict:
    phone = None
    if resident.phone_enc:
        phone = mask_phone(cipher_for(config()).decrypt(resident.phone_enc))
    return {
        "name": resident.name, "id_number_masked": resident.id_mask, "sex": resident.sex,
        "birth_date": resident.birth_date, "age": age_on(resident.birth_date, today_shanghai()),
        "district_code": resident.district_code, "street_code": resident.street_code,
        "community_code": resident.community_code, "phone_masked": phone,
    }


@blp.route("")
class Me(MethodView):
    @auth_required(blp)
    @blp.response(200, MeSchema)
    def get(self):
        """Who am I: the account and, once bound, the resident (ID number masked)."""
        session = SessionLocal()
        return me_payload(session, session.merge(current_account()))


@blp.route("/identity")
class Identity(MethodView):
    @auth_required(blp)
    @blp.arguments(BindArgs)
    @blp.response(200, MeSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="Does not match, or already bound")
    @blp.alt_response(422, schema=ErrorSchema, description="Malformed input")
    @blp.alt_response(429, schema=ErrorSchema, description="Too many failed attempts (see Retry-After)")
    def post(self, args):
        """Bind this account to a resident: name + ID number + the phone number from getPhoneNumber."""
        session, cfg = SessionLocal(), config()
        account = session.merge(current_account())
        identity.bind(session, cfg, client_for(cfg), account, args["name"], args["id_number"],
                      args["phone_code"], client_ip())
        session.commit()
        return me_payload(session, account)

    @auth_required(blp)
    @blp.response(200, MeSchema)
    def delete(self):
        """Unbind the resident from this account."""
        session = SessionLocal()
        account = session.merge(current_account())
        identity.unbind(session, account)
        session.commit()
        return me_payload(session, account)
