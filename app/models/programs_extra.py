"""Partner data for the three programs and their lifecycle: certificates, deaths, moves, economic records,
payout accounts, benefit changes, the monthly roll, public notices, objections and step deadlines."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.digests import HEX_DIGEST
from app.models.ids import new_id


class DisabilityCertificate(Base):
    """A 残联 certificate (第二代残疾人证). Its number embeds the ID number: kept as a keyed hash and a mask."""

    __tablename__ = "disability_certificates"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    cert_hash: Mapped[str] = mapped_column(HEX_DIGEST, unique=True)
    cert_mask: Mapped[str] = mapped_column(String(24))
    category: Mapped[str] = mapped_column(String(2))
    grade: Mapped[int] = mapped_column(Integer)
    issue_date: Mapped[date] = mapped_column(Date)
    expiry_date: Mapped[date] = mapped_column(Date)
    row_hash: Mapped[str] = mapped_column(HEX_DIGEST)
    source: Mapped[str] = mapped_column(String(32), default="disabled_persons_federation")
    source_date: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        Index("ix_disability_certificates_resident", "resident_id"),
        Index("ix_disability_certificates_expiry", "expiry_date"),
    )


class DeathRecord(Base):
    """Where and when a death was reported (the resident's `death_date` is set from it)."""

    __tablename__ = "death_records"

    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), primary_key=True)
    death_date: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(32))
    source_date: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class HukouMove(Base):
    """A household-registration move out of (or back into) the city."""

    __tablename__ = "hukou_moves"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    move_date: Mapped[date] = mapped_column(Date)
    direction: Mapped[str] = mapped_column(String(3))  # out | in
    area_code: Mapped[str] = mapped_column(String(6))
    source: Mapped[str] = mapped_column(String(32), default="population_registry")
    source_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("resident_id", "move_date", "direction"),
        Index("ix_hukou_moves_date", "move_date"),
    )


class EconomicRecord(Base):
    """One fact for the 低保 economic check: income of a kind in a month, or an asset (property, vehicle …)."""

    __tablename__ = "economic_records"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    kind: Mapped[str] = mapped_column(String(24))
    period: Mapped[str] = mapped_column(String(7), default="")  # YYYY-MM for income, "" for assets
    ref_hash: Mapped[str] = mapped_column(HEX_DIGEST, default="")
    ref_enc: Mapped[bytes | None] = mapped_column(LargeBinary)  # the ref encrypted, so that a key rotation can re-key ref_hash
    amount_fen: Mapped[int] = mapped_column(Integer, default=0)
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    source: Mapped[str] = mapped_column(String(32))
    source_date: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("resident_id", "kind", "period", "ref_hash"),
        Index("ix_economic_records_resident", "resident_id"),
    )


class PayoutAccount(Base):
    """Where a benefit is paid: social-security card or bank account. The number is encrypted; shown masked."""

    __tablename__ = "payout_accounts"

    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"), primary_key=True)
    kind: Mapped[str] = mapped_column(String(8))  # sscard | bank
    bank_name: Mapped[str] = mapped_column(String(64), default="")
    number_enc: Mapped[bytes] = mapped_column(LargeBinary)
    number_mask: Mapped[str] = mapped_column(String(40))
    number_hash: Mapped[str] = mapped_column(HEX_DIGEST)
    source: Mapped[str] = mapped_column(String(16), default="import")  # import | citizen | proxy | staff
    changed_by: Mapped[str | None] = mapped_column(String(32))
    source_date: Mapped[date] = mapped_column(Date)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class BenefitChange(Base):
    """A dated change to a benefit (tier raised, stopped, suspended), with the trace that explains it."""

    __tablename__ = "benefit_changes"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    benefit_id: Mapped[str] = mapped_column(ForeignKey("benefits.id"))
    change_key: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(16))  # tier_raised | stopped | suspended
    effective_month: Mapped[str] = mapped_column(String(7))
    old_tier: Mapped[str] = mapped_column(String(16), default="")
    old_amount_fen: Mapped[int] = mapped_column(Integer, default=0)
    tier: Mapped[str] = mapped_column(String(16), default="")
    monthly_amount_fen: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(String(32), default="")
    as_of: Mapped[date] = mapped_column(Date)
    trace: Mapped[list] = mapped_column(default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("benefit_id", "change_key"),
        Index("ix_benefit_changes_benefit", "benefit_id"),
        Index("ix_benefit_changes_created_at", "created_at"),  # the exchange publisher's window
    )


