"""The audit trail: append-only, hash-chained events with a daily anchor of the head outside the database.

Each event's hash is SHA-256 over canonical JSON of its fields, including the previous event's hash; seq is
gap-free. Appends are serialised: on PostgreSQL a transaction-scoped advisory lock, and everywhere the
single chain-head row is written first (which takes SQLite's single-writer lock), so concurrent writers
never fork the chain. Events hold no raw personal data: actors and objects are internal ids
("account:<id>", "resident:<id>", "application:<id>") or keyed hashes.

`verify()` walks the chain and returns the first broken seq; with an anchor file it also detects a full
rewrite (recomputed hashes) and truncation.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace

from sqlalchemy import bindparam, insert, select, text, update
from sqlalchemy.orm import Session

from app.db import utcnow
from app.digits import ASCII_DIGITS
from app.models import AuditEvent, AuditHead, AuditSubject

GENESIS = "0" * 64
ADVISORY_KEY = 0x5A54_4155  # "ZTAU"
HEAD_ID = 1


def canonical(event: dict) -> bytes:
    return json.dumps(event, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str).encode()


def _fields(e) -> dict:
    ts = e.ts if isinstance(e.ts, str) else e.ts.isoformat(timespec="microseconds")
    return {"seq": int(e.seq), "ts": ts, "actor": e.actor, "on_behalf_of": e.on_behalf_of, "action": e.action,
            "object_ref": e.object_ref, "result": e.result, "request_id": e.request_id,
            "source_ip": e.source_ip, "details": e.details or {}, "prev_hash": e.prev_hash}


def event_hash(e) -> str:
    return hashlib.sha256(canonical(_fields(e))).hexdigest()


def _lock_head(session: Session) -> AuditHead:
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": ADVISORY_KEY})
    # A write first: on SQLite this takes the database write lock for the rest of the transaction.
    session.execute(update(AuditHead).where(AuditHead.id == HEAD_ID).values(seq=AuditHead.seq))
    head = session.execute(
        select(AuditHead).where(AuditHead.id == HEAD_ID).with_for_update().execution_options(populate_existing=True)
    ).scalar()
    if head is None:
        last = session.execute(select(AuditEvent).order_by(AuditEvent.seq.desc()).limit(1)).scalar()
        head = AuditHead(id=HEAD_ID, seq=last.seq if last else 0, hash=last.hash if last else GENESIS)
        session.add(head)
        session.flush()
    return head


@functools.cache
def _statements() -> tuple:
    """Built once: advance the head (the write that serialises appends, returning the new seq and the previous
    hash), insert the event, store the new hash."""
    head, events = AuditHead.__table__, AuditEvent.__table__
    advance = (update(head).where(head.c.id == HEAD_ID).values(seq=head.c.seq + 1)
               .returning(head.c.seq, head.c.hash))
    store = update(head).where(head.c.id == HEAD_ID).values(hash=bindparam("new_hash"))
    return advance, insert(events), store


def record(session: Session, *, actor: str, action: str, result: str = "ok", on_behalf_of: str | None = None,
           object_ref: str | None = None, request_id: str | None = None, source_ip: str | None = None,
           details: dict | None = None, subjects=(), actor_kind: str | None = None,
           visible_at: datetime | None = None) -> SimpleNamespace:
    """Append one event in the caller's transaction (it commits or rolls back with the action).

    `subjects`: residents whose record the event touched besides `on_behalf_of` (a list page read by staff
    names every listed resident); each gets a row in `audit_subjects`, which the resident feed reads.
    `actor_kind` (self | proxy | staff | system | department) defaults from the actor and `on_behalf_of`;
    `visible_at` delays the event in the subjects' feed (a confidential purpose).

    Three Core statements on the session's connection (four with subjects): advancing the head row takes the
    lock that serialises appends (SQLite's write lock, PostgreSQL's row lock, held to the commit) and returns
    the seq and previous hash. The session's pending writes are flushed first (as autoflush would before a
    read), so that the head stays locked only for the append and the commit, not for the action's writes. Only the very first event, with no head row to lock yet, takes PostgreSQL's
    advisory lock (`_lock_head`) so that two first appends cannot both create it.
    """
    advance, add, store = _statements()
    if session.autoflush and (session.new or session.dirty or session.deleted):
        session.flush()  # the action's own writes first: the head's lock is then held only for the append
    conn = session.connection()
    head = conn.execute(advance).first()
    if head is None:  # the very first event: create the head (from the last event, if any), then advance it
        _lock_head(session)
        head = conn.execute(advance).first()
    event = SimpleNamespace(seq=head.seq, ts=utcnow(), actor=actor[:64], on_behalf_of=on_behalf_of,
                            action=action[:64], object_ref=(object_ref or None) and object_ref[:96],
                            result=result[:32], request_id=(request_id or None) and request_id[:64],
                            source_ip=(source_ip or None) and source_ip[:64], details=dict(details or {}),
                            prev_hash=head.hash)
    event.hash = event_hash(event)
    conn.execute(add, [vars(event)])
    conn.execute(store, {"new_hash": event.hash})
    _link_subjects(session, event, subjects, actor_kind, visible_at)
    return event


@functools.cache
def _add_subjects():
    return insert(AuditSubject.__table__)


def subject_of(on_behalf_of: str | None) -> int | None:
    kind, _, ref = (on_behalf_of or "").partition(":")
    return int(ref) if kind == "resident" and ASCII_DIGITS.fullmatch(ref) else None


def default_actor_kind(actor: str, on_behalf_of: str | None) -> str:
    if actor.startswith("staff:"):
        return "staff"
    if actor.startswith("account:"):
        return "proxy" if on_behalf_of else "self"
    return "system"


def _link_subjects(session: Session, event, subjects, actor_kind: str | None,
                   visible_at: datetime | None = None) -> None:
    ids = {int(r) for r in subjects or () if r is not None}
    own = subject_of(event.on_behalf_of)
    if own is not None:
        ids.add(own)
    if not ids:
        return
    kind = actor_kind or default_actor_kind(event.actor, event.on_behalf_of)
    session.connection().execute(_add_subjects(),
                    [{"resident_id": r, "seq": event.seq, "actor_kind": kind, "visible_at": visible_at}
                     for r in sorted(ids)])


@dataclass
class VerifyResult:
    ok: bool
    events: int
    head_seq: int
    head_hash: str
    broken_seq: int | None = None
    reason: str = ""


def archived_boundary(session: Session) -> tuple[int, str] | None:
    """The last event of the archived months (flows/backup/partitions.py), if any month of the trail was archived."""
    from app.models import ArchivedPartition

    row = session.execute(select(ArchivedPartition.last_seq, ArchivedPartition.last_hash)
                          .where(ArchivedPartition.table_name == "audit_events", ArchivedPartition.last_seq.is_not(None))
                          .order_by(ArchivedPartition.last_seq.desc()).limit(1)).first()
    return (int(row.last_seq), row.last_hash) if row else None


def verify(session: Session, anchor_path: str | None = None, batch: int = 5000) -> VerifyResult:
    """Walk the chain in seq order; report the first broken link (and check anchors, if given).

    Once months are archived (detached and dumped), the walk starts after their last event, from its hash: a
    boundary the database claims is trusted only when the anchor file outside it holds the same (seq, hash),
    written when the month was archived; anchors inside the archived part are the archive's to check."""
    expected_seq, prev, count, hashes = 1, GENESIS, 0, {}
    anchors = read_anchors(anchor_path)
    boundary = archived_boundary(session)
    if boundary is not None:
        if anchor_path and not any((a["seq"], a["hash"]) == boundary for a in anchors):
            return VerifyResult(False, 0, boundary[0], boundary[1], boundary[0],
                                "the archived boundary is not in the anchor file (archive record altered?)")
        expected_seq, prev = boundary[0] + 1, boundary[1]
        anchors = [a for a in anchors if a["seq"] > boundary[0]]
    wanted = {a["seq"] for a in anchors}
    last_seq = boundary[0] if boundary else 0
    while True:
        table = AuditEvent.__table__
        rows = session.execute(select(table).where(table.c.seq >= expected_seq)
                               .order_by(table.c.seq).limit(batch)).all()
        if not rows:
            break
        for row in rows:
            if row.seq != expected_seq:
                return VerifyResult(False, count, last_seq, prev, expected_seq, "missing event (gap in seq)")
            if row.prev_hash != prev:
                return VerifyResult(False, count, last_seq, prev, row.seq, "prev_hash does not link to the event before")
            if event_hash(row) != row.hash:
                return VerifyResult(False, count, last_seq, prev, row.seq, "event content does not match its hash")
            if row.seq in wanted:
                hashes[row.seq] = row.hash
            prev, last_seq, count, expected_seq = row.hash, row.seq, count + 1, row.seq + 1
    for anchor in sorted(anchors, key=lambda a: a["seq"]):
        if anchor["seq"] > last_seq:
            return VerifyResult(False, count, last_seq, prev, last_seq + 1,
                                f"chain ends at {last_seq} but seq {anchor['seq']} was anchored (truncated)")
        if anchor["seq"] > 0 and hashes.get(anchor["seq"]) != anchor["hash"]:
            return VerifyResult(False, count, last_seq, prev, anchor["seq"],
                                "event hash differs from the anchored head (chain rewritten)")
    head = session.execute(select(AuditHead.__table__).where(AuditHead.id == HEAD_ID)).first()
    if head is not None and (head.seq != last_seq or head.hash != prev):
        return VerifyResult(False, count, last_seq, prev, min(head.seq, last_seq) + 1,
                            "chain head row does not match the last event")
    return VerifyResult(True, count, last_seq, prev)


