"""Service ratings (好差评): one per application per rater, level 1–5, after the case has ended."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.ids import new_id


class ServiceRating(Base):
    __tablename__ = "service_ratings"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    rater_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    level: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(Text)
    program: Mapped[str] = mapped_column(String(40))
    application_state: Mapped[str] = mapped_column(String(16))
    follow_up_task_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("application_id", "rater_account_id"),
        Index("ix_service_ratings_program_level", "program", "level"),
    )
