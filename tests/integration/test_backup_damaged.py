"""`zerotrip db restore` of a damaged backup and `db backup` to a place it cannot write: a clear one-line error and
exit 1, never a traceback, and nothing written — above all, a forced restore whose database file turns out damaged
(or whose tool is missing) leaves the target's data as it was. Runs on SQLite, and on PostgreSQL when DATABASE_URL
points there (targets: <database>_<name>)."""

from __future__ import annotations

import errno
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import empty_database
from tests.integration.test_backup_restore import _rows, _target_url, _zerotrip
from tests.waiting import wait_until


@pytest.fixture(scope="module")
def pristine_backup(db_url, session_dir, tmp_path_factory) -> Path:
    """A backup of a database with a few residents and an anchor (a file outside the instance folder), made once
    for the module: seeding, anchoring and backing up are three commands, and every test damages a copy."""
    empty_database(db_url)
    anchors = session_dir / "anchors.jsonl"
    anchors.unlink(missing_ok=True)
    env = {"DATABASE_URL": db_url, "AUDIT_ANCHOR_PATH": str(anchors)}
    assert _zerotrip(env, "seed", "--people", "20").returncode == 0
    assert _zerotrip(env, "audit", "anchor").returncode == 0
    folder = tmp_path_factory.mktemp("pristine") / "backup"
    made = _zerotrip(env, "db", "backup", "--out", str(folder))
    assert made.returncode == 0, made.stderr
    return folder


@pytest.fixture
def backup_dir(pristine_backup, tmp_path) -> Path:
    """This test's own copy of the backup (a backup folder names its files relative to itself)."""
    return Path(shutil.copytree(pristine_backup, tmp_path / "backup"))


def _target_env(cfg, tmp_path: Path, name: str) -> dict:
    return {"DATABASE_URL": _target_url(cfg.database_url, tmp_path, name),
            "ZEROTRIP_INSTANCE_PATH": str(tmp_path / f"instance-{name}"),
            "AUDIT_ANCHOR_PATH": str(tmp_path / f"anchors-{name}.jsonl")}


