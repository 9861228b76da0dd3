"""The OpenCRVS-style death webhook: the one exception to the Ed25519 scheme. A publisher (a registered client
with a webhook secret) POSTs `{"id", "topic": "DEATH_REGISTERED", "deceased": {"id_number", "death_date"}}`
signed `X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>`; it goes through the same push code as a
`notify` record of dataset `deaths` (reference id = the event id)."""

from __future__ import annotations

import hmac
import json

from app.crypto import cipher_for
from app.errors import DomainError, NotFound, Unauthorized
from app.models import ExchangeClient
from app.nul import holds_nul
from app.security_log import refused
from flows.exchange import push, signing


def _secret(session, cfg, publisher: str) -> tuple[ExchangeClient | None, bytes | None]:
    client = session.get(ExchangeClient, publisher[:40])
    if client is None or client.webhook_secret_enc is None:
        return None, None
    return client, cipher_for(cfg).decrypt(client.webhook_secret_enc, b"exchange-webhook").encode()


def set_secret(session, cfg, client: ExchangeClient, secret: str) -> None:
    client.webhook_secret_enc = cipher_for(cfg).encrypt(secret, b"exchange-webhook")


def receive(session, cfg, publisher: str, body: bytes, signature: str, address: str | None, today) -> dict:
    client, secret = _secret(session, cfg, publisher)
    if client is None:
        refused("exchange_key_unknown", actor=f"exchange:{publisher[:40]}", address=address, path="webhook")
        raise Unauthorized("Unknown publisher.", error_code="key_unknown")
    if not signature:
        refused("exchange_signature_missing", actor=f"exchange:{client.id}", address=address, path="webhook")
        raise Unauthorized("X-Hub-Signature-256 is required.", error_code="signature_missing")
    expected = "sha256=" + signing.webhook_signature(secret, body)
    if not hmac.compare_digest(expected, signature.strip()):
        refused("exchange_signature_invalid", actor=f"exchange:{client.id}", address=address, path="webhook")
        raise Unauthorized("The HMAC does not verify.", error_code="signature_invalid")
    try:
        event = json.loads(body)
        deceased = event["deceased"]
        record = {"id_number": str(deceased["id_number"]), "death_date": str(deceased["death_date"]),
                  "source": client.death_source or "health"}
        ref, topic = event["id"], event["topic"]
    except (ValueError, KeyError, TypeError):
        raise DomainError("Expected {id, topic, deceased: {id_number, death_date}}.",
                          error_code="envelope_invalid") from None
    if holds_nul(event):
        raise DomainError("A text in the event holds a NUL character (U+0000).", error_code="nul_character")
    if not isinstance(ref, str) or not ref.strip() or len(ref) > push.MAX_REFERENCE:
        # the event id is the record's reference: cut short, two events would be one (the second lost)
        raise DomainError(f"The event id must be text of 1-{push.MAX_REFERENCE} characters.",
                          error_code="envelope_invalid")
    if topic != "DEATH_REGISTERED":
        return {"header": {"status": "succ"}, "message": {"results": [], "ignored_topic": str(topic)[:40]}}
    results = push.push(session, cfg, client, [{"reference_id": ref, "dataset": "deaths", "record": record}], today)
    return {"header": {"status": "succ"}, "message": {"results": results}}


def verify_subscription(session, publisher: str, args) -> str:
    if session.get(ExchangeClient, publisher[:40]) is None or args.get("hub.mode") != "subscribe":
        raise NotFound("No such subscription.")
    return str(args.get("hub.challenge", ""))[:200]
