"""A decision in writing handed over or posted by staff (送达, issue 12 item 5).

A letter is a decided application (its 决定书) or a stopped or suspended benefit (a `benefit_changes` row, its
停发 letter); `letter_id` is that row's id. Electronic delivery (the decision message accepted by WeChat or SMS
through the outbox) needs no row here: flows.letters reads it from the outbox."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.ids import new_id


class LetterDelivery(Base):
    __tablename__ = "letter_deliveries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    letter_id: Mapped[str] = mapped_column(String(32), unique=True)  # one delivery per letter
    kind: Mapped[str] = mapped_column(String(8))  # decision | stop
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    method: Mapped[str] = mapped_column(String(16))  # in_person (当面) | post (邮寄) | left_at_home (留置)
    delivered_on: Mapped[date] = mapped_column(Date)
    staff_id: Mapped[str] = mapped_column(String(32))
    note: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    __table_args__ = (Index("ix_letter_deliveries_resident", "resident_id"),)