class PayrollRun(Base):
    """The monthly roll (发放名册) of one month; once closed, its inputs are recorded and it is never recomputed."""

    __tablename__ = "payroll_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    month: Mapped[str] = mapped_column(String(7), unique=True)
    state: Mapped[str] = mapped_column(String(16), default="draft")  # draft | closed
    computed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime)
    as_of: Mapped[date] = mapped_column(Date)
    inputs: Mapped[dict] = mapped_column(default=dict)
    totals: Mapped[dict] = mapped_column(default=dict)
    anomalies: Mapped[dict] = mapped_column(default=dict)


class PayrollLine(Base):
    """One benefit's payment in a roll: this month's amount plus arrears for earlier unpaid months."""

    __tablename__ = "payroll_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("payroll_runs.id"))
    month: Mapped[str] = mapped_column(String(7))
    program: Mapped[str] = mapped_column(String(40))
    benefit_id: Mapped[str] = mapped_column(String(32))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    tier: Mapped[str] = mapped_column(String(16), default="")
    amount_fen: Mapped[int] = mapped_column(Integer)
    arrears_fen: Mapped[int] = mapped_column(Integer, default=0)
    covered_from: Mapped[str] = mapped_column(String(7))
    covered_to: Mapped[str] = mapped_column(String(7))
    months: Mapped[dict] = mapped_column(default=dict)  # {"YYYY-MM": [tier, fen], …}
    # differences for months an earlier roll paid, owed after a parameter change approved with --arrears
    differences: Mapped[dict | None] = mapped_column(nullable=True)  # {"YYYY-MM": [tier, fen], …}
    account_mask: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(16), default="scheduled")  # scheduled | paid | no_account

    __table_args__ = (
        UniqueConstraint("run_id", "benefit_id"),
        Index("ix_payroll_lines_benefit", "benefit_id"),
    )


class StepDeadline(Base):
    """A statutory time limit of one step of a case, counted in working days; flagged when overdue."""

    __tablename__ = "step_deadlines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[str] = mapped_column(String(32))
    step: Mapped[str] = mapped_column(String(24))
    started_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)
    working_days: Mapped[int] = mapped_column(Integer)
    calendar_note: Mapped[str] = mapped_column(String(120), default="")
    done_on: Mapped[date | None] = mapped_column(Date)
    overdue: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        UniqueConstraint("application_id", "step"),
        Index("ix_step_deadlines_due", "done_on", "due_on"),
    )


class PublicNotice(Base):
    """公示: what the public may see — masked name, street, program, amount, period. Nothing else."""

    __tablename__ = "public_notices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    application_id: Mapped[str] = mapped_column(String(32), unique=True)
    program: Mapped[str] = mapped_column(String(40))
    street_code: Mapped[str] = mapped_column(String(9))
    masked_name: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(Integer)
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | closed | withdrawn
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_public_notices_street", "street_code", "state", "ends_on"),)


class Objection(Base):
    """An objection to a public notice, by a signed-in resident, during the notice period."""

    __tablename__ = "objections"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    notice_id: Mapped[str] = mapped_column(ForeignKey("public_notices.id"))
    account_id: Mapped[str] = mapped_column(String(32))
    text: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(16), default="open")  # open | upheld | dismissed
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (UniqueConstraint("notice_id", "account_id"),)


class RateHit(Base):
    """A DB-backed fixed-window counter per (bucket, key) for small public endpoints."""

    __tablename__ = "rate_hits"

    bucket: Mapped[str] = mapped_column(String(80), primary_key=True)
    window_start: Mapped[datetime] = mapped_column(DateTime)
    hits: Mapped[int] = mapped_column(Integer, default=0)
