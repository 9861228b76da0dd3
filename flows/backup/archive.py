"""A backup is a folder: `manifest.json` (what, when, which schema revision, per-table checksums, every file's
SHA-256, ciphertext samples for the key check), the database file and `files/`. Keys are never in it: the
data key that decrypts it must be kept (offline) as long as the backup is (docs/keys.md)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, select, text

from app.crypto import cipher_for, header
from app.db import make_engine
from app.models import EconomicRecord, PayoutAccount, Resident, StaffMember
from flows.backup import database, files
from flows.backup.checksums import is_empty, table_checksums

FORMAT = "zerotrip-backup/1"
CANARY = "zerotrip backup key check"
_SAMPLED = ((Resident, "id_enc"), (Resident, "phone_enc"), (PayoutAccount, "number_enc"), (StaffMember, "id_enc"),
            (EconomicRecord, "ref_enc"))


class RestoreRefused(RuntimeError):
    """The restore would destroy data or could not decrypt it; nothing was written."""


def _samples(engine) -> list[dict]:
    """One ciphertext per encrypted column (from the data itself) and a canary under the current key."""
    out = []
    with engine.connect() as conn:
        for model, column in _SAMPLED:
            col = getattr(model, column)
            blob = conn.execute(select(col).where(col.is_not(None)).limit(1)).scalar()
            if blob is not None:
                out.append({"column": f"{model.__tablename__}.{column}", "ciphertext": bytes(blob).hex()})
    return out


def _dump_with_checksums(cfg, engine, out_dir: Path) -> tuple[str, dict]:
    """The database file and the per-table checksums of exactly what it holds."""
    if cfg.is_sqlite:
        db_file = database.dump(cfg.database_url, out_dir)
        copy = create_engine(f"sqlite:///file:{(out_dir / db_file).resolve()}?mode=ro&uri=true")
        try:
            return db_file, table_checksums(copy)
        finally:
            copy.dispose()
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        snapshot = conn.execute(text("SELECT pg_export_snapshot()")).scalar()
        db_file = database.dump(cfg.database_url, out_dir, snapshot=snapshot)
        return db_file, table_checksums(conn)


def backup(cfg, out_dir: Path, progress=print) -> dict:
    """Write a backup folder; returns its summary."""
    out_dir = Path(out_dir)
    if out_dir.exists() and any(out_dir.iterdir()):
        raise RestoreRefused(f"{out_dir} exists and is not empty")
    engine = make_engine(cfg.database_url)
    cipher = cipher_for(cfg)
    samples = _samples(engine)
    try:
        for sample in samples:
            cipher.decrypt(bytes.fromhex(sample["ciphertext"]))
    except ValueError as exc:  # a backup these keys cannot read would not restore either
        raise RestoreRefused(f"the configured data keys ({','.join(cipher.kids)}) cannot decrypt the database's "
                             f"{sample['column']}: {exc}; set ZEROTRIP_DATA_KEYS before backing up") from None
    (out_dir / "files").mkdir(parents=True, exist_ok=True)
    progress("backup: database")
    db_file, tables = _dump_with_checksums(cfg, engine, out_dir)
    skip = {database.sqlite_path(cfg.database_url)} if cfg.is_sqlite else set()
    entries = []
    for i, entry in enumerate(files.collect(cfg, engine, skip)):
        stored = f"files/{i:05d}-{Path(entry['path']).name}"
        shutil.copy2(entry["source"], out_dir / stored)
        entries.append({"role": entry["role"], "path": entry["path"], "stored": stored,
                        "sha256": files.sha256_of(out_dir / stored)})
    with engine.connect() as conn:
        revision = ",".join(sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars()))
    manifest = {
        "format": FORMAT, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dialect": engine.dialect.name, "revision": revision, "database": db_file,
        "database_sha256": files.sha256_of(out_dir / db_file), "tables": tables, "files": entries,
        "key_check": {"current_kid": cipher.current_kid, "canary": cipher.encrypt(CANARY, b"backup").hex(),
                      "samples": samples, "kids": sorted({_kid(s["ciphertext"]) for s in samples} | {cipher.current_kid})},
    }
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
    return {"backup": str(out_dir), "dialect": manifest["dialect"], "tables": len(tables),
            "rows": sum(t["rows"] for t in tables.values()), "files": len(entries), "kid": cipher.current_kid}


def _kid(hex_blob: str) -> str:
    return header(bytes.fromhex(hex_blob))[1] or "(v1, no kid)"


def _check_keys(cfg, manifest: dict) -> None:
    cipher = cipher_for(cfg)
    check = manifest["key_check"]
    try:
        if cipher.decrypt(bytes.fromhex(check["canary"]), b"backup") != CANARY:
            raise ValueError("canary mismatch")
        for sample in check["samples"]:
            cipher.decrypt(bytes.fromhex(sample["ciphertext"]))
    except ValueError as exc:
        raise RestoreRefused(f"the configured data keys ({','.join(cipher.kids)}) cannot decrypt this backup "
                             f"(its ciphertexts use keys {', '.join(check.get('kids', [check['current_kid']]))}): {exc}") from None


def restore(cfg, source: Path, force: bool = False, progress=print) -> dict:
    """Restore a backup folder into the configured database and instance folder. Refuses (writing nothing)
    when the backup is damaged, the data keys cannot decrypt it, or the target holds data and not `force`."""
    source = Path(source)
    manifest_path = source / "manifest.json"
    if not manifest_path.is_file():
        raise RestoreRefused(f"{source} has no manifest.json: not a backup folder")
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT:
        raise RestoreRefused(f"unknown backup format {manifest.get('format')!r}")
    engine = make_engine(cfg.database_url)
    if manifest["dialect"] != engine.dialect.name:
        raise RestoreRefused(f"a {manifest['dialect']} backup cannot be restored into {engine.dialect.name}")
    if files.sha256_of(source / manifest["database"]) != manifest["database_sha256"]:
        raise RestoreRefused("the database file does not match its checksum: the backup is damaged")
    for entry in manifest["files"]:
        if files.sha256_of(source / entry["stored"]) != entry["sha256"]:
            raise RestoreRefused(f"{entry['stored']} does not match its checksum: the backup is damaged")
    _check_keys(cfg, manifest)
    if not force and not is_empty(engine):
        raise RestoreRefused("the target database holds data: restore refuses to overwrite it without --force")
    if not force:
        for entry in manifest["files"]:
            target = files.destination(cfg, entry)
            if target.exists() and files.sha256_of(target) != entry["sha256"]:
                raise RestoreRefused(f"{target} exists with other content: restore refuses without --force")
    progress("restore: database")
    database.restore(cfg.database_url, engine, source / manifest["database"])
    for entry in manifest["files"]:
        target = files.destination(cfg, entry)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / entry["stored"], target)
    progress("restore: verifying checksums")
    restored = table_checksums(make_engine(cfg.database_url))
    differ = sorted(n for n in set(restored) | set(manifest["tables"]) if restored.get(n) != manifest["tables"].get(n))
    return {"restored": str(source), "tables": len(restored), "rows": sum(t["rows"] for t in restored.values()),
            "files": len(manifest["files"]), "verified": int(not differ), "differ": ",".join(differ) or "none"}
