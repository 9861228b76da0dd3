"""Subscriptions of the data exchange (issue 15 item 1): who is told when the bureau's own facts change.

A client's callback base URL (checked against SSRF at registration and again at each send), its subscriptions
(named people, or a whole program for a registered legal-basis purpose), and the publisher's bookkeeping: the
source changes already published and the publisher's cursor.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.digests import HEX_DIGEST
from app.models.ids import new_id


class ExchangeCallback(Base):
    """Where a client receives notifies (`<base>/registry/notify`) and async answers (`<base>/registry/on-search`)."""

    __tablename__ = "exchange_callbacks"

    client_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    base_url: Mapped[str] = mapped_column(String(255))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ExchangeSubscription(Base):
    """One subscription: `people` (the rows of exchange_subscription_people) or `program` (everyone in a
    program, only for a purpose whose legal basis is registered). `events` ⊆ what the program publishes."""

    __tablename__ = "exchange_subscriptions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    scope: Mapped[str] = mapped_column(String(16))  # people | program
    program: Mapped[str | None] = mapped_column(String(40))
    events: Mapped[list] = mapped_column(default=list)
    purpose: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(String(64))
    expires_on: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime)


class ExchangeSubscriptionPerson(Base):
    """A named person of a `people` subscription, by the keyed hash of the ID number (an unknown number is kept
    like a known one: the client learns nothing from subscribing), with its own purpose, case and expiry."""

    __tablename__ = "exchange_subscription_people"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    subscription_id: Mapped[str] = mapped_column(String(32))
    id_hash: Mapped[str] = mapped_column(HEX_DIGEST)
    reference_id: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str] = mapped_column(String(64))
    ref: Mapped[str] = mapped_column(String(64))
    expires_on: Mapped[date] = mapped_column(Date)

    __table_args__ = (
        UniqueConstraint("subscription_id", "id_hash", name="uq_exchange_sub_people"),
        Index("ix_exchange_sub_people_hash", "id_hash"),
    )


class ExchangePublished(Base):
    """A source change (benefit started, change row) the publisher has handled, whether or not anyone was told."""

    __tablename__ = "exchange_published"

    source_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class ExchangeCursor(Base):
    """The publisher's high-water mark per source (it re-reads a short overlap behind it)."""

    __tablename__ = "exchange_cursors"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[datetime] = mapped_column(DateTime)
