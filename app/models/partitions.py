"""What the monthly partitions of PostgreSQL need besides the partitions (app/partitions.py): the keys that must
stay unique across months, and the record of each archived month."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, utcnow


class UniqueKey(Base):
    """A key that must be unique across all months of a partitioned table (the outbox's idempotency key, an
    exchange record's client/dataset/reference id), kept by triggers on PostgreSQL; unused on SQLite, whose plain
    tables keep their unique constraints."""

    __tablename__ = "unique_keys"

    scope: Mapped[str] = mapped_column(String(40), primary_key=True)  # the table
    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    row_id: Mapped[str] = mapped_column(String(32))


class ArchivedPartition(Base):
    """One month of one table detached and dumped by `zerotrip db archive` (never dropped: the detached table
    stays in the `archive` schema until an operator removes it after checking the dump). For the audit trail,
    the last event of the month, from which `zerotrip audit verify` starts once that month is archived."""

    __tablename__ = "archived_partitions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    table_name: Mapped[str] = mapped_column(String(40))
    month: Mapped[str] = mapped_column(String(7))
    detached_as: Mapped[str] = mapped_column(String(80))  # archive.<table>_YYYY_MM
    rows: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    dump_file: Mapped[str] = mapped_column(String(300))
    dump_sha256: Mapped[str] = mapped_column(String(64))
    last_seq: Mapped[int | None] = mapped_column(BigInteger().with_variant(Integer, "sqlite"))
    last_hash: Mapped[str | None] = mapped_column(String(64))
    archived_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
