"""Applicants who are not the subject (申请人 ≠ 对象): an application about one person (the deceased, a household
case) proposed to one or more other residents. The first confirmation wins (`flows.applicants.claim`); the
others see who confirmed. Programs whose applicant is the subject need no rows here."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.ids import new_id


class ApplicationApplicant(Base):
    __tablename__ = "application_applicants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(String(32), index=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    role: Mapped[str] = mapped_column(String(32))  # e.g. funeral_arranger | household_adult
    state: Mapped[str] = mapped_column(String(16), default="proposed")  # proposed | confirmed | superseded
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        UniqueConstraint("application_id", "resident_id"),
        Index("ix_application_applicants_resident", "resident_id"),
    )


class OneOffPayment(Base):
    """A single payment (not monthly): paid as one line of the first roll closed after `created_at` in which the
    payee has an account; withdrawn before then, never paid. `key` makes it idempotent per cause."""

    __tablename__ = "one_off_payments"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    program: Mapped[str] = mapped_column(String(40))
    key: Mapped[str] = mapped_column(String(120), unique=True)
    payee_resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    subject_resident_id: Mapped[int | None] = mapped_column(Integer)
    application_id: Mapped[str | None] = mapped_column(String(32))
    cause_ref: Mapped[str | None] = mapped_column(String(64))  # e.g. an approval id
    amount_fen: Mapped[int] = mapped_column(Integer)
    covers_month: Mapped[str] = mapped_column(String(7))
    persons: Mapped[int] = mapped_column(Integer, default=1)
    details: Mapped[dict] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")  # pending | paid | withdrawn
    paid_in_month: Mapped[str | None] = mapped_column(String(7))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_one_off_payments_state", "state"),)
