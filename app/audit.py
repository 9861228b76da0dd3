"""The audit trail: append-only, hash-chained events with a daily anchor of the head outside the database.

Each event's hash is SHA-256 over canonical JSON of its fields, including the previous event's hash; seq is
gap-free. Appends are serialised on the single chain-head row, written first (its row lock on PostgreSQL,
where the whole append is one statement; SQLite's single-writer lock), so concurrent writers never fork the
chain. Events hold no raw personal data: actors and objects are internal ids ("account:<id>", "resident:<id>",
"application:<id>") or keyed hashes.

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

from app import direct_select
from app.db import flush_pending, utcnow
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

    Advancing the head row takes the lock that serialises appends (SQLite's write lock, PostgreSQL's row lock,
    held to the commit), so everything between it and the commit is paid by every other appender. The
    session's pending writes are flushed first (as autoflush would before a read). On PostgreSQL the append is
    one statement (`_append_in_one_statement`): the head's UPDATE computes the hash in SQL and the same
    statement inserts the event and its subjects, so the lock is held for that statement and the commit only.
    Elsewhere three or four Core statements: advance (returning the seq and previous hash), insert the event,
    store its hash (and the subjects). Only the very first event, with no head row to lock yet, takes
    PostgreSQL's advisory lock (`_lock_head`) so that two first appends cannot both create it.
    """
    if session.autoflush:
        flush_pending(session)  # the action's own writes first: the head's lock is then held only for the append
    event = SimpleNamespace(seq=None, ts=None, actor=actor[:64], on_behalf_of=on_behalf_of,
                            action=action[:64], object_ref=(object_ref or None) and object_ref[:96],
                            result=result[:32], request_id=(request_id or None) and request_id[:64],
                            source_ip=(source_ip or None) and source_ip[:64], details=dict(details or {}),
                            prev_hash=None)
    ids = _subject_ids(event, subjects)
    kind = actor_kind or default_actor_kind(event.actor, event.on_behalf_of)
    conn = session.connection()
    if conn.dialect.name == "postgresql" and _append_in_one_statement(conn, event, ids, kind, visible_at):
        return event
    advance, add, store = _statements()  # straight on the driver: the head's lock is held meanwhile
    head = direct_select.write_first(conn, advance)
    if head is None:  # the very first event: create the head (from the last event, if any), then advance it
        _lock_head(session)
        head = direct_select.write_first(conn, advance)
    event.seq, event.ts, event.prev_hash = head.seq, utcnow(), head.hash
    event.hash = event_hash(event)
    direct_select.execute_write(conn, add, vars(event))
    direct_select.execute_write(conn, store, {"new_hash": event.hash})
    if ids:
        conn.execute(_add_subjects(), [{"resident_id": r, "seq": event.seq, "actor_kind": kind,
                                        "visible_at": visible_at} for r in ids])
    return event


def record_at_commit(session: Session, **event) -> None:
    """`record`, deferred to the moment the session commits (after its last other write): for a request whose
    audit event is its last write, so that the chain's lock is held for the append and the commit only. Dropped
    when the transaction ends without a commit (rollback, close). Not for work inside a savepoint
    (`begin_nested`), whose rollback would not drop it."""
    session.connection()  # in a transaction now: its end without a commit (rollback, close) drops the event
    pending = session.info.setdefault(_PENDING, [])
    if not pending:
        _listen_once(session)
    pending.append(event)


_PENDING = "zerotrip_audit_at_commit"


def _listen_once(session: Session) -> None:
    from sqlalchemy import event as sa_event

    if not sa_event.contains(session, "before_commit", _append_pending):
        sa_event.listen(session, "before_commit", _append_pending)
        sa_event.listen(session, "after_transaction_end", _drop_pending)


def _append_pending(session: Session) -> None:
    for event in session.info.pop(_PENDING, ()):
        record(session, **event)


def _drop_pending(session: Session, transaction) -> None:
    if transaction.parent is None:  # the whole transaction ended (a savepoint's end changes nothing)
        session.info.pop(_PENDING, None)


# The canonical JSON of an event (`canonical`) with its keys sorted: the three values the database chooses in a
# PostgreSQL append (the previous hash, the seq, the time) are spliced between four pieces of text built here.
_CHOSEN_BY_THE_DATABASE = ("prev_hash", "seq", "ts")


