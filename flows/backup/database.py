"""The database half of a backup: PostgreSQL through pg_dump/pg_restore (custom format), SQLite through its
online backup API (a consistent copy while the API keeps writing)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url


class DumpFailed(RuntimeError):
    """pg_dump / pg_restore failed, or is not installed."""


def _libpq_url(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def sqlite_path(url: str) -> Path:
    return Path(make_url(url).database).resolve()


def _tool(name: str) -> str:
    found = shutil.which(name)
    if not found:
        raise DumpFailed(f"{name} not found: install postgresql-client (the server's major version or newer)")
    return found


def dump(url: str, dest_dir: Path, snapshot: str | None = None) -> str:
    """Write the database into dest_dir; returns the file name. `snapshot`: a PostgreSQL exported snapshot
    (pg_export_snapshot) so that the dump is exactly what that transaction sees."""
    if url.startswith("sqlite"):
        name = "database.sqlite"
        src, dst = sqlite3.connect(sqlite_path(url)), sqlite3.connect(dest_dir / name)
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        finally:
            dst.close()
            src.close()
        return name
    name = "database.dump"
    snap = [f"--snapshot={snapshot}"] if snapshot else []
    done = subprocess.run([_tool("pg_dump"), "--format=custom", "--no-owner", "--no-privileges", *snap,
                           f"--file={dest_dir / name}", f"--dbname={_libpq_url(url)}"], capture_output=True, text=True)
    if done.returncode != 0:
        raise DumpFailed(f"pg_dump failed: {done.stderr.strip()[:500]}")
    return name


def restore(url: str, engine: Engine, source: Path) -> None:
    """Replace the target database's contents with the backup's."""
    if url.startswith("sqlite"):
        engine.dispose()
        target = sqlite_path(url)
        target.parent.mkdir(parents=True, exist_ok=True)
        src, dst = sqlite3.connect(source), sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
            src.close()
        return
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("DROP SCHEMA IF EXISTS archive CASCADE"))  # detached months (db archive): in the dump too
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    done = subprocess.run([_tool("pg_restore"), "--no-owner", "--no-privileges", "--single-transaction",
                           "--exit-on-error", f"--dbname={_libpq_url(url)}", str(source)], capture_output=True, text=True)
    if done.returncode != 0:
        raise DumpFailed(f"pg_restore failed: {done.stderr.strip()[:500]}")
