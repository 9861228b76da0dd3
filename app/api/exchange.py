"""The data exchange (数源接口): `/exchange/v1/…` — signed pushes in, answers out by purpose, the OpenCRVS-style
death webhook, and the exchange's own OpenAPI document. Thin views over flows.exchange; docs/exchange.md."""

from __future__ import annotations

import json

import marshmallow as ma
from flask import Response, current_app, request
from flask.views import MethodView
from flask_smorest import Blueprint
from sqlalchemy.exc import IntegrityError

from app.api.json_provider import one_value_a_key
from app.api.security import client_ip, config
from app.db import SessionLocal
from app.errors import Conflict, DomainError, TooLarge, UnsupportedMedia
from app.nul import holds_nul
from app.security_log import refused
from flows.exchange import clients, push, search, signing, webhook
from flows.imports.batch import local_today

blp = Blueprint("exchange", __name__, url_prefix="/exchange/v1",
                description="The data exchange: signed pushes in, answers out by purpose (docs/exchange.md)")
MAX_BODY = 1024 * 1024
PERMISSION = {"notify": "push", "search": "search"}  # envelope action → the client's allowed action


class HeaderSchema(ma.Schema):
    message_id = ma.fields.String(required=True, metadata={"description": "= X-ZT-Message-Id"})
    message_ts = ma.fields.String(metadata={"description": "ISO time of the message"})
    action = ma.fields.String(required=True, metadata={"enum": ["notify", "search"]})
    sender_id = ma.fields.String(required=True, metadata={"description": "= X-ZT-Client"})
    receiver_id = ma.fields.String(metadata={"example": "taiyuan-civil-affairs"})
    total_count = ma.fields.Integer()
    is_msg_encrypted = ma.fields.Boolean()


class RecordSchema(ma.Schema):
    reference_id = ma.fields.String(required=True, metadata={"description": "the record's key at the sender (idempotent)"})
    dataset = ma.fields.String(required=True, metadata={"enum": list(push.PUSH)})
    event = ma.fields.String(metadata={"enum": ["DEATH_REGISTERED", "DEATH_CANCELLED"]})
    record = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String(allow_none=True), required=True,
                            metadata={"description": "the CSV import's columns for the dataset (docs/data-contracts.md)"})


class NotifyMessageSchema(ma.Schema):
    transaction_id = ma.fields.String()
    records = ma.fields.List(ma.fields.Nested(RecordSchema), required=True,
                             metadata={"description": f"at most {push.MAX_RECORDS}"})


class NotifySchema(ma.Schema):
    header = ma.fields.Nested(HeaderSchema, required=True)
    message = ma.fields.Nested(NotifyMessageSchema, required=True)


class ReasonSchema(ma.Schema):
    code = ma.fields.String(required=True)
    detail = ma.fields.String(required=True)


class RecordResultSchema(ma.Schema):
    reference_id = ma.fields.String(allow_none=True)
    status = ma.fields.String(required=True, metadata={"enum": ["accepted", "rejected"]})
    reasons = ma.fields.List(ma.fields.Nested(ReasonSchema), required=True)
    duplicate = ma.fields.Boolean(metadata={"description": "the same record was pushed before: its stored result"})


class NotifyAnswerSchema(ma.Schema):
    header = ma.fields.Dict(required=True)
    message = ma.fields.Dict(required=True, metadata={"description": "{transaction_id, correlation_id, results: "
                                                                     "[RecordResult]}"})


class SearchCriteriaSchema(ma.Schema):
    reg_type = ma.fields.String(required=True, metadata={"enum": list(search.ANSWERS)})
    query_type = ma.fields.String(metadata={"enum": ["idtype-value"]})
    fields = ma.fields.List(ma.fields.String(), metadata={"description": "default: the minimal answer"})
    authorize = ma.fields.Dict(required=True, metadata={"example": {"purpose": {"code": "medical_aid",
                                                                                 "ref": "YB-2026-0042"}}})


class SearchItemSchema(ma.Schema):
    reference_id = ma.fields.String(required=True)
    query = ma.fields.Dict(required=True, metadata={"example": {"type": "CN-ID", "value": "<ID number>"}})


class SearchMessageSchema(ma.Schema):
    transaction_id = ma.fields.String()
    search_criteria = ma.fields.Nested(SearchCriteriaSchema, required=True)
    search_request = ma.fields.List(ma.fields.Nested(SearchItemSchema), required=True,
                                    metadata={"description": f"1–{search.MAX_IDS} IDs"})


