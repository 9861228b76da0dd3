"""Test console, part 1 (under /__mock__/, never called by a real-WeChat client): users and codes,
subscription pop-up results, sent messages, quotas, templates."""

import re

from flask import Blueprint, jsonify, request

from . import events
from .console_io import ConsoleError, body, text
from .login import mint_login_code
from .phone import mint_phone_code
from .store import Store, get_store
from .subscriptions import STATUSES, apply_status, quota
from .templates import Template, get_templates

bp = Blueprint("console", __name__, url_prefix="/__mock__")

STATUS_EVENTS = {"accept": events.POPUP, "reject": events.POPUP, "ban": events.CHANGE}


def _template(template_id: str) -> Template:
    template = get_templates().get(template_id)
    if template is None:
        raise ConsoleError(f"unknown template_id {template_id}")
    return template


def _known_openid(store: Store, openid: str) -> str:
    if openid not in store.state.users:
        raise ConsoleError(f"unknown openid {openid}: mint a login code for it first")
    return openid


@bp.post("/login-code")
def login_code():
    store = get_store()
    with store.lock:
        return jsonify(mint_login_code(store, text(body(), "openid", required=False)))


@bp.post("/phone-code")
def phone_code():
    data = body()
    phone, country = text(data, "phone"), text(data, "country_code", required=False) or "86"
    if not re.fullmatch(r"[0-9]{5,15}", phone) or (country == "86" and not re.fullmatch(r"1[0-9]{10}", phone)):
        raise ConsoleError("phone must be digits (11 digits starting with 1 for country code 86)")
    store = get_store()
    with store.lock:
        return jsonify({"code": mint_phone_code(store, phone, country, text(data, "openid", required=False))})


@bp.post("/subscribe")
def subscribe():
    data = body()
    status = text(data, "status")
    if status not in STATUSES:
        raise ConsoleError(f"status must be one of {', '.join(STATUSES)}")
    store, template = get_store(), _template(text(data, "template_id"))
    with store.lock:
        openid = _known_openid(store, text(data, "openid"))
        apply_status(store.state, openid, template, status)
        result = dict(quota(store.state, openid, template), status=status)
    result["push"] = _push_status(store, openid, template, status)
    return jsonify(result)


def _push_status(store: Store, openid: str, template: Template, status: str) -> dict | None:
    event = STATUS_EVENTS.get(status)
    if event is None:
        return None
    item = {"template_id": template.id, "status": "reject" if status == "ban" else status}
    return events.push(store, events.build_payload(store, openid, event, [item]))


@bp.get("/messages")
def messages():
    touser = request.args.get("touser") or None
    store = get_store()
    with store.lock:
        found = [dict(m) for m in store.state.messages if touser is None or m.get("touser") == touser]
    return jsonify(found)


@bp.get("/quota")
def get_quota():
    store, template = get_store(), _template(text(request.args, "template_id"))
    with store.lock:
        return jsonify(quota(store.state, text(request.args, "openid"), template))


@bp.get("/templates")
def templates():
    return jsonify([{"id": t.id, "kind": t.kind, "title": t.title, "type": t.type,
                     "keywords": list(t.keywords)} for t in get_templates().values()])
