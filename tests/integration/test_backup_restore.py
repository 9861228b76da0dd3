"""`zerotrip db backup` → `zerotrip db restore` into another database and instance folder: every table equal row
for row, every instance file equal byte for byte, no key in the backup; a non-empty target is refused without
--force, and a target whose data key cannot decrypt the backup is refused before anything is written.
Runs on SQLite, and on PostgreSQL when DATABASE_URL points there (target: <database>_restore)."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import MetaData, create_engine, select, text
from sqlalchemy.engine import make_url

from tests.builders import make_id_number
from tests.conftest import TEST_KEYS

OTHER_KEY = "b3RoZXItZGF0YS1rZXktdGhhdC1kZWNyeXB0cy1ub3RoaW5n"


def _zerotrip(env: dict, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "app.cli", *args], env={**os.environ, **env}, capture_output=True,
                          text=True, input="")


def _target_url(source: str, tmp_path: Path, name: str) -> str:
    if source.startswith("sqlite"):
        return f"sqlite:///{tmp_path / (name + '.db')}"
    url = make_url(source)
    database = f"{url.database}_{name}"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{database}"'))
    admin.dispose()
    return url.set(database=database).render_as_string(hide_password=False)


def _rows(url: str) -> dict[str, list]:
    engine = create_engine(url)
    meta = MetaData()
    meta.reflect(engine)
    with engine.connect() as conn:
        out = {name: [tuple(bytes(v) if isinstance(v, memoryview) else v for v in row)
                      for row in conn.execute(select(t).order_by(*(list(t.primary_key.columns) or list(t.columns))))]
               for name, t in meta.tables.items()}
    engine.dispose()
    return out


def _files(folder: Path) -> dict[str, str]:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture
def populated(cfg, session_dir, tmp_path):
    """A database with residents, an import with its reject report, staff, audit events and an anchor."""
    env = {"DATABASE_URL": cfg.database_url, "AUDIT_ANCHOR_PATH": cfg.audit_anchor_path}
    instance = Path(cfg.instance_path)
    assert _zerotrip(env, "seed", "--people", "120").returncode == 0
    bad = tmp_path / "population.csv"
    bad.write_text("id_number,name,sex,birth_date,household_id,relation_to_head,district_code,street_code,"
                   "community_code,hukou_local,phone,death_date\n"
                   f"{make_id_number(date(1950, 1, 2))},王芳,F,1950-01-02,HB1,户主,140105,"
                   "140105001,140105001001,true,13800001111,\n"
                   "123,坏行,F,1950-01-02,HB2,户主,140105,140105001,140105001001,true,,\n", encoding="utf-8")
    imported = _zerotrip(env, "import", "population", str(bad))
    assert imported.returncode == 0 and "rejected=1" in imported.stdout, imported.stdout + imported.stderr
    staff = _zerotrip({**env, "ZEROTRIP_STAFF_PASSWORD": "correct horse battery"}, "staff", "add", "--username",
                      "backup-admin", "--role", "admin", "--district", "140105", "--id-number",
                      make_id_number(date(1980, 5, 5)))
    assert staff.returncode == 0, staff.stderr
    assert _zerotrip(env, "audit", "anchor").returncode == 0
    (instance / "dev-extra.key").write_text("not-to-be-copied-secret")
    assert list((instance / "reports").glob("*.csv")), "the import wrote a reject report"
    return env


def test_round_trip_keeps_every_table_and_file_and_no_key(cfg, populated, tmp_path):
    backup_dir = tmp_path / "backup"
    made = _zerotrip(populated, "db", "backup", "--out", str(backup_dir))
    assert made.returncode == 0, made.stderr
    assert "files=" in made.stdout.splitlines()[-1]
    for path in backup_dir.rglob("*"):
        if path.is_file():
            content = path.read_bytes()
            for secret in (*TEST_KEYS.values(), "not-to-be-copied-secret"):
                assert secret.encode() not in content, f"a key is in the backup: {path}"

    target = _target_url(cfg.database_url, tmp_path, "restore")
    instance2, anchors2 = tmp_path / "instance2", tmp_path / "anchors2.jsonl"
    env2 = {"DATABASE_URL": target, "ZEROTRIP_INSTANCE_PATH": str(instance2), "AUDIT_ANCHOR_PATH": str(anchors2)}
    restored = _zerotrip(env2, "db", "restore", str(backup_dir))
    assert restored.returncode == 0, restored.stderr
    assert "verified=1" in restored.stdout

    assert _rows(target) == _rows(cfg.database_url)
    def no_keys(files: dict[str, str]) -> dict[str, str]:  # keys are never backed up; dev keys are made anew
        return {k: v for k, v in files.items()
                if not k.endswith((".key", ".pem")) and not Path(k).name.startswith("dev-")}

    source_files = {k: v for k, v in no_keys(_files(Path(cfg.instance_path))).items() if not k.startswith("backups/")}
    assert no_keys(_files(instance2)) == source_files
    assert not any(k.endswith((".key", ".pem")) for k in _files(backup_dir))
    assert not (instance2 / "dev-extra.key").exists()
    assert anchors2.read_bytes() == Path(cfg.audit_anchor_path).read_bytes()
    verify = _zerotrip(env2, "audit", "verify")
    assert verify.returncode == 0 and "ok=1" in verify.stdout, verify.stdout + verify.stderr

    again = _zerotrip(env2, "db", "restore", str(backup_dir))
    assert again.returncode != 0 and "--force" in again.stderr
    forced = _zerotrip(env2, "db", "restore", str(backup_dir), "--force")
    assert forced.returncode == 0 and "verified=1" in forced.stdout, forced.stderr
    assert _rows(target) == _rows(cfg.database_url)


def test_restore_refuses_before_writing_when_the_data_key_cannot_decrypt(cfg, populated, tmp_path):
    backup_dir = tmp_path / "backup"
    unreadable = _zerotrip({**populated, "ZEROTRIP_DATA_KEY": OTHER_KEY}, "db", "backup", "--out", str(backup_dir))
    assert unreadable.returncode != 0 and "cannot decrypt" in unreadable.stderr, "a backup nobody could restore"
    assert not backup_dir.exists()
    assert _zerotrip(populated, "db", "backup", "--out", str(backup_dir)).returncode == 0
    target = _target_url(cfg.database_url, tmp_path, "wrongkey")
    instance3 = tmp_path / "instance3"
    wrong = {"DATABASE_URL": target, "ZEROTRIP_INSTANCE_PATH": str(instance3), "ZEROTRIP_DATA_KEY": OTHER_KEY,
             "AUDIT_ANCHOR_PATH": str(tmp_path / "anchors3.jsonl")}
    refused = _zerotrip(wrong, "db", "restore", str(backup_dir))
    assert refused.returncode != 0 and "cannot decrypt" in refused.stderr, refused.stderr
    assert _rows(target) == {}, "nothing was written to the target"
    assert not (tmp_path / "anchors3.jsonl").exists() and not (instance3 / "reports").exists()


def test_a_freshly_upgraded_database_is_an_empty_target(cfg, populated, tmp_path):
    """`zerotrip db upgrade` alone writes the audit chain's genesis head (audit_head): that is not data."""
    backup_dir = tmp_path / "backup"
    assert _zerotrip(populated, "db", "backup", "--out", str(backup_dir)).returncode == 0
    target = _target_url(cfg.database_url, tmp_path, "upgraded")
    env2 = {"DATABASE_URL": target, "ZEROTRIP_INSTANCE_PATH": str(tmp_path / "instance4"),
            "AUDIT_ANCHOR_PATH": str(tmp_path / "anchors4.jsonl")}
    assert _zerotrip(env2, "db", "upgrade").returncode == 0
    restored = _zerotrip(env2, "db", "restore", str(backup_dir))
    assert restored.returncode == 0 and "verified=1" in restored.stdout, restored.stderr
    assert _rows(target) == _rows(cfg.database_url)


def test_a_stray_database_in_the_instance_folder_is_not_a_file_and_anchors_keep_their_role(cfg, tmp_path):
    """A SQLite file left in the instance folder (the database living elsewhere) went into the backup as an instance
    file, and a forced restore then copied it over the database it had just restored; anchors kept inside the
    instance folder came back there, not where the target's AUDIT_ANCHOR_PATH says."""
    import sqlite3
    from dataclasses import replace

    from app.db import make_engine
    from flows.backup.files import collect

    instance = Path(cfg.instance_path)
    instance.mkdir(parents=True, exist_ok=True)
    stray = instance / "zt.db"
    sqlite3.connect(stray).execute("CREATE TABLE t (x)").connection.close()
    (instance / "notes.txt").write_text("kept", encoding="utf-8")
    anchors = instance / "anchors.jsonl"
    anchors.write_text("", encoding="utf-8")
    entries = collect(replace(cfg, audit_anchor_path=str(anchors)), make_engine(cfg.database_url), set())
    roles = {e["path"]: e["role"] for e in entries}
    assert "zt.db" not in roles and roles.get("notes.txt") == "instance", roles
    assert roles.get("anchors.jsonl") == "anchors", roles
