"""WeChat's message push (design/wechat-api.md §6.2), JSON form: subscribe-message events.

`GET /api/v1/wechat/events?signature&timestamp&nonce&echostr`: URL verification, echoes `echostr`.
`POST /api/v1/wechat/events?signature&timestamp&nonce`: one event; `List` is an object for one item and
an array for several. signature = sha1 of the sorted [WECHAT_PUSH_TOKEN, timestamp, nonce] joined; a bad
or missing signature, or a timestamp more than 10 minutes away, → 401 JSON. Handled events:

- subscribe_msg_popup_event: each item's SubscribeStatusString (accept / reject) updates the same
  subscription counters as `POST /api/v1/subscriptions`;
- subscribe_msg_change_event: reject → refused (the app shows the "turn on notifications" prompt);
- subscribe_msg_sent_event: a non-zero ErrorCode is noted on the outbox row with that MsgID.

Unknown openids, templates and events are ignored (answered `success`, as WeChat expects). The XML form
and "safe mode" (`Encrypt`) are not supported: configure the console for plaintext JSON.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time

from flask import Response, current_app, request
from flask.views import MethodView
from sqlalchemy import select, update

from app import digits
from app.api.base import Blueprint, ErrorSchema
from app.api.security import client_ip
from app.db import SessionLocal
from app.errors import DomainError, Unauthorized
from app.models import Account, OutboxMessage
from app.security_log import refused
from notifications import subscriptions
from notifications.templates import template_by_id

log = logging.getLogger("zerotrip.wechat_events")
blp = Blueprint("wechat_events", __name__, url_prefix="/api/v1/wechat",
                description="Event push from WeChat (signed).")
MAX_SKEW_S = 600
POPUP, CHANGE, SENT = "subscribe_msg_popup_event", "subscribe_msg_change_event", "subscribe_msg_sent_event"


def signature(token: str, timestamp: str, nonce: str) -> str:
    return hashlib.sha1("".join(sorted([token, timestamp, nonce])).encode()).hexdigest()


def _verify() -> None:
    args = request.args
    sig, timestamp, nonce = args.get("signature", ""), args.get("timestamp", ""), args.get("nonce", "")
    token = current_app.extensions["zerotrip_config"].wechat_push_token
    expected = signature(token, timestamp, nonce).encode()
    if not (sig and timestamp and nonce) or not hmac.compare_digest(expected, sig.lower().encode("utf-8")):
        raise Unauthorized("Bad or missing signature.")
    if not digits.is_ascii_digits(timestamp.strip()[:12]):  # int() would take "١٧٠٠…" (issue 9 item 4)
        refused("ascii_digits", address=client_ip(), field="timestamp", path=request.path)
        raise Unauthorized("Bad timestamp.")
    skew = abs(time.time() - int(timestamp.strip()[:12]))
    if skew > MAX_SKEW_S:
        raise Unauthorized("Stale timestamp.")


def _items(payload: dict) -> list[dict]:
    items = payload.get("List")
    if isinstance(items, dict):
        return [items]
    if isinstance(items, list):
        return [i for i in items if isinstance(i, dict)]
    return []


def apply_event(session, payload: dict) -> int:
    """Apply one pushed event; returns the number of items that changed something."""
    event, openid = payload.get("Event"), payload.get("FromUserName")
    if event not in (POPUP, CHANGE, SENT) or not isinstance(openid, str):
        return 0
    account = session.execute(select(Account).where(Account.openid == openid)).scalar_one_or_none()
    changed = 0
    for item in _items(payload):
        if event == SENT:
            code, msgid = str(item.get("ErrorCode", "0")).strip(), str(item.get("MsgID", "")).strip()
            if msgid and code not in ("0", ""):
                status = str(item.get("ErrorStatus", ""))[:80]
                changed += session.execute(
                    update(OutboxMessage).where(OutboxMessage.provider_msgid == msgid)
                    .values(last_error=f"wechat delivery failed: ErrorCode {code} {status}")
                    .execution_options(synchronize_session=False)).rowcount
            continue
        template = template_by_id(str(item.get("TemplateId", "")))
        status = str(item.get("SubscribeStatusString", "")).strip()
        if account is None or template is None or status not in subscriptions.STATUSES:
            continue
        if event == CHANGE and status != "reject":
            continue
        subscriptions.record_popup(session, account.id, template, status, source="push")
        changed += 1
    return changed


def _query_param(name: str, description: str) -> dict:
    return {"in": "query", "name": name, "required": False, "schema": {"type": "string"}, "description": description}


_SIGNED = [_query_param("signature", "sha1 of the sorted [push token, timestamp, nonce]"),
           _query_param("timestamp", "epoch seconds"), _query_param("nonce", "random string")]


@blp.route("/events")
class WechatEvents(MethodView):
    @blp.doc(parameters=[*_SIGNED, _query_param("echostr", "echoed back on success")])
    @blp.alt_response(401, schema=ErrorSchema, description="Bad signature")
    def get(self):
        """URL verification: echo `echostr` when the signature is right."""
        _verify()
        return Response(request.args.get("echostr", ""), mimetype="text/plain")

    @blp.doc(parameters=_SIGNED)
    @blp.alt_response(401, schema=ErrorSchema, description="Bad signature")
    def post(self):
        """One subscribe-message event (JSON form)."""
        _verify()
        payload = request.get_json(force=True, silent=True)
        if not isinstance(payload, dict) or "Encrypt" in payload:
            raise DomainError("Send the event as plaintext JSON.")
        session = SessionLocal()
        if not _first_delivery(session):
            log.info("wechat event push repeated (same signature, timestamp and nonce): not applied again")
            return Response("success", mimetype="text/plain")
        changed = apply_event(session, payload)
        session.commit()
        log.info("wechat event %s applied to %d item(s)", str(payload.get("Event"))[:40], changed)
        return Response("success", mimetype="text/plain")


def _first_delivery(session) -> bool:
    """Whether this signed push (its signature, timestamp and nonce) is seen for the first time within the time
    it could be accepted: a push captured and sent again added a grant each time (the body is not signed in
    WeChat's plaintext mode, so the signed query is what makes a push one push). WeChat's own retry of a push it
    got no answer to is answered `success` without applying it twice."""
    from flows import limits

    args = request.args
    once = hashlib.sha256("|".join((args.get("signature", ""), args.get("timestamp", ""),
                                    args.get("nonce", ""))).encode()).hexdigest()[:40]
    return limits.take(session, f"wechat-push:{once}", 1, 2 * MAX_SKEW_S) is None
