"""Registry copy of residents (公安人口库) and import batches."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.digests import HEX_DIGEST


class Resident(Base):
    """A person in the population registry. The ID number is only kept encrypted plus a keyed hash."""

    __tablename__ = "residents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    id_hash: Mapped[str] = mapped_column(HEX_DIGEST, unique=True)
    id_enc: Mapped[bytes] = mapped_column(LargeBinary)
    id_mask: Mapped[str] = mapped_column(String(18))
    name: Mapped[str] = mapped_column(String(64))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    household_id: Mapped[str] = mapped_column(String(32))
    relation_to_head: Mapped[str] = mapped_column(String(8))
    district_code: Mapped[str] = mapped_column(String(6))
    street_code: Mapped[str] = mapped_column(String(9))
    community_code: Mapped[str] = mapped_column(String(12))
    hukou_local: Mapped[bool] = mapped_column(Boolean)
    phone_hash: Mapped[str | None] = mapped_column(HEX_DIGEST)
    phone_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    death_date: Mapped[date | None] = mapped_column(Date)
    row_hash: Mapped[str] = mapped_column(HEX_DIGEST)
    source: Mapped[str] = mapped_column(String(32), default="population_registry")
    source_date: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        Index("ix_residents_birth_date", "birth_date"),
        Index("ix_residents_updated_at", "updated_at"),
        Index("ix_residents_household_id", "household_id"),
        Index("ix_residents_phone_hash", "phone_hash"),
    )


class ImportBatch(Base):
    """One run of an import: what file, what came of it, where the rejects went."""

    __tablename__ = "import_batches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    file_name: Mapped[str] = mapped_column(String(255))
    file_sha256: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    counts: Mapped[dict] = mapped_column(default=dict)
    report_path: Mapped[str | None] = mapped_column(String(500))
