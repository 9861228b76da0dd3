"""Proxy grants (亲情代办) and the invitations that create them.

A grant lets one account (the proxy, bound to her own identity) act for one resident (the principal) within
scopes, until it expires or either side revokes it. `status`: requested (the proxy asked) | pending_principal
(waiting for the resident) | pending_approval (a staff grant with the payout scope waits for a second staff
member) | active | revoked | declined | expired (a grant past its end, or a request unanswered for 7 days,
closed when the pair is granted anew). At most one staff-recorded grant per (principal, proxy person) is active
or waiting for approval (`STAFF_GRANT_OPEN`), and at most one grant from an invitation or a request per
(principal, proxy account) is active or waiting (`FAMILY_GRANT_OPEN`): partial unique indexes, so that parallel
recordings, accepts or requests leave one grant (flows.proxies).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow
from app.models.digests import HEX_DIGEST
from app.models.ids import new_id

STAFF_GRANT_OPEN = "basis IN ('guardianship', 'written_authorisation') AND status IN ('active', 'pending_approval')"
FAMILY_GRANT_OPEN = ("basis NOT IN ('guardianship', 'written_authorisation') "
                     "AND status IN ('active', 'requested', 'pending_principal')")


class ProxyGrant(Base):
    __tablename__ = "proxy_grants"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    proxy_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    proxy_resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    status: Mapped[str] = mapped_column(String(20), default="pending_principal")
    scopes: Mapped[list] = mapped_column(default=list)
    programs: Mapped[list] = mapped_column(default=list)
    relation: Mapped[str] = mapped_column(String(16), default="family")
    basis: Mapped[str] = mapped_column(String(32))
    evidence: Mapped[dict] = mapped_column(default=dict)
    created_by: Mapped[str] = mapped_column(String(40))
    approved_by: Mapped[str | None] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    activated_at: Mapped[datetime | None] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    revoked_by: Mapped[str | None] = mapped_column(String(40))

    __table_args__ = (
        Index("ix_proxy_grants_resident", "resident_id", "status"),
        Index("ix_proxy_grants_proxy", "proxy_account_id", "status"),
        Index("uq_proxy_grants_staff_pair", "resident_id", "proxy_resident_id", unique=True,
              postgresql_where=text(STAFF_GRANT_OPEN), sqlite_where=text(STAFF_GRANT_OPEN)),
        Index("uq_proxy_grants_family_pair", "resident_id", "proxy_account_id", unique=True,
              postgresql_where=text(FAMILY_GRANT_OPEN), sqlite_where=text(FAMILY_GRANT_OPEN)),
    )


class ProxyInvitation(Base):
    """A resident's invitation: a short-lived, single-use token (stored only as its SHA-256) behind a QR code."""

    __tablename__ = "proxy_invitations"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    created_by_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    token_hash: Mapped[str] = mapped_column(HEX_DIGEST, unique=True)
    scopes: Mapped[list] = mapped_column(default=list)
    programs: Mapped[list] = mapped_column(default=list)
    grant_days: Mapped[int] = mapped_column(default=365)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    used_by_account_id: Mapped[str | None] = mapped_column(String(32))
    grant_id: Mapped[str | None] = mapped_column(String(32))


class ProxyRequest(Base):
    """A family member's request to become someone's proxy, written the same way whether or not the name and ID
    number matched anyone (`target_resident_id` is null then). The requester sees it as `pending` until the
    target accepts (`active`) or `expires_at` passes (`expired`). `open_key` is set while it is open: a unique
    key allows one open request per (requester, ID number)."""

    __tablename__ = "proxy_requests"

    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    requester_account_id: Mapped[str] = mapped_column(String(32))
    requester_resident_id: Mapped[int] = mapped_column(ForeignKey("residents.id"))
    target_id_hash: Mapped[str] = mapped_column(HEX_DIGEST)
    target_resident_id: Mapped[int | None] = mapped_column(ForeignKey("residents.id"))
    name_masked: Mapped[str] = mapped_column(String(64))
    relation: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list] = mapped_column(default=list)
    programs: Mapped[list] = mapped_column(default=list)
    grant_id: Mapped[str | None] = mapped_column(String(32))
    messaged: Mapped[bool] = mapped_column(default=False)
    open_key: Mapped[str | None] = mapped_column(String(140), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    withdrawn_at: Mapped[datetime | None] = mapped_column(DateTime)  # by the requester (flows.proxy_requests.withdraw)

    __table_args__ = (
        Index("ix_proxy_requests_requester", "requester_resident_id", "created_at"),
        Index("ix_proxy_requests_target", "target_resident_id", "requester_resident_id"),
    )


class ProxyRequestQuota(Base):
    """Atomic counters for proxy requests (conditional UPDATE on one row, correct across processes):
    `requester:<resident id>:<day>` counts a requester's requests of one Shanghai day in `used`;
    `target:<resident id>` keeps the times of the last 3 request messages a target got (t1 oldest)."""

    __tablename__ = "proxy_request_quotas"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    used: Mapped[int] = mapped_column(default=0)
    t1: Mapped[datetime | None] = mapped_column(DateTime)
    t2: Mapped[datetime | None] = mapped_column(DateTime)
    t3: Mapped[datetime | None] = mapped_column(DateTime)
