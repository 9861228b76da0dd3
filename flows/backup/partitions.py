"""`zerotrip db archive --before YYYY-MM` (issue 17 item 2): old months of the partitioned tables (app/partitions.py)
detached and dumped, never dropped.

Months go oldest first, one transaction each: the month's outbox partition is locked against writes and
checked — a month that still holds a message not yet final (pending, being sent, in flight) refuses, and so do
the months after it, so that what is archived is always a prefix of time — then that month's partition of each
table is detached and moved to the `archive` schema. Each detached table is then dumped (`pg_dump` custom
format, with its SHA-256) into the archive folder and recorded in `archived_partitions`; the table itself stays
in the `archive` schema for an operator to drop once the dump is kept safely. For the audit trail the record
holds the month's last event (seq and hash), and that head is appended to the anchor file outside the database:
`zerotrip audit verify` then starts from it (app/audit.py). A month younger than ZEROTRIP_ARCHIVE_AFTER_MONTHS
is refused. A rerun finishes what an interrupted one left (a detached table not yet dumped).
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app import partitions as parts
from app.audit import append_anchor
from app.db import make_engine, utcnow
from app.models import ArchivedPartition
from flows.backup.database import DumpFailed, _libpq_url, _tool
from notifications.outbox import ACTIVE_STATES

_BUSY = (f"the tables stayed locked by other transactions for {parts.LOCK_TIMEOUT} (a long transaction?): "
         "nothing of this month was changed; run it again at a quiet moment")


class ArchiveRefused(RuntimeError):
    """Nothing (more) archived, and why."""


def archivable_before(today: date, keep_months: int) -> str:
    """The latest `--before` allowed: months older than `keep_months` may go."""
    return parts.add_months(parts.month_of(today), 1 - keep_months)


def archive(cfg, before: str, today: date, out_dir: Path | None = None,
            progress: Callable[[str], None] = lambda line: None) -> dict:
    parts.parse_month(before)
    engine = make_engine(cfg.database_url)
    if engine.dialect.name != "postgresql":
        raise ArchiveRefused("monthly partitions exist on PostgreSQL only; SQLite keeps plain tables "
                             "(keep it whole with `zerotrip db backup`)")
    limit = archivable_before(today, cfg.archive_after_months)
    if before > limit:
        raise ArchiveRefused(f"months from {limit} on are kept in the live database "
                             f"(ZEROTRIP_ARCHIVE_AFTER_MONTHS={cfg.archive_after_months}): use --before {limit} or earlier")
    # absolute: archived_partitions records each dump's path, which `db backup` later reads (flows/backup/files.py)
    folder = (Path(out_dir) if out_dir else Path(cfg.instance_path) / "archive").resolve()
    folder.mkdir(parents=True, exist_ok=True)
    try:
        with engine.begin() as conn:
            conn.execute(text(f"CREATE SCHEMA IF NOT EXISTS {parts.ARCHIVE_SCHEMA}"))
            parts.ensure_ahead(conn, today)  # rows of old months waiting in a default partition get their month
    except OperationalError:
        raise ArchiveRefused(_BUSY) from None
    dumped = _dump_pending(cfg, engine, folder, progress)  # left by an interrupted run
    months = sorted({m for table in parts.PARTITIONED for m in _attached(engine, table) if m < before})
    done, refused = [], None
    for month in months:
        try:
            detached = _detach_month(engine, month)
        except ArchiveRefused as exc:
            refused = str(exc)
            break
        except OperationalError:
            refused = f"{month}: {_BUSY}"
            break
        progress(f"{month}: detached {', '.join(detached)}")
        dumped += _dump_pending(cfg, engine, folder, progress)
        done.append(month)
    result = {"archived_months": len(done), "first": done[0] if done else "-", "last": done[-1] if done else "-",
              "tables_dumped": dumped, "folder": str(folder)}
    if refused and not done:
        raise ArchiveRefused(refused)
    if refused:
        result["stopped"] = refused
    return result


def _attached(engine, table: str) -> list[str]:
    with engine.connect() as conn:
        return parts.attached_months(conn, table)


def _detach_month(engine, month: str) -> list[str]:
    """One transaction: lock the month's outbox partition, refuse if it holds a message not yet final, detach
    that month's partition of every table into the archive schema."""
    detached = []
    with engine.begin() as conn:
        conn.execute(text(f"SET LOCAL lock_timeout = '{parts.LOCK_TIMEOUT}'"))
        outbox = parts.partition_name("outbox", month)
        if parts.exists(conn, outbox):
            conn.execute(text(f"LOCK TABLE {outbox} IN SHARE MODE"))  # no message changes state meanwhile
            waiting = conn.execute(text(f"SELECT state, COUNT(*) FROM {outbox} WHERE state = ANY(:states) "
                                        "GROUP BY state ORDER BY state"), {"states": list(ACTIVE_STATES)}).all()
            if waiting:
                counts = ", ".join(f"{n} {state}" for state, n in waiting)
                raise ArchiveRefused(f"{month} holds messages not yet final ({counts}): it stays attached until "
                                     "they are sent or settled (`zerotrip outbox status`)")
        for table in parts.PARTITIONED:
            name = parts.partition_name(table, month)
            if not parts.exists(conn, name):
                continue
            if parts.exists(conn, name, parts.ARCHIVE_SCHEMA):
                raise ArchiveRefused(f"{parts.ARCHIVE_SCHEMA}.{name} exists already (this month was archived "
                                     "before): keep its dump, drop that table, then rerun")
            conn.execute(text(f"ALTER TABLE {table} DETACH PARTITION {name}"))
            conn.execute(text(f"ALTER TABLE {name} SET SCHEMA {parts.ARCHIVE_SCHEMA}"))
            detached.append(f"{parts.ARCHIVE_SCHEMA}.{name}")
    return detached


