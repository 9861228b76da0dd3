"""`zerotrip db archive` meets `db backup` (PostgreSQL): a partly refused archive says `refused=1` beside what it
archived; dumps written with --out outside the instance folder go into the backup (role "external") and a restore
puts them back at their path; a forced restore over a target holding an archive schema replaces it."""

from __future__ import annotations

import hashlib
import json
from datetime import datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select, text

from app.models import ArchivedPartition
from tests.integration.test_backup_restore import _target_url, _zerotrip
from tests.integration.test_partitions import _old_chain, _outbox, pg  # noqa: F401  (pg: fixture)


@pytest.fixture(autouse=True)
def _no_2024_partitions(db_url):
    """February 2024 stays attached (refused): drop the 2024 partitions afterwards, as a fresh database has none,
    so that the next test's old rows wait in the default partitions again (tests/integration/test_partitions.py)."""
    yield
    if not db_url.startswith("postgresql"):
        return
    engine = create_engine(db_url)
    with engine.begin() as conn:
        names = conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                                  "AND tablename LIKE '%\\_2024\\_%'")).scalars().all()
        for name in names:
            conn.execute(text(f"DROP TABLE {name}"))
    engine.dispose()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _archive_january(session, cli, out: Path):
    """January 2024 archived to `out`, February refused (it holds a pending message)."""
    _old_chain(session, [datetime(2024, 1, 10, 8), datetime(2024, 1, 20, 9), datetime(2024, 2, 3, 10)])
    _outbox(session, "old:january", datetime(2024, 1, 20, 9), "sent")
    _outbox(session, "old:february", datetime(2024, 2, 3, 10), "pending")
    session.commit()
    assert cli("audit", "anchor").exit_code == 0
    return cli("db", "archive", "--before", "2024-03", "--out", str(out))


def test_a_partly_refused_archive_says_refused_and_what_it_archived(pg, session, cli, tmp_path):  # noqa: F811
    done = _archive_january(session, cli, tmp_path / "outside")
    assert done.exit_code == 1, done.output
    last = done.stdout.splitlines()[-1]
    assert "refused=1" in last and "archived_months=1" in last and "tables_dumped=2" in last, last
    assert "2024-02 holds messages not yet final" in done.stderr


def test_archive_dumps_outside_the_instance_are_backed_up_and_restored(pg, session, cli, cfg, tmp_path):  # noqa: F811
    outside = tmp_path / "outside"
    _archive_january(session, cli, outside)
    dumps = {Path(p): _sha256(Path(p)) for p in session.scalars(select(ArchivedPartition.dump_file))}
    session.rollback()
    assert dumps and all(path.parent == outside for path in dumps)

    backup_dir = tmp_path / "backup"
    made = cli("db", "backup", "--out", str(backup_dir))
    assert made.exit_code == 0, made.output
    manifest = json.loads((backup_dir / "manifest.json").read_text(encoding="utf-8"))
    external = {entry["path"] for entry in manifest["files"] if entry["role"] == "external"}
    assert {str(path) for path in dumps} <= external

    for path in dumps:
        path.unlink()
    target = _target_url(cfg.database_url, tmp_path, "archived")
    env = {"DATABASE_URL": target, "ZEROTRIP_INSTANCE_PATH": str(tmp_path / "instance5"),
           "AUDIT_ANCHOR_PATH": str(tmp_path / "anchors5.jsonl")}
    restored = _zerotrip(env, "db", "restore", str(backup_dir))
    assert restored.returncode == 0 and "verified=1" in restored.stdout, restored.stderr
    assert {path: _sha256(path) for path in dumps} == dumps, "every dump back at its path"

    forced = _zerotrip(env, "db", "restore", str(backup_dir), "--force")  # over a target with an archive schema
    assert forced.returncode == 0 and "verified=1" in forced.stdout, forced.stderr
    engine = create_engine(target)
    with engine.connect() as conn:
        assert conn.execute(text("SELECT COUNT(*) FROM archive.outbox_2024_01")).scalar() == 1
        assert conn.execute(text("SELECT COUNT(*) FROM pg_namespace WHERE nspname LIKE 'zerotrip_restore_%'")).scalar() == 0
    engine.dispose()