def _manifest(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def _write_manifest(folder: Path, manifest: dict) -> None:
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")


def _one_line_error(done, *expected: str) -> None:
    """Exit 1 with a single `Error: …` line on stderr naming each `expected`, and no traceback."""
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, done.stderr
    for words in expected:
        assert words in errors[0], done.stderr


def _set_aside_schemas(url: str) -> list[str]:
    engine = create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(text("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'zerotrip_restore_%'")).scalars().all()
    engine.dispose()
    return found


# --- a forced restore that cannot complete keeps the target's data -------------------------------------------------

def _damage_database(folder: Path, how: str) -> None:
    """Truncate (its beginning still reads) or overwrite the database file; the manifest's checksum follows, so
    only the restore itself can notice."""
    manifest = _manifest(folder)
    path = folder / manifest["database"]
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 9 // 10] if how == "truncated" else b"not a database " * 64)
    manifest["database_sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    _write_manifest(folder, manifest)


@pytest.fixture
def restored_target(cfg, backup_dir, tmp_path) -> dict:
    """A target database that holds data: the backup restored into it."""
    env = _target_env(cfg, tmp_path, "forced")
    done = _zerotrip(env, "db", "restore", str(backup_dir))
    assert done.returncode == 0 and "verified=1" in done.stdout, done.stderr
    return env


@pytest.mark.parametrize("how", ["truncated", "garbage"])
def test_a_forced_restore_of_a_damaged_database_file_keeps_the_target(backup_dir, restored_target, how):
    before = _rows(restored_target["DATABASE_URL"])
    assert before["residents"], "the target holds data"
    _damage_database(backup_dir, how)
    forced = _zerotrip(restored_target, "db", "restore", str(backup_dir), "--force")
    assert _rows(restored_target["DATABASE_URL"]) == before, "the target's data is still there"
    _one_line_error(forced, "database")
    assert "nothing was restored" in forced.stderr or "as it was" in forced.stderr, forced.stderr
    if restored_target["DATABASE_URL"].startswith("postgresql"):
        assert _set_aside_schemas(restored_target["DATABASE_URL"]) == []


def _postgresql_only(url: str) -> None:
    if not url.startswith("postgresql"):
        pytest.skip("pg_restore and schemas are PostgreSQL's")


def test_a_forced_restore_without_pg_restore_keeps_the_target(backup_dir, restored_target, tmp_path):
    _postgresql_only(restored_target["DATABASE_URL"])
    before = _rows(restored_target["DATABASE_URL"])
    (tmp_path / "no-tools").mkdir()
    forced = _zerotrip({**restored_target, "PATH": str(tmp_path / "no-tools")}, "db", "restore", str(backup_dir),
                       "--force")
    assert _rows(restored_target["DATABASE_URL"]) == before, "the target's data is still there"
    _one_line_error(forced, "pg_restore not found")


def _stopped(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z"  # ended, not yet reaped
    except (FileNotFoundError, ProcessLookupError):
        return True


def test_a_restore_stopped_by_sigterm_stops_pg_restore_and_keeps_the_target(backup_dir, restored_target, tmp_path):
    """A service manager's stop (SIGTERM) during pg_restore: the process vanished, pg_restore went on as an
    orphan and the data stayed set aside (probe of 7 Dec). Now pg_restore is stopped and the data put back."""
    _postgresql_only(restored_target["DATABASE_URL"])
    before = _rows(restored_target["DATABASE_URL"])
    tools, started = tmp_path / "slow-tools", tmp_path / "pg_restore.pid"
    tools.mkdir()
    real = shutil.which("pg_restore")
    (tools / "pg_restore").write_text(  # the real tool for --list; a restore that waits until it is stopped
        f'#!/bin/sh\ncase "$1" in --list) exec "{real}" "$@";; esac\necho $$ > "{started}"\n'
        'while true; do sleep 0.05; done\n', encoding="utf-8")
    (tools / "pg_restore").chmod(0o755)
    env = {**os.environ, **restored_target, "PATH": f"{tools}:{os.environ['PATH']}"}
    proc = subprocess.Popen([sys.executable, "-m", "app.cli", "db", "restore", str(backup_dir), "--force"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    seen = wait_until(lambda: (started.exists() and started.read_text().strip())
                      or (proc.poll() is not None and "the restore exited"), what="the slow pg_restore to start")
    assert seen != "the restore exited", proc.communicate()
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate()
    assert proc.returncode != 0 and "Traceback" not in err, err
    child = int(started.read_text())
    wait_until(lambda: _stopped(child), what="pg_restore to be stopped")
    assert _rows(restored_target["DATABASE_URL"]) == before, "the target's data is back"
    assert _set_aside_schemas(restored_target["DATABASE_URL"]) == []


def test_a_restore_after_an_interrupted_one_refuses_and_says_where_the_data_is(backup_dir, restored_target):
    url = restored_target["DATABASE_URL"]
    _postgresql_only(url)
    engine = create_engine(url)
    with engine.begin() as conn:  # as a restore killed after setting the old data aside leaves it
        conn.execute(text("CREATE SCHEMA zerotrip_restore_old_public"))
        conn.execute(text("CREATE TABLE zerotrip_restore_old_public.kept (id int)"))
    engine.dispose()
    before = _rows(url)
    forced = _zerotrip(restored_target, "db", "restore", str(backup_dir), "--force")
    _one_line_error(forced, "interrupted", "zerotrip_restore_old_public")
    assert _rows(url) == before
    assert _set_aside_schemas(url) == ["zerotrip_restore_old_public"], "touched nothing"


# --- a damaged backup folder is refused before anything is written ----------------------------------------------

def _garbage(folder: Path) -> None:
    (folder / "manifest.json").write_bytes(b"\x00\xff\xfe garbage")


def _truncated(folder: Path) -> None:
    path = folder / "manifest.json"
    path.write_text(path.read_text(encoding="utf-8")[:200], encoding="utf-8")


def _a_list(folder: Path) -> None:
    _write_manifest(folder, [_manifest(folder)])


def _no_tables(folder: Path) -> None:
    manifest = _manifest(folder)
    del manifest["tables"]
    _write_manifest(folder, manifest)


def _no_canary(folder: Path) -> None:
    manifest = _manifest(folder)
    del manifest["key_check"]["canary"]
    _write_manifest(folder, manifest)


def _entry_not_an_object(folder: Path) -> None:
    manifest = _manifest(folder)
    manifest["files"][0] = "files/00000-x"
    _write_manifest(folder, manifest)


def _entry_outside(folder: Path) -> None:
    manifest = _manifest(folder)
    manifest["files"][0]["stored"] = "../../elsewhere"
    _write_manifest(folder, manifest)


def _external_anywhere(folder: Path) -> None:
    """An entry that would have restore write a file of the manifest's choosing outside the instance folder (the
    probe of 7 Dec wrote /tmp/…/pwned_by_manifest.txt; a cron file or a shell profile is as easy)."""
    manifest = _manifest(folder)
    first = manifest["files"][0]
    manifest["files"].append({"role": "external", "path": str(folder.parent / "pwned_by_manifest.txt"),
                              "stored": first["stored"], "sha256": first["sha256"]})
    _write_manifest(folder, manifest)


def _no_database_file(folder: Path) -> None:
    (folder / _manifest(folder)["database"]).unlink()


def _no_stored_file(folder: Path) -> None:
    (folder / _manifest(folder)["files"][0]["stored"]).unlink()


DAMAGES = [(_garbage, "manifest.json is not valid JSON"), (_truncated, "manifest.json is not valid JSON"),
           (_a_list, "holds a list"), (_no_tables, "lacks tables"), (_no_canary, "lacks key_check.canary"),
           (_entry_not_an_object, "files[0]"), (_entry_outside, "outside"), (_no_database_file, "is missing"),
           (_external_anywhere, "no import report or archive dump"),
           (_no_stored_file, "is missing")]


@pytest.mark.parametrize("damage, named", [pytest.param(f, named, id=f.__name__.strip("_")) for f, named in DAMAGES])
def test_a_damaged_backup_folder_is_refused_in_one_line_writing_nothing(cfg, backup_dir, tmp_path, damage, named):
    damage(backup_dir)
    target = _target_env(cfg, tmp_path, "damaged")
    refused = _zerotrip(target, "db", "restore", str(backup_dir))
    _one_line_error(refused, "the backup is damaged", named)
    assert _rows(target["DATABASE_URL"]) == {}, "nothing was written to the target"
    assert not Path(target["ZEROTRIP_INSTANCE_PATH"], "reports").exists()
    assert not Path(target["AUDIT_ANCHOR_PATH"]).exists()


# --- a backup to a place that cannot be written ------------------------------------------------------------------

@pytest.mark.parametrize("where", ["/proc/zt-backup", "under-a-file/backup"])
def test_a_backup_to_an_unwritable_place_is_one_clear_line(cfg, tmp_path, where):
    env = {"DATABASE_URL": cfg.database_url, "AUDIT_ANCHOR_PATH": cfg.audit_anchor_path}
    (tmp_path / "under-a-file").write_text("a file, not a folder")
    out = Path(where) if where.startswith("/") else tmp_path / where
    made = _zerotrip(env, "db", "backup", "--out", str(out))
    _one_line_error(made, str(out))


def test_a_backup_that_fails_half_way_removes_what_it_wrote(cfg, tmp_path, monkeypatch):
    from flows.backup import archive

    assert _zerotrip({"DATABASE_URL": cfg.database_url}, "seed", "--people", "5").returncode == 0
    Path(cfg.instance_path).mkdir(parents=True, exist_ok=True)
    (Path(cfg.instance_path) / "report.csv").write_text("a file to copy")

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(archive.shutil, "copy2", disk_full)
    with pytest.raises(archive.BackupFailed, match="No space left on device"):
        archive.backup(cfg, tmp_path / "new", progress=lambda line: None)
    assert not (tmp_path / "new").exists()
    (tmp_path / "given").mkdir()
    with pytest.raises(archive.BackupFailed):
        archive.backup(cfg, tmp_path / "given", progress=lambda line: None)
    assert list((tmp_path / "given").iterdir()) == [], "the empty folder it was given is empty again"


def test_a_report_the_restored_data_does_not_record_is_not_written(cfg, backup_dir, tmp_path):
    """An import report or dump is restored to its absolute path only where the restored database records one."""
    manifest = _manifest(backup_dir)
    first = manifest["files"][0]
    stray = tmp_path / "elsewhere" / "population-x.csv"
    manifest["files"].append({"role": "external", "path": str(stray), "stored": first["stored"],
                              "sha256": first["sha256"]})
    _write_manifest(backup_dir, manifest)
    target = _target_env(cfg, tmp_path, "stray")
    done = _zerotrip(target, "db", "restore", str(backup_dir))
    assert done.returncode == 0 and "verified=1" in done.stdout, done.stderr
    assert "not recorded by the restored database; not written" in done.stderr
    assert not stray.exists()
