"""Notification preferences of a resident (how messages reach her proxies)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.messaging import OutboxMessage


class NotificationPref(Base):
    """`proxy_mode`: `also` (default: proxies with the receive_messages scope get a copy) or `instead`
    (only the proxies are contacted; the resident keeps her inbox item)."""

    __tablename__ = "notification_prefs"

    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), primary_key=True)
    proxy_mode: Mapped[str] = mapped_column(String(8), default="also")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


# Look-up of an outbox row by the provider's message id (subscribe_msg_sent_event); migration 0003.
Index("ix_outbox_provider_msgid", OutboxMessage.__table__.c.provider_msgid)
