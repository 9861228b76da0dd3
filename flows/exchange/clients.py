"""Partner clients (departments): registration, keys (rotate, revoke), and the check of a signed request.

`authenticate` is the gate of every `/exchange/v1/…` call: headers present, client and key known, key not
revoked, timestamp within ±60 s, signature valid, agreement in force, action allowed, limits per minute and per
day. Each refusal writes one security log line and raises a DomainError with a stable `error_code`.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Row, and_, bindparam, select, text, update
from sqlalchemy.orm import Session

from app import digits
from app.db import core_execute, utcnow
from app.errors import Conflict, DomainError, Forbidden, TooManyAttempts, Unauthorized
from app.models import ExchangeClient, ExchangeKey, ExchangeMessage
from app.security_log import refused
from flows import limits
from flows.dates import SHANGHAI, fake_today
from flows.exchange import signing

ACTIONS = ("push", "search", "subscribe")
MAX_DELAY_DAYS = 365
MESSAGE_TTL = timedelta(minutes=10)
PURGE_EVERY = 100
_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}\Z")


class BadRegistration(ValueError):
    pass


class ClientExists(BadRegistration):
    """The client id is registered already (a repeat, or a parallel registration that committed first)."""


def register(session: Session, *, client_id: str, name: str, public_key: str, actions: list[str], purposes: dict,
             pia_ref: str, agreement_ref: str, agreement_expires: date, contact: str, per_minute: int = 600,
             per_day: int = 200_000, death_source: str | None = None, key_id: str | None = None) -> ExchangeClient:
    """Register a department; BadRegistration when the paperwork (PIA, agreement) or the allowlists are wrong."""
    if not _ID.match(client_id or "") or len(client_id) > 40:
        raise BadRegistration("client id: 1–40 letters, digits, . _ : -")
    if not (name or "").strip():
        raise BadRegistration("the department's name is required (the screens and every audit line show it)")
    if not (pia_ref or "").strip():
        raise BadRegistration("a PIA reference (个人信息保护影响评估, PIPL art. 55–56) is required")
    if not (agreement_ref or "").strip():
        raise BadRegistration("the data-sharing agreement's reference is required")
    unknown = set(actions) - set(ACTIONS)
    if unknown or not actions:
        raise BadRegistration(f"actions must be among {', '.join(ACTIONS)}")
    _check_purposes(purposes)
    if session.get(ExchangeClient, client_id) is not None:
        raise ClientExists(f"client {client_id} exists")
    client = ExchangeClient(id=client_id, name=name.strip()[:64], actions=sorted(set(actions)), purposes=purposes,
                            per_minute=per_minute, per_day=per_day, pia_ref=pia_ref.strip()[:64],
                            agreement_ref=agreement_ref.strip()[:64], agreement_expires=agreement_expires,
                            contact=contact.strip()[:128], death_source=death_source)
    session.add(client)
    add_key(session, client_id, public_key, key_id)
    return client


def _check_purposes(purposes: dict) -> None:
    from flows.exchange.datasets import ANSWERS

    for code, spec in purposes.items():
        if not _ID.match(code):
            raise BadRegistration(f"purpose code {code!r} is not a simple code")
        if not str(spec.get("legal_basis") or "").strip():
            raise BadRegistration(f"purpose {code}: the legal basis is required")
        delay = int(spec.get("delay_days") or 0)
        if not 0 <= delay <= MAX_DELAY_DAYS:
            raise BadRegistration(f"purpose {code}: delay_days must be 0–{MAX_DELAY_DAYS} (never hidden for ever)")
        from flows.exchange.datasets import PUSH

        unknown_push = set(spec.get("push") or ()) - set(PUSH)
        if unknown_push:
            raise BadRegistration(f"purpose {code}: unknown push dataset {', '.join(sorted(unknown_push))}")
        from flows.programs import PROGRAMS

        unknown_programs = set(spec.get("programs") or ()) - set(PROGRAMS)
        if unknown_programs:
            raise BadRegistration(f"purpose {code}: unknown program {', '.join(sorted(unknown_programs))}")
        for dataset, fields in (spec.get("fields") or {}).items():
            known = ANSWERS.get(dataset)
            if known is None:
                raise BadRegistration(f"purpose {code}: unknown dataset {dataset}")
            extra = set(fields) - set(known.fields)
            if extra:
                raise BadRegistration(f"purpose {code}: dataset {dataset} has no field {', '.join(sorted(extra))}")


def add_key(session: Session, client_id: str, public_key: str, key_id: str | None = None) -> ExchangeKey:
    try:
        normalized = signing.normalize_public_key(public_key)
    except ValueError as exc:
        raise BadRegistration(str(exc)) from None
    if key_id is not None and (not _ID.match(key_id) or session.get(ExchangeKey, key_id) is not None):
        raise BadRegistration(f"key id {key_id!r} is taken or not 1–64 letters, digits, . _ : -")
    key = ExchangeKey(id=key_id or f"{client_id}-{secrets.token_hex(4)}", client_id=client_id,
                      public_key=normalized)
    session.add(key)
    return key


def revoke_key(session: Session, key_id: str) -> bool:
    """Revoke at once; False when there is no such key or it was revoked already (one UPDATE: two revocations
    at the same moment revoke it once)."""
    done = session.execute(update(ExchangeKey).where(ExchangeKey.id == key_id, ExchangeKey.revoked_at.is_(None))
                           .values(revoked_at=utcnow()).execution_options(synchronize_session="fetch"))
    return done.rowcount == 1


# Built once (the statements of every signed request; building them costs more than running them).
_C, _K, _M = ExchangeClient.__table__, ExchangeKey.__table__, ExchangeMessage.__table__
# The key, its client and the message id's earlier answer (if any) in one round trip, as plain rows (no ORM
# objects on the hot path): the client row is read-only here and has the model's attribute names.
_GATE = (select(*(c for c in _C.c if c.name != "webhook_secret_enc"), _K.c.public_key.label("key_public_key"), _K.c.revoked_at.label("key_revoked_at"),
                _M.c.body_sha256.label("seen_body_sha256"), _M.c.status.label("seen_status"),
                _M.c.answer.label("seen_answer"), _M.c.created_at.label("seen_created_at"))
         .select_from(_K.join(_C, _C.c.id == _K.c.client_id)
                      .outerjoin(_M, and_(_M.c.client_id == _K.c.client_id, _M.c.message_id == bindparam("mid"))))
         .where(_K.c.id == bindparam("kid"), _K.c.client_id == bindparam("cid")))
_FORGET = _M.delete().where(_M.c.client_id == bindparam("cid"), _M.c.message_id == bindparam("mid"))
_PURGE = _M.delete().where(_M.c.created_at < bindparam("cutoff"))
_REMEMBER = _M.insert()
_SYNC_OFF = text("SET LOCAL synchronous_commit TO OFF")


@dataclass
class Caller:
    client: Row  # the exchange_clients row (the model's attribute names: id, name, actions, purposes, …)
    key_id: str
    message_id: str
    body_sha256: str
    # the message id's stored answer, read with the key: (body_sha256, status, answer, created_at) or None
    seen: tuple | None = None


def authenticate(session: Session, *, headers, method: str, path: str, body: bytes, action: str,
                 address: str | None, now: float | None = None) -> Caller:
    """The signed request's client, or a DomainError (401/403/429) after one security log line."""
    now = time.time() if now is None else now
    values = {h: (headers.get(h) or "").strip() for h in signing.HEADERS}
    client_id, key_id = values["X-ZT-Client"][:40], values["X-ZT-Key"][:64]

    def deny(code: str, message: str, cls=Unauthorized, **extra):
        refused(f"exchange_{code}", actor=f"exchange:{client_id or '-'}", address=address, key=key_id or "-",
                path=path)
        error = cls(message, error_code=code, errors=extra or None)
        raise error

    if any(not v for v in values.values()):
        deny("signature_missing", "Sign the request: headers " + ", ".join(signing.HEADERS) + " are required.")
    ts = values["X-ZT-Timestamp"]
    if not digits.is_ascii_digits(ts) or len(ts) > 12 or abs(int(ts) - now) > signing.WINDOW_SECONDS:
        deny("timestamp_skew", f"X-ZT-Timestamp must be Unix seconds within ±{signing.WINDOW_SECONDS} s of the "
             "server's time.", server_time=int(now))
    message_id = values["X-ZT-Message-Id"]
    if not _ID.match(message_id):
        deny("signature_invalid", "X-ZT-Message-Id: 1–64 letters, digits, . _ : -")
    row = core_execute(session, _GATE, {"kid": key_id, "cid": client_id, "mid": message_id}).first()
    if row is None:
        deny("key_unknown", "No such key for this client.")
    if row.key_revoked_at is not None:
        deny("key_revoked", "This key was revoked.")
    message = signing.string_to_sign(method, path, ts, message_id, body)
    if not signing.verify(row.key_public_key, values["X-ZT-Signature"], message):
        deny("signature_invalid", "The signature does not verify.")
    if row.agreement_expires < (fake_today() or datetime.fromtimestamp(now, SHANGHAI).date()):  # the city's day
        deny("agreement_expired", "The data-sharing agreement has expired.", Forbidden)
    if action not in (row.actions or []):
        deny("action_not_allowed", f"This client may not {action}.", Forbidden)
    seen = None if row.seen_body_sha256 is None else (row.seen_body_sha256, row.seen_status, row.seen_answer,
                                                      row.seen_created_at)
    caller = Caller(row, key_id, message_id, signing.body_hash(body), seen)
    honest_retry = seen is not None and seen[0] == caller.body_sha256 and seen[3] >= utcnow() - MESSAGE_TTL
    wait = None if honest_retry else spend(session, caller)  # a retry gets its stored answer, never a 429
    if wait is not None:
        refused("exchange_rate_limit", actor=f"exchange:{client_id}", address=address)
        raise TooManyAttempts("Over this client's request limit.", wait, error_code="rate_limited")
    return caller


