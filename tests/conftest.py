"""Test fixtures: one migrated database per session (SQLite file, or PostgreSQL when DATABASE_URL says so),
emptied between tests so that CLI subprocesses and real-port servers see the same committed data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

TEST_KEYS = {
    "ZEROTRIP_SIGNING_KEY": "test-signing-key-0123456789abcdef0123456789",
    "ZEROTRIP_DATA_KEY": "dGVzdC1kYXRhLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE",
}


@pytest.fixture(scope="session")
def session_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("zerotrip")


@pytest.fixture(scope="session")
def db_url(session_dir) -> str:
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{session_dir / 'test.db'}"
    for key, value in TEST_KEYS.items():
        os.environ[key] = value
    os.environ["ZEROTRIP_INSTANCE_PATH"] = str(session_dir / "instance")
    os.environ["DATABASE_URL"] = url
    from app.migrate import upgrade

    upgrade(url)
    return url


def _table_names(engine) -> list[str]:
    from app.db import Base

    return [t.name for t in reversed(Base.metadata.sorted_tables)]


def empty_database(url: str) -> None:
    from app.db import make_engine

    engine = make_engine(url)
    names = _table_names(engine)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("TRUNCATE " + ", ".join(names) + " RESTART IDENTITY CASCADE"))
        else:
            for name in names:
                conn.execute(text(f"DELETE FROM {name}"))


@pytest.fixture
def cfg(db_url, session_dir):
    from app.config import load_config

    empty_database(db_url)
    return load_config(
        {"database_url": db_url, "testing": True, "audit_anchor_path": str(session_dir / "anchors.jsonl")}
    )


@pytest.fixture
def session(cfg):
    from app.db import session_factory

    s = session_factory(cfg)()
    yield s
    s.close()


@pytest.fixture
def app(cfg):
    from app import create_app

    return create_app(cfg)


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def cli(cfg):
    """Run `zerotrip …` in-process; returns click's Result (exit_code, stdout, stderr)."""
    from app.cli import cli as zerotrip

    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(zerotrip, list(args), env={"DATABASE_URL": cfg.database_url}, catch_exceptions=False)

    return run