def _dump_pending(cfg, engine, folder: Path, progress) -> int:
    """Dump and record every table of the archive schema that has no record yet."""
    with engine.connect() as conn:
        names = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = :s ORDER BY tablename"),
                             {"s": parts.ARCHIVE_SCHEMA}).scalars().all()
        recorded = set(conn.execute(text("SELECT detached_as FROM archived_partitions")).scalars())
    count = 0
    for name in names:
        qualified = f"{parts.ARCHIVE_SCHEMA}.{name}"
        found = parts.month_of_partition(name)
        if qualified in recorded or found is None:
            continue
        table, month = found
        path = folder / f"{name}.dump"
        done = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges",
                               f"--table={qualified}", f"--file={path}", f"--dbname={_libpq_url(cfg.database_url)}"],
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise DumpFailed(f"pg_dump of {qualified} failed (the table stays detached in the archive schema; "
                             f"rerun `zerotrip db archive` to dump it): {done.stderr.strip()[:300]}")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        with engine.connect() as conn:
            rows = conn.execute(text(f"SELECT COUNT(*) FROM {qualified}")).scalar()
            last = conn.execute(text(f"SELECT seq, hash FROM {qualified} ORDER BY seq DESC LIMIT 1")).first() \
                if table == "audit_events" else None
        if last is not None:
            # the boundary's anchor before the record: written after it, a failed write (a full disk, an
            # immutable file, a kill) left a recorded month that `audit verify` called tampered for good, and
            # a rerun skipped it; now a rerun dumps and anchors the month again (the same line twice is harmless)
            append_anchor(cfg.audit_anchor_path, last.seq, last.hash, archived=month)
        with engine.begin() as conn:
            conn.execute(ArchivedPartition.__table__.insert().values(
                table_name=table, month=month, detached_as=qualified, rows=rows, dump_file=str(path),
                dump_sha256=digest, last_seq=last.seq if last else None, last_hash=last.hash if last else None,
                archived_at=utcnow()))
        progress(f"{qualified}: {rows:,} rows → {path.name} (sha256 {digest[:16]})")
        count += 1
    return count
