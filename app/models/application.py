"""Applications (pre-filled or citizen-started), the benefits they start, scan runs and staff tasks."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.ids import new_id


class Application(Base):
    """An application for one program by one subject, unique per (program, subject, period)."""

    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    program: Mapped[str] = mapped_column(String(40))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    period: Mapped[str] = mapped_column(String(16), default="once")
    origin: Mapped[str] = mapped_column(String(16), default="proactive")
    state: Mapped[str] = mapped_column(String(16), default="proposed")
    as_of: Mapped[date] = mapped_column(Date)
    prefill: Mapped[dict] = mapped_column(default=dict)
    trace: Mapped[list] = mapped_column(default=list)
    scan_run_id: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    confirmed_at: Mapped[datetime | None] = mapped_column(DateTime)
    confirmed_by: Mapped[str | None] = mapped_column(String(32))
    confirmed_via_grant: Mapped[str | None] = mapped_column(String(32))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    decision: Mapped[str | None] = mapped_column(String(32))
    declined_at: Mapped[datetime | None] = mapped_column(DateTime)
    decline_reason: Mapped[str | None] = mapped_column(String(32))
    decline_comment: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("program", "resident_id", "period"),
        Index("ix_applications_resident", "resident_id"),
        Index("ix_applications_scan_run", "scan_run_id"),
    )


class Benefit(Base):
    """An entitlement in payment: program, tier, monthly amount (in fen), from / to month."""

    __tablename__ = "benefits"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    program: Mapped[str] = mapped_column(String(40))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    application_id: Mapped[str | None] = mapped_column(String(32))
    origin: Mapped[str] = mapped_column(String(16), default="application")
    tier: Mapped[str] = mapped_column(String(16), default="")
    monthly_amount_fen: Mapped[int] = mapped_column(Integer)
    start_month: Mapped[str] = mapped_column(String(7))
    end_month: Mapped[str | None] = mapped_column(String(7))
    state: Mapped[str] = mapped_column(String(16), default="active")
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # A legacy benefit (origin "legacy"): the last month the old manual process paid; the roll pays from the
    # month after (flows.payroll). None: nothing paid before, or not said by the import.
    legacy_paid_through: Mapped[str | None] = mapped_column(String(7))

    # At most one active or suspended benefit per program and person; closed periods (stopped) are unlimited,
    # so a certificate renewed after expiry starts a new benefit period.
    __table_args__ = (
        Index("uq_benefits_open", "program", "resident_id", unique=True,
              postgresql_where=text("state IN ('active', 'suspended')"),
              sqlite_where=text("state IN ('active', 'suspended')")),
        Index("ix_benefits_resident", "resident_id"),
        Index("ix_benefits_created_at", "created_at"),  # the exchange publisher's window (flows.exchange.publish)
    )


class ScanRun(Base):
    """One proactive scan of one program for one as-of date: counts, timing, state."""

    __tablename__ = "scan_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    program: Mapped[str] = mapped_column(String(40))
    as_of: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="running")
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime)
    mode: Mapped[str] = mapped_column(String(16), default="backfill")
    counts: Mapped[dict] = mapped_column(default=dict)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (UniqueConstraint("program", "as_of"),)


class StaffTask(Base):
    """Work for a human: a correction, a verification, a home visit. Never a trip for the citizen."""

    __tablename__ = "staff_tasks"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="open")
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    application_id: Mapped[str | None] = mapped_column(String(32))
    account_id: Mapped[str | None] = mapped_column(String(32))
    district_code: Mapped[str | None] = mapped_column(String(6))
    street_code: Mapped[str | None] = mapped_column(String(9))
    community_code: Mapped[str | None] = mapped_column(String(12))
    details: Mapped[dict] = mapped_column(default=dict)
    dedupe_key: Mapped[str | None] = mapped_column(String(120), unique=True)
    due_at: Mapped[datetime | None] = mapped_column(DateTime)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    # The inbox (issue 12): an open task is in the pool of everyone with the role in its jurisdiction until one
    # staff member claims it (one conditional UPDATE: of two claimers one wins).
    claimed_by: Mapped[str | None] = mapped_column(String(32), index=True)
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime)

    # The inbox reads open tasks of one jurisdiction by deadline (benchmarks/workbench.py); casework finds a
    # case's tasks by application.
    __table_args__ = (
        Index("ix_staff_tasks_street_open", "street_code", "state", "due_at"),
        Index("ix_staff_tasks_district_open", "district_code", "state", "due_at"),
        Index("ix_staff_tasks_community_open", "community_code", "state", "due_at"),
        Index("ix_staff_tasks_application", "application_id"),
    )