class SearchSchema(ma.Schema):
    header = ma.fields.Nested(HeaderSchema, required=True)
    message = ma.fields.Nested(SearchMessageSchema, required=True)


SIGNED = [{"name": h, "in": "header", "required": True, "schema": {"type": "string"}} for h in signing.HEADERS]


def _envelope(body: bytes, caller: clients.Caller, action: str) -> dict:
    if request.mimetype != "application/json":
        raise UnsupportedMedia("Send the message as application/json.", error_code="media_type")
    try:
        data = json.loads(body, object_pairs_hook=one_value_a_key)  # a key twice: 400 invalid_json
    except ValueError:
        raise DomainError("The body is not valid JSON.", error_code="invalid_json") from None
    if holds_nul(data):
        raise DomainError("A text in the message holds a NUL character (U+0000).", error_code="nul_character")
    header = data.get("header") if isinstance(data, dict) else None
    if not isinstance(header, dict) or not isinstance(data.get("message"), dict):
        raise DomainError("The envelope needs header and message objects.", error_code="envelope_invalid")
    if header.get("message_id") != caller.message_id or header.get("sender_id") != caller.client.id \
            or header.get("action") != action:
        raise DomainError("header.message_id, sender_id and action must match the signed headers and the path.",
                          error_code="envelope_invalid")
    return data


def _answer(caller, action: str, status: int, message: dict, request_hash: str) -> tuple[int, str]:
    header = {"message_id": caller.message_id, "action": f"on-{action}", "status": "succ",
              "sender_id": "taiyuan-civil-affairs", "receiver_id": caller.client.id, "request_hash": request_hash}
    return status, json.dumps({"header": header, "message": message}, ensure_ascii=False)


def _signed_call(action: str, work) -> Response:
    body = request.get_data(cache=True)
    if len(body) > MAX_BODY:
        refused("exchange_body_size", actor=f"exchange:{request.headers.get('X-ZT-Client', '-')[:40]}",
                address=client_ip(), limit=MAX_BODY)
        raise TooLarge(f"The request body is larger than {MAX_BODY} bytes.", error_code="body_too_large")
    request_hash = signing.body_hash(body)
    status, text = _once_more_after_a_race(lambda: _answer_once(action, work, body, request_hash))
    return Response(text, status=status, mimetype="application/json",
                    headers={"X-ZT-Request-Hash": request_hash, "Cache-Control": "no-store"})


def _once_more_after_a_race(step):
    """Run a request's transaction; when a request racing it stored the same message id or the same record first
    (PostgreSQL: this one waited for its commit, then met the key), roll back and run it once more from the start,
    now seeing what the other stored: the stored answer of a retried message id, `duplicate` for a record already
    accepted, an update for a changed one. A second collision is a 409 to retry, never a 500."""
    try:
        return step()
    except RACES:
        SessionLocal().rollback()
    try:
        return step()
    except RACES:
        SessionLocal().rollback()
        raise Conflict("This message id or one of its records is being processed; retry shortly.",
                       error_code="message_in_progress") from None


RACES = (IntegrityError, push.KeyTaken)


def _answer_once(action: str, work, body: bytes, request_hash: str) -> tuple[int, str]:
    """Authenticate, then the stored answer of a repeated message id, or do the work and store its answer; one
    transaction, committed before the answer."""
    session = SessionLocal()
    caller = clients.authenticate(session, headers=request.headers, method=request.method, path=request.full_path
                                  .rstrip("?"), body=body, action=PERMISSION[action], address=client_ip())
    stored = clients.replayed(session, caller, client_ip())
    if stored is not None:
        session.commit()
        return stored
    envelope = _envelope(body, caller, action)
    status, text = _answer(caller, action, 200, work(session, caller, envelope["message"], request_hash),
                           request_hash)
    clients.remember(session, caller, status, text)
    session.commit()
    return status, text


