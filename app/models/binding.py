"""The history of identity bindings (实名绑定): which account was bound to which resident, and when.

Grants belong to the proxy *person*; the history says who a proxy was at the time of an old audit event,
and lets the feed name her (masked) after she unbinds.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class IdentityBinding(Base):
    __tablename__ = "identity_bindings"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(32))
    resident_id: Mapped[int] = mapped_column(Integer)
    bound_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    unbound_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("ix_identity_bindings_account", "account_id", "bound_at"),
        Index("ix_identity_bindings_resident", "resident_id", "bound_at"),
    )
