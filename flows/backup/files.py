"""The instance files a backup carries: everything under the instance folder (reports, payroll files, the
audit anchors …) except keys, the SQLite database itself and earlier backups; the anchor file and import
reports and `db archive` dumps kept elsewhere are added by their configured or recorded path."""

from __future__ import annotations

import hashlib
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import Engine

from app.models import ArchivedPartition, ImportBatch

KEY_SUFFIXES = (".key", ".pem", ".p12", ".pfx")
BACKUPS_DIR = "backups"
ROLES = ("instance", "anchors", "external")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def is_key_file(path: Path) -> bool:
    return path.suffix.lower() in KEY_SUFFIXES or path.name.startswith("dev-")


def collect(cfg, engine: Engine, skip: set[Path]) -> list[dict]:
    """[{role, path, source}] — role "instance" (path relative to the instance folder), "anchors" (the anchor
    file outside it) or "external" (an import report or an archive dump outside it; path is its absolute path)."""
    instance = Path(cfg.instance_path).resolve()
    anchors = Path(cfg.audit_anchor_path).resolve()
    found: list[dict] = []
    if instance.is_dir():
        for path in sorted(instance.rglob("*")):
            rel = path.relative_to(instance)
            if (not path.is_file() or is_key_file(path) or path.resolve() in skip or rel.parts[0] == BACKUPS_DIR
                    or path.name.endswith(("-wal", "-shm", "-journal")) or _is_sqlite_database(path)):
                continue  # another SQLite database left here is no file of this one (restore wrote it over it)
            if path.resolve() == anchors:  # the anchors go back where the target's AUDIT_ANCHOR_PATH says
                found.append({"role": "anchors", "path": anchors.name, "source": anchors})
                continue
            found.append({"role": "instance", "path": rel.as_posix(), "source": path})
    if anchors.is_file() and instance not in anchors.parents:
        found.append({"role": "anchors", "path": anchors.name, "source": anchors})
    found += [{"role": "external", "path": str(path), "source": path}
              for path in _external_files(engine) if instance not in path.parents]
    return found


def _is_sqlite_database(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


# what an "external" file can be: an import report (CSV) or an archive dump; a manifest naming any other kind of
# file outside the instance folder is damaged (restore would write it wherever the manifest said)
EXTERNAL_SUFFIXES = (".csv", ".dump")


def recorded_paths(engine: Engine) -> set[Path]:
    """The files the database records by path: import reports and `db archive` dumps."""
    with engine.connect() as conn:
        recorded = set(conn.execute(select(ImportBatch.report_path).where(ImportBatch.report_path.is_not(None))).scalars())
        recorded |= set(conn.execute(select(ArchivedPartition.dump_file)).scalars())
    return {Path(name).resolve() for name in recorded if name}


def _external_files(engine: Engine) -> list[Path]:
    """Files the database records by path that exist: import reports and `db archive` dumps (an archive written
    with --out lies outside the instance folder, and its dump is the only copy of a detached month once the
    detached table is dropped)."""
    return sorted(path for path in recorded_paths(engine) if path.is_file())


def is_external_kind(path: str) -> bool:
    candidate = Path(path)
    return candidate.is_absolute() and candidate.suffix.lower() in EXTERNAL_SUFFIXES and not is_key_file(candidate) \
        and ".." not in candidate.parts


def destination(cfg, entry: dict) -> Path:
    if entry["role"] == "instance":
        return Path(cfg.instance_path) / entry["path"]
    if entry["role"] == "anchors":
        return Path(cfg.audit_anchor_path)
    return Path(entry["path"])
