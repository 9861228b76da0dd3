"""A visit at the counter (帮办, issue 13 item 1): a resident without a phone served at the window in one trip."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Date, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.ids import new_id


class CounterVisit(Base):
    """One trip of one resident to an office: who served her, how she was identified (typed ID or the card
    reader's JSON), what was done on her behalf (`actions`), and her recorded consent files (instance files)."""

    __tablename__ = "counter_visits"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    staff_id: Mapped[str] = mapped_column(String(32))
    office_code: Mapped[str] = mapped_column(String(12))  # the serving staff member's street (or district)
    district_code: Mapped[str] = mapped_column(String(6))  # the resident's, for jurisdiction
    street_code: Mapped[str] = mapped_column(String(9))
    community_code: Mapped[str] = mapped_column(String(12))
    source: Mapped[str] = mapped_column(String(8))  # typed | card
    visited_on: Mapped[date] = mapped_column(Date)
    actions: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_counter_visits_visited_on", "visited_on"),
                      Index("ix_counter_visits_resident", "resident_id"))
