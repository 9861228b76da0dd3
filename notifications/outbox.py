"""The outbox: a message is a row written in the business transaction; the dispatcher sends it later.

States (docs/notifications.md):

    pending ──claim──▶ sending ──start call──▶ inflight ──▶ sent | no_quota | failed | dead
       ▲                  │  (lease expired: re-claimed)     │
       └──── retry ───────┴──────────────────────────────────┘   inflight + lease expired → unknown
    pending/sending ──▶ no_channel | inbox_only | delegated   (decided without any provider call)

Terminal: sent, no_channel, no_quota, inbox_only, delegated, failed, dead, unknown. A terminal state is
never changed by the dispatcher; `zerotrip outbox retry --dead` (or `--unknown`) re-queues on purpose.
"""

from __future__ import annotations

import functools

from sqlalchemy import Table, bindparam, insert, select
from sqlalchemy.orm import Session, make_transient_to_detached

from app.db import bound_insert, execute_write, flush_pending, select_first, utcnow
from app.models import OutboxMessage
from app.models.ids import new_id

PENDING, SENDING, INFLIGHT = "pending", "sending", "inflight"
SENT, NO_CHANNEL, NO_QUOTA, INBOX_ONLY, DELEGATED = "sent", "no_channel", "no_quota", "inbox_only", "delegated"
FAILED, DEAD, UNKNOWN = "failed", "dead", "unknown"
ACTIVE_STATES = (PENDING, SENDING, INFLIGHT)
TERMINAL_STATES = (SENT, NO_CHANNEL, NO_QUOTA, INBOX_ONLY, DELEGATED, FAILED, DEAD, UNKNOWN)
STATES = ACTIVE_STATES + TERMINAL_STATES

STATE_HELP = {
    PENDING: "waiting for next_attempt_at (new, retry after a transient error, quiet hours, next channel)",
    SENDING: "claimed by a dispatcher (lease_owner, lease_until); re-claimed if the lease expires",
    INFLIGHT: "a provider call is under way (committed just before the call)",
    SENT: "accepted by the provider (channel wechat or sms; provider_msgid); the inbox item exists",
    NO_CHANNEL: "the resident has no account, no phone and no proxy yet: inbox item tied to the resident",
    NO_QUOTA: "an account but no WeChat grant (or refused / 43101) and no SMS: inbox item only",
    INBOX_ONLY: "the kind has no external channel (no template): inbox item only",
    DELEGATED: "the resident chose that proxies receive her messages instead: copies went to them",
    FAILED: "permanent provider error (40003, 40037, 47003, invalid data …): never retried",
    DEAD: "transient errors for max attempts: dead-lettered with an alert; `outbox retry --dead`",
    UNKNOWN: "a dispatcher died during the call: never re-sent automatically (no duplicate); inbox has it",
}


def enqueue(session: Session, *, kind: str, idempotency_key: str, resident_id: int | None = None,
            account_id: str | None = None, application_id: str | None = None, data: dict | None = None,
            not_before=None) -> OutboxMessage | None:
    """Add a message to the caller's transaction (no commit). Returns None if the key already exists.

    The row is written at once by one Core INSERT, after the session's pending changes (what the message refers
    to is written first, as the unit of work would have ordered it): a unit of work for one new object cost more
    than twice its statement, on every decision. The object returned is persistent, as written — a change to it
    is an UPDATE at the next flush."""
    if resident_id is None and account_id is None and application_id is None:
        raise ValueError("a message needs a resident, an account or an application")
    flush_pending(session)
    if select_first(session, _key_taken(), {"idempotency_key": idempotency_key}) is not None:
        return None
    now = utcnow()
    values = {**_unset_columns(), "id": new_id(), "idempotency_key": idempotency_key, "kind": kind,
              "resident_id": resident_id, "account_id": account_id, "application_id": application_id,
              "data": dict(data or {}), "state": PENDING, "attempts": 0, "next_attempt_at": not_before or now,
              "created_at": now}
    execute_write(session, _insert_message(), values)
    row = OutboxMessage(**values)
    make_transient_to_detached(row)
    session.add(row)
    return row


@functools.cache
def _unset_columns() -> dict:
    """Every column without a default, empty: `enqueue` sets the others, so the INSERT binds every column and the
    object returned holds the whole row (no lazy load of what it left empty). A column added later with a
    server default is left out, and the INSERT, no longer fully bound, lets the server fill it."""
    return dict.fromkeys(column.name for column in outbox_table().columns
                         if column.default is None and column.server_default is None)


@functools.cache
def _insert_message():
    return bound_insert(outbox_table())


@functools.cache
def _key_taken():
    """enqueue's look-up of an idempotency key, built once (a decision enqueues one message per confirmation)."""
    table = outbox_table()
    return select(table.c.id).where(table.c.idempotency_key == bindparam("idempotency_key")).limit(1)


def outbox_table() -> Table:
    return OutboxMessage.__table__


def insert_rows(conn_or_session, rows: list[dict]) -> int:
    """Set-based enqueue (Core executemany) for callers that build rows in bulk.

    Each dict needs kind and idempotency_key, plus resident_id/account_id/application_id/data as
    wanted. Keys that already exist are skipped (checked first; the unique key is the backstop).
    """
    if not rows:
        return 0
    table = outbox_table()
    keys = [r["idempotency_key"] for r in rows]
    existing = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        existing |= set(conn_or_session.execute(
            select(table.c.idempotency_key).where(table.c.idempotency_key.in_(chunk))).scalars())
    now = utcnow()
    values = []
    for r in rows:
        if r["idempotency_key"] in existing:
            continue
        existing.add(r["idempotency_key"])
        values.append({"id": new_id(), "idempotency_key": r["idempotency_key"], "kind": r["kind"],
                       "resident_id": r.get("resident_id"), "account_id": r.get("account_id"),
                       "application_id": r.get("application_id"), "data": r.get("data") or {},
                       "state": PENDING, "attempts": 0, "next_attempt_at": r.get("next_attempt_at") or now,
                       "created_at": now})
    if values:
        conn_or_session.execute(insert(table), values)
    return len(values)
