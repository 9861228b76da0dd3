"""The data exchange (数源接口): partner clients, their keys, message ids kept for replay, pushed records."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.ids import new_id


class ExchangeClient(Base):
    """A department registered to push records or ask questions: what it may do, for which purposes, which
    fields per dataset and purpose, its limits and the paperwork (PIA, agreement) that allows it."""

    __tablename__ = "exchange_clients"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    actions: Mapped[list] = mapped_column(default=list)
    # {purpose code: {"legal_basis": str, "text": str, "delay_days": int, "fields": {dataset: [field, …]}}}
    purposes: Mapped[dict] = mapped_column(default=dict)
    per_minute: Mapped[int] = mapped_column(Integer, default=600)
    per_day: Mapped[int] = mapped_column(Integer, default=200_000)
    pia_ref: Mapped[str] = mapped_column(String(64))
    agreement_ref: Mapped[str] = mapped_column(String(64))
    agreement_expires: Mapped[date] = mapped_column(Date)
    contact: Mapped[str] = mapped_column(String(128))
    death_source: Mapped[str | None] = mapped_column(String(32))
    webhook_secret_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ExchangeKey(Base):
    """An Ed25519 public key of a client; several may be valid during a changeover; revoked at once."""

    __tablename__ = "exchange_keys"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    public_key: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)


class ExchangeMessage(Base):
    """A message id seen from a client (kept 10 minutes): its body hash and the answer given, so an honest
    retry gets the stored original and a reuse with another body is refused."""

    __tablename__ = "exchange_messages"

    client_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    body_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[int | None] = mapped_column(Integer)
    answer: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class ExchangeRecord(Base):
    """One pushed record (idempotent per client, dataset and reference id) and, when accepted, the effect the
    worker applies (`state` pending → applied)."""

    __tablename__ = "exchange_records"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(String(40))
    dataset: Mapped[str] = mapped_column(String(32))
    reference_id: Mapped[str] = mapped_column(String(64))
    body_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))
    reasons: Mapped[list] = mapped_column(default=list)
    resident_id: Mapped[int | None] = mapped_column(Integer)
    effect: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="none")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("client_id", "dataset", "reference_id", name="uq_exchange_records_key"),
        Index("ix_exchange_records_state", "state", "created_at"),
    )
