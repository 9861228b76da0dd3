"""A backup is a folder: `manifest.json` (what, when, which schema revision, per-table checksums, every file's
SHA-256, ciphertext samples for the key check), the database file and `files/`. Keys are never in it: the
data key that decrypts it must be kept (offline) as long as the backup is (docs/keys.md)."""

from __future__ import annotations

import json
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, select, text

from app.crypto import cipher_for, header
from app.db import make_engine
from app.models import EconomicRecord, KeyRotation, PayoutAccount, Resident, StaffMember
from flows.backup import database, files
from flows.backup.checksums import is_empty, table_checksums

FORMAT = "zerotrip-backup/1"
CANARY = "zerotrip backup key check"
SAMPLED = ((Resident, "id_enc"), (Resident, "phone_enc"), (PayoutAccount, "number_enc"), (StaffMember, "id_enc"),
            (EconomicRecord, "ref_enc"))


class RestoreRefused(RuntimeError):
    """The restore would destroy data or could not decrypt it; nothing was written."""


def samples(engine) -> list[dict]:
    """One ciphertext per encrypted column (from the data itself) and a canary under the current key."""
    out = []
    with engine.connect() as conn:
        for model, column in SAMPLED:
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


class BackupFailed(RuntimeError):
    """The backup folder could not be written (an unwritable place, a full disk); what was begun is removed."""


def _check_sample_keys(cfg, samples: list[dict]):
    """The configured cipher, once it decrypts every sample (a backup these keys cannot read would not restore)."""
    cipher = cipher_for(cfg)
    try:
        for sample in samples:
            cipher.decrypt(bytes.fromhex(sample["ciphertext"]))
    except ValueError as exc:
        raise RestoreRefused(f"the configured data keys ({','.join(cipher.kids)}) cannot decrypt the database's "
                             f"{sample['column']}: {exc}; set ZEROTRIP_DATA_KEYS before backing up") from None
    return cipher


def backup(cfg, out_dir: Path, progress=print) -> dict:
    """Write a backup folder; returns its summary. A failure half-way removes what it wrote (BackupFailed for
    a place that cannot be written)."""
    out_dir = Path(out_dir)
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise RestoreRefused(f"{out_dir} exists and is not an empty folder")
    engine = make_engine(cfg.database_url)
    found = samples(engine)
    cipher = _check_sample_keys(cfg, found)
    created = not out_dir.exists()
    try:
        return _write_backup(cfg, engine, cipher, found, out_dir, progress)
    except (OSError, sqlite3.Error) as exc:
        _remove_partial(out_dir, created)
        raise BackupFailed(f"cannot write the backup to {out_dir}: {getattr(exc, 'strerror', None) or exc}") from None
    except BaseException:
        _remove_partial(out_dir, created)
        raise


def _remove_partial(out_dir: Path, created: bool) -> None:
    """Remove what a failed backup wrote: the folder it created, or what it put into the empty one it was given."""
    if created:
        shutil.rmtree(out_dir, ignore_errors=True)
    elif out_dir.is_dir():
        for child in out_dir.iterdir():
            if child.is_dir():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)


