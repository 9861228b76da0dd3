"""Area names (issue 12 item 10): districts (6-digit GB/T 2260 county codes), streets (9-digit) and communities
(12-digit 统计用区划代码), each name valid from a date until another (codes are renamed, merged, split);
an office may have its reception phone and address."""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base


class Area(Base):
    __tablename__ = "areas"

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    valid_from: Mapped[date] = mapped_column(Date, primary_key=True)
    valid_to: Mapped[date | None] = mapped_column(Date)  # exclusive; None = still valid
    level: Mapped[str] = mapped_column(String(12))  # district | street | community
    name: Mapped[str] = mapped_column(String(64))
    parent_code: Mapped[str | None] = mapped_column(String(12))
    # the office residents visit (街道办事处, 乡镇人民政府, 居委会, 区民政局): its reception phone (接待电话: ASCII
    # digits and '-') and address, printed on the counter receipt; None = not recorded (never invented)
    office_phone: Mapped[str | None] = mapped_column(String(20))
    office_address: Mapped[str | None] = mapped_column(String(128))
