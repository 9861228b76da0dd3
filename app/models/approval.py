"""Maker-checker approvals (四眼原则): one row per action that needs a second person.

An approval has a kind (what it changes: `parameter_change`, `proxy_grant`, later roll sign-off and staff
admin), a payload (what exactly), the maker (who asked), the checker (who approved) and a state:
pending → approved | withdrawn. Only the maker withdraws, only someone else approves, and the pending →
approved step is one conditional UPDATE, so of two checkers at once exactly one wins.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.ids import new_id

APPROVAL_STATES = ("pending", "approved", "withdrawn")


class Approval(Base):
    __tablename__ = "approvals"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(40), index=True)
    # What the approval is about ("grant:<id>", "param:<program>:<key>"): at most one pending per subject.
    subject_ref: Mapped[str] = mapped_column(String(120))
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    # The resident (household) it is about, for a kind about one household (`Kind.resident_of`): its list shows it
    # only to staff of that resident's jurisdiction. NULL for approvals about no household.
    resident_id: Mapped[int | None] = mapped_column(Integer)
    maker: Mapped[str] = mapped_column(String(64))
    checker: Mapped[str | None] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime)

    __table_args__ = (
        Index("uq_approvals_pending_subject", "kind", "subject_ref", unique=True,
              postgresql_where=text("state = 'pending'"), sqlite_where=text("state = 'pending'")),
    )


class ParameterValue(Base):
    """An approved change of a program parameter: `value` holds from the first day of `effective_month`.
    Rows are only ever added; the program's declared defaults plus these rows are its dated parameters."""

    __tablename__ = "parameter_values"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    program: Mapped[str] = mapped_column(String(40), index=True)
    key: Mapped[str] = mapped_column(String(60))
    effective_month: Mapped[str] = mapped_column(String(7))
    value: Mapped[dict] = mapped_column(JSON)  # {"v": value}
    arrears: Mapped[bool] = mapped_column(default=False)
    approval_id: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