@blp.route("/registry/notify")
class Notify(MethodView):
    @blp.doc(parameters=SIGNED, requestBody={"required": True, "content": {"application/json": {
        "schema": NotifySchema}}})
    @blp.response(200, NotifyAnswerSchema)
    @blp.alt_response(401, description="error_code: signature_missing, signature_invalid, key_unknown, "
                                       "key_revoked, timestamp_skew (errors.server_time)")
    @blp.alt_response(403, description="error_code: agreement_expired, action_not_allowed")
    @blp.alt_response(409, description="error_code: message_id_reused")
    @blp.alt_response(413, description="over 1 MiB")
    @blp.alt_response(429, description="over the client's limit per minute or day (Retry-After)")
    def post(self):
        """Push records and events (deaths, cremations, hukou moves, disability certificates, economic
        records); a result per record. Accepted records are committed before the answer; the exchange worker
        applies their effects at once."""
        def work(session, caller, message, request_hash):
            items = message.get("records")
            if not isinstance(items, list) or not 1 <= len(items) <= push.MAX_RECORDS:
                raise DomainError(f"message.records: a list of 1–{push.MAX_RECORDS} records",
                                  error_code="envelope_invalid")
            results = push.push(session, config(), caller.client, items, local_today(config()))
            return {"transaction_id": message.get("transaction_id"), "correlation_id": request_hash,
                    "results": results}
        return _signed_call("notify", work)


@blp.route("/registry/sync/search")
class SyncSearch(MethodView):
    @blp.doc(parameters=SIGNED, requestBody={"required": True, "content": {"application/json": {
        "schema": SearchSchema}}})
    @blp.response(200, NotifyAnswerSchema)
    @blp.alt_response(401, description="error_code as for notify")
    @blp.alt_response(403, description="error_code: purpose_not_allowed, field_not_allowed, agreement_expired")
    @blp.alt_response(409, description="error_code: message_id_reused")
    @blp.alt_response(429, description="over the client's limit (Retry-After)")
    def post(self):
        """Ask, for a purpose and a case, whether people receive 低保 (household), a disability subsidy, or
        高龄津贴: minimal answers within the client's allowlist; an unknown ID reads as "not receiving"."""
        def work(session, caller, message, request_hash):
            return search.search(session, config(), caller.client, message, request_hash, client_ip())
        return _signed_call("search", work)


@blp.route("/webhooks/opencrvs/<publisher>")
class DeathWebhook(MethodView):
    @blp.doc(parameters=[{"name": "X-Hub-Signature-256", "in": "header", "schema": {"type": "string"},
                          "description": "sha256=<hex HMAC-SHA256 of the body with the publisher's secret>"}])
    @blp.response(200, NotifyAnswerSchema)
    @blp.alt_response(401, description="error_code: signature_missing, signature_invalid, key_unknown")
    def post(self, publisher):
        """OpenCRVS-style DEATH_REGISTERED webhook (HMAC-SHA256, not the Ed25519 scheme)."""
        if request.get_data(cache=True) and request.mimetype != "application/json":  # an empty body: 401 below
            raise UnsupportedMedia("Send the event as application/json.", error_code="media_type")

        def once():
            session = SessionLocal()
            answer = webhook.receive(session, config(), publisher, request.get_data(cache=True),
                                     request.headers.get("X-Hub-Signature-256", ""), client_ip(),
                                     local_today(config()))
            session.commit()
            return answer
        return _once_more_after_a_race(once)

    @blp.doc(responses={"200": {"description": "the challenge", "content": {"text/plain": {
        "schema": {"type": "string"}}}}, "404": {"description": "unknown publisher or mode"}})
    def get(self, publisher):
        """WebSub verification: echoes `hub.challenge` for a known publisher."""
        session = SessionLocal()
        challenge = webhook.verify_subscription(session, publisher, request.args)
        return Response(challenge, mimetype="text/plain")


@blp.route("/openapi.json")
class ExchangeOpenApi(MethodView):
    @blp.doc(responses={"200": {"description": "an OpenAPI 3 document", "content": {"application/json": {
        "schema": {"type": "object", "additionalProperties": True}}}}})
    def get(self):
        """The exchange's own OpenAPI document (only the /exchange/v1 paths)."""
        spec = current_app.extensions["zerotrip_api"].spec.to_dict()
        paths = {p: v for p, v in spec.get("paths", {}).items() if p.startswith("/exchange/v1/")}
        doc = {"openapi": spec.get("openapi", "3.0.3"),
               "info": {"title": "ZeroTrip data exchange (数源接口)", "version": "v1",
                        "description": "Signed with Ed25519 over ZT-EXCHANGE-V1 (docs/exchange.md)."},
               "paths": paths, "components": spec.get("components", {})}
        return Response(json.dumps(doc, ensure_ascii=False), mimetype="application/json")


# ---- subscriptions and the async search (issue 15 item 1; docs/exchange.md "Subscriptions") ------------------

PERMISSION.update({"subscribe": "subscribe", "unsubscribe": "subscribe"})


