"""Accounts (WeChat identities), sign-in sessions, refresh tokens and identity-binding attempts."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.digests import HEX_DIGEST
from app.models.ids import new_id


class Account(Base):
    """A WeChat identity (openid), bound to at most one resident after identity binding."""

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16), default="citizen")
    openid: Mapped[str | None] = mapped_column(String(64), unique=True)
    unionid: Mapped[str | None] = mapped_column(String(64))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"), unique=True)
    bound_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(DateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuthSession(Base):
    """One sign-in: the family of refresh tokens that descends from it. Revoking it ends every token."""

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    auth_time: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_reason: Mapped[str | None] = mapped_column(String(32))


class RefreshToken(Base):
    """A refresh token, stored only as its SHA-256; single use (rotation)."""

    __tablename__ = "refresh_tokens"

    token_hash: Mapped[str] = mapped_column(HEX_DIGEST, primary_key=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("auth_sessions.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class BindAttempt(Base):
    """An identity-binding attempt, kept to rate-limit guessing per account, target ID and address."""

    __tablename__ = "bind_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[str] = mapped_column(String(32))
    id_hash: Mapped[str | None] = mapped_column(HEX_DIGEST)
    source_ip: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        Index("ix_bind_attempts_account", "account_id", "created_at"),
        Index("ix_bind_attempts_target", "id_hash", "created_at"),
        Index("ix_bind_attempts_ip", "source_ip", "created_at"),
    )
