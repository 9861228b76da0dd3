"""Care-need assessments of older people (老年人能力评估, GB/T 42195-2022): level 0 能力完好 … 4 完全失能, the
date assessed and the assessing body. Used by the elderly care service subsidy; a newer assessment supersedes."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.digests import HEX_DIGEST


class CareAssessment(Base):
    __tablename__ = "care_assessments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    assessed_on: Mapped[date] = mapped_column(Date)
    level: Mapped[int] = mapped_column(Integer)  # 0–4
    assessor: Mapped[str] = mapped_column(String(64))
    row_digest: Mapped[str] = mapped_column(HEX_DIGEST)
    source: Mapped[str] = mapped_column(String(32), default="care_assessment")
    source_date: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("resident_id", "assessed_on"),
        Index("ix_care_assessments_resident", "resident_id"),
    )
