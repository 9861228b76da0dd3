"""Appeals (复核): a second look at a decision, asked for by the resident (or a proxy with `confirm`, or a clerk at
the counter on the resident's behalf) within 60 days of it. One open appeal per decision (the partial unique index
`uq_appeals_open` decides between parallel requests). States: received → reviewing → decided, with an outcome
(upheld | partially_upheld | rejected | withdrawn) and a written reason."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.ids import new_id


class Appeal(Base):
    __tablename__ = "appeals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    # The decision appealed: "application:<id>" or "benefit:<id>" (one open appeal per decision key).
    decision_key: Mapped[str] = mapped_column(String(80))
    application_id: Mapped[str | None] = mapped_column(String(32))
    benefit_id: Mapped[str | None] = mapped_column(String(32))
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    program: Mapped[str] = mapped_column(String(40))
    decided_on: Mapped[date] = mapped_column(Date)  # the date of the decision appealed
    reason_code: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text, default="")
    filed_by: Mapped[str] = mapped_column(String(80))  # account:<id> | staff:<id>
    filed_via: Mapped[str] = mapped_column(String(16))  # owner | proxy | counter
    grant_id: Mapped[str | None] = mapped_column(String(32))
    state: Mapped[str] = mapped_column(String(16), default="received")  # received | reviewing | decided
    outcome: Mapped[str | None] = mapped_column(String(20))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(80))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)
    # Upheld, and it re-opened the (rejected) case: the case's next decision is named by this appeal
    # (flows.decision_round).
    reopened_case: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    due_on: Mapped[date] = mapped_column(Date)  # working-day limit from the day it was received
    reviewer_id: Mapped[str | None] = mapped_column(String(32))
    reminded_on: Mapped[date | None] = mapped_column(Date)
    urged_on: Mapped[date | None] = mapped_column(Date)  # 催办: the day after the limit
    escalated_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (
        Index("uq_appeals_open", "decision_key", unique=True,
              postgresql_where=text("state IN ('received', 'reviewing')"),
              sqlite_where=text("state IN ('received', 'reviewing')")),
        Index("ix_appeals_resident", "resident_id"),
        Index("ix_appeals_open_due", "state", "due_on"),
        Index("ix_appeals_reopened", "application_id", postgresql_where=text("reopened_case"),
              sqlite_where=text("reopened_case")),
    )
