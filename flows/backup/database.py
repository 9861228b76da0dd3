"""The database half of a backup: PostgreSQL through pg_dump/pg_restore (custom format), SQLite through its
online backup API (a consistent copy while the API keeps writing)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import SQLAlchemyError

from app.partitions import ARCHIVE_SCHEMA


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
    """Replace the target database's contents with the backup's. Checks the backup's database first and, on
    PostgreSQL, keeps the current schemas aside until pg_restore has succeeded: a failed restore leaves the
    target as it was (DumpFailed)."""
    if url.startswith("sqlite"):
        _restore_sqlite(url, engine, source)
    else:
        _restore_postgresql(url, engine, source)


def _check_sqlite_file(source: Path) -> None:
    """The backup's SQLite file opens and passes `PRAGMA quick_check` (a damaged file refuses before writing)."""
    try:
        conn = sqlite3.connect(f"file:{Path(source).resolve()}?mode=ro", uri=True)
        try:
            verdict = conn.execute("PRAGMA quick_check").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error as exc:
        raise DumpFailed(f"the backup's database file {source.name} is unreadable ({exc}): nothing was restored") from None
    if verdict != "ok":
        raise DumpFailed(f"the backup's database file {source.name} is damaged ({verdict}): nothing was restored")


def _restore_sqlite(url: str, engine: Engine, source: Path) -> None:
    """SQLite: the backup API copies the checked file over the target."""
    _check_sqlite_file(source)
    engine.dispose()
    target = sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


# Where the target's own schemas wait while pg_restore runs; reserved, so never a schema of the application.
SET_ASIDE = {"public": "zerotrip_restore_old_public", ARCHIVE_SCHEMA: "zerotrip_restore_old_archive"}


def _pg_run(args: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(args, capture_output=True, text=True)


def _check_dump(pg_restore: str, source: Path) -> None:
    """`pg_restore --list`: the dump's table of contents reads (a damaged or foreign file refuses here)."""
    listed = _pg_run([pg_restore, "--list", str(source)])
    if listed.returncode != 0:
        raise DumpFailed(f"the backup's database dump {source.name} is unreadable (pg_restore --list: "
                         f"{listed.stderr.strip()[:300]}): nothing was restored")


def _schemas(conn) -> set[str]:
    return set(conn.execute(text("SELECT nspname FROM pg_namespace")).scalars())


def _set_aside(engine: Engine) -> list[str]:
    """One transaction: rename public (and archive, if present) to their reserved names and create an empty
    public. Refuses, touching nothing, when a reserved name is taken (a restore interrupted before)."""
    with engine.begin() as conn:
        present = _schemas(conn)
        left = sorted(present & set(SET_ASIDE.values()))
        if left:
            raise DumpFailed(f"an earlier restore was interrupted: the data before it is in schema(s) "
                             f"{', '.join(left)}; rename them back (ALTER SCHEMA {SET_ASIDE['public']} RENAME TO "
                             "public, after dropping the half-restored public) or drop them, then rerun. "
                             "Nothing was changed")
        moved = [name for name in SET_ASIDE if name in present]
        for name in moved:
            conn.execute(text(f"ALTER SCHEMA {name} RENAME TO {SET_ASIDE[name]}"))
        conn.execute(text("CREATE SCHEMA public"))
    return moved


def _put_back(engine: Engine, moved: list[str]) -> None:
    """One transaction: drop whatever a failed pg_restore left and give the set-aside schemas their names back."""
    with engine.begin() as conn:
        for name in SET_ASIDE:
            conn.execute(text(f"DROP SCHEMA IF EXISTS {name} CASCADE"))
        for name in moved:
            conn.execute(text(f"ALTER SCHEMA {SET_ASIDE[name]} RENAME TO {name}"))


def _drop_set_aside(engine: Engine, moved: list[str]) -> None:
    with engine.begin() as conn:
        for name in moved:
            conn.execute(text(f"DROP SCHEMA {SET_ASIDE[name]} CASCADE"))


def _restore_postgresql(url: str, engine: Engine, source: Path) -> None:
    """Tool and dump checked first; the current schemas set aside, pg_restore in one transaction, then the old
    schemas dropped — or, when pg_restore fails, put back as they were."""
    pg_restore = _tool("pg_restore")
    _check_dump(pg_restore, source)
    moved = _set_aside(engine)
    engine.dispose()
    try:
        done = _pg_run([pg_restore, "--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error",
                        f"--dbname={_libpq_url(url)}", str(source)])
    except BaseException:  # Ctrl-C, or SIGTERM raised as it: subprocess.run killed pg_restore (its one
        _put_back(engine, moved)  # transaction rolls back); the data set aside gets its names back
        raise
    if done.returncode != 0:
        failure = done.stderr.strip()[:500]
        try:
            _put_back(engine, moved)
        except SQLAlchemyError as exc:
            aside = ", ".join(SET_ASIDE[name] for name in moved)
            raise DumpFailed(f"pg_restore failed ({failure}) and putting the previous data back failed too "
                             f"({type(exc).__name__}): it is in schema(s) {aside}") from None
        raise DumpFailed(f"pg_restore failed, the target database is as it was: {failure}")
    _drop_set_aside(engine, moved)
