"""Data-key rotation state: one row per `zerotrip keys rotate-data` run, the resume point of each step."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.ids import new_id


class KeyRotation(Base):
    """Rows are re-keyed step by step (one step per table), a batch at a time; `step` and `last_key` say where
    a killed run resumes. While a row is `running`, imports refuse (they would not find rows under the old key)."""

    __tablename__ = "key_rotations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    to_kid: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="running")  # running | finished
    step: Mapped[str] = mapped_column(String(64), default="")
    last_key: Mapped[str | None] = mapped_column(String(160))
    counts: Mapped[dict] = mapped_column(JSON, default=dict)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
