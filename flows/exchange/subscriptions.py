"""Subscriptions (issue 15 item 1): departments told when the bureau's own facts change.

- `set_callback`: the client's callback base URL, checked against SSRF (notifications.channels.callback).
- `subscribe`: to named people (ID numbers, each with purpose, case ref and expiry) or — for a purpose whose
  legal basis is registered for the client — to a whole program. Events are what the program module declares
  publishable (`Program.published_events`); nothing else is ever published (no deaths, no reasons).
- `publish`: one pass of the publisher (run by the exchange worker): benefits started and benefit changes since
  its cursor (with an overlap, each source handled once through `exchange_published`) become `exchange_notify`
  outbox rows — delivered by the dispatcher's callback channel, signed with the bureau's key — and one audit
  event per department and resident, so the notification joins the resident's feed.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timedelta

from sqlalchemy import and_, func, select, update
from sqlalchemy.orm import Session

from app import audit, idnumbers
from app.crypto import cipher_for
from app.db import utcnow
from app.errors import DomainError, Forbidden, NotFound
from app.models import (
    Benefit,
    BenefitChange,
    ExchangeCallback,
    ExchangeClient,
    ExchangeCursor,
    ExchangePublished,
    ExchangeSubscription,
    ExchangeSubscriptionPerson,
    Resident,
)
from flows import programs
from notifications.channels import callback as channel
from notifications.outbox import insert_rows

EVENTS = ("start", "stop", "suspend", "resume")
CHANGE_EVENTS = {"stopped": "stop", "suspended": "suspend", "resumed": "resume"}
MAX_PEOPLE = 1000
MAX_DAYS = 366  # a subscription is renewed at least yearly (the agreement's expiry caps it too)
OVERLAP = timedelta(minutes=10)  # re-read behind the cursor: a transaction may commit after later ones
NOTIFY_PATH, ON_SEARCH_PATH = "/registry/notify", "/registry/on-search"


def _bad(message: str, code: str = "subscription_invalid") -> DomainError:
    return DomainError(message, error_code=code)


def set_callback(session: Session, cfg, client_id: str, base_url: str) -> ExchangeCallback:
    """Register (or replace) where the client is called; 400 `callback_refused` for an unsafe URL."""
    if session.get(ExchangeClient, client_id) is None:
        raise NotFound(f"no client {client_id}")
    try:
        channel.check_url(channel.join(base_url, NOTIFY_PATH), cfg.exchange_callback_allow)
    except channel.CallbackRefused as exc:
        raise _bad(str(exc), "callback_refused") from None
    row = session.get(ExchangeCallback, client_id)
    if row is None:
        row = ExchangeCallback(client_id=client_id, base_url=base_url.rstrip("/"))
        session.add(row)
    elif row.base_url != base_url.rstrip("/"):
        _repoint_waiting(session, client_id, row.base_url, base_url.rstrip("/"))
    row.base_url, row.updated_at = base_url.rstrip("/"), utcnow()
    return row


def _repoint_waiting(session: Session, client_id: str, old_base: str, new_base: str) -> None:
    """Messages still waiting for this client go to the new URL: a department that corrected its URL (or
    replaced one it no longer controls) must not have its queued notifies, which carry ID numbers, retried at
    the old one until they dead-letter. A message being sent at this moment keeps the URL it is sent to."""
    from app.models import OutboxMessage as O
    from notifications.outbox import PENDING

    waiting = session.scalars(select(O).where(O.kind.in_(("exchange_notify", "exchange_on_search")),
                                              O.state == PENDING)).all()
    for message in waiting:
        data = message.data or {}
        url = data.get("url") or ""
        if data.get("client_id") == client_id and url.startswith(old_base):
            message.data = {**data, "url": new_base + url[len(old_base):]}


def _expiry(value, today: date, client: ExchangeClient) -> date:
    if isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            raise _bad("expires_on must be a date YYYY-MM-DD") from None
    if not isinstance(value, date) or value < today:
        raise _bad("expires_on must be a date from today on")
    if value > today + timedelta(days=MAX_DAYS) or value > client.agreement_expires:
        raise _bad(f"expires_on: at most {MAX_DAYS} days ahead and not after the agreement's expiry")
    return value


def subscribe(session: Session, cfg, client: ExchangeClient, *, scope: str, purpose: str, ref: str, expires_on,
              today: date, program: str | None = None, events: list[str] | None = None,
              people: list[dict] | None = None) -> ExchangeSubscription:
    """A new subscription. people: [{reference_id, id_number, purpose?, ref?, expires_on?}] (each person's own
    purpose and case default to the subscription's)."""
    if session.get(ExchangeCallback, client.id) is None:
        raise _bad("register a callback URL first (zerotrip exchange callback set / PUT …/callback)",
                   "callback_missing")
    if scope not in ("people", "program"):
        raise _bad("scope is people or program")
    if not isinstance(purpose, str) or (program is not None and not isinstance(program, str)):
        raise _bad("purpose and program are strings (a code)")
    if events is not None and (not isinstance(events, list) or not all(isinstance(e, str) for e in events)):
        raise _bad("events: a list of event names")
    if not isinstance(ref, str) or not ref.strip() or len(ref) > 64:
        raise _bad("ref (the case at the subscribing department) is required, at most 64 characters")
    allowed = (client.purposes or {}).get(purpose)
    if allowed is None:
        raise Forbidden("This purpose is not registered for this client.", error_code="purpose_not_allowed")
    until = _expiry(expires_on, today, client)
    if scope == "program":
        module = programs.get(program or "")
        if module is None or not module.published_events:
            raise _bad("program: one whose module publishes events (" + ", ".join(
                p.code for p in programs.PROGRAMS.values() if p.published_events) + ")")
        if program not in (allowed.get("programs") or ()) or not str(allowed.get("legal_basis") or "").strip():
            raise Forbidden("A whole-program subscription needs the program listed under this purpose's registered "
                            "legal basis (client purposes: programs).", error_code="program_not_allowed")
        publishable = set(module.published_events)
    else:
        if program is not None and programs.get(program) is None:
            raise _bad("unknown program")
        publishable = set(programs.get(program).published_events) if program else set(EVENTS)
    wanted = list(events or sorted(publishable))
    if not publishable:
        raise _bad(f"{program} publishes no events a subscription could follow")
    if not wanted or set(wanted) - publishable:
        raise _bad("events must be among " + ", ".join(sorted(publishable)))
    sub = ExchangeSubscription(client_id=client.id, scope=scope, program=program, events=sorted(set(wanted)),
                               purpose=purpose, ref=ref.strip(), expires_on=until)
    session.add(sub)
    session.flush()
    if scope == "people":
        if not isinstance(people, list) or not 1 <= len(people) <= MAX_PEOPLE:
            raise _bad(f"people: a list of 1–{MAX_PEOPLE} entries")
        cipher, seen, references = cipher_for(cfg), set(), set()
        for i, p in enumerate(people):
            if not isinstance(p, dict):
                raise _bad(f"people[{i}] must be an object")
            try:  # a number that is none would be kept as a hash that never matches: the department never told
                number = idnumbers.validate(str(p.get("id_number") or ""), today)
            except idnumbers.InvalidIdNumber as exc:
                raise _bad(f"people[{i}].id_number is not an ID number ({exc.code}: {exc})") from None
            reference = p.get("reference_id")
            if not isinstance(reference, str) or not reference.strip() or len(reference) > 64:
                raise _bad(f"people[{i}] needs reference_id (1-64 characters)")
            if reference.strip() in references:
                raise _bad(f"people[{i}].reference_id repeats an earlier entry's")
            references.add(reference.strip())
            p_purpose = p.get("purpose") or purpose
            if not isinstance(p_purpose, str):
                raise _bad(f"people[{i}].purpose is a string (a code)")
            if p_purpose not in (client.purposes or {}):
                raise Forbidden(f"people[{i}]: purpose not registered", error_code="purpose_not_allowed")
            p_ref = str(p.get("ref") or ref).strip()[:64]
            h = cipher.lookup_hash(number, "id")
            if h in seen:
                continue
            seen.add(h)
            session.add(ExchangeSubscriptionPerson(
                subscription_id=sub.id, id_hash=h, reference_id=reference.strip(), purpose=p_purpose, ref=p_ref,
                expires_on=min(_expiry(p.get("expires_on") or until, today, client), until)))
    elif people:
        raise _bad("a program subscription names no people")
    session.flush()
    return sub


def cancel(session: Session, client_id: str, subscription_id: str) -> bool:
    sub = session.get(ExchangeSubscription, subscription_id)
    if sub is None or sub.client_id != client_id:
        raise NotFound("no such subscription")
    if sub.cancelled_at is not None:
        return False
    sub.cancelled_at = utcnow()
    return True


def listing(session: Session, client_id: str) -> list[dict]:
    subs = session.scalars(select(ExchangeSubscription).where(ExchangeSubscription.client_id == client_id)
                           .order_by(ExchangeSubscription.created_at)).all()
    P = ExchangeSubscriptionPerson
    counts = dict(session.execute(select(P.subscription_id, func.count()).where(
        P.subscription_id.in_([s.id for s in subs])).group_by(P.subscription_id)).all()) if subs else {}
    out = []
    for s in subs:
        n = counts.get(s.id)
        out.append({"id": s.id, "scope": s.scope, "program": s.program, "events": s.events, "purpose": s.purpose,
                    "ref": s.ref, "expires_on": s.expires_on.isoformat(), "created_at": s.created_at.isoformat(),
                    "cancelled": s.cancelled_at is not None, "people": n})
    return out


# ---- the publisher -------------------------------------------------------------------------------------------

def _cursor(session: Session, name: str, now: datetime) -> datetime:
    row = session.get(ExchangeCursor, name)
    if row is None:
        row = ExchangeCursor(name=name, position=now)
        session.add(row)
        session.flush()
    return row.position


def _sources(session: Session, since: datetime, codes: list[str]) -> list[dict]:
    B, C = Benefit, BenefitChange
    starts = session.execute(select(B.id, B.resident_id, B.program, B.start_month, B.created_at)
                             .where(B.created_at >= since, B.program.in_(codes))).all()
    changes = session.execute(select(C.id, C.kind, C.effective_month, C.created_at, B.resident_id, B.program)
                              .join(B, B.id == C.benefit_id)
                              .where(C.created_at >= since, C.kind.in_(list(CHANGE_EVENTS)), B.program.in_(codes))
                              ).all()
    out = [{"key": f"start:{r.id}", "resident_id": r.resident_id, "program": r.program, "event": "start",
            "month": r.start_month, "at": r.created_at} for r in starts]
    out += [{"key": f"change:{r.id}", "resident_id": r.resident_id, "program": r.program,
             "event": CHANGE_EVENTS[r.kind], "month": r.effective_month, "at": r.created_at} for r in changes]
    return out


def publish(session: Session, cfg, today: date) -> int:
    """One pass; returns the notifications queued. Commit is the caller's (one transaction)."""
    now = utcnow()
    since = _cursor(session, "benefits", now)
    codes = [p.code for p in programs.PROGRAMS.values() if p.published_events]
    active = and_(ExchangeSubscription.cancelled_at.is_(None), ExchangeSubscription.expires_on >= today)
    subs = session.scalars(select(ExchangeSubscription).where(active)).all()
    sources = _sources(session, since - OVERLAP, codes) if codes else []
    keys = [s["key"] for s in sources]
    done = set()
    for i in range(0, len(keys), 500):
        done |= set(session.scalars(select(ExchangePublished.source_key)
                                    .where(ExchangePublished.source_key.in_(keys[i:i + 500]))))
    fresh = [s for s in sources if s["key"] not in done]
    queued = 0
    if fresh and subs:
        queued = _fan_out(session, cfg, today, subs, fresh)
    if fresh:
        session.execute(ExchangePublished.__table__.insert(), [{"source_key": s["key"], "created_at": now}
                                                               for s in fresh])
    top = max([s["at"] for s in sources] + [since])
    session.execute(update(ExchangeCursor).where(ExchangeCursor.name == "benefits").values(position=top))
    if secrets_tick(now):
        session.execute(ExchangePublished.__table__.delete().where(
            ExchangePublished.created_at < now - 4 * OVERLAP))
    return queued


def secrets_tick(now: datetime) -> bool:
    """Old bookkeeping rows (past the overlap) are dropped about once a minute."""
    return now.second == 0


def _fan_out(session: Session, cfg, today: date, subs, fresh: list[dict]) -> int:
    allowed = {code: set(programs.get(code).published_events) for code in {s["program"] for s in fresh}}
    fresh = [s for s in fresh if s["event"] in allowed[s["program"]]]
    residents = {r.id: r.id_hash for r in session.execute(
        select(Resident.id, Resident.id_hash).where(Resident.id.in_({s["resident_id"] for s in fresh})))}
    people_subs = [s for s in subs if s.scope == "people"]
    named: dict[str, list] = {}
    if people_subs:
        P = ExchangeSubscriptionPerson
        for p in session.scalars(select(P).where(P.subscription_id.in_([s.id for s in people_subs]),
                                                 P.id_hash.in_(set(residents.values())), P.expires_on >= today)):
            named.setdefault(p.id_hash, []).append(p)
    by_id = {s.id: s for s in subs}
    clients = {c.id: c for c in session.scalars(select(ExchangeClient).where(
        ExchangeClient.id.in_({s.client_id for s in subs})))}
    urls = dict(session.execute(select(ExchangeCallback.client_id, ExchangeCallback.base_url)).all())
    rows, told = [], []
    for src in fresh:
        targets = [(s, None) for s in subs if s.scope == "program" and s.program == src["program"]
                   and src["event"] in s.events and src["at"] >= s.created_at]
        for p in named.get(residents.get(src["resident_id"]), ()):
            s = by_id[p.subscription_id]
            if s.program in (None, src["program"]) and src["event"] in s.events and src["at"] >= s.created_at:
                targets.append((s, p))
        for sub, person in targets:
            client = clients.get(sub.client_id)
            if client is None or client.agreement_expires < today or sub.client_id not in urls:
                continue
            purpose = person.purpose if person else sub.purpose
            ref = person.ref if person else sub.ref
            mid = "zt-" + hashlib.sha256(f"{sub.id}|{src['key']}".encode()).hexdigest()[:40]
            record = {"event_id": src["key"], "program": src["program"], "event": src["event"],
                      "effective_month": src["month"], "subscription_id": sub.id,
                      "reference_id": person.reference_id if person else None,
                      "purpose": {"code": purpose, "ref": ref}, "person": {"id_type": "CN-ID"}}
            envelope = {"header": {"message_id": mid, "message_ts": utcnow().isoformat(timespec="seconds") + "Z",
                                   "action": "notify", "sender_id": channel.SENDER_ID,
                                   "receiver_id": sub.client_id, "total_count": 1, "is_msg_encrypted": False},
                        "message": {"transaction_id": sub.id, "records": [record]}}
            rows.append({"kind": "exchange_notify", "idempotency_key": f"xn:{sub.id}:{src['key']}",
                         "data": {"url": channel.join(urls[sub.client_id], NOTIFY_PATH), "envelope": envelope,
                                  "id_of": src["resident_id"], "client_id": sub.client_id}})
            told.append((client, purpose, ref, src))
    queued = insert_rows(session, rows)
    for client, purpose, ref, src in told:
        spec = (client.purposes or {}).get(purpose) or {}
        delay = int(spec.get("delay_days") or 0)
        module = programs.get(src["program"])
        audit.record(session, actor=f"exchange:{client.id}", action="exchange.notify",
                     object_ref=f"program:{src['program']}",
                     details={"client": client.id, "department": client.name, "purpose": purpose,
                              "purpose_text": spec.get("text") or purpose, "ref": ref, "program": src["program"],
                              "told": {str(src["resident_id"]): {"program": module.short_name,
                                                                 "event": src["event"], "month": src["month"]}}},
                     subjects=[src["resident_id"]], actor_kind="department",
                     visible_at=utcnow() + timedelta(days=delay) if delay else None)
    return queued


__all__ = ["set_callback", "subscribe", "cancel", "listing", "publish"]


def queue_on_search(session: Session, client_id: str, message_id: str, answer: dict) -> None:
    """The async search's answer, delivered to `<callback>/registry/on-search` by the dispatcher."""
    base = session.get(ExchangeCallback, client_id)
    if base is None:
        raise _bad("register a callback URL first (a subscription's callback_url, or zerotrip exchange callback "
                   "set)", "callback_missing")
    mid = "zt-" + hashlib.sha256(f"on-search|{client_id}|{message_id}".encode()).hexdigest()[:40]
    envelope = {"header": {"message_id": mid, "message_ts": utcnow().isoformat(timespec="seconds") + "Z",
                           "action": "on-search", "sender_id": channel.SENDER_ID, "receiver_id": client_id,
                           "correlation_id": answer.get("correlation_id"), "in_reply_to": message_id,
                           "total_count": len(answer.get("search_response") or [])},
                "message": answer}
    insert_rows(session, [{"kind": "exchange_on_search", "idempotency_key": f"xs:{client_id}:{message_id}",
                           "data": {"url": channel.join(base.base_url, ON_SEARCH_PATH), "envelope": envelope,
                                    "client_id": client_id}}])


def deliveries(session: Session, client_id: str | None, limit: int = 50) -> list[dict]:
    """The receipt log of callbacks: outbox rows of the callback kinds (newest first)."""
    from app.models import OutboxMessage as O

    q = select(O).where(O.kind.in_(("exchange_notify", "exchange_on_search"))).order_by(O.created_at.desc())
    out = []
    for row in session.scalars(q.limit(limit * 4 if client_id else limit)):
        data = row.data or {}
        if client_id and data.get("client_id") != client_id:
            continue
        header = (data.get("envelope") or {}).get("header") or {}
        out.append({"id": row.id, "kind": row.kind, "client": data.get("client_id"),
                    "message_id": header.get("message_id"), "state": row.state, "attempts": row.attempts,
                    "sent_at": row.sent_at.isoformat() if row.sent_at else None, "receipt": row.provider_msgid,
                    "last_error": row.last_error})
        if len(out) >= limit:
            break
    return out
