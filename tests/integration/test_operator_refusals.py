"""What an operator meets at 3 a.m. is one line and an exit code, never a traceback (probe of 7 Dec 2026): a
database that does not answer (backup, restore, upgrade), a database migrated by newer code (upgrade, and every
command that needs the schema), a second `db archive` while one runs (an unwritable backup folder: tests/integration/test_backup_damaged.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from app.db import utcnow
from tests.integration.test_backup_restore import _zerotrip

NOWHERE = "postgresql+psycopg://postgres@127.0.0.1:1/nowhere"


def _one_line(done, code: int, *words: str) -> None:
    assert done.returncode == code, done.stdout + done.stderr
    assert "Traceback" not in done.stderr, done.stderr
    errors = [line for line in done.stderr.splitlines() if line.lower().startswith("error")]
    assert len(errors) == 1, done.stderr
    for w in words:
        assert w in errors[0], done.stderr


@pytest.mark.parametrize("args", [("db", "backup", "--out", "{tmp}/b"), ("db", "restore", "{tmp}"),
                                  ("db", "upgrade")], ids=["backup", "restore", "upgrade"])
def test_a_database_that_does_not_answer_is_one_line(tmp_path, args):
    done = _zerotrip({"DATABASE_URL": NOWHERE}, *(a.format(tmp=tmp_path) for a in args))
    _one_line(done, 1, "database not reachable")


def test_a_database_newer_than_the_code_is_said_as_such(cfg):
    engine = create_engine(cfg.database_url)
    with engine.begin() as conn:
        (before,) = conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    try:
        env = {"DATABASE_URL": cfg.database_url}
        _one_line(_zerotrip(env, "db", "upgrade"), 1, "revision 9999", "newer than this code")
        _one_line(_zerotrip(env, "outbox", "status"), 1, "newer than this code")
    finally:
        with engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": before})
        engine.dispose()


def test_a_second_archive_while_one_runs_is_refused(cfg, session):
    from app.models import JobLock

    session.add(JobLock(name="db:archive", owner="other-host:4242", locked_until=utcnow().replace(year=2100)))
    session.commit()
    done = _zerotrip({"DATABASE_URL": cfg.database_url}, "db", "archive", "--before", "2020-01")
    _one_line(done, 2, "another `zerotrip db archive` is running", "other-host:4242")