def _canonical_pieces(event) -> dict[str, str]:
    fields = _fields(SimpleNamespace(**{**vars(event), "seq": 0, "ts": ""}))  # those two spliced in below
    pieces, current = [], "{"
    for i, key in enumerate(sorted(fields)):
        current += ("," if i else "") + json.dumps(key, ensure_ascii=False) + ":"
        if key in _CHOSEN_BY_THE_DATABASE:
            quote = "" if key == "seq" else '"'
            pieces.append(current + quote)
            current = quote
        else:
            current += json.dumps(fields[key], sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                  default=str)
    pieces.append(current + "}")
    return {f"piece{i}": piece for i, piece in enumerate(pieces)}


@functools.cache
def _one_statement():
    """PostgreSQL: advance the head, hash the event in SQL (sha256 over the same canonical JSON as `event_hash`,
    its seq, previous hash and time spliced in), insert it and its subjects — one round trip. The time is taken
    after the head's row lock is granted (the sub-select is re-evaluated on the row it waited for), so times
    follow seqs as they do in `record`'s other path."""
    from sqlalchemy import ARRAY, Integer, String
    from sqlalchemy import DateTime as DateTimeType

    details = AuditEvent.__table__.c.details.type
    return text("""
        WITH head AS (
            UPDATE audit_head AS h
               SET (seq, prev_hash, ts, hash) = (
                   SELECT h.seq + 1, h.hash, now_.ts,
                          encode(sha256(convert_to(CAST(:piece0 AS text) || h.hash || CAST(:piece1 AS text)
                                 || CAST(h.seq + 1 AS text) || CAST(:piece2 AS text)
                                 || to_char(now_.ts, 'YYYY-MM-DD"T"HH24:MI:SS.US') || CAST(:piece3 AS text),
                                 'UTF8')), 'hex')
                     FROM (SELECT CAST(clock_timestamp() AT TIME ZONE 'UTC' AS timestamp) AS ts) AS now_)
             WHERE h.id = :head_id
            RETURNING h.seq, h.prev_hash, h.ts, h.hash),
        event AS (
            INSERT INTO audit_events (seq, ts, actor, on_behalf_of, action, object_ref, result, request_id,
                                      source_ip, details, prev_hash, hash)
            SELECT seq, ts, :actor, :on_behalf_of, :action, :object_ref, :result, :request_id, :source_ip,
                   CAST(:details AS json), prev_hash, hash FROM head),
        subjects AS (
            INSERT INTO audit_subjects (resident_id, seq, actor_kind, visible_at)
            SELECT subject, head.seq, :actor_kind, CAST(:visible_at AS timestamp)
              FROM head, unnest(CAST(:subjects AS integer[])) AS subject)
        SELECT seq, prev_hash, ts, hash FROM head
    """).bindparams(bindparam("details", type_=details), bindparam("subjects", type_=ARRAY(Integer)),
                    bindparam("visible_at", type_=DateTimeType()), bindparam("actor_kind", type_=String()),
                    bindparam("on_behalf_of", type_=String()), bindparam("object_ref", type_=String()),
                    bindparam("request_id", type_=String()), bindparam("source_ip", type_=String())
                    ).columns(*(AuditHead.__table__.c[name] for name in ("seq", "prev_hash", "ts", "hash")))  # its order


def _append_in_one_statement(conn, event, ids: list[int], kind: str, visible_at) -> bool:
    """False when there is no head row yet (the very first event takes `record`'s other path)."""
    values = {**_canonical_pieces(event), "head_id": HEAD_ID, "actor": event.actor,
              "on_behalf_of": event.on_behalf_of, "action": event.action, "object_ref": event.object_ref,
              "result": event.result, "request_id": event.request_id, "source_ip": event.source_ip,
              "details": event.details, "subjects": ids, "actor_kind": kind, "visible_at": visible_at}
    row = direct_select.write_first(conn, _one_statement(), values)
    if row is None:
        return False
    event.seq, event.prev_hash, event.ts, event.hash = row.seq, row.prev_hash, row.ts, row.hash
    return True


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


def _subject_ids(event, subjects) -> list[int]:
    ids = {int(r) for r in subjects or () if r is not None}
    own = subject_of(event.on_behalf_of)
    if own is not None:
        ids.add(own)
    return sorted(ids)


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
