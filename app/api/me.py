"""The signed-in account and its identity binding."""

import marshmallow as ma
from flask.views import MethodView
from flask_smorest import Blueprint

from app.api.base import ErrorSchema
from app.api.schemas import ID_INPUT, NO_NUL, Digits, MeSchema, StrictSchema, UtcDateTime
from app.api.security import audit_event, auth_required, client_limit_key, config, current_account
from app.crypto import cipher_for
from app.db import SessionLocal, utcnow
from app.errors import Conflict
from app.masking import mask_phone
from app.models import NotificationPref, Resident
from flows import identity, notification_prefs
from flows.dates import age_on, today_shanghai
from notifications import recipients
from notifications.wechat_client import client_for

blp = Blueprint("me", __name__, url_prefix="/api/v1/me", description="The signed-in account")


class BindArgs(StrictSchema):
    name = ma.fields.String(required=True, validate=[ma.validate.Length(1, 64), NO_NUL])
    id_number = Digits(required=True, id_number=True, validate=[ma.validate.Length(15, 20), NO_NUL],
                       pattern=ID_INPUT, pattern_error="An ID number is 17 digits and a check character.")
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
        "resident": resident_summary(session, resident) if resident else None,
    }


def resident_summary(session, resident: Resident) -> dict:
    from flows import areas

    phone = None
    if resident.phone_enc:
        phone = mask_phone(cipher_for(config()).decrypt(resident.phone_enc))
    today = today_shanghai()
    place = areas.names(session, (resident.district_code, resident.street_code, resident.community_code), today)
    return {
        "name": resident.name, "id_number_masked": resident.id_mask, "sex": resident.sex,
        "birth_date": resident.birth_date, "age": age_on(resident.birth_date, today),
        "district_code": resident.district_code, "street_code": resident.street_code,
        "community_code": resident.community_code, "district_name": place.get(resident.district_code),
        "street_name": place.get(resident.street_code), "community_name": place.get(resident.community_code),
        "phone_masked": phone,
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
    @blp.alt_response(409, schema=ErrorSchema, description="Does not match (`error_code`: "
                      "identity_no_match), this account is bound (account_bound), or the resident is bound to "
                      "another account (resident_bound_elsewhere)")
    @blp.alt_response(422, schema=ErrorSchema, description="Malformed input")
    @blp.alt_response(429, schema=ErrorSchema, description="Too many failed attempts (see Retry-After)")
    def post(self, args):
        """Bind this account to a resident: name + ID number + the phone number from getPhoneNumber."""
        session, cfg = SessionLocal(), config()
        account = session.merge(current_account())
        result = identity.bind(session, cfg, client_for(cfg), account, args["name"], args["id_number"],
                               args["phone_code"], client_limit_key())  # an IPv6 client by its /64
        bound = account.resident_id if result.status == "bound" else None
        audit_event(session, "identity.bind", object_ref=f"resident:{bound}" if bound else None, result=result.status,
                    subjects=[bound] if bound else (), actor_kind="self")
        session.commit()
        return me_payload(session, account)

    @auth_required(blp)
    @blp.response(200, MeSchema)
    def delete(self):
        """Unbind the resident from this account. Her grants as a proxy are suspended at once (until she binds
        herself again, on any account); grants where she is the principal are unaffected."""
        session = SessionLocal()
        account = session.merge(current_account())
        resident_id, suspended = identity.unbind(session, account)
        if resident_id is not None:
            audit_event(session, "identity.unbind", object_ref=f"resident:{resident_id}", subjects=[resident_id],
                        actor_kind="self", details={"grants_suspended_as_proxy": suspended})
        session.commit()
        return me_payload(session, account)


PROXY_MODES = ("also", "instead")


class NotificationPrefsArgs(StrictSchema):
    proxy_mode = ma.fields.String(required=True, validate=ma.validate.OneOf(PROXY_MODES), metadata={
        "description": "also: proxies who receive messages get a copy as well as you; instead: only they are "
                       "contacted (you keep every message in your inbox)"})


class NotificationPrefsSchema(ma.Schema):
    proxy_mode = ma.fields.String(required=True, metadata={"enum": list(PROXY_MODES)})
    proxies_receiving = ma.fields.Integer(required=True, metadata={
        "description": "active proxies with the receive_messages scope; with none, `instead` acts like `also`"})
    updated_at = UtcDateTime(format="iso", allow_none=True, required=True)


def _bound_resident_id(session, account) -> int:
    if account.resident_id is None:
        raise Conflict("Bind your identity first; message preferences belong to the resident.")
    return account.resident_id


def _prefs(session, resident_id: int) -> dict:
    pref = session.get(NotificationPref, resident_id)
    return {"proxy_mode": pref.proxy_mode if pref else "also",
            "proxies_receiving": len(recipients.proxy_accounts(session, resident_id)),
            "updated_at": pref.updated_at if pref else None}


@blp.route("/notification-preferences")
class NotificationPreferences(MethodView):
    @auth_required(blp)
    @blp.response(200, NotificationPrefsSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="The account is not bound to a resident")
    def get(self):
        """Whether proxies with the receive_messages scope get your messages as well as you, or instead of you."""
        session = SessionLocal()
        account = session.merge(current_account())
        return _prefs(session, _bound_resident_id(session, account))

    @auth_required(blp)
    @blp.arguments(NotificationPrefsArgs)
    @blp.response(200, NotificationPrefsSchema)
    @blp.alt_response(409, schema=ErrorSchema, description="The account is not bound to a resident")
    @blp.alt_response(422, schema=ErrorSchema, description="Malformed input")
    def put(self, args):
        """Set whether proxies get your messages `also` (default) or `instead` of you."""
        session = SessionLocal()
        account = session.merge(current_account())
        resident_id = _bound_resident_id(session, account)
        pref = session.get(NotificationPref, resident_id) or notification_prefs.first_row(session, resident_id)
        old = pref.proxy_mode
        pref.proxy_mode, pref.updated_at = args["proxy_mode"], utcnow()
        audit_event(session, "me.notification_prefs", object_ref=f"resident:{resident_id}",
                    details={"proxy_mode": args["proxy_mode"], "was": old or "also"})
        session.commit()
        return _prefs(session, resident_id)
