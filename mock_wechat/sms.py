"""Mock SMS gateway (not WeChat): POST /sms/v1/send.

Auth: header `Authorization: Bearer <sms_api_key>` (env SMS_API_KEY, default dev-sms-key), else 401
`{"code": "UNAUTHORIZED"}`. Body (JSON, any Content-Type): phone (11 digits starting with 1, else 400
INVALID_PHONE), sign and template (non-empty strings, else 400 MISSING_PARAM), params (object or list,
optional, else 400 INVALID_PARAMS). Success: `{"code": "OK", "message_id": "sms-…"}`.
Faults apply (HTTP 5xx); sent messages are listed by GET /__mock__/sms.
"""

import re

from flask import Blueprint, jsonify, request

from . import ids
from .store import get_store
from .wire import read_json_object

bp = Blueprint("sms", __name__)

PHONE = re.compile(r"1[0-9]{10}")


def _fail(code: str, status: int = 400, **extra):
    return jsonify({"code": code, **extra}), status


def _problem(body: dict | None):
    if body is None:
        return _fail("INVALID_BODY")
    if not isinstance(body.get("phone"), str) or not PHONE.fullmatch(body["phone"]):
        return _fail("INVALID_PHONE")
    for key in ("sign", "template"):
        if not isinstance(body.get(key), str) or not body[key].strip():
            return _fail("MISSING_PARAM", field=key)
    if body.get("params") is not None and not isinstance(body["params"], dict | list):
        return _fail("INVALID_PARAMS")
    return None


@bp.post("/sms/v1/send")
def send_sms():
    store = get_store()
    if request.headers.get("Authorization", "") != f"Bearer {store.settings['sms_api_key']}":
        return _fail("UNAUTHORIZED", 401)
    body = read_json_object()
    problem = _problem(body)
    if problem:
        return problem
    message_id = ids.sms_message_id()
    with store.lock:
        store.state.sms.append({"message_id": message_id, "phone": body["phone"], "sign": body["sign"],
                                "template": body["template"], "params": body.get("params"),
                                "time": store.iso_now()})
    return jsonify({"code": "OK", "message_id": message_id})
