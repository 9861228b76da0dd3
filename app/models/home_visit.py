"""Home visits (入户调查) recorded on a phone: two investigators, signatures, photos (issue 12 item 6).

`VisitFile`: an uploaded photo, signature or photo of a thumb-printed paper form, re-encoded (EXIF stripped,
downscaled) and stored under the instance path; served only to staff who may see the case, with `no-store`.
`HomeVisit`: one submitted visit; `client_id` (generated on the phone) makes a resend the same visit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.ids import new_id


class VisitFile(Base):
    __tablename__ = "visit_files"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(20))  # photo | signature | thumbprint_form
    path: Mapped[str] = mapped_column(String(300))  # relative to the instance path
    media_type: Mapped[str] = mapped_column(String(40))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_visit_files_application", "application_id"),)


class HomeVisit(Base):
    __tablename__ = "home_visits"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    application_id: Mapped[str] = mapped_column(String(32))
    investigator_1: Mapped[str] = mapped_column(String(32))
    investigator_2: Mapped[str] = mapped_column(String(32))
    household_signer: Mapped[str] = mapped_column(String(40))  # how the household member signed (relation)
    evidence: Mapped[dict] = mapped_column(default=dict)  # {"signatures": {...}, "photos": [...]}: file ids
    checklist: Mapped[dict] = mapped_column(default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    visited_at: Mapped[datetime] = mapped_column(DateTime)
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_home_visits_application", "application_id"),)