def _write_backup(cfg, engine, cipher, samples: list[dict], out_dir: Path, progress) -> dict:
    """The database file, the instance files and the manifest, into out_dir."""
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
        rotating = conn.execute(select(KeyRotation.to_kid).where(KeyRotation.state == "running")).first()
    kids = {_kid(s["ciphertext"]) for s in samples} | {cipher.current_kid}
    if rotating is not None:
        # rows are under the old key and the new one while a rotation runs (one sample a column cannot tell
        # which): every key of the ring may be needed to read this backup, and a restore asks for all of them
        kids |= set(cipher.kids)
        progress(f"backup: a data-key rotation to {rotating.to_kid} is running; this backup needs keys "
                 f"{', '.join(sorted(kids))}")
    manifest = {
        "format": FORMAT, "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "dialect": engine.dialect.name, "revision": revision, "database": db_file,
        "database_sha256": files.sha256_of(out_dir / db_file), "tables": tables, "files": entries,
        "key_check": {"current_kid": cipher.current_kid, "canary": cipher.encrypt(CANARY, b"backup").hex(),
                      "samples": samples, "kids": sorted(kids)},
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
        missing = [kid for kid in check.get("kids", []) if kid not in cipher.kids and not kid.startswith("(")]
        if missing:  # e.g. a backup made during a rotation: its rows are under both keys
            raise ValueError(f"the backup names data key {', '.join(missing)}, which is not in the ring")
    except ValueError as exc:
        raise RestoreRefused(f"the configured data keys ({','.join(cipher.kids)}) cannot decrypt this backup "
                             f"(its ciphertexts use keys {', '.join(check.get('kids', [check['current_kid']]))}): {exc}") from None


def _damaged(what: str) -> RestoreRefused:
    return RestoreRefused(f"the backup is damaged: {what}; nothing was written")


# manifest.json's keys that restore reads, with their types; a file entry's keys likewise.
_MANIFEST_KEYS = {"format": str, "dialect": str, "database": str, "database_sha256": str, "tables": dict,
                  "files": list, "key_check": dict}
_ENTRY_KEYS = {"role": str, "path": str, "stored": str, "sha256": str}
_KEY_CHECK_KEYS = {"current_kid": str, "canary": str, "samples": list}


def _missing_keys(item, wanted: dict) -> list[str]:
    """The keys of `wanted` that `item` (a dict) lacks or holds with another type."""
    return [key for key, kind in wanted.items() if not isinstance(item.get(key), kind)]


def _inside(name: str) -> bool:
    """`name` is a path inside the backup folder (a manifest cannot point restore at other files)."""
    return not Path(name).is_absolute() and ".." not in Path(name).parts and name not in ("", ".")


def _key_check_gaps(check: dict) -> list[str]:
    """What the key check lacks: its canary, current kid, or a sample's column and ciphertext."""
    bad = [f"key_check.{key}" for key in _missing_keys(check, _KEY_CHECK_KEYS)]
    samples = check.get("samples") if isinstance(check.get("samples"), list) else []
    return bad + [f"key_check.samples[{i}]" for i, sample in enumerate(samples)
                  if not isinstance(sample, dict) or _missing_keys(sample, {"column": str, "ciphertext": str})]


def _check_entries(manifest: dict) -> None:
    """Every file entry is complete, stored inside the backup, and an instance path stays inside the instance."""
    for i, entry in enumerate(manifest["files"]):
        bad = _missing_keys(entry, _ENTRY_KEYS) if isinstance(entry, dict) else ["(not an object)"]
        if bad:
            raise _damaged(f"manifest.json's files[{i}] lacks {', '.join(bad)}")
        if entry["role"] not in files.ROLES:
            raise _damaged(f"manifest.json's files[{i}] has an unknown role {entry['role']!r}")
        if not _inside(entry["stored"]) or (entry["role"] == "instance" and not _inside(entry["path"])):
            raise _damaged(f"manifest.json's files[{i}] points outside its folder ({entry['stored']}, {entry['path']})")
        if entry["role"] == "external" and not files.is_external_kind(entry["path"]):
            raise _damaged(f"manifest.json's files[{i}] is no import report or archive dump ({entry['path'][:200]})")


def read_manifest(source: Path) -> dict:
    """manifest.json, checked to hold everything restore reads; RestoreRefused("the backup is damaged: …")
    otherwise (never a traceback)."""
    manifest_path = source / "manifest.json"
    if not manifest_path.is_file():
        raise RestoreRefused(f"{source} has no manifest.json: not a backup folder")
    try:
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise _damaged(f"manifest.json is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise _damaged(f"manifest.json holds a {type(manifest).__name__}, not an object")
    if manifest.get("format") != FORMAT:
        raise RestoreRefused(f"unknown backup format {manifest.get('format')!r}")
    bad = _missing_keys(manifest, _MANIFEST_KEYS) or _key_check_gaps(manifest["key_check"])
    if bad:
        raise _damaged(f"manifest.json lacks {', '.join(bad)}")
    if not _inside(manifest["database"]):
        raise _damaged(f"manifest.json names a database file outside the backup ({manifest['database']})")
    _check_entries(manifest)
    return manifest


def _check_checksums(source: Path, manifest: dict) -> None:
    """The database file and every stored file are there and match their SHA-256."""
    named = [(manifest["database"], manifest["database_sha256"])] + [(e["stored"], e["sha256"]) for e in manifest["files"]]
    for name, digest in named:
        path = source / name
        if not path.is_file():
            raise _damaged(f"{name} is missing")
        if files.sha256_of(path) != digest:
            raise _damaged(f"{name} does not match its checksum")


def restore(cfg, source: Path, force: bool = False, progress=print) -> dict:
    """Restore a backup folder into the configured database and instance folder. Refuses (writing nothing)
    when the backup is damaged, the data keys cannot decrypt it, or the target holds data and not `force`."""
    source = Path(source)
    manifest = read_manifest(source)
    engine = make_engine(cfg.database_url)
    if manifest["dialect"] != engine.dialect.name:
        raise RestoreRefused(f"a {manifest['dialect']} backup cannot be restored into {engine.dialect.name}")
    _check_checksums(source, manifest)
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
    recorded = files.recorded_paths(make_engine(cfg.database_url))
    for entry in manifest["files"]:
        target = files.destination(cfg, entry)
        if entry["role"] == "external" and target.resolve() not in recorded:
            # a file outside the instance folder is written only where the restored data records one
            progress(f"restore: {entry['path'][:200]} is not recorded by the restored database; not written")
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source / entry["stored"], target)
    progress("restore: verifying checksums")
    restored = table_checksums(make_engine(cfg.database_url))
    differ = sorted(n for n in set(restored) | set(manifest["tables"]) if restored.get(n) != manifest["tables"].get(n))
    return {"restored": str(source), "tables": len(restored), "rows": sum(t["rows"] for t in restored.values()),
            "files": len(manifest["files"]), "verified": int(not differ), "differ": ",".join(differ) or "none"}
