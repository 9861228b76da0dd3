"""Test fixtures: one migrated database per session (SQLite file, or PostgreSQL when DATABASE_URL says so),
emptied between tests so that CLI subprocesses and real-port servers see the same committed data."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

TEST_KEYS = {
    "ZEROTRIP_SIGNING_KEY": "test-signing-key-0123456789abcdef0123456789",
    "ZEROTRIP_DATA_KEY": "dGVzdC1kYXRhLWtleS0wMTIzNDU2Nzg5YWJjZGVmMDE",
}


# Set at import time so that modules which build an app at collection (schemathesis) see the same database
# and keys as the fixtures and the subprocesses.
SESSION_DIR = Path(tempfile.mkdtemp(prefix="zerotrip-tests-"))
# Without DATABASE_URL, a SQLite file of this process's own (xdist workers inherit the controller's environment,
# so the marker tells them the URL was a default and each takes its own file).
if "DATABASE_URL" not in os.environ or os.environ.get("ZEROTRIP_TESTS_OWN_SQLITE"):
    os.environ["ZEROTRIP_TESTS_OWN_SQLITE"] = "1"
    os.environ["DATABASE_URL"] = f"sqlite:///{SESSION_DIR / 'test.db'}"


def _own_database_per_worker() -> None:
    """Under pytest-xdist each worker is its own process with its own SESSION_DIR (so its own SQLite file); on
    PostgreSQL it gets its own database `<name>_<worker>`, created empty at start (fixtures empty tables between
    tests, and CLI subprocesses inherit DATABASE_URL from the environment)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ["DATABASE_URL"]
    if not worker or not url.startswith("postgresql"):
        return
    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    base = make_url(url)
    name = f"{base.database}_{worker}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    os.environ["DATABASE_URL"] = base.set(database=name).render_as_string(hide_password=False)


_own_database_per_worker()
os.environ["ZEROTRIP_INSTANCE_PATH"] = str(SESSION_DIR / "instance")
os.environ.update(TEST_KEYS)


@pytest.fixture(scope="session")
def session_dir() -> Path:
    return SESSION_DIR


@pytest.fixture(scope="session")
def db_url(session_dir) -> str:
    from app.migrate import upgrade

    url = os.environ["DATABASE_URL"]
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
            # TRUNCATE costs milliseconds a table even when empty: only the tables a test wrote to (one query
            # asks which), then every sequence a test advanced back to its start, as a fresh database has them.
            written = conn.execute(text(" UNION ALL ".join(
                f"SELECT '{name}' WHERE EXISTS (SELECT 1 FROM {name})" for name in names))).scalars().all() \
                if names else []
            if written and conn.execute(text("SELECT current_setting('is_superuser')")).scalar() == "on":
                # DELETE, not TRUNCATE: a TRUNCATE makes new files for each table and its indexes (15–20 ms a
                # table; a third of the PostgreSQL suite's time went there), a DELETE of a test's few rows takes
                # well under one. Triggers off for this transaction (a superuser's setting): the append-only
                # triggers and the foreign-key checks (every table with a row is in the list anyway). Rows then
                # come back in no particular order: a test that compares a list orders its query.
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                for name in written:
                    conn.execute(text(f"DELETE FROM {name}"))
            elif written:
                conn.execute(text("TRUNCATE " + ", ".join(written) + " RESTART IDENTITY CASCADE"))
            for sequence in conn.execute(text("SELECT quote_ident(schemaname) || '.' || quote_ident(sequencename) "
                                              "FROM pg_sequences WHERE last_value IS NOT NULL")).scalars():
                conn.execute(text(f"ALTER SEQUENCE {sequence} RESTART"))
        else:
            for name in names:
                conn.execute(text(f"DELETE FROM {name}"))


# One Config object per test process, given each test's fresh values (so that an application built for it can
# serve a later test with the same values: see `app`); a test may still change its fields as it likes.
_CONFIG: list = []


@pytest.fixture
def cfg(db_url, session_dir):
    from app.config import load_config

    empty_database(db_url)
    # The anchors of the audit chain belong to the database just emptied: a new chain starts with no anchor.
    (session_dir / "anchors.jsonl").unlink(missing_ok=True)
    fresh = load_config(
        {"database_url": db_url, "testing": True, "audit_anchor_path": str(session_dir / "anchors.jsonl")}
    )
    if not _CONFIG:
        _CONFIG.append(fresh)
        return fresh
    kept = _CONFIG[0]
    vars(kept).clear()
    vars(kept).update(vars(fresh))
    return kept


_APPS: dict[str, object] = {}


@pytest.fixture
def app(cfg):
    """The application for `cfg` as it stands when the test asks for it. Building one costs 0.15–0.25 s
    (flask-smorest documents every view) and 340 tests ask: one is built per distinct configuration and reused.
    It holds the same `cfg` object, so a field a test changes later reaches it as it would a new one; what
    create_app sets process-wide (logging) is set again for this configuration."""
    from app import create_app
    from app.logging_setup import configure_logging

    key = repr(sorted((name, value) for name, value in vars(cfg).items() if not name.startswith("_")))
    if key not in _APPS:
        _APPS[key] = create_app(cfg)
        scan_every_response(_APPS[key])
    else:
        configure_logging(cfg)
    return _APPS[key]


@pytest.fixture
def session(cfg):
    from app.db import session_factory

    s = session_factory(cfg)()
    yield s
    s.close()


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


# --- No full ID number, token or session key in any response or log line of the whole run -------------------

def leaked_id_numbers(text: str) -> list[str]:
    """Full, valid resident ID numbers in `text` (check character and birth date both valid)."""
    from datetime import date as _date

    from app.idnumbers import ID_PATTERN, check_char

    found = []
    for match in ID_PATTERN.finditer(text or ""):
        number = match.group(0).upper()
        try:
            born = _date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
        except ValueError:
            continue
        if check_char(number[:17]) == number[17] and 1880 <= born.year <= 2100:
            found.append(number)
    return found


def assert_clean(text: str, where: str) -> None:
    import re

    assert not leaked_id_numbers(text), f"full ID number in {where}"
    assert not re.search(r"eyJ[\w-]{10,}\.[\w-]{10,}\.[\w-]{10,}", text or ""), f"JWT in {where}"
    assert "session_key" not in (text or ""), f"session_key in {where}"


@pytest.fixture(autouse=True)
def _declared_parameters():
    """Each test starts from the programs' declared parameters: an approved change loaded into this process (the
    in-process CLI, the app) must not leak into the next test's rules."""
    yield
    from flows import parameters

    parameters.reset()


@pytest.fixture(autouse=True)
def _no_secrets_in_logs():
    import io
    import logging

    from app.logging_setup import ScrubFilter

    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(ScrubFilter())
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield
    finally:
        root.removeHandler(handler)
    assert_clean(stream.getvalue(), "log output")


def scan_every_response(flask_app) -> None:
    """Every response of the in-process app is scanned (tokens are allowed only in the sign-in answers); `app`
    does this to each application it builds."""

    @flask_app.after_request
    def _scan(response):
        from flask import request as current_request

        # The one route whose purpose is to show a full ID number: the workbench's reveal (a stated purpose,
        # audited into the resident's feed; tests/staff/test_workbench_case.py).
        if current_request.path.endswith("/reveal") and current_request.path.startswith("/api/v1/staff/"):
            return response
        if response.mimetype == "application/json":
            body = response.get_data(as_text=True)
            assert not leaked_id_numbers(body), "full ID number in a response"
            assert "session_key" not in body
        return response
