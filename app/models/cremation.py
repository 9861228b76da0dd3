"""Cremation records from the funeral homes (殡仪馆): who was cremated, where and when, who arranged the funeral
(治丧人) and what the home already waived (直接减免). One record per deceased; a re-import changes nothing."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.digests import HEX_DIGEST


class CremationRecord(Base):
    __tablename__ = "cremation_records"

    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), primary_key=True)  # the deceased
    funeral_home: Mapped[str] = mapped_column(String(64))
    cremation_date: Mapped[date] = mapped_column(Date)
    # The 治丧人: a resident when her ID number is in the registry (else NULL, the name and phone kept).
    arranger_resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    arranger_name: Mapped[str] = mapped_column(String(64))
    arranger_id_mask: Mapped[str] = mapped_column(String(24))  # matched once to the registry, kept masked only
    arranger_phone_mask: Mapped[str | None] = mapped_column(String(16))
    services: Mapped[str] = mapped_column(String(64))  # e.g. "接运;冷藏;火化;骨灰寄存"
    waived_fen: Mapped[int] = mapped_column(Integer, default=0)
    row_digest: Mapped[str] = mapped_column(HEX_DIGEST)  # SHA-256 of the row (no key): unchanged re-imports
    source: Mapped[str] = mapped_column(String(32), default="funeral_home")
    source_date: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_cremation_records_arranger", "arranger_resident_id"),)
