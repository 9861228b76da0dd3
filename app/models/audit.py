"""The audit trail: append-only, hash-chained events, and the chain head (the serialisation point)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class AuditEvent(Base):
    """One event. No raw personal data: actors and objects are internal ids or keyed hashes."""

    __tablename__ = "audit_events"

    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    ts: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(64))
    on_behalf_of: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64))
    object_ref: Mapped[str | None] = mapped_column(String(96))
    result: Mapped[str] = mapped_column(String(32))
    request_id: Mapped[str | None] = mapped_column(String(64))
    source_ip: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[dict] = mapped_column(default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

    __table_args__ = (
        Index("ix_audit_events_on_behalf_of", "on_behalf_of", "seq"),
        Index("ix_audit_events_actor", "actor", "seq"),
    )


class AuditHead(Base):
    """A single row (id=1): the last seq and hash. Appends lock it, so the chain never forks."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    hash: Mapped[str] = mapped_column(String(64))
    # The last event's previous hash and time: PostgreSQL's one-statement append returns them from the head's
    # UPDATE (app/audit.py); empty on SQLite.
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    ts: Mapped[datetime | None] = mapped_column(DateTime)


class AuditSubject(Base):
    """Whose record an audit event touched: one row per (resident, event). The resident feed
    (`GET /api/v1/me/activity`) reads the audit trail through it, so a list page read by staff (one event
    listing many ids) shows in each listed resident's feed. Derived from the events (not hash-chained);
    `actor_kind` (self | proxy | staff | system) is fixed when the event is written."""

    __tablename__ = "audit_subjects"

    resident_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True,
                                     autoincrement=False)
    actor_kind: Mapped[str] = mapped_column(String(16))
    # When the event may appear in the resident's feed (a purpose confidential by law delays it; never hidden
    # for ever); null = at once.
    visible_at: Mapped[datetime | None] = mapped_column(DateTime)