def read_anchors(anchor_path: str | None) -> list[dict]:
    if not anchor_path or not Path(anchor_path).exists():
        return []
    out = []
    for line in Path(anchor_path).read_text().splitlines():
        line = line.strip()
        if line:
            item = json.loads(line)
            out.append({"seq": int(item["seq"]), "hash": str(item["hash"]), "ts": item.get("ts")})
    return out


def write_anchor(session: Session, anchor_path: str, now: datetime | None = None) -> dict:
    """Append the current head (seq, hash, time) to the anchor file outside the database (fsynced)."""
    head = session.execute(select(AuditEvent.seq, AuditEvent.hash).order_by(AuditEvent.seq.desc()).limit(1)).first()
    return append_anchor(anchor_path, int(head.seq) if head else 0, head.hash if head else GENESIS, now)


def append_anchor(anchor_path: str, seq: int, head_hash: str, now: datetime | None = None, **extra) -> dict:
    """Append one anchor line (seq, hash, time, and e.g. `archived` month) to the anchor file, fsynced."""
    anchor = {"seq": int(seq), "hash": head_hash, "ts": (now or utcnow()).isoformat(timespec="seconds") + "Z", **extra}
    path = Path(anchor_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps(anchor, sort_keys=True) + "\n")
        f.flush()
        os.fsync(f.fileno())
    return anchor


def events_for(session: Session, on_behalf_of: str, limit: int = 100) -> list[AuditEvent]:
    return list(session.execute(select(AuditEvent).where(AuditEvent.on_behalf_of == on_behalf_of)
                                .order_by(AuditEvent.seq.desc()).limit(limit)).scalars())
