"""Test console, part 2 (under /__mock__/): reset, run-time config, token lifetime, faults, event
push, and the logs of pushes and SMS."""

from flask import Blueprint, jsonify, request

from . import events, faults
from .config import RUNTIME_KEYS, convert
from .console_io import ConsoleError, body, text
from .store import get_store
from .tokens import shorten_lifetime

bp = Blueprint("console_ops", __name__, url_prefix="/__mock__")


@bp.post("/reset")
def reset():
    get_store().reset()
    return jsonify({"status": "reset"})


@bp.get("/config")
def get_config():
    store = get_store()
    with store.lock:
        return jsonify({key: store.settings[key] for key in RUNTIME_KEYS})


@bp.post("/config")
def set_config():
    data = body()
    unknown = set(data) - set(RUNTIME_KEYS)
    if unknown:
        raise ConsoleError(f"not settable: {sorted(unknown)}; settable: {list(RUNTIME_KEYS)}")
    try:
        values = {key: convert(key, value) for key, value in data.items()}
    except (TypeError, ValueError) as exc:
        raise ConsoleError(str(exc)) from None
    store = get_store()
    with store.lock:
        store.settings.update(values)
    return get_config()


@bp.post("/token-expiry")
def token_expiry():
    seconds = body().get("seconds")
    if not isinstance(seconds, int) or isinstance(seconds, bool) or seconds <= 0:
        raise ConsoleError("seconds must be a positive integer")
    store = get_store()
    with store.lock:
        shorten_lifetime(store, seconds)
    return jsonify({"token_lifetime_s": seconds})


@bp.get("/faults")
def get_faults():
    store = get_store()
    with store.lock:
        config = store.state.faults
        return jsonify(config.as_dict() if config else None)


@bp.post("/faults")
def set_faults():
    try:
        config = faults.parse(body())
    except (TypeError, ValueError, AttributeError) as exc:
        raise ConsoleError(f"bad fault config: {exc}") from None
    store = get_store()
    with store.lock:
        store.state.faults = config
    return get_faults()


@bp.delete("/faults")
def clear_faults():
    store = get_store()
    with store.lock:
        store.state.faults = None
    return jsonify(None)


def _items(data: dict) -> list[dict]:
    items = data.get("items")
    if not isinstance(items, list) or not items:
        raise ConsoleError("items must be a non-empty list")
    if not all(isinstance(i, dict) and isinstance(i.get("template_id"), str) for i in items):
        raise ConsoleError("each item needs a template_id string")
    return items


@bp.post("/push-event")
def push_event():
    data = body()
    openid, event = text(data, "openid"), text(data, "event")
    if event not in events.EVENTS:
        raise ConsoleError(f"event must be one of {', '.join(events.EVENTS)}")
    store = get_store()
    payload = events.build_payload(store, openid, event, _items(data), bool(data.get("as_array")))
    entry = events.push(store, payload)
    if entry is None:
        raise ConsoleError("no webhook_url configured (POST /__mock__/config)", 409)
    return jsonify(entry)


@bp.get("/events")
def pushed_events():
    store = get_store()
    with store.lock:
        return jsonify([dict(e) for e in store.state.pushes])


@bp.get("/sms")
def sent_sms():
    phone = request.args.get("phone") or None
    store = get_store()
    with store.lock:
        return jsonify([dict(s) for s in store.state.sms if phone is None or s["phone"] == phone])