class SubscribeMessageSchema(ma.Schema):
    callback_url = ma.fields.String(metadata={"description": "https base URL; /registry/notify and /registry/"
                                                             "on-search are appended (registered once, SSRF-checked)"})
    scope = ma.fields.String(required=True, metadata={"enum": ["people", "program"]})
    program = ma.fields.String(metadata={"description": "required for scope=program (a purpose listing it)"})
    events = ma.fields.List(ma.fields.String(), metadata={"description": "default: all the program publishes"})
    purpose = ma.fields.String(required=True)
    ref = ma.fields.String(required=True, metadata={"description": "the case at the subscribing department"})
    expires_on = ma.fields.String(required=True, metadata={"example": "2027-06-30"})
    people = ma.fields.List(ma.fields.Dict(), metadata={"description": "[{reference_id, id_number, purpose?, ref?, "
                                                                       "expires_on?}] for scope=people"})


class SubscribeSchema(ma.Schema):
    header = ma.fields.Nested(HeaderSchema, required=True)
    message = ma.fields.Nested(SubscribeMessageSchema, required=True)


def _subscribe_work(session, caller, message, request_hash):
    from flows.exchange import subscriptions

    today = local_today(config())
    if message.get("callback_url"):
        subscriptions.set_callback(session, config(), caller.client.id, str(message["callback_url"]))
        session.flush()
    sub = subscriptions.subscribe(session, config(), caller.client, scope=message.get("scope"),
                                  purpose=message.get("purpose"), ref=message.get("ref"),
                                  expires_on=message.get("expires_on"), today=today, program=message.get("program"),
                                  events=message.get("events"), people=message.get("people"))
    return {"transaction_id": message.get("transaction_id"), "correlation_id": request_hash,
            "subscription_id": sub.id, "status": "subscribed", "events": sub.events,
            "expires_on": sub.expires_on.isoformat()}


@blp.route("/registry/subscribe")
class Subscribe(MethodView):
    @blp.doc(parameters=SIGNED, requestBody={"required": True, "content": {"application/json": {
        "schema": SubscribeSchema}}})
    @blp.response(200, NotifyAnswerSchema)
    @blp.alt_response(400, description="error_code: callback_refused (https only, no loopback/private/link-local "
                                       "targets), callback_missing, subscription_invalid")
    @blp.alt_response(403, description="error_code: purpose_not_allowed, program_not_allowed, action_not_allowed")
    def post(self):
        """Subscribe to named people or (for a purpose whose legal basis lists the program) a whole program; the
        bureau then POSTs signed notifies to `<callback_url>/registry/notify`."""
        return _signed_call("subscribe", _subscribe_work)


@blp.route("/registry/unsubscribe")
class Unsubscribe(MethodView):
    @blp.doc(parameters=SIGNED, requestBody={"required": True, "content": {"application/json": {
        "schema": {"type": "object"}}}})
    @blp.response(200, NotifyAnswerSchema)
    def post(self):
        """End a subscription: message {subscription_id}."""
        def work(session, caller, message, request_hash):
            from flows.exchange import subscriptions

            ended = subscriptions.cancel(session, caller.client.id, str(message.get("subscription_id") or ""))
            return {"correlation_id": request_hash, "subscription_id": message.get("subscription_id"),
                    "status": "unsubscribed" if ended else "already_unsubscribed"}
        return _signed_call("unsubscribe", work)


@blp.route("/registry/search")
class AsyncSearch(MethodView):
    @blp.doc(parameters=SIGNED, requestBody={"required": True, "content": {"application/json": {
        "schema": SearchSchema}}})
    @blp.response(200, NotifyAnswerSchema)
    @blp.alt_response(400, description="error_code: callback_missing and the sync search's codes")
    def post(self):
        """The async search for batches: an ACK now; the answer goes to `<callback_url>/registry/on-search`,
        signed with the bureau's key, through the outbox (retries, dead letters, receipts)."""
        def work(session, caller, message, request_hash):
            from flows.exchange import subscriptions

            answer = search.search(session, config(), caller.client, message, request_hash, client_ip())
            subscriptions.queue_on_search(session, caller.client.id, caller.message_id, answer)
            return {"transaction_id": message.get("transaction_id"), "correlation_id": request_hash,
                    "ack_status": "ACK"}
        return _signed_call("search", work)


@blp.route("/.well-known/keys")
class BureauKeys(MethodView):
    @blp.doc(responses={"200": {"description": "the bureau's callback-signing public key(s)"}})
    def get(self):
        """The Ed25519 public key that signs the bureau's callbacks (kid, base64 raw key)."""
        from notifications.channels import callback

        return {"keys": [callback.public_key(config())]}