def spend(session: Session, caller: Caller) -> int | None:
    """One hit of the client's limits per minute and per day, committed at once (the counter row is held only
    for that short transaction, not for the request's work); None when allowed, else the seconds to wait."""
    client = caller.client
    if session.get_bind().dialect.name == "postgresql":
        # a counter, not a record: its commit need not wait for the disk (every request hits these rows)
        core_execute(session, _SYNC_OFF)
    return limits.take_all(session, [(f"exchange:{client.id}:minute", client.per_minute, 60),
                                     (f"exchange:{client.id}:day", client.per_day, 86_400)])


def replayed(session: Session, caller: Caller, address: str | None) -> tuple[int, str] | None:
    """The stored answer when this message id was seen with the same body (an honest retry); 409
    `message_id_reused` with another body; None for a new id (then it is recorded in the caller's transaction)."""
    cutoff = utcnow() - MESSAGE_TTL
    seen = caller.seen  # read with the key (authenticate): one round trip less
    if seen is not None and seen[3] < cutoff:
        core_execute(session, _FORGET, {"cid": caller.client.id, "mid": caller.message_id})
        seen = None
    if seen is None:
        if secrets.randbelow(PURGE_EVERY) == 0:  # ids older than 10 minutes are dropped now and then
            core_execute(session, _PURGE, {"cutoff": cutoff})
        return None
    body_sha256, status, answer, _created = seen
    if body_sha256 != caller.body_sha256:
        refused("exchange_message_id_reused", actor=f"exchange:{caller.client.id}", address=address)
        raise Conflict("This message id was used with another body.", error_code="message_id_reused")
    return status, answer or ""


def remember(session: Session, caller: Caller, status: int, answer: str) -> None:
    """Keep the answer under the message id, in the transaction of the work (a concurrent twin of the same id
    fails on the primary key and is told to retry)."""
    core_execute(session, _REMEMBER, {"client_id": caller.client.id, "message_id": caller.message_id,
                                "body_sha256": caller.body_sha256, "status": status, "answer": answer,
                                "created_at": utcnow()})


def clients(session: Session) -> list[ExchangeClient]:
    return list(session.scalars(select(ExchangeClient).order_by(ExchangeClient.id)))


def keys_of(session: Session, client_ids: list[str]) -> dict[str, list[ExchangeKey]]:
    """Each client's keys, oldest first (one query for a page of clients)."""
    out: dict[str, list[ExchangeKey]] = {cid: [] for cid in client_ids}
    query = select(ExchangeKey).where(ExchangeKey.client_id.in_(client_ids)).order_by(ExchangeKey.created_at,
                                                                                       ExchangeKey.id)
    for key in session.scalars(query):
        out[key.client_id].append(key)
    return out


__all__ = ["DomainError", "authenticate", "register", "add_key", "revoke_key", "replayed", "remember"]
