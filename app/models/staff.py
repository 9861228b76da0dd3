"""Staff members: a staff login is an `Account` of kind "staff" (so sessions and refresh tokens are shared
machinery) plus this profile: username, scrypt password hash, role, jurisdiction, lock-out counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, LargeBinary, String, false
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.digests import HEX_DIGEST
from app.models.ids import new_id


class StaffMember(Base):
    __tablename__ = "staff_members"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), unique=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(64), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    district_code: Mapped[str] = mapped_column(String(6))
    street_code: Mapped[str | None] = mapped_column(String(9))
    community_code: Mapped[str | None] = mapped_column(String(12))
    resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    # The staff member's own ID number, stored like residents' (keyed hash for look-up, ciphertext, mask):
    # `zerotrip staff add --id-number` / `staff set-id`. Without it she records and approves no grants.
    id_hash: Mapped[str | None] = mapped_column(HEX_DIGEST, index=True)
    id_enc: Mapped[bytes | None] = mapped_column(LargeBinary)
    id_mask: Mapped[str | None] = mapped_column(String(18))
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(DateTime)
    password_changed_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    # Set when an admin creates the account or resets its password: the first sign-in must change it (issue 12).
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
