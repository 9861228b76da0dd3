"""Proof-of-benefit codes issued (补贴电子证明): one row per code, so its status can be asked online by id."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.ids import new_id


class BenefitProof(Base):
    """A signed code for one benefit: its certificate id (the CWT `cti`), key, validity and who obtained it."""

    __tablename__ = "benefit_proofs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    benefit_id: Mapped[str] = mapped_column(ForeignKey("benefits.id"))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    program: Mapped[str] = mapped_column(String(40))
    kid: Mapped[str] = mapped_column(String(64))
    alg: Mapped[str] = mapped_column(String(16), default="ES256")
    issued_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    issued_by: Mapped[str] = mapped_column(String(80))  # account:… | staff:…
    via: Mapped[str] = mapped_column(String(16))  # owner | proxy | staff

    __table_args__ = (Index("ix_benefit_proofs_benefit", "benefit_id"),)
